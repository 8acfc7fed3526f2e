//! GT parsed from its bytes (faster than typed parsing; see docs/loading.md): alleles,
//! phasing, the dosage of one ALT, and whether a call carries it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtError {
    /// Not `allele(sep allele)*` with alleles as numbers or `.`.
    Syntax,
    /// An allele index larger than the number of ALT alleles.
    AlleleOutOfRange(u32),
}

/// Allele indices of one call (`None` = `.`), at most a few per sample; reused per call.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Call {
    pub alleles: Vec<Option<u32>>,
    pub phased: bool,
}

impl Call {
    /// Parse `gt` into `self`, checking indices against `n_alt`.
    pub fn parse(&mut self, gt: &str, n_alt: usize) -> Result<(), GtError> {
        self.alleles.clear();
        self.phased = true;
        let b = gt.as_bytes();
        if b.is_empty() {
            return Err(GtError::Syntax);
        }
        let mut i = 0;
        // VCF 4.4 allows a leading phase marker on the first allele.
        if b[0] == b'|' || b[0] == b'/' {
            i = 1;
        }
        let mut seps = 0;
        loop {
            if i >= b.len() {
                return Err(GtError::Syntax);
            }
            if b[i] == b'.' {
                self.alleles.push(None);
                i += 1;
            } else {
                let s = i;
                let mut v: u32 = 0;
                while i < b.len() && b[i].is_ascii_digit() {
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add((b[i] - b'0') as u32))
                        .ok_or(GtError::Syntax)?;
                    i += 1;
                }
                if i == s {
                    return Err(GtError::Syntax);
                }
                if v as usize > n_alt {
                    return Err(GtError::AlleleOutOfRange(v));
                }
                self.alleles.push(Some(v));
            }
            if i == b.len() {
                break;
            }
            match b[i] {
                b'/' => self.phased = false,
                b'|' => {}
                _ => return Err(GtError::Syntax),
            }
            seps += 1;
            i += 1;
        }
        if seps == 0 {
            self.phased = false; // haploid: phasing does not apply
        }
        Ok(())
    }

    pub fn is_missing(&self) -> bool {
        self.alleles.iter().all(|a| a.is_none())
    }

    /// Copies of ALT `alt` (1-based); None if any allele is missing (the count is unknown).
    pub fn dosage(&self, alt: u32) -> Option<i16> {
        let mut n = 0i16;
        for a in &self.alleles {
            match a {
                None => return None,
                Some(x) if *x == alt => n += 1,
                Some(_) => {}
            }
        }
        Some(n)
    }

    /// Whether any allele is ALT `alt`: the `genotypes => 'carriers'` test.
    pub fn carries(&self, alt: u32) -> bool {
        self.alleles.contains(&Some(alt))
    }

    pub fn ploidy(&self) -> usize {
        self.alleles.len()
    }
}

/// Indices into a Number=G list for the genotypes of REF and ALT `alt` (VCF §1.6.2 order:
/// F(j/k) = k(k+1)/2 + j). Diploid: [0/0, 0/alt, alt/alt]; haploid: [0, alt].
pub fn g_indices(alt: usize, ploidy: usize) -> Vec<usize> {
    if ploidy == 1 {
        vec![0, alt]
    } else {
        vec![0, alt * (alt + 1) / 2, alt * (alt + 1) / 2 + alt]
    }
}

/// Number of Number=G values for `n_alleles` alleles (REF included).
pub fn g_count(n_alleles: usize, ploidy: usize) -> usize {
    if ploidy == 1 {
        n_alleles
    } else {
        n_alleles * (n_alleles + 1) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(gt: &str, n_alt: usize) -> Call {
        let mut c = Call::default();
        c.parse(gt, n_alt).unwrap();
        c
    }

    #[test]
    fn diploid_haploid_phased_missing() {
        let c = call("0/1", 1);
        assert_eq!(c.alleles, vec![Some(0), Some(1)]);
        assert!(!c.phased);
        assert_eq!(c.dosage(1), Some(1));
        let c = call("1|2", 2);
        assert!(c.phased);
        assert_eq!((c.dosage(1), c.dosage(2)), (Some(1), Some(1)));
        let c = call("2", 2);
        assert_eq!(c.ploidy(), 1);
        assert!(!c.phased);
        assert_eq!(c.dosage(2), Some(1));
        let c = call("./.", 1);
        assert!(c.is_missing());
        assert_eq!(c.dosage(1), None);
        let c = call("./1", 1);
        assert!(c.carries(1));
        assert_eq!(c.dosage(1), None);
        let c = call(".", 3);
        assert!(c.is_missing());
        assert!(call("|0|1", 1).phased);
        assert_eq!(call("0/1/1", 1).dosage(1), Some(2));
    }

    #[test]
    fn refuses_bad_gt() {
        let mut c = Call::default();
        assert_eq!(c.parse("0/x", 1), Err(GtError::Syntax));
        assert_eq!(c.parse("5/5", 2), Err(GtError::AlleleOutOfRange(5)));
        assert_eq!(c.parse("", 1), Err(GtError::Syntax));
        assert_eq!(c.parse("0/", 1), Err(GtError::Syntax));
        assert_eq!(c.parse("0 1", 1), Err(GtError::Syntax));
        assert_eq!(c.parse("99999999999", 1), Err(GtError::Syntax));
    }

    #[test]
    fn genotype_likelihood_order() {
        // alleles 0,1,2: order 0/0 0/1 1/1 0/2 1/2 2/2
        assert_eq!(g_indices(1, 2), vec![0, 1, 2]);
        assert_eq!(g_indices(2, 2), vec![0, 3, 5]);
        assert_eq!(g_indices(2, 1), vec![0, 2]);
        assert_eq!(g_count(3, 2), 6);
        assert_eq!(g_count(3, 1), 3);
    }
}
