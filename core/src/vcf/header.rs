//! The VCF header: meta lines (`##…`) and the `#CHROM` line. We keep what loading needs —
//! INFO/FORMAT definitions (Number, Type), contigs, reference, file format, samples, and the
//! CSQ layout from VEP's description — plus the raw lines, stored only through
//! [`super::redact`] (CONTRACT §5 v2).

use super::error::{VcfError, Warnings};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    Count(usize),
    /// One value per ALT allele.
    A,
    /// One value per allele, REF included.
    R,
    /// One value per genotype.
    G,
    /// `.`: unknown or varying.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Integer,
    Float,
    Flag,
    Character,
    String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub number: Number,
    pub ty: ValueType,
}

impl FieldDef {
    /// What an undeclared key is taken as (htslib: a String of unknown count).
    pub const UNDECLARED: FieldDef = FieldDef {
        number: Number::Unknown,
        ty: ValueType::String,
    };
}

#[derive(Debug, Clone, Default)]
pub struct Header {
    pub file_format: Option<String>,
    pub reference: Option<String>,
    pub info: HashMap<String, FieldDef>,
    pub format: HashMap<String, FieldDef>,
    pub contigs: HashSet<String>,
    pub samples: Vec<String>,
    /// The INFO key holding VEP's output: `CSQ`, or whatever `--vcf_info_field` named it
    /// (gnomAD: `vep`), found by its description (see [`vep_layout`]).
    pub csq_id: Option<String>,
    /// Field names of VEP's output, from `Format: Allele|Consequence|…` in its description.
    pub csq_fields: Option<Vec<String>>,
    /// Every header line as read, `#CHROM` line last.
    pub lines: Vec<String>,
    /// Header lines read leniently, as htslib reads them (counted per kind with the
    /// records' warnings: `malformed_header_line`, `incomplete_header_line`,
    /// `duplicate_header_definition`).
    pub warnings: Warnings,
}

impl Header {
    /// Add one `##` meta line (without line ending). `line_no` for errors.
    ///
    /// Structured lines are read as htslib's `bcf_hdr_parse_line` reads them: spaces around
    /// keys and values and after the closing `>` are ignored, an unterminated quote or a
    /// missing `>` runs to the end of the line (`incomplete_header_line`), and a line htslib
    /// cannot parse (an unquoted value with `, ` and more words, a missing ID) is kept in the
    /// stored header but defines nothing (`malformed_header_line`), as htslib skips it. Of
    /// two INFO or FORMAT definitions with one ID the first counts, as in htslib.
    pub fn add_meta_line(&mut self, _line_no: u64, line: &str) -> Result<(), VcfError> {
        self.lines.push(line.to_string());
        let body = &line[2..];
        let Some((key, value)) = body.split_once('=') else {
            return Ok(()); // free text such as "##source" without value: kept, not interpreted
        };
        match key {
            "fileformat" => self.file_format = Some(value.to_string()),
            "reference" => self.reference = Some(value.to_string()),
            "INFO" | "FORMAT" | "contig" => {
                let Some(parsed) = parse_structured(value) else {
                    self.warnings.add("malformed_header_line");
                    return Ok(());
                };
                if !parsed.complete {
                    self.warnings.add("incomplete_header_line");
                }
                let fields = parsed.pairs;
                let get = |k: &str| {
                    fields
                        .iter()
                        .find(|(fk, _)| fk == k)
                        .map(|(_, v)| v.as_str())
                };
                let Some(id) = get("ID") else {
                    self.warnings.add("malformed_header_line");
                    return Ok(());
                };
                if key == "contig" {
                    self.contigs.insert(id.to_string());
                    return Ok(());
                }
                let map = if key == "INFO" {
                    &self.info
                } else {
                    &self.format
                };
                if map.contains_key(id) {
                    self.warnings.add("duplicate_header_definition");
                    return Ok(());
                }
                let number = parse_number(get("Number").unwrap_or("."));
                let ty = parse_type(get("Type").unwrap_or("String"));
                if key == "INFO" && self.csq_id.is_none() {
                    if let Some(layout) = get("Description").and_then(|d| vep_layout(id, d)) {
                        self.csq_id = Some(id.to_string());
                        self.csq_fields = Some(layout);
                    }
                }
                let def = FieldDef { number, ty };
                if key == "INFO" {
                    self.info.insert(id.to_string(), def);
                } else {
                    self.format.insert(id.to_string(), def);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The `#CHROM` line: checks the fixed columns and takes the sample names.
    pub fn set_column_line(&mut self, line_no: u64, line: &str) -> Result<(), VcfError> {
        const FIXED: [&str; 8] = [
            "#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
        ];
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 8 || cols[..8] != FIXED {
            return Err(VcfError::format(
                line_no,
                "#CHROM",
                "header line must start with the tab-separated columns #CHROM POS ID REF ALT QUAL FILTER INFO",
            ));
        }
        if cols.len() > 8 {
            if cols[8] != "FORMAT" {
                return Err(VcfError::format(
                    line_no,
                    "#CHROM",
                    "ninth column must be FORMAT",
                ));
            }
            let mut seen = HashSet::new();
            for (i, name) in cols[9..].iter().enumerate() {
                if name.is_empty() {
                    return Err(VcfError::format(
                        line_no,
                        "#CHROM",
                        format!("sample column {} has an empty name", i + 1),
                    ));
                }
                if !seen.insert(*name) {
                    // Position only: the name itself is an identifier.
                    return Err(VcfError::format(
                        line_no,
                        "#CHROM",
                        format!(
                            "sample column {} repeats the name of an earlier sample",
                            i + 1
                        ),
                    ));
                }
            }
            self.samples = cols[9..].iter().map(|s| s.to_string()).collect();
        }
        self.lines.push(line.to_string());
        Ok(())
    }
}

fn parse_number(s: &str) -> Number {
    match s {
        "A" => Number::A,
        "R" => Number::R,
        "G" => Number::G,
        _ => s.parse().map(Number::Count).unwrap_or(Number::Unknown),
    }
}

fn parse_type(s: &str) -> ValueType {
    match s {
        "Integer" => ValueType::Integer,
        "Float" => ValueType::Float,
        "Flag" => ValueType::Flag,
        "Character" => ValueType::Character,
        _ => ValueType::String,
    }
}

/// The field names of VEP's output when an INFO description is VEP's: `Format: ` followed
/// by `|`-separated names, on the key `CSQ`, or with "Ensembl VEP" before the format, or a
/// format that starts `Allele|` and has a `Consequence` field (VEP's `--vcf_info_field`
/// keeps the description whatever the key). bcftools' BCSQ (`Format: Consequence|gene|…`)
/// and SnpEff's ANN (`Functional annotations: 'Allele | …'`) are not VEP's.
pub fn vep_layout(id: &str, description: &str) -> Option<Vec<String>> {
    let (before, format) = description.split_once("Format: ")?;
    let fields: Vec<String> = format
        .trim()
        .split('|')
        .map(|s| s.trim().to_string())
        .collect();
    let named = |n: &str| fields.iter().any(|f| f.eq_ignore_ascii_case(n));
    let vep = id == "CSQ"
        || before.contains("Ensembl VEP")
        || (fields[0].eq_ignore_ascii_case("Allele") && named("Consequence"));
    vep.then_some(fields)
}

/// A structured header value as htslib reads it.
#[derive(Debug, PartialEq, Eq)]
struct Structured {
    pairs: Vec<(String, String)>,
    /// False when htslib warns and proceeds: an unterminated quote or `<`, text after `>`.
    complete: bool,
}

/// `<ID=DP,Number=1,Type=Integer,Description="a, \"quoted\" text">` → pairs, as htslib's
/// `bcf_hdr_parse_line` reads them (vcf.c): keys `[A-Za-z_][0-9A-Za-z_.]*` with spaces
/// around, values quoted (`"…"` with `\` escapes, `[…]`) or running to the next `,` or
/// closing `>` outside nested `<>`, trailing spaces trimmed. None where htslib gives up on
/// the line (a key without `=`, an empty key, an unclosed `[`).
fn parse_structured(value: &str) -> Option<Structured> {
    let b = value.as_bytes();
    if b.first() != Some(&b'<') {
        return None;
    }
    let n = b.len();
    let (mut q, mut nopen) = (0usize, 1u32);
    let mut pairs = Vec::new();
    while q < n && nopen > 0 {
        q += 1;
        while q < n && b[q] == b' ' {
            q += 1;
        }
        let p = q;
        if q < n && (b[q].is_ascii_alphabetic() || b[q] == b'_') {
            q += 1;
            while q < n && (b[q].is_ascii_alphanumeric() || b[q] == b'_' || b[q] == b'.') {
                q += 1;
            }
        }
        let key = &value[p..q];
        while q < n && b[q] == b' ' {
            q += 1;
        }
        if q >= n || b[q] != b'=' || key.is_empty() {
            return None;
        }
        q += 1;
        while q < n && b[q] == b' ' {
            q += 1;
        }
        let mut p = q;
        let ending = match b.get(p) {
            Some(b'"') => {
                p += 1;
                Some(b'"')
            }
            Some(b'[') => Some(b']'),
            _ => None,
        };
        if ending.is_some() {
            q += 1;
        }
        while q < n {
            match ending {
                Some(e) => {
                    if b[q] == e && !is_escaped(&b[p..q]) {
                        break;
                    }
                }
                None => {
                    if b[q] == b'<' {
                        nopen += 1;
                    }
                    if b[q] == b'>' {
                        nopen -= 1;
                    }
                    if nopen == 0 || (b[q] == b',' && nopen == 1) {
                        break;
                    }
                }
            }
            q += 1;
        }
        let mut r = q;
        if ending == Some(b']') {
            if q >= n {
                return None; // htslib: "Missing ']' in header line"
            }
            r += 1;
            q += 1;
        }
        while r > p && b[r - 1] == b' ' {
            r -= 1;
        }
        let raw = &value[p..r];
        let val = if ending == Some(b'"') {
            unescape(raw)
        } else {
            raw.to_string()
        };
        pairs.push((key.to_string(), val));
        if ending == Some(b'"') && q < n && b[q] == b'"' {
            q += 1;
        }
        if q < n && b[q] == b'>' {
            nopen = nopen.saturating_sub(1);
            q += 1;
        }
    }
    let junk = value[q.min(n)..].bytes().any(|c| !c.is_ascii_whitespace());
    Some(Structured {
        pairs,
        complete: nopen == 0 && !junk,
    })
}

/// Whether the character after `before` is escaped by an odd run of backslashes.
fn is_escaped(before: &[u8]) -> bool {
    before.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// `\x` → `x` inside a quoted value.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_format_contig_reference() {
        let mut h = Header::default();
        h.add_meta_line(1, "##fileformat=VCFv4.2").unwrap();
        h.add_meta_line(
            2,
            "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Allele, \\\"freq\\\"\">",
        )
        .unwrap();
        h.add_meta_line(
            3,
            "##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"PL\">",
        )
        .unwrap();
        h.add_meta_line(4, "##contig=<ID=chr22,length=50818468>")
            .unwrap();
        h.add_meta_line(5, "##reference=file:///ref/hg38.fa")
            .unwrap();
        h.add_meta_line(6, "##source").unwrap();
        h.add_meta_line(7, "##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL\">").unwrap();
        h.set_column_line(
            8,
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2",
        )
        .unwrap();
        assert_eq!(h.file_format.as_deref(), Some("VCFv4.2"));
        assert_eq!(
            h.info["AF"],
            FieldDef {
                number: Number::A,
                ty: ValueType::Float
            }
        );
        assert_eq!(h.format["PL"].number, Number::G);
        assert!(h.contigs.contains("chr22"));
        assert_eq!(h.reference.as_deref(), Some("file:///ref/hg38.fa"));
        assert_eq!(h.samples, vec!["S1", "S2"]);
        assert_eq!(
            h.csq_fields.as_ref().unwrap(),
            &vec!["Allele", "Consequence", "IMPACT", "SYMBOL"]
        );
        assert_eq!(h.lines.len(), 8);
    }

    #[test]
    fn column_line_errors_do_not_name_samples() {
        let mut h = Header::default();
        let e = h
            .set_column_line(
                3,
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA1\tNA1",
            )
            .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(!e.to_string().contains("NA1"));
        assert!(h.set_column_line(3, "#CHROM POS ID").is_err());
        assert!(h
            .set_column_line(3, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFOO\tS")
            .is_err());
        let mut sites = Header::default();
        sites
            .set_column_line(1, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
            .unwrap();
        assert!(sites.samples.is_empty());
    }

    /// Lines htslib reads with a warning, or skips, no longer refuse the file (issue case 8);
    /// the first of two definitions counts (case 10).
    #[test]
    fn header_lines_read_as_htslib_reads_them() {
        let mut h = Header::default();
        let lines = [
            // Trailing spaces after `>`: no warning in htslib either.
            "##INFO=<ID=TS,Number=1,Type=Integer,Description=\"trailing spaces\">   ",
            // Unterminated quote: read to the end of the line, Number/Type kept.
            "##INFO=<ID=X,Number=1,Type=Integer,Description=\"unterminated>",
            // Unquoted value with `, more words`: htslib cannot parse it and skips the line.
            "##INFO=<ID=UQ,Number=1,Type=Integer,Description=x, with comma>",
            // No ID: defines nothing.
            "##INFO=<Number=1>",
            // Spaces around keys and values, a comma inside quotes.
            "##FORMAT=< ID = AD , Number = R ,Type=Integer,Description=\"a, b\">",
            // A second definition of X: htslib keeps the first.
            "##INFO=<ID=X,Number=A,Type=Float,Description=\"again\">",
            // Text after `>`: dropped with a warning.
            "##contig=<ID=chr9,length=1>junk",
        ];
        for (i, l) in lines.iter().enumerate() {
            h.add_meta_line(i as u64 + 1, l).unwrap();
        }
        h.add_meta_line(9, "##INFO=<ID=Y>").unwrap();
        assert_eq!(h.info["TS"].ty, ValueType::Integer);
        assert_eq!(
            h.info["X"],
            FieldDef {
                number: Number::Count(1),
                ty: ValueType::Integer
            }
        );
        assert!(!h.info.contains_key("UQ"));
        assert_eq!(h.format["AD"].number, Number::R);
        assert!(h.contigs.contains("chr9"));
        assert_eq!(h.info["Y"], FieldDef::UNDECLARED);
        assert_eq!(h.lines.len(), 8, "every line is kept in the stored header");
        assert_eq!(h.warnings.0.get("incomplete_header_line"), Some(&2));
        assert_eq!(h.warnings.0.get("malformed_header_line"), Some(&2));
        assert_eq!(h.warnings.0.get("duplicate_header_definition"), Some(&1));
        assert_eq!(
            parse_structured("<ID=A,Description=\"q \\\" >x\",Number=1>").unwrap(),
            Structured {
                pairs: vec![
                    ("ID".into(), "A".into()),
                    ("Description".into(), "q \" >x".into()),
                    ("Number".into(), "1".into())
                ],
                complete: true
            }
        );
        assert_eq!(parse_structured("<ID=A,>"), None);
        assert_eq!(parse_structured("<ID=[a,b"), None);
        assert_eq!(
            parse_structured("<ID=A,Values=[a, b]>").unwrap().pairs[1].1,
            "[a, b]"
        );
    }

    /// Any text, however broken, parses or is refused without a panic (byte scanning never
    /// splits a multi-byte character).
    #[test]
    fn structured_parsing_never_panics() {
        let alphabet: Vec<char> = "<>=,\"[]\\ aZ_.é€".chars().collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut t = String::from("<");
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = parse_structured(&t);
            let mut h = Header::default();
            h.add_meta_line(1, &format!("##INFO={t}")).unwrap();
        }
    }

    /// VEP's output is found by its description, whatever its key (issue case 2).
    #[test]
    fn vep_field_found_by_description() {
        let mut h = Header::default();
        h.add_meta_line(1, "##INFO=<ID=BCSQ,Number=.,Type=String,Description=\"Local consequence annotation from BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change\">").unwrap();
        h.add_meta_line(2, "##INFO=<ID=vep,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|ALLELE_NUM\">").unwrap();
        assert_eq!(h.csq_id.as_deref(), Some("vep"));
        assert_eq!(h.csq_fields.as_ref().unwrap()[4], "ALLELE_NUM");
        let renamed = vep_layout("MYCSQ", "Format: Allele|Consequence|IMPACT").unwrap();
        assert_eq!(renamed.len(), 3);
        assert_eq!(
            vep_layout("ANN", "Functional annotations: 'Allele | Annotation'"),
            None
        );
        assert_eq!(vep_layout("LOF", "Format: 'Gene_Name | Gene_ID'"), None);
    }
}
