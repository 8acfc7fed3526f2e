//! The INFO column: its entries (a key given twice keeps the first, as htslib's lookups
//! find the first), the keys the decomposer reads itself ([`KnownInfo`]), each value
//! prepared once per record ([`prepare`]) and one row's INFO object ([`info_json`]).

use super::pick::{write_field, Value};
use super::AltRow;
use crate::vcf::error::{VcfError, Warnings};
use crate::vcf::header::{FieldDef, Header, ValueType};
use crate::vcf::json::{self, JsonObject};
use crate::vcf::redact::Redactor;
use std::borrow::Cow;

pub struct InfoEntry<'a> {
    pub key: Cow<'a, str>,
    /// None for a key without `=` (a Flag).
    pub value: Option<Cow<'a, str>>,
}

/// The entries of an INFO column. Invalid UTF-8 or NUL in a key or value is replaced
/// (U+FFFD) and counted (`invalid_utf8_info`); empty entries (`;;`, a trailing `;`) are
/// skipped, as htslib does; a repeated key is dropped and counted (`duplicate_info_key`).
pub fn parse_info<'a>(raw: &'a [u8], warnings: &mut Warnings) -> Vec<InfoEntry<'a>> {
    let mut out = Vec::new();
    if raw.is_empty() || raw == b"." {
        return out;
    }
    let mut text = |b: &'a [u8]| match std::str::from_utf8(b) {
        Ok(s) if !s.contains('\0') => Cow::Borrowed(s),
        _ => {
            warnings.add("invalid_utf8_info");
            Cow::Owned(String::from_utf8_lossy(b).replace('\0', "\u{FFFD}"))
        }
    };
    for part in raw.split(|&b| b == b';') {
        if part.is_empty() {
            continue; // trailing or doubled ';': htslib tolerates it
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], Some(&part[i + 1..])),
            None => (part, None),
        };
        let key = text(k);
        let value = v.map(&mut text);
        out.push(InfoEntry { key, value });
    }
    let dups = drop_repeated_keys(&mut out);
    warnings.add_n("duplicate_info_key", dups);
    out
}

/// Keep the first INFO entry of each key (htslib's lookups find the first); returns how
/// many later ones were dropped.
fn drop_repeated_keys(entries: &mut Vec<InfoEntry>) -> u64 {
    // Filtered pairwise for the usual few dozen keys, hashed for gnomAD's hundreds; no
    // allocation when nothing repeats.
    let at: Vec<usize> = if entries.len() <= 64 {
        // A 64-bit filter on (length, first byte, last byte): a full comparison only when
        // two keys share a bit.
        let mut bits = 0u64;
        (0..entries.len())
            .filter(|&i| {
                let b = entries[i].key.as_bytes();
                let h = b.len()
                    ^ (*b.first().unwrap_or(&0) as usize).wrapping_mul(7)
                    ^ (*b.last().unwrap_or(&0) as usize).wrapping_mul(31);
                let bit = 1u64 << (h % 64);
                let maybe = bits & bit != 0;
                bits |= bit;
                maybe && entries[..i].iter().any(|e| e.key == entries[i].key)
            })
            .collect()
    } else {
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        (0..entries.len())
            .filter(|&i| !seen.insert(entries[i].key.as_ref()))
            .collect()
    };
    for &i in at.iter().rev() {
        entries.remove(i);
    }
    at.len() as u64
}

/// The INFO values the decomposer reads itself, found in one pass over the record's INFO
/// (after [`parse_info`], so each is the first of its key).
#[derive(Default)]
pub struct KnownInfo<'a> {
    pub end: Option<&'a str>,
    pub af: Option<&'a str>,
    pub svlen: Option<&'a str>,
    pub svtype: Option<&'a str>,
    pub ann: Option<&'a str>,
    pub bcsq: Option<&'a str>,
    /// VEP's output and its layout, under the key the header names (CSQ, gnomAD's `vep`,
    /// even `ANN` when VEP was run with `--vcf_info_field ANN`: then it is read as VEP's,
    /// not SnpEff's).
    pub csq: Option<(&'a str, &'a [String])>,
}

impl<'a> KnownInfo<'a> {
    pub fn find(info: &'a [InfoEntry], header: &'a Header) -> Self {
        let csq_id = header.csq_id.as_deref();
        let mut csq = None;
        let mut k = KnownInfo::default();
        for e in info {
            let Some(v) = e.value.as_deref() else {
                continue;
            };
            let slot = match e.key.as_ref() {
                key if Some(key) == csq_id => &mut csq,
                "END" => &mut k.end,
                "AF" => &mut k.af,
                "SVLEN" => &mut k.svlen,
                "SVTYPE" => &mut k.svtype,
                "ANN" => &mut k.ann,
                "BCSQ" => &mut k.bcsq,
                _ => continue,
            };
            *slot = Some(v);
        }
        k.csq = csq.zip(header.csq_fields.as_deref());
        k
    }

    /// INFO END: `.` (or empty) is END absent, as htslib reads it; anything else must be an
    /// integer.
    pub fn end(&self, ln: u64) -> Result<Option<i64>, VcfError> {
        match self.end {
            None | Some(".") | Some("") => Ok(None),
            Some(v) => json::parse_integer(v)
                .map(Some)
                .ok_or_else(|| VcfError::format(ln, "INFO", "END is not an integer")),
        }
    }

    /// SVTYPE when it names something (VEP ignores an empty one).
    pub fn svtype(&self) -> Option<&'a str> {
        self.svtype.filter(|t| !t.is_empty() && *t != ".")
    }
}

/// One INFO entry ready for every row: its header definition and its value, String items
/// redacted and the list split once per record.
pub struct Prepared<'v, 'h> {
    pub def: Option<&'h FieldDef>,
    pub value: Option<Value<'v>>,
}

pub fn prepare<'v, 'h>(
    info: &'v [InfoEntry],
    header: &'h Header,
    redactor: &Redactor,
) -> Vec<Prepared<'v, 'h>> {
    info.iter()
        .map(|e| {
            let def = header.info.get(e.key.as_ref());
            let value = e
                .value
                .as_deref()
                .map(|v| Value::new(def, v, redactor, true));
            Prepared { def, value }
        })
        .collect()
}

/// The INFO object of one row: Number=A/R/G values picked for `row`, a Flag (with or
/// without a value, `info_flag_with_value`) `true`, the record's warnings counted on its
/// first row. Err when `jsonb` could not store it.
pub fn info_json(
    ln: u64,
    info: &[InfoEntry],
    prepared: &[Prepared],
    row: AltRow,
    warnings: &mut Warnings,
) -> Result<String, VcfError> {
    let mut obj = JsonObject::new();
    for (e, p) in info.iter().zip(prepared) {
        if p.def.is_none() && row.first {
            warnings.add("undeclared_info_key");
        }
        match &p.value {
            None => obj.flag(&e.key),
            // A Flag given a value is still a flag: true (htslib's bcf_get_info_flag).
            Some(_) if p.def.is_some_and(|d| d.ty == ValueType::Flag) => {
                obj.flag(&e.key);
                if row.first {
                    warnings.add("info_flag_with_value");
                }
            }
            Some(v) => {
                let (type_ok, count_ok) = write_field(&mut obj, &e.key, p.def, v, row, 2);
                if row.first && !type_ok {
                    warnings.add("info_type_mismatch");
                }
                if row.first && !count_ok {
                    warnings.add("info_number_mismatch");
                }
            }
        }
    }
    obj.finish()
        .map_err(|what| VcfError::format(ln, "INFO", what))
}
