//! The fixed columns of a data line, CHROM to FILTER: one `parse_<column>` each. Errors
//! name the line and the column (`22P04 file:line: column: what`).

use crate::vcf::error::VcfError;

/// Column names for messages.
pub const COLUMNS: [&str; 9] = [
    "CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
];

/// Positions must fit what htslib and our indexes expect.
pub const MAX_POS: i64 = i32::MAX as i64;

/// Bytes of record text a record may make us read and write across its ALT rows (each row
/// slices INFO, and FORMAT per sample, from the whole record). Real data stays far below: a
/// 1,000-sample record with 50 ALTs and PL is ~0.2 GiB; a crafted 18 MB line with 3,000 ALTs
/// would be ~50 GiB of work and output.
pub const MAX_RECORD_WORK: u64 = 1 << 30;

/// CHROM to FILTER of one record.
pub struct Fixed<'a> {
    pub chrom: &'a str,
    pub pos: i64,
    pub id: Option<String>,
    pub ref_allele: &'a str,
    /// Empty for ALT `.`.
    pub alts: Vec<&'a str>,
    pub qual: Option<f32>,
    pub filter: Option<Vec<String>>,
}

/// The fixed columns of `cols` (at least seven). `row_bytes` is the record text each ALT
/// row reads (the ALT column's work limit, [`MAX_RECORD_WORK`]). Columns are checked as
/// UTF-8 first, then in file order, the work limit right after ALT.
pub fn parse<'a>(ln: u64, cols: &[&'a [u8]], row_bytes: usize) -> Result<Fixed<'a>, VcfError> {
    let mut text = [""; 7];
    for (i, t) in text.iter_mut().enumerate() {
        *t = utf8(ln, COLUMNS[i], cols[i])?;
    }
    let [chrom, pos, id, ref_allele, alt, qual, filter] = text;
    let chrom = parse_chrom(ln, chrom)?;
    let pos = parse_pos(ln, pos)?;
    let ref_allele = parse_ref(ln, ref_allele)?;
    let alts = parse_alt(ln, alt, row_bytes)?;
    let qual = parse_qual(ln, qual)?;
    Ok(Fixed {
        chrom,
        pos,
        id: parse_id(id),
        ref_allele,
        alts,
        qual,
        filter: parse_filter(filter),
    })
}

/// A column's text: UTF-8 without NUL.
pub fn utf8<'a>(line: u64, field: &'static str, b: &'a [u8]) -> Result<&'a str, VcfError> {
    if b.contains(&0) {
        return Err(VcfError::format(line, field, "NUL byte"));
    }
    std::str::from_utf8(b).map_err(|_| VcfError::format(line, field, "invalid UTF-8"))
}

pub fn parse_chrom(ln: u64, s: &str) -> Result<&str, VcfError> {
    if s.is_empty() || s.contains(' ') {
        return Err(VcfError::format(ln, "CHROM", "empty or contains a space"));
    }
    Ok(s)
}

pub fn parse_pos(ln: u64, s: &str) -> Result<i64, VcfError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VcfError::format(ln, "POS", "not a non-negative integer"));
    }
    s.parse()
        .ok()
        .filter(|p| *p <= MAX_POS)
        .ok_or_else(|| VcfError::format(ln, "POS", format!("out of range (0 to {MAX_POS})")))
}

pub fn parse_id(s: &str) -> Option<String> {
    (s != "." && !s.is_empty()).then(|| s.to_string())
}

pub fn parse_ref(ln: u64, s: &str) -> Result<&str, VcfError> {
    if s.is_empty() || !s.bytes().all(is_iupac_base) {
        return Err(VcfError::format(
            ln,
            "REF",
            "must be one or more bases (A, C, G, T, N or IUPAC codes)",
        ));
    }
    Ok(s)
}

/// ALT alleles as written (empty for `.`). Refused before any work when its rows would read
/// more than [`MAX_RECORD_WORK`] bytes of record text (`row_bytes` each).
pub fn parse_alt(ln: u64, s: &str, row_bytes: usize) -> Result<Vec<&str>, VcfError> {
    let alts: Vec<&str> = if s == "." {
        Vec::new()
    } else {
        s.split(',').collect()
    };
    if alts.iter().any(|a| a.is_empty() || a.contains(' ')) {
        return Err(VcfError::format(
            ln,
            "ALT",
            "empty allele or a space in an allele",
        ));
    }
    let work = alts.len().max(1) as u64 * row_bytes as u64;
    if work > MAX_RECORD_WORK {
        return Err(VcfError::format(
            ln,
            "ALT",
            format!(
                "{} ALT alleles on a {}-byte record: decomposing it would process {} MiB, over the limit of {} MiB per record",
                alts.len(),
                row_bytes,
                work >> 20,
                MAX_RECORD_WORK >> 20
            ),
        ));
    }
    Ok(alts)
}

pub fn parse_qual(ln: u64, s: &str) -> Result<Option<f32>, VcfError> {
    if s == "." {
        return Ok(None);
    }
    s.parse::<f32>()
        .map(Some)
        .map_err(|_| VcfError::format(ln, "QUAL", "not a number"))
}

pub fn parse_filter(s: &str) -> Option<Vec<String>> {
    (s != "." && !s.is_empty()).then(|| s.split(';').map(str::to_string).collect())
}

fn is_iupac_base(b: u8) -> bool {
    matches!(
        b.to_ascii_uppercase(),
        b'A' | b'C'
            | b'G'
            | b'T'
            | b'N'
            | b'R'
            | b'Y'
            | b'S'
            | b'W'
            | b'K'
            | b'M'
            | b'B'
            | b'D'
            | b'H'
            | b'V'
    )
}

/// Trim bases shared by REF and ALT, keeping one (suffix first, then prefix, moving POS),
/// as `bcftools norm` does without a reference. Only for plain-base alleles.
pub fn trim_alleles<'a>(pos: i64, r: &'a str, a: &'a str) -> (i64, &'a str, &'a str) {
    if !r.bytes().all(is_iupac_base) || !a.bytes().all(is_iupac_base) {
        return (pos, r, a);
    }
    let (mut r, mut a) = (r.as_bytes(), a.as_bytes());
    while r.len() > 1 && a.len() > 1 && r[r.len() - 1].eq_ignore_ascii_case(&a[a.len() - 1]) {
        r = &r[..r.len() - 1];
        a = &a[..a.len() - 1];
    }
    let mut p = pos;
    while r.len() > 1 && a.len() > 1 && r[0].eq_ignore_ascii_case(&a[0]) {
        r = &r[1..];
        a = &a[1..];
        p += 1;
    }
    // SAFETY of from_utf8: slices of ASCII bases.
    (
        p,
        std::str::from_utf8(r).unwrap_or_default(),
        std::str::from_utf8(a).unwrap_or_default(),
    )
}
