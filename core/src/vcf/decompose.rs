//! One VCF data line → one [`VariantRow`] per ALT allele plus [`GenotypeRow`]s (CONTRACT §5):
//! Number=A/R/G slicing for INFO and FORMAT, `normalize` trimming, END/`end_pos`, ANN/CSQ/
//! BCSQ for *this* ALT, GT dosage and the `genotypes` modes, lenient warnings as htslib.

use super::annotation::{self, Annotation};
use super::error::{VcfError, Warnings};
use super::genotype::{g_count, g_indices, Call, GtError};
use super::header::{FieldDef, Header, Number, ValueType};
use super::json::JsonObject;
use super::redact::Redactor;
use super::rows::{GenotypeRow, RowBatch, VariantRow};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenotypeMode {
    All,
    Carriers,
    None,
}

impl GenotypeMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(GenotypeMode::All),
            "carriers" => Some(GenotypeMode::Carriers),
            "none" => Some(GenotypeMode::None),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub normalize: bool,
    pub genotypes: GenotypeMode,
    /// Store command-line header lines (`##GATKCommandLine`, `##bcftools_viewCommand`, …)
    /// with sample names replaced, instead of as `##<key>=<redacted>` (CONTRACT §5 v2, rule 3).
    pub keep_header_commands: bool,
}

/// Positions must fit what htslib and our indexes expect.
pub const MAX_POS: i64 = i32::MAX as i64;

/// Bytes of record text a record may make us read and write across its ALT rows (each row
/// slices INFO, and FORMAT per sample, from the whole record). Real data stays far below: a
/// 1,000-sample record with 50 ALTs and PL is ~0.2 GiB; a crafted 18 MB line with 3,000 ALTs
/// would be ~50 GiB of work and output.
pub const MAX_RECORD_WORK: u64 = 1 << 30;

pub struct Decomposer<'h> {
    header: &'h Header,
    opts: LoadOptions,
    redactor: Redactor,
    pub warnings: Warnings,
    calls: Vec<Call>,
}

/// Column names for messages.
const COLUMNS: [&str; 9] = [
    "CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
];

fn utf8<'a>(line: u64, field: &'static str, b: &'a [u8]) -> Result<&'a str, VcfError> {
    if b.contains(&0) {
        return Err(VcfError::format(line, field, "NUL byte"));
    }
    std::str::from_utf8(b).map_err(|_| VcfError::format(line, field, "invalid UTF-8"))
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

/// One INFO or FORMAT value: String items redacted (CONTRACT §5 v2, rule 5) and split at
/// commas when its Number
/// needs slicing. Items are ranges into `raw`, so each ALT row picks its values without
/// scanning the text again; INFO values are prepared once per record.
struct Value<'a> {
    raw: Cow<'a, str>,
    items: Vec<std::ops::Range<usize>>,
}

impl<'a> Value<'a> {
    /// `def` None = undeclared (one String, kept whole).
    fn new(def: Option<&FieldDef>, raw: &'a str, redactor: &Redactor) -> Self {
        let (def, declared) = match def {
            Some(d) => (d, true),
            None => (&FieldDef::UNDECLARED, false),
        };
        let raw = if def.ty == ValueType::String {
            redactor.items(raw)
        } else {
            Cow::Borrowed(raw)
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
    fn split(raw: &'a str) -> Self {
        Value {
            raw: Cow::Borrowed(raw),
            items: split_ranges(raw),
        }
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        (0..self.items.len()).map(|i| self.item(i))
    }

    fn item(&self, i: usize) -> &str {
        &self.raw[self.items[i].clone()]
    }
}

/// Byte ranges of the comma-separated items of `raw`.
fn split_ranges(raw: &str) -> Vec<std::ops::Range<usize>> {
    let mut items = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b',', raw.as_bytes()) {
        items.push(start..i);
        start = i + 1;
    }
    items.push(start..raw.len());
    items
}

/// Which items of a list belong to one row.
enum Pick {
    One(usize),
    Many(Vec<usize>),
    All,
}

/// Pick from `n` items per `number` for ALT `k` (1-based; None for a no-ALT row).
/// Err(()) = count does not match the record (kept whole, warned by the caller).
fn pick(
    number: Number,
    n: usize,
    n_alt: usize,
    k: Option<usize>,
    ploidy: usize,
) -> Result<Pick, ()> {
    match (number, k) {
        (Number::Count(1), _) | (Number::Count(0), _) => Ok(Pick::One(0)),
        (Number::A, Some(k)) => {
            if n == n_alt {
                Ok(Pick::One(k - 1))
            } else {
                Err(())
            }
        }
        (Number::R, Some(k)) => {
            if n == n_alt + 1 {
                Ok(Pick::Many(vec![0, k]))
            } else {
                Err(())
            }
        }
        (Number::G, Some(k)) => {
            for p in [ploidy, 2, 1] {
                if n == g_count(n_alt + 1, p) {
                    return Ok(Pick::Many(g_indices(k, p)));
                }
            }
            Err(())
        }
        _ => Ok(Pick::All),
    }
}

/// Write one typed value into `obj`. Returns (type ok, count ok).
fn write_field(
    obj: &mut JsonObject,
    key: &str,
    def: Option<&FieldDef>,
    v: &Value,
    n_alt: usize,
    k: Option<usize>,
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
    match pick(def.number, v.items.len(), n_alt, k, ploidy) {
        Ok(Pick::One(i)) => (obj.scalar(key, def.ty, v.item(i)), true),
        Ok(Pick::Many(ix)) => (
            obj.array(key, def.ty, ix.into_iter().map(|i| v.item(i))),
            true,
        ),
        Ok(Pick::All) => (obj.array(key, def.ty, v.all()), true),
        Err(()) => (obj.array(key, def.ty, v.all()), false),
    }
}

struct InfoEntry<'a> {
    key: Cow<'a, str>,
    value: Option<Cow<'a, str>>,
}

impl<'h> Decomposer<'h> {
    /// `pseudonyms[i]` replaces sample `i`'s name wherever it appears in stored text.
    pub fn new(header: &'h Header, opts: LoadOptions, pseudonyms: &[String]) -> Self {
        Decomposer {
            header,
            opts,
            redactor: Redactor::new(&header.samples, pseudonyms),
            warnings: Warnings::default(),
            calls: Vec::new(),
        }
    }

    /// The header text to store (CONTRACT §5 v2): structural lines as written, person fields
    /// as pseudonyms or `redacted`, command lines per `keep_header_commands`, sample names
    /// replaced in the rest. Lines joined with `\n`, with a trailing `\n`.
    pub fn scrubbed_header(&self) -> String {
        self.redactor
            .header(&self.header.lines, self.opts.keep_header_commands)
    }

    /// Free text about this file to store or log (source path, audit details, error lines):
    /// each sample name standing between non-alphanumeric characters becomes its pseudonym
    /// (CONTRACT §5 v2, rule 4; names only of digits or under three characters are kept).
    pub fn redact_text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        self.redactor.free_text(s)
    }

    pub fn decompose(
        &mut self,
        ln: u64,
        line: &[u8],
        batch: &mut RowBatch,
    ) -> Result<(), VcfError> {
        let n_samples = self.header.samples.len();
        let expected = if n_samples == 0 { 8 } else { 9 + n_samples };
        let n_cols = memchr::memchr_iter(b'\t', line).count() + 1;
        // A sites-only file may carry a lone FORMAT column; anything else must match.
        if n_cols != expected && !(n_samples == 0 && n_cols == 9) {
            return Err(VcfError::format(
                ln,
                "line",
                format!("expected {expected} tab-separated columns, found {n_cols}"),
            ));
        }
        // Sites-only loads split off the fixed columns only.
        let wanted = if self.opts.genotypes == GenotypeMode::None {
            n_cols.min(9)
        } else {
            n_cols
        };
        let cols: Vec<&[u8]> = line.split(|&b| b == b'\t').take(wanted).collect();
        let mut fixed = [""; 7];
        for i in 0..7 {
            fixed[i] = utf8(ln, COLUMNS[i], cols[i])?;
        }
        let [chrom, pos_s, id, ref_allele, alt_s, qual_s, filter_s] = fixed;
        if chrom.is_empty() || chrom.contains(' ') {
            return Err(VcfError::format(ln, "CHROM", "empty or contains a space"));
        }
        if !self.header.contigs.contains(chrom) {
            self.warnings.add("undeclared_contig");
        }
        let pos: i64 = if !pos_s.is_empty() && pos_s.bytes().all(|b| b.is_ascii_digit()) {
            pos_s
                .parse()
                .ok()
                .filter(|p| *p <= MAX_POS)
                .ok_or_else(|| {
                    VcfError::format(ln, "POS", format!("out of range (0 to {MAX_POS})"))
                })?
        } else {
            return Err(VcfError::format(ln, "POS", "not a non-negative integer"));
        };
        if ref_allele.is_empty() || !ref_allele.bytes().all(is_iupac_base) {
            return Err(VcfError::format(
                ln,
                "REF",
                "must be one or more bases (A, C, G, T, N or IUPAC codes)",
            ));
        }
        let alts: Vec<&str> = if alt_s == "." {
            Vec::new()
        } else {
            alt_s.split(',').collect()
        };
        if alts.iter().any(|a| a.is_empty() || a.contains(' ')) {
            return Err(VcfError::format(
                ln,
                "ALT",
                "empty allele or a space in an allele",
            ));
        }
        let per_row = if self.opts.genotypes == GenotypeMode::None {
            cols[7].len()
        } else {
            line.len()
        };
        let work = alts.len().max(1) as u64 * per_row as u64;
        if work > MAX_RECORD_WORK {
            return Err(VcfError::format(
                ln,
                "ALT",
                format!(
                    "{} ALT alleles on a {}-byte record: decomposing it would process {} MiB, over the limit of {} MiB per record",
                    alts.len(),
                    per_row,
                    work >> 20,
                    MAX_RECORD_WORK >> 20
                ),
            ));
        }
        let qual = if qual_s == "." {
            None
        } else {
            Some(
                qual_s
                    .parse::<f32>()
                    .map_err(|_| VcfError::format(ln, "QUAL", "not a number"))?,
            )
        };
        let filter = if filter_s == "." || filter_s.is_empty() {
            None
        } else {
            Some(filter_s.split(';').map(str::to_string).collect::<Vec<_>>())
        };
        let id = if id == "." || id.is_empty() {
            None
        } else {
            Some(id.to_string())
        };

        let info = self.parse_info(cols[7]);
        let end = info
            .iter()
            .find(|e| e.key == "END")
            .and_then(|e| e.value.as_deref())
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| VcfError::format(ln, "INFO", "END is not an integer"))
            });
        let end = end.transpose()?;
        let af_items: Option<Vec<&str>> = info
            .iter()
            .find(|e| e.key == "AF")
            .and_then(|e| e.value.as_deref())
            .map(|v| v.split(',').collect());

        // Samples: split and parse GT once per record, reuse across ALT rows. Sites-only
        // loads neither store nor read them (htslib too parses sample columns lazily); the
        // column count above still holds for every line.
        let n_alt = alts.len();
        let n_samples = if self.opts.genotypes == GenotypeMode::None {
            0
        } else {
            n_samples
        };
        let format_keys: Vec<&str> = if n_samples > 0 {
            let f = utf8(ln, "FORMAT", cols[8])?;
            if f == "." || f.is_empty() {
                Vec::new()
            } else {
                f.split(':').collect()
            }
        } else {
            Vec::new()
        };
        for key in &format_keys {
            if !self.header.format.contains_key(*key) {
                self.warnings.add("undeclared_format_key");
            }
        }
        let gt_pos = format_keys.iter().position(|k| *k == "GT");
        let mut sample_fields: Vec<Vec<&str>> = Vec::with_capacity(n_samples);
        if self.calls.len() < n_samples {
            self.calls.resize_with(n_samples, Call::default);
        }
        for s in 0..n_samples {
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
            if fields.len() > format_keys.len() {
                return Err(VcfError::format(
                    ln,
                    "sample",
                    format!(
                        "sample column {} has more fields than FORMAT declares",
                        s + 1
                    ),
                ));
            }
            let call = &mut self.calls[s];
            match gt_pos.and_then(|i| fields.get(i)) {
                Some(gt) => call.parse(gt, n_alt).map_err(|e| {
                    VcfError::format(ln, "GT", match e {
                        GtError::Syntax => format!("sample column {}: not a genotype", s + 1),
                        GtError::AlleleOutOfRange(a) => {
                            format!("sample column {}: allele {a} but the record has {n_alt} ALT alleles", s + 1)
                        }
                    })
                })?,
                None => {
                    call.alleles.clear();
                    call.phased = false;
                }
            }
            sample_fields.push(fields);
        }

        // INFO values redacted and split once for all ALT rows of the record.
        let info_values: Vec<Option<Value>> = info
            .iter()
            .map(|e| {
                let def = self.header.info.get(e.key.as_ref());
                e.value
                    .as_deref()
                    .map(|v| Value::new(def, v, &self.redactor))
            })
            .collect();
        let row_alts: Vec<Option<(usize, &str)>> = if alts.is_empty() {
            vec![None]
        } else {
            alts.iter()
                .enumerate()
                .map(|(i, a)| Some((i + 1, *a)))
                .collect()
        };
        for (row_no, ra) in row_alts.into_iter().enumerate() {
            let first = row_no == 0;
            let k = ra.map(|(k, _)| k);
            let (mut pos_out, mut ref_out, mut alt_out) = (pos, ref_allele, ra.map(|(_, a)| a));
            if self.opts.normalize {
                if let Some(a) = alt_out {
                    let (p, r, a) = trim_alleles(pos, ref_allele, a);
                    pos_out = p;
                    ref_out = r;
                    alt_out = Some(a);
                }
            }
            let end_pos = end.unwrap_or(pos_out + ref_out.len() as i64 - 1);

            let mut obj = JsonObject::new();
            for (e, v) in info.iter().zip(&info_values) {
                let def = self.header.info.get(e.key.as_ref());
                if def.is_none() && first {
                    self.warnings.add("undeclared_info_key");
                }
                match v {
                    None => obj.flag(&e.key),
                    Some(v) => {
                        let (type_ok, count_ok) =
                            write_field(&mut obj, &e.key, def, v, n_alt, k, 2);
                        if first && !type_ok {
                            self.warnings.add("info_type_mismatch");
                        }
                        if first && !count_ok {
                            self.warnings.add("info_number_mismatch");
                        }
                    }
                }
            }
            let af = match (&af_items, k) {
                (Some(items), Some(k)) if items.len() == n_alt => items[k - 1].parse::<f32>().ok(),
                (Some(items), None) if items.len() == 1 => items[0].parse::<f32>().ok(),
                _ => None,
            };
            let ann = ra
                .map(|(k, a)| self.annotate(&info, ref_allele, &alts, k, a))
                .unwrap_or_default();

            let variant_index = batch.variants.len();
            batch.variants.push(VariantRow {
                line: ln,
                chrom: chrom.to_string(),
                pos: pos_out,
                end_pos,
                ref_allele: ref_out.to_string(),
                alt: alt_out.map(str::to_string),
                alt_index: k.map(|k| k as i16),
                id: id.clone(),
                qual,
                filter: filter.clone(),
                info: obj.finish(),
                gene: ann.gene,
                consequence: ann.consequence,
                impact: ann.impact,
                af,
            });

            if self.opts.genotypes == GenotypeMode::None {
                continue;
            }
            for (s, fields) in sample_fields.iter().enumerate() {
                let call = &self.calls[s];
                if self.opts.genotypes == GenotypeMode::Carriers
                    && !k.is_some_and(|k| call.carries(k as u32))
                {
                    continue;
                }
                let row =
                    self.genotype_row(variant_index, s, &format_keys, fields, n_alt, k, first);
                batch.genotypes.push(row);
            }
        }
        batch.records += 1;
        Ok(())
    }

    fn parse_info<'a>(&mut self, raw: &'a [u8]) -> Vec<InfoEntry<'a>> {
        let mut out = Vec::new();
        if raw.is_empty() || raw == b"." {
            return out;
        }
        for part in raw.split(|&b| b == b';') {
            if part.is_empty() {
                continue; // trailing or doubled ';': htslib tolerates it
            }
            let (k, v) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], Some(&part[i + 1..])),
                None => (part, None),
            };
            // INFO values may hold invalid UTF-8 (contract): replaced and counted, not fatal.
            let key = match std::str::from_utf8(k) {
                Ok(s) if !s.contains('\0') => Cow::Borrowed(s),
                _ => {
                    self.warnings.add("invalid_utf8_info");
                    Cow::Owned(String::from_utf8_lossy(k).replace('\0', "\u{FFFD}"))
                }
            };
            let value = v.map(|v| match std::str::from_utf8(v) {
                Ok(s) if !s.contains('\0') => Cow::Borrowed(s),
                _ => {
                    self.warnings.add("invalid_utf8_info");
                    Cow::Owned(String::from_utf8_lossy(v).replace('\0', "\u{FFFD}"))
                }
            });
            out.push(InfoEntry { key, value });
        }
        out
    }

    fn annotate(
        &self,
        info: &[InfoEntry],
        ref_allele: &str,
        alts: &[&str],
        k: usize,
        alt: &str,
    ) -> Annotation {
        let get = |key: &str| {
            info.iter()
                .find(|e| e.key == key)
                .and_then(|e| e.value.as_deref())
        };
        if let Some(v) = get("ANN") {
            if let Some(a) = annotation::from_ann(v, alt) {
                return a;
            }
        }
        if let (Some(v), Some(fields)) = (get("CSQ"), self.header.csq_fields.as_ref()) {
            let va = annotation::vep_allele(ref_allele, alts, alt);
            if let Some(a) = annotation::from_csq(v, fields, k, &va) {
                return a;
            }
        }
        if let Some(v) = get("BCSQ") {
            if let Some(a) = annotation::from_bcsq(v) {
                return a;
            }
        }
        Annotation::default()
    }

    #[allow(clippy::too_many_arguments)]
    fn genotype_row(
        &mut self,
        variant: usize,
        s: usize,
        keys: &[&str],
        fields: &[&str],
        n_alt: usize,
        k: Option<usize>,
        first: bool,
    ) -> GenotypeRow {
        let call = &self.calls[s];
        let ploidy = call.ploidy().max(1);
        let mut row = GenotypeRow {
            variant,
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
        for (i, key) in keys.iter().enumerate() {
            let Some(&raw) = fields.get(i) else { break };
            match *key {
                "GT" => {
                    row.gt = Some(raw.to_string());
                    if !call.is_missing() {
                        row.phased = Some(call.phased);
                    }
                    row.alt_dosage = k.and_then(|k| call.dosage(k as u32));
                }
                "DP" | "GQ" if raw == "." => {}
                "DP" | "GQ" => match raw.parse::<i32>() {
                    Ok(v) => {
                        if *key == "DP" {
                            row.dp = Some(v)
                        } else {
                            row.gq = Some(v)
                        }
                    }
                    Err(_) => {
                        if first {
                            self.warnings.add("format_type_mismatch");
                        }
                        other.scalar(key, ValueType::String, raw);
                    }
                },
                "AD" if raw == "." => {}
                "AD" => {
                    let v = Value::split(raw);
                    // AD is Number=R: the same picking as every other R field.
                    let chosen: Vec<&str> = match pick(Number::R, v.items.len(), n_alt, k, ploidy) {
                        Ok(Pick::Many(ix)) => ix.into_iter().map(|i| v.item(i)).collect(),
                        Ok(Pick::One(i)) => vec![v.item(i)],
                        Ok(Pick::All) => v.all().collect(),
                        Err(()) => {
                            if first && s == 0 {
                                self.warnings.add("format_number_mismatch");
                            }
                            v.all().collect()
                        }
                    };
                    let parsed: Vec<Option<i32>> =
                        chosen.iter().map(|v| v.parse::<i32>().ok()).collect();
                    if chosen
                        .iter()
                        .zip(&parsed)
                        .any(|(v, p)| p.is_none() && *v != ".")
                    {
                        if first {
                            self.warnings.add("format_type_mismatch");
                        }
                        other.array("AD", ValueType::String, v.all());
                    } else {
                        row.ad = Some(parsed);
                    }
                }
                _ => {
                    let def = self.header.format.get(*key);
                    let (type_ok, count_ok) = write_field(
                        &mut other,
                        key,
                        def,
                        &Value::new(def, raw, &self.redactor),
                        n_alt,
                        k,
                        ploidy,
                    );
                    if first && s == 0 && !count_ok {
                        self.warnings.add("format_number_mismatch");
                    }
                    if first && !type_ok {
                        self.warnings.add("format_type_mismatch");
                    }
                }
            }
        }
        if !other.is_empty() {
            row.format = Some(other.finish());
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcf::reader::VcfReader;
    use serde_json::{json, Value};

    const HEAD: &str = "##fileformat=VCFv4.2\n\
##contig=<ID=1>\n\
##INFO=<ID=AF,Number=A,Type=Float,Description=\"x\">\n\
##INFO=<ID=AC,Number=A,Type=Integer,Description=\"x\">\n\
##INFO=<ID=RC,Number=R,Type=Integer,Description=\"x\">\n\
##INFO=<ID=GL,Number=G,Type=Float,Description=\"x\">\n\
##INFO=<ID=DB,Number=0,Type=Flag,Description=\"x\">\n\
##INFO=<ID=DP,Number=1,Type=Integer,Description=\"x\">\n\
##INFO=<ID=END,Number=1,Type=Integer,Description=\"x\">\n\
##INFO=<ID=denovo,Number=.,Type=String,Description=\"x\">\n\
##FORMAT=<ID=GT,Number=1,Type=String,Description=\"x\">\n\
##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"x\">\n\
##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"x\">\n\
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"x\">\n\
##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"x\">\n\
##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"x\">\n\
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n";

    fn run(records: &str, opts: LoadOptions) -> (RowBatch, Warnings) {
        let text = format!("{HEAD}{records}");
        let mut r = VcfReader::from_bytes(text.into_bytes()).unwrap();
        let header = r.header().clone();
        let ps = vec!["P-1".to_string(), "P-2".to_string()];
        let mut d = Decomposer::new(&header, opts, &ps);
        let mut b = RowBatch::default();
        while let Some((ln, line)) = r.next_line().unwrap() {
            let line = line.to_vec();
            d.decompose(ln, &line, &mut b).unwrap();
        }
        (b, d.warnings.clone())
    }

    fn err(records: &str) -> VcfError {
        err_with(records, ALL)
    }

    /// The error of the first record under `opts`.
    fn err_with(records: &str, opts: LoadOptions) -> VcfError {
        let text = format!("{HEAD}{records}");
        let mut r = VcfReader::from_bytes(text.into_bytes()).unwrap();
        let header = r.header().clone();
        let ps = vec!["P-1".to_string(), "P-2".to_string()];
        let mut d = Decomposer::new(&header, opts, &ps);
        let mut b = RowBatch::default();
        let (ln, line) = r.next_line().unwrap().unwrap();
        let line = line.to_vec();
        d.decompose(ln, &line, &mut b).unwrap_err()
    }

    const ALL: LoadOptions = LoadOptions {
        normalize: true,
        genotypes: GenotypeMode::All,
        keep_header_commands: false,
    };

    fn info(v: &VariantRow) -> Value {
        serde_json::from_str(&v.info).unwrap()
    }

    #[test]
    fn multiallelic_slicing() {
        let rec = "1\t100\trs1\tA\tC,G\t50\tPASS\tAF=0.1,0.2;AC=1,2;RC=10,1,2;GL=0,1,2,3,4,5;DB;DP=30\tGT:AD:DP:GQ:PL:AF\t1/2:10,1,2:13:99:0,1,2,3,4,5:0.1,0.2\t0/0:5,0,0:5:.:0,9,9,9,9,9:0,0\n";
        let (b, w) = run(rec, ALL);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(b.variants.len(), 2);
        let (v1, v2) = (&b.variants[0], &b.variants[1]);
        assert_eq!(
            (
                v1.alt.as_deref(),
                v1.alt_index,
                v2.alt.as_deref(),
                v2.alt_index
            ),
            (Some("C"), Some(1), Some("G"), Some(2))
        );
        assert_eq!(
            info(v1),
            json!({"AF":0.1,"AC":1,"RC":[10,1],"GL":[0,1,2],"DB":true,"DP":30})
        );
        assert_eq!(
            info(v2),
            json!({"AF":0.2,"AC":2,"RC":[10,2],"GL":[0,3,5],"DB":true,"DP":30})
        );
        assert_eq!((v1.af, v2.af), (Some(0.1), Some(0.2)));
        assert_eq!(v1.id.as_deref(), Some("rs1"));
        assert_eq!(v1.filter, Some(vec!["PASS".to_string()]));
        assert_eq!(b.genotypes.len(), 4);
        let g = &b.genotypes[2]; // variant 2 (G), sample 1
        assert_eq!((g.variant, g.sample_index), (1, 0));
        assert_eq!(g.gt.as_deref(), Some("1/2"));
        assert_eq!(g.alt_dosage, Some(1));
        assert_eq!(g.ad, Some(vec![Some(10), Some(2)]));
        assert_eq!((g.dp, g.gq, g.phased), (Some(13), Some(99), Some(false)));
        let f: Value = serde_json::from_str(g.format.as_deref().unwrap()).unwrap();
        assert_eq!(f, json!({"PL":[0,3,5],"AF":0.2}));
        assert_eq!(b.genotypes[3].gq, None);
        assert_eq!(b.genotypes[3].alt_dosage, Some(0));
    }

    #[test]
    fn carriers_and_sites_only_modes() {
        let rec = "1\t100\t.\tA\tC,G\t.\t.\t.\tGT\t0/1\t0/2\n";
        let (b, _) = run(
            rec,
            LoadOptions {
                normalize: true,
                genotypes: GenotypeMode::Carriers,
                keep_header_commands: false,
            },
        );
        let carriers: Vec<(usize, usize)> = b
            .genotypes
            .iter()
            .map(|g| (g.variant, g.sample_index))
            .collect();
        assert_eq!(carriers, vec![(0, 0), (1, 1)]);
        let (b, _) = run(
            rec,
            LoadOptions {
                normalize: true,
                genotypes: GenotypeMode::None,
                keep_header_commands: false,
            },
        );
        assert_eq!((b.variants.len(), b.genotypes.len()), (2, 0));
    }

    #[test]
    fn a_record_too_large_to_decompose_is_refused_quickly() {
        // 2,000 ALTs on a ~1 MB line: ~2 GB of slicing, refused before any work.
        let alts = (0..2000)
            .map(|i| format!("A{}", "C".repeat(i % 50 + 1)))
            .collect::<Vec<_>>()
            .join(",");
        let pad = "0,".repeat(250_000);
        let rec = format!("1\t100\t.\tA\t{alts}\t.\t.\tDP=1\tGT:AD\t0/1:{pad}0\t0/1:0\n");
        let e = err(&rec);
        assert_eq!((e.field, e.line), ("ALT", 18));
        assert!(e.what.contains("over the limit"), "{}", e.what);
    }

    #[test]
    fn sites_only_does_not_read_sample_columns() {
        let rec = "1\t100\t.\tA\tC\t.\t.\t.\tGT\t0/x\t0/1\n";
        assert_eq!(err(rec).field, "GT");
        let none = LoadOptions {
            normalize: true,
            genotypes: GenotypeMode::None,
            keep_header_commands: false,
        };
        let (b, _) = run(rec, none);
        assert_eq!((b.variants.len(), b.genotypes.len()), (1, 0));
        // The column count is still checked on every line.
        let short = "1\t100\t.\tA\tC\t.\t.\t.\tGT\t0/1\n";
        assert_eq!(err_with(short, none).field, "line");
    }

    #[test]
    fn normalize_trims_and_moves_pos() {
        let rec = "1\t100\t.\tCTT\tCT,CTTT,GTT\t.\t.\t.\tGT\t0/1\t./.\n";
        let (b, _) = run(rec, ALL);
        let got: Vec<(i64, &str, &str, i64)> = b
            .variants
            .iter()
            .map(|v| {
                (
                    v.pos,
                    v.ref_allele.as_str(),
                    v.alt.as_deref().unwrap(),
                    v.end_pos,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (100, "CT", "C", 101),
                (100, "C", "CT", 100),
                (100, "C", "G", 100)
            ]
        );
        let (b, _) = run(
            rec,
            LoadOptions {
                normalize: false,
                genotypes: GenotypeMode::All,
                keep_header_commands: false,
            },
        );
        assert_eq!(b.variants[0].ref_allele, "CTT");
        assert_eq!(trim_alleles(10, "ATG", "ACG"), (11, "T", "C"));
        assert_eq!(trim_alleles(10, "A", "<DEL>"), (10, "A", "<DEL>"));
        assert_eq!(trim_alleles(10, "AC", "*"), (10, "AC", "*"));
    }

    #[test]
    fn no_alt_symbolic_end_and_missing() {
        let rec = "1\t1\t.\tA\t.\t.\t.\tEND=1951\tGT:DP\t0/0:3\t.\n\
                   1\t5\t.\tA\t<NON_REF>\t.\t.\tEND=9\tGT\t./.\t.\n";
        let (b, _) = run(rec, ALL);
        assert_eq!(b.variants[0].alt, None);
        assert_eq!(b.variants[0].alt_index, None);
        assert_eq!(b.variants[0].end_pos, 1951);
        assert_eq!(b.variants[1].alt.as_deref(), Some("<NON_REF>"));
        assert_eq!(b.genotypes.len(), 4);
        assert_eq!(b.genotypes[0].alt_dosage, None);
        assert_eq!(b.genotypes[0].dp, Some(3));
        assert_eq!(b.genotypes[1].gt, None);
        assert_eq!(b.genotypes[2].phased, None);
    }

    #[test]
    fn lenient_warnings_keep_values() {
        let rec = "2\t7\t.\tA\tC,G\tNaN\tq10;s50\tAF=0.1,0.2,0.3;XX=ab,c;DP=x;denovo=S1;;\tGT:ZZ\t0/1:7\t1|1:8\n";
        let (b, w) = run(rec, ALL);
        assert_eq!(w.0.get("undeclared_contig"), Some(&1));
        assert_eq!(w.0.get("info_number_mismatch"), Some(&1));
        assert_eq!(w.0.get("undeclared_info_key"), Some(&1));
        assert_eq!(w.0.get("info_type_mismatch"), Some(&1));
        assert_eq!(w.0.get("undeclared_format_key"), Some(&1));
        let i = info(&b.variants[0]);
        assert_eq!(i["AF"], json!([0.1, 0.2, 0.3]));
        assert_eq!(i["XX"], "ab,c");
        assert_eq!(i["DP"], "x");
        assert_eq!(
            i["denovo"],
            json!(["P-1"]),
            "sample name in INFO must be replaced"
        );
        assert!(b.variants[0].qual.unwrap().is_nan());
        assert_eq!(b.variants[0].af, None);
        assert_eq!(b.genotypes[1].phased, Some(true));
        assert_eq!(b.genotypes[1].alt_dosage, Some(2));
    }

    #[test]
    fn invalid_utf8_in_info_is_kept_lossy() {
        let mut text = HEAD.as_bytes().to_vec();
        text.extend_from_slice(b"1\t1\t.\tA\tC\t.\t.\tXX=a\xffb\tGT\t0/1\t0/0\n");
        let mut r = VcfReader::from_bytes(text).unwrap();
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["a".into(), "b".into()]);
        let mut b = RowBatch::default();
        let (ln, line) = r.next_line().unwrap().unwrap();
        let line = line.to_vec();
        d.decompose(ln, &line, &mut b).unwrap();
        assert_eq!(d.warnings.0.get("invalid_utf8_info"), Some(&1));
        assert_eq!(info(&b.variants[0])["XX"], "a\u{FFFD}b");
    }

    #[test]
    fn syntax_errors_name_line_and_field() {
        let cases = [
            ("1\t1\t.\tA\tC\t.\t.\t.\tGT\t0/1\n", "line", "columns"),
            ("1\tx\t.\tA\tC\t.\t.\t.\tGT\t0/1\t0/1\n", "POS", "integer"),
            ("1\t-5\t.\tA\tC\t.\t.\t.\tGT\t0/1\t0/1\n", "POS", "integer"),
            (
                "1\t99999999999999999999\t.\tA\tC\t.\t.\t.\tGT\t0/1\t0/1\n",
                "POS",
                "range",
            ),
            ("1\t1\t.\tA?\tC\t.\t.\t.\tGT\t0/1\t0/1\n", "REF", "bases"),
            ("1\t1\t.\tA\tC\tbad\t.\t.\tGT\t0/1\t0/1\n", "QUAL", "number"),
            ("1\t1\t.\tA\tC\t.\t.\t.\tGT\t0/x\t0/1\n", "GT", "genotype"),
            ("1\t1\t.\tA\tC,G\t.\t.\t.\tGT\t5/5\t0/1\n", "GT", "allele 5"),
            ("1\t1\t.\tA\tC,,G\t.\t.\t.\tGT\t0/1\t0/1\n", "ALT", "empty"),
            ("1\t1\t.\tA\tC\t.\t.\tEND=z\tGT\t0/1\t0/1\n", "INFO", "END"),
            (
                "1\t1\t.\tA\tC\t.\t.\t.\tGT\t0/1:5\t0/1\n",
                "sample",
                "more fields",
            ),
        ];
        for (rec, field, what) in cases {
            let e = err(rec);
            assert_eq!(e.line, 18, "{rec}");
            assert_eq!(e.field, field, "{rec}: {e}");
            assert!(e.what.contains(what), "{rec}: {e}");
        }
    }

    /// A reader over HEAD with its sample columns renamed and `extra` meta lines first.
    fn decomposer_input(names: &str, extra: &str, records: &str) -> VcfReader {
        let text = HEAD
            .replace("\tS1\tS2\n", &format!("\t{names}\n"))
            .replace("##contig", &format!("{extra}##contig"));
        VcfReader::from_bytes(format!("{text}{records}").into_bytes()).unwrap()
    }

    #[test]
    fn scrubbed_header_has_no_sample_names() {
        let r = decomposer_input("S1\tS2", "##tumor_sample=S2\n", "");
        let header = r.header().clone();
        let d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let h = d.scrubbed_header();
        assert!(h.contains("##tumor_sample=P-2"));
        assert!(h.ends_with("FORMAT\tP-1\tP-2\n"));
        assert!(!h.contains("S1") && !h.contains("S2"));
    }

    #[test]
    fn scrubbed_header_keeps_structure_and_redacts_commands_unless_asked() {
        let extra = "##GATKCommandLine=<ID=HaplotypeCaller,CommandLine=\"HaplotypeCaller --input /data/NA12878.sorted.bam --sample-name NA12878\">\n\
##PEDIGREE=<ID=NA12878,Father=NA12891,Mother=NA12892>\n";
        let r = decomposer_input("NA12878\t1", extra, "");
        let header = r.header().clone();
        let ps = ["P-1".to_string(), "P-2".to_string()];
        let h = Decomposer::new(&header, ALL, &ps).scrubbed_header();
        // A sample named `1` leaves `##contig=<ID=1>` and every `Number=1` alone.
        assert!(HEAD
            .lines()
            .filter(|l| l.starts_with("##"))
            .all(|l| h.lines().any(|s| s == l)));
        assert!(h.contains("##GATKCommandLine=<redacted>\n"));
        assert!(h.contains("##PEDIGREE=<ID=P-1,Father=redacted,Mother=redacted>\n"));
        assert!(h.ends_with("FORMAT\tP-1\tP-2\n"));
        let keep = LoadOptions {
            keep_header_commands: true,
            ..ALL
        };
        let h = Decomposer::new(&header, keep, &ps).scrubbed_header();
        assert!(h.contains("--input /data/P-1.sorted.bam --sample-name P-1\""));
        assert!(!h.contains("NA12878"));
    }

    #[test]
    fn redact_text_replaces_sample_names_in_free_text() {
        let r = decomposer_input("NA12878\t1", "", "");
        let header = r.header().clone();
        let d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        assert_eq!(
            d.redact_text("/data/NA12878/NA12878_S1.vcf.gz:18: POS: 1"),
            "/data/P-1/P-1_S1.vcf.gz:18: POS: 1"
        );
        assert!(matches!(
            d.redact_text("/data/cohort.vcf"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn info_and_format_string_items_are_redacted_only_when_whole() {
        // Samples named `1` and `DP`: only String items equal to a name change.
        let head_extra = "##INFO=<ID=ANN,Number=.,Type=String,Description=\"x\">\n\
##INFO=<ID=LBL,Number=1,Type=String,Description=\"x\">\n\
##INFO=<ID=CH,Number=1,Type=Character,Description=\"x\">\n\
##FORMAT=<ID=FT,Number=.,Type=String,Description=\"x\">\n";
        let rec = "1\t100\t.\tA\tC\t.\t.\tDP=1;AC=1;denovo=1,DP,x1,D%50;ANN=C|DP|1;LBL=1_DP;CH=1;XX=DP\tGT:DP:FT\t0/1:1:DP,1\t0/1:1:PASS\n";
        let r = decomposer_input("1\tDP", head_extra, rec);
        let mut r = r;
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let mut b = RowBatch::default();
        let (ln, line) = r.next_line().unwrap().unwrap();
        let line = line.to_vec();
        d.decompose(ln, &line, &mut b).unwrap();
        let i = info(&b.variants[0]);
        // Integer and Character values are never names.
        assert_eq!(
            (&i["DP"], &i["AC"], &i["CH"]),
            (&json!(1), &json!(1), &json!("1"))
        );
        // String items: whole, percent-decoded; not substrings, not `|` subfields.
        assert_eq!(i["denovo"], json!(["P-1", "P-2", "x1", "P-2"]));
        assert_eq!(i["ANN"], json!(["C|DP|1"]));
        assert_eq!(i["LBL"], "1_DP");
        assert_eq!(i["XX"], "P-2", "undeclared keys are Strings");
        let g = &b.genotypes[0];
        assert_eq!(g.dp, Some(1));
        let f: Value = serde_json::from_str(g.format.as_deref().unwrap()).unwrap();
        assert_eq!(f, json!({"FT": ["P-2", "P-1"]}));
    }
}
