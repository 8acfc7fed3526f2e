//! Number=A/R/G picking: which items of an INFO or FORMAT list belong to one ALT row, and a
//! value split once per record so every row picks its items without scanning the text
//! again.

use super::AltRow;
use crate::vcf::genotype::{g_count, g_indices};
use crate::vcf::header::{FieldDef, Number, ValueType};
use crate::vcf::json::JsonObject;
use crate::vcf::redact::Redactor;
use std::borrow::Cow;
use std::ops::Range;

/// Which items of a list belong to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// One item (Number=A, Number=1): a JSON scalar.
    One(usize),
    /// These items (Number=R: REF and this ALT; Number=G: this ALT's genotypes).
    Many(Vec<usize>),
    /// Every item (Number=., fixed counts other than 1, a row without ALT).
    All,
    /// The count does not match the record: kept whole, warned by the caller.
    Mismatch,
}

/// Pick from `n` items per `number` for `row` (genotypes of `ploidy`, tried first; then
/// diploid and haploid).
pub fn pick(number: Number, n: usize, row: AltRow, ploidy: usize) -> Pick {
    let n_alt = row.n_alt;
    match (number, row.k) {
        (Number::Count(1), _) | (Number::Count(0), _) => Pick::One(0),
        (Number::A, Some(k)) => {
            if n == n_alt {
                Pick::One(k - 1)
            } else {
                Pick::Mismatch
            }
        }
        (Number::R, Some(k)) => {
            if n == n_alt + 1 {
                Pick::Many(vec![0, k])
            } else {
                Pick::Mismatch
            }
        }
        (Number::G, Some(k)) => [ploidy, 2, 1]
            .into_iter()
            .find(|&p| n == g_count(n_alt + 1, p))
            .map_or(Pick::Mismatch, |p| Pick::Many(g_indices(k, p))),
        _ => Pick::All,
    }
}

/// One INFO or FORMAT value: String items redacted (CONTRACT §5 v2, rule 5) and split at
/// commas when its Number needs slicing. Items are ranges into `raw`.
pub struct Value<'a> {
    pub raw: Cow<'a, str>,
    items: Vec<Range<usize>>,
}

impl<'a> Value<'a> {
    /// `def` None = undeclared (one String, kept whole). Sample names out of it (CONTRACT §5
    /// rule 5): String items (when `redact_strings`: all but FORMAT FT), and items of numeric
    /// fields that are not numbers.
    pub fn new(
        def: Option<&FieldDef>,
        raw: &'a str,
        redactor: &Redactor,
        redact_strings: bool,
    ) -> Self {
        let (def, declared) = match def {
            Some(d) => (d, true),
            None => (&FieldDef::UNDECLARED, false),
        };
        let raw = match def.ty {
            ValueType::String if redact_strings => redactor.items(raw),
            ValueType::Integer | ValueType::Float => redactor.non_numeric_items(raw),
            _ => Cow::Borrowed(raw),
        };
        let sliced = declared && raw != "." && !matches!(def.number, Number::Count(1));
        let items = if sliced {
            split_ranges(&raw)
        } else {
            Vec::new()
        };
        Value { raw, items }
    }

    /// A list read as is, not redacted (AD: numbers only).
    pub fn split(raw: &'a str) -> Self {
        Value {
            raw: Cow::Borrowed(raw),
            items: split_ranges(raw),
        }
    }

    /// How many items it was split into (0 when it is not a list: undeclared, `.`,
    /// Number=1).
    pub fn count(&self) -> usize {
        self.items.len()
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        (0..self.items.len()).map(|i| self.item(i))
    }

    pub fn item(&self, i: usize) -> &str {
        &self.raw[self.items[i].clone()]
    }

    /// The items `pick` chose (all of them for `All` and `Mismatch`).
    pub fn picked(&self, pick: &Pick) -> Vec<&str> {
        match pick {
            Pick::One(i) => vec![self.item(*i)],
            Pick::Many(ix) => ix.iter().map(|&i| self.item(i)).collect(),
            Pick::All | Pick::Mismatch => self.all().collect(),
        }
    }
}

/// Byte ranges of the comma-separated items of `raw`.
fn split_ranges(raw: &str) -> Vec<Range<usize>> {
    let mut items = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b',', raw.as_bytes()) {
        items.push(start..i);
        start = i + 1;
    }
    items.push(start..raw.len());
    items
}

/// Write one typed value into `obj`, picked for `row`. Returns (type ok, count ok).
pub fn write_field(
    obj: &mut JsonObject,
    key: &str,
    def: Option<&FieldDef>,
    v: &Value,
    row: AltRow,
    ploidy: usize,
) -> (bool, bool) {
    // Undeclared keys are one String, kept whole (htslib takes them as String).
    let (def, declared) = match def {
        Some(d) => (d, true),
        None => (&FieldDef::UNDECLARED, false),
    };
    // A lone "." is the whole value missing, whatever its Number.
    if !declared || v.raw == "." || matches!(def.number, Number::Count(1)) {
        return (obj.scalar(key, def.ty, &v.raw), true);
    }
    match pick(def.number, v.count(), row, ploidy) {
        Pick::One(i) => (obj.scalar(key, def.ty, v.item(i)), true),
        Pick::Many(ix) => (
            obj.array(key, def.ty, ix.into_iter().map(|i| v.item(i))),
            true,
        ),
        Pick::All => (obj.array(key, def.ty, v.all()), true),
        Pick::Mismatch => (obj.array(key, def.ty, v.all()), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: Option<usize>, n_alt: usize) -> AltRow {
        AltRow {
            k,
            n_alt,
            first: true,
        }
    }

    #[test]
    fn picks_per_number() {
        assert_eq!(pick(Number::A, 2, row(Some(2), 2), 2), Pick::One(1));
        assert_eq!(pick(Number::A, 3, row(Some(2), 2), 2), Pick::Mismatch);
        assert_eq!(
            pick(Number::R, 3, row(Some(2), 2), 2),
            Pick::Many(vec![0, 2])
        );
        assert_eq!(
            pick(Number::G, 6, row(Some(2), 2), 2),
            Pick::Many(vec![0, 3, 5])
        );
        assert_eq!(
            pick(Number::G, 3, row(Some(2), 2), 2),
            Pick::Many(vec![0, 2])
        );
        assert_eq!(pick(Number::G, 4, row(Some(1), 2), 2), Pick::Mismatch);
        assert_eq!(pick(Number::Unknown, 4, row(Some(1), 2), 2), Pick::All);
        assert_eq!(pick(Number::R, 1, row(None, 0), 2), Pick::All);
        assert_eq!(pick(Number::Count(1), 1, row(Some(1), 1), 2), Pick::One(0));
        let v = Value::split("5,3,2");
        assert_eq!(v.picked(&Pick::Many(vec![0, 2])), vec!["5", "2"]);
        assert_eq!(v.picked(&Pick::Mismatch), vec!["5", "3", "2"]);
    }
}
