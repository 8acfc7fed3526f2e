//! Deterministic benchmark VCFs (no downloads): the same arguments always give the same bytes.
//!
//!   gen_vcf clinical RECORDS [SEED] > clinical.vcf   one sample, SNVs/indels/multi-allelics, ANN
//!   gen_vcf cohort RECORDS SAMPLES [SEED] > cohort.vcf   joint-called cohort, GT:DP:GQ:AD
//!
//! SEED (default 0, which gives the bytes these commands always gave) draws another file of the
//! same shape and size: same samples and record count, other positions, alleles and genotypes
//! (bench/growth.sh loads two such files to measure an unload beside a second batch).
//!
//! Allele frequencies follow a skewed spectrum (most variants rare) and genotypes are drawn
//! under Hardy-Weinberg from them, so dosage counts and carrier fractions look like real data.

use std::io::{self, BufWriter, Write};

/// xorshift64*: small, fast and fixed — the output must not change with a crate version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const BASES: [u8; 4] = *b"ACGT";
const GENES: [&str; 12] = [
    "BRCA1", "BRCA2", "TP53", "CFTR", "MLH1", "MSH2", "APC", "PTEN", "KRAS", "EGFR", "LDLR", "MYH7",
];
const EFFECTS: [(&str, &str); 6] = [
    ("missense_variant", "MODERATE"),
    ("synonymous_variant", "LOW"),
    ("intron_variant", "MODIFIER"),
    ("stop_gained", "HIGH"),
    ("frameshift_variant", "HIGH"),
    ("splice_region_variant", "LOW"),
];

fn chroms() -> Vec<(String, u64)> {
    // Lengths proportional to GRCh38 (Mb), so records spread like a genome.
    let mb = [
        248, 242, 198, 190, 181, 171, 159, 145, 138, 134, 135, 133, 114, 107, 102, 90, 83, 80, 59,
        64, 47, 51, 156,
    ];
    mb.iter()
        .enumerate()
        .map(|(i, &m)| {
            let name = if i == 22 {
                "chrX".to_string()
            } else {
                format!("chr{}", i + 1)
            };
            (name, m)
        })
        .collect()
}

fn seq(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| BASES[rng.below(4) as usize] as char)
        .collect()
}

/// REF and ALTs of one site: 85 % SNV, 12 % indel, 3 % multi-allelic.
fn alleles(rng: &mut Rng) -> (String, Vec<String>) {
    let r = rng.below(100);
    let base = BASES[rng.below(4) as usize];
    let other = |rng: &mut Rng, not: u8| loop {
        let b = BASES[rng.below(4) as usize];
        if b != not {
            return b as char;
        }
    };
    if r < 85 {
        (
            (base as char).to_string(),
            vec![other(rng, base).to_string()],
        )
    } else if r < 97 {
        let n = 1 + rng.below(6) as usize;
        if rng.below(2) == 0 {
            (
                (base as char).to_string(),
                vec![format!("{}{}", base as char, seq(rng, n))],
            )
        } else {
            (
                format!("{}{}", base as char, seq(rng, n)),
                vec![(base as char).to_string()],
            )
        }
    } else {
        let a = other(rng, base);
        let mut b = other(rng, base);
        while b == a {
            b = other(rng, base);
        }
        (
            (base as char).to_string(),
            vec![a.to_string(), b.to_string()],
        )
    }
}

/// Minor allele frequency: most sites rare, as in real cohorts.
fn allele_freq(rng: &mut Rng) -> f64 {
    let u = rng.unit();
    (0.0005 + 0.5 * u * u * u).min(0.5)
}

fn ann(rng: &mut Rng, alts: &[String]) -> String {
    let gene = GENES[rng.below(GENES.len() as u64) as usize];
    alts.iter()
        .map(|a| {
            let (eff, imp) = EFFECTS[rng.below(EFFECTS.len() as u64) as usize];
            format!(
                "{a}|{eff}|{imp}|{gene}|ENSG{:011}|transcript|ENST{:011}|protein_coding|{}/{}|c.{}A>G||||||",
                rng.below(99_999),
                rng.below(99_999),
                1 + rng.below(10),
                11,
                1 + rng.below(5000)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn header(out: &mut impl Write, samples: &[String], clinical: bool) -> io::Result<()> {
    writeln!(out, "##fileformat=VCFv4.2")?;
    writeln!(out, "##source=vcf_pg_loader bench/gen_vcf (deterministic)")?;
    writeln!(out, "##reference=GRCh38")?;
    for (c, mb) in chroms() {
        writeln!(out, "##contig=<ID={c},length={}>", mb * 1_000_000)?;
    }
    writeln!(out, "##FILTER=<ID=PASS,Description=\"All filters passed\">")?;
    writeln!(out, "##FILTER=<ID=LowQual,Description=\"Low quality\">")?;
    for l in [
        "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Total depth\">",
        "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Allele frequency\">",
        "##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count\">",
        "##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Allele number\">",
        "##INFO=<ID=MQ,Number=1,Type=Float,Description=\"Mapping quality\">",
        "##INFO=<ID=QD,Number=1,Type=Float,Description=\"Quality by depth\">",
        "##INFO=<ID=FS,Number=1,Type=Float,Description=\"Fisher strand\">",
        "##INFO=<ID=DB,Number=0,Type=Flag,Description=\"dbSNP membership\">",
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
        "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths\">",
        "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">",
        "##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality\">",
    ] {
        writeln!(out, "{l}")?;
    }
    if clinical {
        writeln!(out, "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO'\">")?;
        writeln!(out, "##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Phred-scaled genotype likelihoods\">")?;
    }
    write!(out, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT")?;
    for s in samples {
        write!(out, "\t{s}")?;
    }
    writeln!(out)
}

/// Genotype of one diploid sample given per-ALT frequencies (Hardy-Weinberg per haplotype).
fn draw_gt(rng: &mut Rng, afs: &[f64]) -> (usize, usize) {
    let mut hap = || {
        let mut u = rng.unit();
        for (i, &f) in afs.iter().enumerate() {
            if u < f {
                return i + 1;
            }
            u -= f;
        }
        0
    };
    let (a, b) = (hap(), hap());
    (a.min(b), a.max(b))
}

fn generate(
    out: &mut impl Write,
    records: u64,
    samples: usize,
    clinical: bool,
    seed: u64,
) -> io::Result<()> {
    // Seed 0 keeps the state of earlier versions; xorshift must never start at 0.
    let state = 0x9E37_79B9_7F4A_7C15
        ^ (records << 16)
        ^ samples as u64
        ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut rng = Rng(if state == 0 { 1 } else { state });
    let names: Vec<String> = (0..samples)
        .map(|i| {
            if clinical {
                "PATIENT_0001".to_string()
            } else {
                format!("COHORT_{i:05}")
            }
        })
        .collect();
    header(out, &names, clinical)?;
    let chroms = chroms();
    let total_mb: u64 = chroms.iter().map(|c| c.1).sum();
    let mut line = String::with_capacity(1 << 16);
    let mut written = 0u64;
    for (c, mb) in &chroms {
        let n = if c == "chrX" {
            records - written
        } else {
            records * mb / total_mb
        };
        let step = (mb * 1_000_000 / n.max(1)).max(2);
        let mut pos = 10_000u64;
        for _ in 0..n {
            pos += 1 + rng.below(2 * step - 1);
            let (r, alts) = alleles(&mut rng);
            let afs: Vec<f64> = alts
                .iter()
                .map(|_| allele_freq(&mut rng) / alts.len() as f64)
                .collect();
            let dp = 20 + rng.below(200);
            let qual = 30.0 + rng.unit() * 2000.0;
            line.clear();
            use std::fmt::Write as _;
            let id = if rng.below(3) == 0 {
                format!("rs{}", 1 + rng.below(900_000_000))
            } else {
                ".".into()
            };
            let filter = if qual < 60.0 { "LowQual" } else { "PASS" };
            let join = |v: Vec<String>| v.join(",");
            let _ = write!(
                line,
                "{c}\t{pos}\t{id}\t{r}\t{}\t{qual:.2}\t{filter}\tDP={dp};AF={};AC={};AN={};MQ={:.2};QD={:.2};FS={:.3}",
                alts.join(","),
                join(afs.iter().map(|f| format!("{f:.5}")).collect()),
                join(afs.iter().map(|f| format!("{}", (f * 2.0 * samples as f64).round() as u64)).collect()),
                2 * samples,
                40.0 + rng.unit() * 20.0,
                rng.unit() * 35.0,
                rng.unit() * 60.0,
            );
            if id != "." {
                line.push_str(";DB");
            }
            if clinical {
                let _ = write!(line, ";ANN={}", ann(&mut rng, &alts));
                line.push_str("\tGT:AD:DP:GQ:PL");
            } else {
                line.push_str("\tGT:AD:DP:GQ");
            }
            let n_gl = (alts.len() + 1) * (alts.len() + 2) / 2;
            for _ in 0..samples {
                // A clinical sample is called at every site it reports: never hom-ref.
                let (a, b) = if clinical {
                    if rng.below(3) == 0 {
                        let k = 1 + rng.below(alts.len() as u64) as usize;
                        (k, k)
                    } else {
                        (0, 1 + rng.below(alts.len() as u64) as usize)
                    }
                } else {
                    draw_gt(&mut rng, &afs)
                };
                let sdp = 5 + rng.below(60);
                let mut ad = vec![0u64; alts.len() + 1];
                ad[a] += sdp / 2;
                ad[b] += sdp - sdp / 2;
                let _ = write!(
                    line,
                    "\t{a}/{b}:{}:{sdp}:{}",
                    ad.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
                    rng.below(100)
                );
                if clinical {
                    line.push(':');
                    for g in 0..n_gl {
                        if g > 0 {
                            line.push(',');
                        }
                        let _ = write!(line, "{}", rng.below(500));
                    }
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        written += n;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: gen_vcf clinical RECORDS [SEED] | gen_vcf cohort RECORDS SAMPLES [SEED]";
    let num = |i: usize| -> u64 {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{usage}"))
    };
    let seed = |i: usize| -> u64 {
        if args.len() > i {
            num(i)
        } else {
            0
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let r = match args.get(1).map(String::as_str) {
        Some("clinical") => generate(&mut out, num(2), 1, true, seed(3)),
        Some("cohort") => generate(&mut out, num(2), num(3) as usize, false, seed(4)),
        _ => panic!("{usage}"),
    };
    r.and_then(|_| out.flush()).expect("writing the VCF");
}
