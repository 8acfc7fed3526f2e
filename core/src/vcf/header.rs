//! The VCF header: meta lines (`##…`) and the `#CHROM` line. We keep what loading needs —
//! INFO/FORMAT definitions (Number, Type), contigs, reference, file format, samples, and the
//! CSQ layout from VEP's description — plus the raw lines, stored only through
//! [`super::redact`] (CONTRACT §5 v2).

use super::error::VcfError;
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
    /// Field names of VEP's CSQ, from `Format: Allele|Consequence|…` in its description.
    pub csq_fields: Option<Vec<String>>,
    /// Every header line as read, `#CHROM` line last.
    pub lines: Vec<String>,
}

impl Header {
    /// Add one `##` meta line (without line ending). `line_no` for errors.
    pub fn add_meta_line(&mut self, line_no: u64, line: &str) -> Result<(), VcfError> {
        self.lines.push(line.to_string());
        let body = &line[2..];
        let Some((key, value)) = body.split_once('=') else {
            return Ok(()); // free text such as "##source" without value: kept, not interpreted
        };
        match key {
            "fileformat" => self.file_format = Some(value.to_string()),
            "reference" => self.reference = Some(value.to_string()),
            "INFO" | "FORMAT" | "contig" => {
                let fields = parse_structured(value).ok_or_else(|| {
                    VcfError::format(line_no, "header", format!("malformed ##{key} line"))
                })?;
                let get = |k: &str| {
                    fields
                        .iter()
                        .find(|(fk, _)| fk == k)
                        .map(|(_, v)| v.as_str())
                };
                let id = get("ID").ok_or_else(|| {
                    VcfError::format(line_no, "header", format!("##{key} line without ID"))
                })?;
                if key == "contig" {
                    self.contigs.insert(id.to_string());
                    return Ok(());
                }
                let number = parse_number(get("Number").unwrap_or("."));
                let ty = parse_type(get("Type").unwrap_or("String"));
                if key == "INFO" && id == "CSQ" {
                    if let Some(desc) = get("Description") {
                        if let Some((_, fmt)) = desc.split_once("Format: ") {
                            self.csq_fields = Some(
                                fmt.trim()
                                    .split('|')
                                    .map(|s| s.trim().to_string())
                                    .collect(),
                            );
                        }
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

/// `<ID=DP,Number=1,Type=Integer,Description="a, \"quoted\" text">` → pairs.
fn parse_structured(value: &str) -> Option<Vec<(String, String)>> {
    let inner = value.strip_prefix('<')?.strip_suffix('>')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        chars.next()?; // '='
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => val.push(chars.next()?),
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_string(), val));
        match chars.next() {
            None => return Some(out),
            Some(',') => continue,
            Some(_) => {
                // Junk after a quoted value: skip to the next comma.
                for c in chars.by_ref() {
                    if c == ',' {
                        break;
                    }
                }
                if chars.peek().is_none() {
                    return Some(out);
                }
            }
        }
    }
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

    #[test]
    fn malformed_structured_lines() {
        let mut h = Header::default();
        assert!(h
            .add_meta_line(
                1,
                "##INFO=<ID=X,Number=1,Type=Integer,Description=\"unterminated>"
            )
            .is_err());
        assert!(h.add_meta_line(1, "##INFO=<Number=1>").is_err());
        h.add_meta_line(1, "##INFO=<ID=Y>").unwrap();
        assert_eq!(h.info["Y"], FieldDef::UNDECLARED);
    }
}
