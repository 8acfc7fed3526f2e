//! FORMAT and the sample columns: the FORMAT keys and what the header says of them
//! ([`FormatLayout`], kept while records repeat one FORMAT), each sample's fields and GT
//! parsed once per record ([`parse_samples`]), and one genotype row ([`genotype_row`]).

use super::fixed::utf8;
use super::pick::{pick, write_field, Pick, Value};
use super::AltRow;
use crate::vcf::error::{VcfError, Warnings};
use crate::vcf::genotype::{Call, GtError};
use crate::vcf::header::{FieldDef, Header, Number, ValueType};
use crate::vcf::json::JsonObject;
use crate::vcf::redact::Redactor;
use crate::vcf::rows::GenotypeRow;

/// The FORMAT keys of a record (empty for `.`).
pub fn parse_format(ln: u64, col: &[u8]) -> Result<Vec<&str>, VcfError> {
    let f = utf8(ln, "FORMAT", col)?;
    Ok(if f == "." || f.is_empty() {
        Vec::new()
    } else {
        f.split(':').collect()
    })
}

/// What a FORMAT column says, kept while records repeat it: whether each key is the first
/// of its name (htslib drops repeated keys), its header definition, and the warnings.
#[derive(Default)]
pub struct FormatLayout<'h> {
    text: Vec<u8>,
    first: Vec<bool>,
    defs: Vec<Option<&'h FieldDef>>,
    undeclared: u64,
    repeated: u64,
}

impl<'h> FormatLayout<'h> {
    /// The layout of FORMAT `text` (keys `keys`), reusing `self` when it is the same text;
    /// counts its warnings for this record.
    pub fn update(
        &mut self,
        text: &[u8],
        keys: &[&str],
        header: &'h Header,
        warnings: &mut Warnings,
    ) {
        if self.text != text {
            let first: Vec<bool> = (0..keys.len())
                .map(|i| !keys[..i].contains(&keys[i]))
                .collect();
            let defs: Vec<Option<&FieldDef>> = keys.iter().map(|k| header.format.get(*k)).collect();
            *self = FormatLayout {
                text: text.to_vec(),
                undeclared: defs.iter().filter(|d| d.is_none()).count() as u64,
                repeated: first.iter().filter(|f| !**f).count() as u64,
                first,
                defs,
            };
        }
        warnings.add_n("undeclared_format_key", self.undeclared);
        warnings.add_n("duplicate_format_key", self.repeated);
    }
}

/// The fields of each of `n_samples` sample columns (`cols[9..]`), and each sample's GT
/// parsed into `calls` (checked against `n_alt`). Errors name the sample column by number,
/// never its content.
pub fn parse_samples<'a>(
    ln: u64,
    cols: &[&'a [u8]],
    keys: &[&str],
    n_alt: usize,
    calls: &mut [Call],
) -> Result<Vec<Vec<&'a str>>, VcfError> {
    let gt_pos = keys.iter().position(|k| *k == "GT");
    let mut samples = Vec::with_capacity(calls.len());
    for (s, call) in calls.iter_mut().enumerate() {
        let txt = std::str::from_utf8(cols[9 + s])
            .ok()
            .filter(|t| !t.contains('\0'))
            .ok_or_else(|| {
                VcfError::format(
                    ln,
                    "sample",
                    format!("sample column {}: invalid UTF-8 or NUL byte", s + 1),
                )
            })?;
        let fields: Vec<&str> = if txt == "." {
            Vec::new()
        } else {
            txt.split(':').collect()
        };
        if fields.len() > keys.len() {
            return Err(VcfError::format(
                ln,
                "sample",
                format!(
                    "sample column {} has more fields than FORMAT declares",
                    s + 1
                ),
            ));
        }
        match gt_pos.and_then(|i| fields.get(i)) {
            Some(gt) => call.parse(gt, n_alt).map_err(|e| {
                VcfError::format(
                    ln,
                    "GT",
                    match e {
                        GtError::Syntax => format!("sample column {}: not a genotype", s + 1),
                        GtError::AlleleOutOfRange(a) => format!(
                            "sample column {}: allele {a} but the record has {n_alt} ALT alleles",
                            s + 1
                        ),
                    },
                )
            })?,
            None => {
                call.alleles.clear();
                call.phased = false;
            }
        }
        samples.push(fields);
    }
    Ok(samples)
}

/// What every genotype row of one variant row shares.
pub struct GenotypeContext<'r, 'h> {
    pub keys: &'r [&'r str],
    pub layout: &'r FormatLayout<'h>,
    pub redactor: &'r Redactor,
    pub row: AltRow,
    /// Index of the variant row in its batch.
    pub variant: usize,
}

/// The genotype row of sample `s` (`fields`, its parsed `call`) for the context's variant
/// row. Err (what `jsonb` cannot store) names the FORMAT key.
pub fn genotype_row(
    cx: &GenotypeContext,
    s: usize,
    call: &Call,
    fields: &[&str],
    warnings: &mut Warnings,
) -> Result<GenotypeRow, String> {
    let AltRow { k, n_alt, first } = cx.row;
    let ploidy = call.ploidy().max(1);
    let mut row = GenotypeRow {
        variant: cx.variant,
        sample_index: s,
        gt: None,
        alt_dosage: None,
        phased: None,
        dp: None,
        gq: None,
        ad: None,
        format: None,
    };
    let mut other = JsonObject::new();
    for (i, key) in cx.keys.iter().enumerate() {
        let Some(&raw) = fields.get(i) else { break };
        if !cx.layout.first[i] {
            continue;
        }
        let def = cx.layout.defs[i];
        match *key {
            "GT" => {
                row.gt = Some(raw.to_string());
                if !call.is_missing() {
                    row.phased = Some(call.phased);
                }
                // A record without ALT: a called genotype holds 0 copies of any ALT.
                row.alt_dosage = match k {
                    Some(k) => call.dosage(k as u32),
                    None => call.dosage(0).map(|_| 0),
                };
            }
            "DP" | "GQ" if raw == "." => {}
            // Declared Float (freebayes' GQ): kept in `format` as the number it is.
            "DP" | "GQ" if !def.is_some_and(|d| d.ty == ValueType::Float) => {
                match raw.parse::<i32>() {
                    Ok(v) if *key == "DP" => row.dp = Some(v),
                    Ok(v) => row.gq = Some(v),
                    Err(_) => {
                        if first {
                            warnings.add("format_type_mismatch");
                        }
                        other.scalar(key, ValueType::String, &cx.redactor.non_numeric_items(raw));
                    }
                }
            }
            "AD" if raw == "." => {}
            // The `ad` column is [REF, this ALT]: only for an AD with one value per allele
            // (Number=R, or GATK 3's Number=. with that many values). VarScan's Number=1
            // AD (ALT depth only) and the like stay in `format`.
            "AD" if ad_is_per_allele(def, raw, n_alt) => {
                let v = Value::split(raw);
                let p = pick(Number::R, v.count(), cx.row, ploidy);
                if p == Pick::Mismatch && first && s == 0 {
                    warnings.add("format_number_mismatch");
                }
                let chosen = v.picked(&p);
                let parsed: Vec<Option<i32>> =
                    chosen.iter().map(|v| v.parse::<i32>().ok()).collect();
                if chosen
                    .iter()
                    .zip(&parsed)
                    .any(|(v, p)| p.is_none() && *v != ".")
                {
                    if first {
                        warnings.add("format_type_mismatch");
                    }
                    let kept = cx.redactor.non_numeric_items(raw);
                    other.array("AD", ValueType::String, Value::split(&kept).all());
                } else {
                    row.ad = Some(parsed);
                }
            }
            _ => {
                // FORMAT String items equal to a name are replaced too, but not FT: its values are
                // FILTER ids (`FT=PASS` with a sample named PASS is a filter).
                let v = Value::new(def, raw, cx.redactor, *key != "FT");
                let (type_ok, count_ok) = write_field(&mut other, key, def, &v, cx.row, ploidy);
                if first && s == 0 && !count_ok {
                    warnings.add("format_number_mismatch");
                }
                if first && !type_ok {
                    warnings.add("format_type_mismatch");
                }
            }
        }
    }
    if !other.is_empty() {
        row.format = Some(other.finish()?);
    }
    Ok(row)
}

/// Whether an AD value is one count per allele, REF first: declared Number=R, or declared
/// Number=. (GATK 3 headers) with exactly one value per allele.
fn ad_is_per_allele(def: Option<&FieldDef>, raw: &str, n_alt: usize) -> bool {
    match def.map(|d| d.number) {
        Some(Number::R) => true,
        Some(Number::Unknown) => memchr::memchr_iter(b',', raw.as_bytes()).count() == n_alt,
        _ => false,
    }
}
