//! One VCF data line → one [`VariantRow`] per ALT allele plus [`GenotypeRow`]s (CONTRACT §5):
//! Number=A/R/G slicing for INFO and FORMAT, `normalize` trimming, END/`end_pos`, ANN/CSQ/
//! BCSQ for *this* ALT, GT dosage and the `genotypes` modes, lenient warnings as htslib.

use super::annotation::{self, Annotation};
use super::error::{VcfError, Warnings};
use super::genotype::{g_count, g_indices, Call, GtError};
use super::header::{FieldDef, Header, Number, ValueType};
use super::json::{self, JsonObject};
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
    /// What the last FORMAT column said (records of a file mostly share one).
    layout: FormatLayout<'h>,
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
            // Header lines read leniently are counted with the records' warnings.
            warnings: header.warnings.clone(),
            calls: Vec::new(),
            layout: FormatLayout::default(),
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

        // Of a key given twice the first counts, as in htslib (`bcf_get_info` finds it).
        let info = self.parse_info(cols[7]);
        let known = KnownInfo::find(&info, self.header);
        // END `.` (or empty) is END absent: htslib reads it as missing.
        let end = match known.end {
            None | Some(".") | Some("") => None,
            Some(v) => Some(
                json::parse_integer(v)
                    .ok_or_else(|| VcfError::format(ln, "INFO", "END is not an integer"))?,
            ),
        };
        let af_items: Option<Vec<&str>> = known.af.map(|v| v.split(',').collect());
        // SVLEN, one per ALT (Number=A in VCF 4.4, `.` before): the reference span of a
        // symbolic <DEL>/<DUP>/<CNV>/<INV> ALT when END is absent.
        let svlen_items: Vec<&str> = known.svlen.map_or(Vec::new(), |v| v.split(',').collect());

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
        if n_samples > 0 {
            if self.layout.text != cols[8] {
                self.layout = FormatLayout::new(cols[8], &format_keys, self.header);
            }
            self.warnings
                .add_n("undeclared_format_key", self.layout.undeclared);
            self.warnings
                .add_n("duplicate_format_key", self.layout.repeated);
        }
        let layout = std::mem::take(&mut self.layout);
        let format = FormatKeys {
            keys: format_keys,
            layout: &layout,
        };
        let gt_pos = format.keys.iter().position(|k| *k == "GT");
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
            if fields.len() > format.keys.len() {
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
        let info_values: Vec<(Option<&FieldDef>, Option<Value>)> = info
            .iter()
            .map(|e| {
                let def = self.header.info.get(e.key.as_ref());
                let value = e
                    .value
                    .as_deref()
                    .map(|v| Value::new(def, v, &self.redactor));
                (def, value)
            })
            .collect();
        let svtype = known.svtype.filter(|t| !t.is_empty() && *t != ".");
        let vep_alleles = known
            .csq
            .map(|_| annotation::vep_alleles(ref_allele, &alts, svtype));
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
            let ref_end = pos_out + ref_out.len() as i64 - 1;
            let end_pos = match (end, ra) {
                (Some(e), _) => e,
                (None, Some((k, a))) => svlen_end(a, svlen_items.get(k - 1).copied(), pos_out)
                    .map_or(ref_end, |e| e.max(ref_end)),
                (None, None) => ref_end,
            };

            let mut obj = JsonObject::new();
            for (e, (def, v)) in info.iter().zip(&info_values) {
                let def = *def;
                if def.is_none() && first {
                    self.warnings.add("undeclared_info_key");
                }
                match v {
                    None => obj.flag(&e.key),
                    // A Flag given a value is still a flag: true (htslib's bcf_get_info_flag).
                    Some(_) if def.is_some_and(|d| d.ty == ValueType::Flag) => {
                        obj.flag(&e.key);
                        if first {
                            self.warnings.add("info_flag_with_value");
                        }
                    }
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
            let ann = match k {
                Some(k) => {
                    let vep = vep_alleles.as_ref().map(|a| a[k - 1].as_slice());
                    annotate(&known, vep, pos, ref_allele, &alts, k)
                }
                None => Annotation::default(),
            };
            let info_json = obj
                .finish()
                .map_err(|what| VcfError::format(ln, "INFO", what))?;

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
                info: info_json,
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
                let row = self.genotype_row(variant_index, s, &format, fields, n_alt, k, first);
                batch
                    .genotypes
                    .push(row.map_err(|what| VcfError::format(ln, "FORMAT", what))?);
            }
        }
        self.layout = layout;
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
        let dups = drop_repeated_keys(&mut out);
        self.warnings.add_n("duplicate_info_key", dups);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn genotype_row(
        &mut self,
        variant: usize,
        s: usize,
        format: &FormatKeys,
        fields: &[&str],
        n_alt: usize,
        k: Option<usize>,
        first: bool,
    ) -> Result<GenotypeRow, String> {
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
        for (i, key) in format.keys.iter().enumerate() {
            let Some(&raw) = fields.get(i) else { break };
            if !format.layout.first[i] {
                continue;
            }
            let def = format.layout.defs[i];
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
                    }
                }
                "AD" if raw == "." => {}
                // The `ad` column is [REF, this ALT]: only for an AD with one value per
                // allele (Number=R, or GATK 3's Number=. with that many values). VarScan's
                // Number=1 AD (ALT depth only) and the like stay in `format`.
                "AD" if ad_is_per_allele(def, raw, n_alt) => {
                    let v = Value::split(raw);
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
            row.format = Some(other.finish()?);
        }
        Ok(row)
    }
}

/// gene / consequence / impact of ALT `k` (1-based): SnpEff ANN first, then VEP's output
/// (`vep`: what VEP calls this ALT, [`annotation::vep_alleles`]), then bcftools BCSQ.
fn annotate(
    known: &KnownInfo,
    vep: Option<&[String]>,
    pos: i64,
    ref_allele: &str,
    alts: &[&str],
    k: usize,
) -> Annotation {
    known
        .ann
        .and_then(|v| annotation::from_ann(v, alts[k - 1]))
        .or_else(|| {
            let (v, fields) = known.csq?;
            annotation::from_csq(v, fields, k, vep?, alts.len())
        })
        .or_else(|| annotation::from_bcsq(known.bcsq?, pos, ref_allele, alts, k))
        .unwrap_or_default()
}

/// The INFO values the decomposer reads itself, found in one pass over the record's INFO
/// (after [`drop_repeated_keys`], so each is the first of its key).
#[derive(Default)]
struct KnownInfo<'a> {
    end: Option<&'a str>,
    af: Option<&'a str>,
    svlen: Option<&'a str>,
    svtype: Option<&'a str>,
    ann: Option<&'a str>,
    bcsq: Option<&'a str>,
    /// VEP's output and its layout, under the key the header names (CSQ, gnomAD's `vep`,
    /// even `ANN` when VEP was run with `--vcf_info_field ANN`: then it is read as VEP's,
    /// not SnpEff's).
    csq: Option<(&'a str, &'a [String])>,
}

impl<'a> KnownInfo<'a> {
    fn find(info: &'a [InfoEntry], header: &'a Header) -> Self {
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
}

/// The FORMAT column of one record: its keys and their [`FormatLayout`].
struct FormatKeys<'a, 'l, 'h> {
    keys: Vec<&'a str>,
    layout: &'l FormatLayout<'h>,
}

/// What a FORMAT column says, kept while records repeat it: whether each key is the first
/// of its name (htslib drops repeated keys), its header definition, and the warnings.
#[derive(Default)]
struct FormatLayout<'h> {
    text: Vec<u8>,
    first: Vec<bool>,
    defs: Vec<Option<&'h FieldDef>>,
    undeclared: u64,
    repeated: u64,
}

impl<'h> FormatLayout<'h> {
    fn new(text: &[u8], keys: &[&str], header: &'h Header) -> Self {
        let first: Vec<bool> = (0..keys.len())
            .map(|i| !keys[..i].contains(&keys[i]))
            .collect();
        let defs: Vec<Option<&FieldDef>> = keys.iter().map(|k| header.format.get(*k)).collect();
        FormatLayout {
            text: text.to_vec(),
            undeclared: defs.iter().filter(|d| d.is_none()).count() as u64,
            repeated: first.iter().filter(|f| !**f).count() as u64,
            first,
            defs,
        }
    }
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

/// htslib's `svlen_on_ref_for_vcf_alt`: a symbolic ALT whose SVLEN is its reference length
/// (`<DEL>`, `<DUP>`, `<CNV>`, `<INV>` and subtypes such as `<DEL:ME:ALU>`, `<CNV:TR>`).
fn svlen_on_ref(alt: &str) -> bool {
    let b = alt.as_bytes();
    b.len() >= 5
        && (b[4] == b'>' || b[4] == b':')
        && matches!(&b[..4], b"<CNV" | b"<DEL" | b"<DUP" | b"<INV")
        && b[b.len() - 1] == b'>'
}

/// The last reference base of a symbolic ALT from its SVLEN (END absent): `POS + |SVLEN|`,
/// as VCF 4.4 and htslib ≥ 1.22 compute it, whatever the file's version. None when the ALT
/// is not of that kind or its SVLEN is missing, zero or not an integer.
fn svlen_end(alt: &str, svlen: Option<&str>, pos: i64) -> Option<i64> {
    if !svlen_on_ref(alt) {
        return None;
    }
    let len = json::parse_integer(svlen?)?.unsigned_abs();
    if len == 0 {
        return None;
    }
    Some(pos.saturating_add(i64::try_from(len).unwrap_or(i64::MAX)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcf::error::VcfErrorKind;
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
        // Issue case 9: a called 0/0 on a record without ALT holds 0 copies of any ALT.
        assert_eq!(b.genotypes[0].alt_dosage, Some(0));
        assert_eq!(b.genotypes[1].alt_dosage, None, "a missing call");
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

    /// Rows and warnings of `records` under HEAD with `extra` header lines (samples S1, S2).
    fn run_extra(extra: &str, records: &str) -> (RowBatch, Warnings) {
        let mut r = decomposer_input("S1\tS2", extra, records);
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let mut b = RowBatch::default();
        while let Some((ln, line)) = r.next_line().unwrap() {
            let line = line.to_vec();
            d.decompose(ln, &line, &mut b).unwrap();
        }
        (b, d.warnings.clone())
    }

    fn annotation_of(v: &VariantRow) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            v.gene.as_deref(),
            v.consequence.as_deref(),
            v.impact.as_deref(),
        )
    }

    /// VEP's header line as VEP 110 writes it (`--vcf`), under `key`.
    fn vep_header(key: &str) -> String {
        format!(
            "##INFO=<ID={key},Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp|cDNA_position|CDS_position|Protein_position|Amino_acids|Codons|Existing_variation|DISTANCE|STRAND|FLAGS|SYMBOL_SOURCE|HGNC_ID\">\n\
##INFO=<ID=SVTYPE,Number=1,Type=String,Description=\"Type of structural variant\">\n\
##INFO=<ID=SVLEN,Number=.,Type=Integer,Description=\"Difference in length between REF and ALT alleles\">\n"
        )
    }

    /// Case 1: VEP names a symbolic SV's allele by the SO term of its class.
    #[test]
    fn vep_csq_on_symbolic_sv_is_matched_by_its_class() {
        let rec = "1\t41196311\tDEL1\tN\t<DEL>\t.\tPASS\tSVTYPE=DEL;END=41277500;CSQ=deletion|transcript_ablation|HIGH|BRCA1|ENSG00000012048|Transcript|ENST00000357654|protein_coding||||||||||||-1||HGNC|HGNC:1100,deletion|upstream_gene_variant|MODIFIER|NBR2|ENSG00000198496|Transcript|ENST00000467274|lncRNA||||||||||||1||HGNC|HGNC:20691\tGT\t0/1\t0/0\n\
1\t500\tTR1\tN\t<CNV:TR>\t.\tPASS\tSVTYPE=CNV;END=530;CSQ=CAGCAGCAGCAG|intron_variant|MODIFIER|HTT|ENSG00000197386|Transcript|ENST00000355072|protein_coding||||||||||||1||HGNC|HGNC:4851\tGT\t0/1\t0/0\n";
        let (b, _) = run_extra(&vep_header("CSQ"), rec);
        assert_eq!(
            annotation_of(&b.variants[0]),
            (Some("BRCA1"), Some("transcript_ablation"), Some("HIGH"))
        );
        // One ALT whose allele VEP spelled as an expanded repeat: its entries are its own.
        assert_eq!(
            annotation_of(&b.variants[1]),
            (Some("HTT"), Some("intron_variant"), Some("MODIFIER"))
        );
    }

    /// Case 2: VEP's output under gnomAD's `vep` key, matched by ALLELE_NUM.
    #[test]
    fn vep_output_found_by_description_and_matched_by_allele_num() {
        let extra = "##INFO=<ID=vep,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|ALLELE_NUM|DISTANCE\">\n";
        let rec = "1\t100\t.\tA\tC,G\t.\tPASS\tvep=C|missense_variant|MODERATE|GENE1|ENSG1|Transcript|ENST1|protein_coding|1|,G|synonymous_variant|LOW|GENE1|ENSG1|Transcript|ENST1|protein_coding|2|\tGT\t0/1\t0/2\n";
        let (b, _) = run_extra(extra, rec);
        assert_eq!(
            annotation_of(&b.variants[0]),
            (Some("GENE1"), Some("missense_variant"), Some("MODERATE"))
        );
        assert_eq!(
            annotation_of(&b.variants[1]),
            (Some("GENE1"), Some("synonymous_variant"), Some("LOW"))
        );
        // `--vcf_info_field ANN`: VEP's layout under SnpEff's key is read as VEP's.
        let extra = "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Gene|Consequence|SYMBOL|IMPACT\">\n";
        let rec =
            "1\t100\t.\tA\tC\t.\tPASS\tANN=C|ENSG1|missense_variant|GENE1|MODERATE\tGT\t0/1\t0/0\n";
        let (b, _) = run_extra(extra, rec);
        assert_eq!(
            annotation_of(&b.variants[0]),
            (Some("GENE1"), Some("missense_variant"), Some("MODERATE"))
        );
    }

    /// Case 3: `*` is left out of VEP's shared-first-base rule; breakends by their string.
    #[test]
    fn vep_star_and_breakend_alleles() {
        let rec = "1\t100\t.\tAT\tA,*\t.\tPASS\tCSQ=-|frameshift_variant|HIGH|BRCA2|ENSG00000139618|Transcript|ENST00000380152|protein_coding|10/27||||||||||||-1||HGNC|HGNC:1101\tGT\t0/1\t1/2\n\
1\t200\tBND1\tG\tG]17:198982],G[13:123456[\t.\tPASS\tSVTYPE=BND;CSQ=G]17:198982]|feature_truncation|HIGH|GENE17|E17|Transcript|T17|protein_coding||||||||||||1||HGNC|H:1,G[13:123456[|intron_variant|MODIFIER|GENE13|E13|Transcript|T13|protein_coding||||||||||||1||HGNC|H:2\tGT\t0/1\t0/2\n";
        let (b, _) = run_extra(&vep_header("CSQ"), rec);
        assert_eq!(
            annotation_of(&b.variants[0]),
            (Some("BRCA2"), Some("frameshift_variant"), Some("HIGH"))
        );
        assert_eq!(
            annotation_of(&b.variants[1]),
            (None, None, None),
            "`*` has no entry"
        );
        assert_eq!(b.variants[2].gene.as_deref(), Some("GENE17"));
        assert_eq!(b.variants[3].gene.as_deref(), Some("GENE13"));
    }

    /// Case 4: BCSQ per ALT by its dna_change (bcftools csq on a multi-allelic record).
    #[test]
    fn bcsq_consequence_of_each_alt() {
        let extra = "##INFO=<ID=BCSQ,Number=.,Type=String,Description=\"Haplotype-aware consequence annotation from BCFtools/csq, see http://samtools.github.io/bcftools/howtos/csq-calling.html for details. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change\">\n";
        let rec = "1\t100\t.\tA\tC,G\t.\tPASS\tBCSQ=missense|GENE1|ENST00000001|protein_coding|+|34K>34N|100A>C,synonymous|GENE1|ENST00000001|protein_coding|+|34K|100A>G\tGT\t0/1\t0/2\n";
        let (b, _) = run_extra(extra, rec);
        assert_eq!(
            annotation_of(&b.variants[0]),
            (Some("GENE1"), Some("missense"), Some("MODERATE"))
        );
        assert_eq!(
            annotation_of(&b.variants[1]),
            (Some("GENE1"), Some("synonymous"), Some("LOW"))
        );
    }

    /// Case 5: SVLEN gives the span of a symbolic DEL/DUP/CNV/INV when END is absent.
    #[test]
    fn svlen_sets_end_pos_when_end_is_absent() {
        let rec = "1\t1000\tsv1\tN\t<DEL>\t.\tPASS\tSVTYPE=DEL;SVLEN=-5000\tGT\t0/1\t0/0\n\
1\t1000\tsv2\tN\t<DEL>,<DUP:TANDEM>\t.\tPASS\tSVLEN=-100,+200\tGT\t0/1\t0/2\n\
1\t1000\tsv3\tN\t<DEL>\t.\tPASS\tSVLEN=-5000;END=1200\tGT\t0/1\t0/0\n\
1\t1000\tsv4\tN\t<INS>\t.\tPASS\tSVLEN=300\tGT\t0/1\t0/0\n\
1\t1000\tsv5\tN\t<INV>\t.\tPASS\tSVLEN=.\tGT\t0/1\t0/0\n";
        let (b, _) = run_extra(&vep_header("CSQ"), rec);
        let ends: Vec<(Option<&str>, i64)> = b
            .variants
            .iter()
            .map(|v| (v.alt.as_deref(), v.end_pos))
            .collect();
        assert_eq!(
            ends,
            vec![
                (Some("<DEL>"), 6000),
                (Some("<DEL>"), 1100),
                (Some("<DUP:TANDEM>"), 1200),
                (Some("<DEL>"), 1200), // END present wins
                (Some("<INS>"), 1000), // an insertion spans no reference
                (Some("<INV>"), 1000), // SVLEN missing
            ]
        );
    }

    /// Case 6: every INFO and FORMAT value is valid JSON, written from what was parsed.
    #[test]
    fn awkward_numbers_give_valid_json() {
        let extra = "##INFO=<ID=HOMLEN,Number=.,Type=Integer,Description=\"x\">\n\
##INFO=<ID=FL,Number=.,Type=Float,Description=\"x\">\n\
##INFO=<ID=I1,Number=1,Type=Integer,Description=\"x\">\n\
##INFO=<ID=F1,Number=1,Type=Float,Description=\"x\">\n\
##FORMAT=<ID=FI,Number=1,Type=Integer,Description=\"x\">\n\
##FORMAT=<ID=FF,Number=1,Type=Float,Description=\"x\">\n";
        let awkward = [
            "007",
            "+5",
            "1e5",
            ".5",
            "5.",
            "-0",
            "NaN",
            "Inf",
            "0x1F",
            "123456789012345678901234567890",
            "1e-99999",
        ];
        let mut recs = String::new();
        for a in awkward {
            recs.push_str(&format!(
                "1\t100\t.\tA\tC\t.\tPASS\tI1={a};F1={a};HOMLEN={a},{a};FL={a},.\tGT:FI:FF\t0/1:{a}:{a}\t0/0:.:{a}\n"
            ));
        }
        recs.push_str("1\t100\t.\tA\tC\t.\tPASS\tHOMLEN=1,2,.;FL=1,2,.\tGT\t0/1\t0/0\n");
        let (b, w) = run_extra(extra, &recs);
        for v in &b.variants {
            serde_json::from_str::<Value>(&v.info)
                .unwrap_or_else(|e| panic!("line {}: {}: {e}", v.line, v.info));
        }
        for g in &b.genotypes {
            if let Some(f) = &g.format {
                serde_json::from_str::<Value>(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            }
        }
        let i = info(&b.variants[0]);
        assert_eq!(i["HOMLEN"], json!([7, 7]));
        assert_eq!((&i["I1"], &i["F1"]), (&json!(7), &json!(7.0)));
        let i = info(&b.variants[6]);
        assert_eq!((&i["I1"], &i["F1"]), (&json!("NaN"), &json!("nan")));
        let i = info(&b.variants[8]);
        assert_eq!(i["F1"], json!(31.0));
        let i = info(&b.variants[11]);
        assert_eq!(i, json!({"HOMLEN": [1, 2, null], "FL": [1, 2, null]}));
        let f: Value = serde_json::from_str(b.genotypes[0].format.as_deref().unwrap()).unwrap();
        assert_eq!(f, json!({"FI": 7, "FF": 7.0}));
        // Text that is not an Integer stays text, counted.
        assert!(w.0["info_type_mismatch"] > 0 && w.0["format_type_mismatch"] > 0);
    }

    /// Case 6: what jsonb cannot store is a format error naming line and field. A NUL in
    /// a sample column is refused with the column; in INFO it is replaced (U+FFFD) and
    /// counted; the JSON writer's own refusals (NUL, jsonb's size limits) are tested in
    /// json.rs and reach the caller as `VcfError::format(line, "INFO" | "FORMAT", …)`.
    #[test]
    fn nul_in_values_never_reaches_jsonb() {
        let e = err("1\t1\t.\tA\tC\t.\t.\t.\tGT:XX\t0/1:a\u{0}b\t0/1:c\n");
        assert_eq!(
            (e.kind, e.line, e.field),
            (VcfErrorKind::Format, 18, "sample")
        );
        let (b, w) = run("1\t1\t.\tA\tC\t.\t.\tXX=a\u{0}b\tGT\t0/1\t0/1\n", ALL);
        assert_eq!(info(&b.variants[0])["XX"], "a\u{FFFD}b");
        assert_eq!(w.0.get("invalid_utf8_info"), Some(&1));
    }

    /// Case 7: a key given twice — the first counts, for info as for END, AF and FORMAT.
    #[test]
    fn repeated_keys_keep_the_first() {
        let rec = "1\t100\t.\tA\tC\t.\tPASS\tDP=5;AF=0.25;DP=6;END=150;AF=0.5;END=300\tGT:DP:DP\t0/1:7:8\t0/0:9:10\n";
        let (b, w) = run(rec, ALL);
        let v = &b.variants[0];
        assert_eq!(info(v), json!({"DP": 5, "AF": 0.25, "END": 150}));
        assert_eq!((v.end_pos, v.af), (150, Some(0.25)));
        assert_eq!((b.genotypes[0].dp, b.genotypes[1].dp), (Some(7), Some(9)));
        assert_eq!(w.0.get("duplicate_info_key"), Some(&3));
        assert_eq!(w.0.get("duplicate_format_key"), Some(&1));
        // Many keys (looked up by hash): the same rule.
        let many: Vec<String> = (0..70).map(|i| format!("K{i}=x")).collect();
        let rec = format!(
            "1\t100\t.\tA\tC\t.\tPASS\t{};DP=1;K3=y;DP=2\tGT\t0/1\t0/0\n",
            many.join(";")
        );
        let (b, w) = run(&rec, ALL);
        let i = info(&b.variants[0]);
        assert_eq!((&i["K3"], &i["DP"]), (&json!("x"), &json!(1)));
        assert_eq!(w.0.get("duplicate_info_key"), Some(&2));
    }

    /// Case 8: header lines htslib tolerates load; their warnings reach the load's.
    #[test]
    fn tolerated_header_lines_load() {
        let extra = "##INFO=<ID=X1,Number=1,Type=Integer,Description=\"trailing\">  \n\
##INFO=<ID=X2,Number=1,Type=Integer,Description=unquoted, with comma>\n\
##INFO=<ID=X3,Number=1,Type=Integer,Description=\"unterminated>\n";
        let rec = "1\t100\t.\tA\tC\t.\tPASS\tX1=1;X2=2;X3=3\tGT\t0/1\t0/0\n";
        let (b, w) = run_extra(extra, rec);
        // X2's line is skipped as htslib skips it: X2 loads as an undeclared String.
        assert_eq!(info(&b.variants[0]), json!({"X1": 1, "X2": "2", "X3": 3}));
        assert_eq!(w.0.get("malformed_header_line"), Some(&1));
        assert_eq!(w.0.get("incomplete_header_line"), Some(&1));
        assert_eq!(w.0.get("undeclared_info_key"), Some(&1));
    }

    /// Case 9: on a record without ALT, a called genotype holds 0 copies of any ALT.
    #[test]
    fn no_alt_record_called_genotype_has_zero_dosage() {
        let rec = "1\t3000\t.\tT\t.\t.\tLowQual\t.\tGT:DP\t0|0:8\t./.:.\n";
        let (b, _) = run(rec, ALL);
        assert_eq!(
            (b.genotypes[0].alt_dosage, b.genotypes[1].alt_dosage),
            (Some(0), None)
        );
    }

    /// Case 10: a Flag given a value is true, counted.
    #[test]
    fn flag_with_a_value_is_true() {
        let (b, w) = run("1\t100\t.\tA\tC\t.\tPASS\tDB=1,2\tGT\t0/1\t0/0\n", ALL);
        assert_eq!(info(&b.variants[0]), json!({"DB": true}));
        assert_eq!(w.0.get("info_flag_with_value"), Some(&1));
    }

    /// Case 10: `ad` only for a per-allele AD; VarScan's Number=1 AD stays in `format`.
    #[test]
    fn ad_column_only_for_per_allele_ad() {
        let varscan = HEAD.replace(
            "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"x\">",
            "##FORMAT=<ID=AD,Number=1,Type=Integer,Description=\"Depth of variant-supporting bases (reads2)\">\n##FORMAT=<ID=RD,Number=1,Type=Integer,Description=\"Depth of reference-supporting bases (reads1)\">",
        );
        let text = format!(
            "{varscan}1\t100\t.\tA\tC\t.\tPASS\tDP=30\tGT:RD:AD:DP\t0/1:20:10:30\t0/0:25:0:25\n"
        );
        let mut r = VcfReader::from_bytes(text.into_bytes()).unwrap();
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let mut b = RowBatch::default();
        let (ln, line) = r.next_line().unwrap().unwrap();
        let line = line.to_vec();
        d.decompose(ln, &line, &mut b).unwrap();
        let g = &b.genotypes[0];
        assert_eq!(g.ad, None);
        let f: Value = serde_json::from_str(g.format.as_deref().unwrap()).unwrap();
        assert_eq!(f, json!({"RD": 20, "AD": 10}));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        // GATK 3's Number=. AD with one value per allele is still [REF, ALT].
        let gatk3 = "##FORMAT=<ID=AD,Number=.,Type=Integer,Description=\"Allelic depths for the ref and alt alleles in the order listed\">\n";
        let text = HEAD.replace(
            "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"x\">\n",
            gatk3,
        );
        let text = format!("{text}1\t100\t.\tA\tC,G\t.\tPASS\t.\tGT:AD\t0/1:5,3,2\t0/0:4\n");
        let mut r = VcfReader::from_bytes(text.into_bytes()).unwrap();
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let mut b = RowBatch::default();
        let (ln, line) = r.next_line().unwrap().unwrap();
        let line = line.to_vec();
        d.decompose(ln, &line, &mut b).unwrap();
        assert_eq!(b.genotypes[2].ad, Some(vec![Some(5), Some(2)]));
        assert_eq!(
            b.genotypes[1].ad, None,
            "one value under Number=.: not per allele"
        );
        assert_eq!(b.genotypes[1].format.as_deref(), Some("{\"AD\":[4]}"));
    }

    /// Case 10: freebayes' Float GQ is kept in `format` as a number; `gq` stays NULL.
    #[test]
    fn float_gq_is_kept_in_format() {
        let fb = HEAD.replace(
            "##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"x\">",
            "##FORMAT=<ID=GQ,Number=1,Type=Float,Description=\"Genotype Quality, the Phred-scaled marginal (or unconditional) probability of the called genotype\">",
        );
        let text = format!("{fb}1\t100\t.\tA\tC\t.\tPASS\t.\tGT:GQ:DP\t0/1:23.5:10\t0/0:160:9\n");
        let mut r = VcfReader::from_bytes(text.into_bytes()).unwrap();
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let mut b = RowBatch::default();
        let (ln, line) = r.next_line().unwrap().unwrap();
        let line = line.to_vec();
        d.decompose(ln, &line, &mut b).unwrap();
        assert_eq!((b.genotypes[0].gq, b.genotypes[0].dp), (None, Some(10)));
        assert_eq!(b.genotypes[0].format.as_deref(), Some("{\"GQ\":23.5}"));
        assert_eq!(b.genotypes[1].format.as_deref(), Some("{\"GQ\":160}"));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    /// Case 10: of two `##INFO` definitions of one key, the first counts (htslib).
    #[test]
    fn first_info_definition_counts() {
        let extra = "##INFO=<ID=Q1,Number=1,Type=Integer,Description=\"first\">\n\
##INFO=<ID=Q1,Number=1,Type=String,Description=\"second\">\n";
        let (b, w) = run_extra(extra, "1\t100\t.\tA\tC\t.\tPASS\tQ1=12\tGT\t0/1\t0/0\n");
        assert_eq!(info(&b.variants[0]), json!({"Q1": 12}));
        assert_eq!(w.0.get("duplicate_header_definition"), Some(&1));
    }

    /// Case 10: SnpEff ANN's Allele without regard to case; regulatory_region_ablation's
    /// impact from VEP's table when the annotation has none.
    #[test]
    fn ann_case_and_regulatory_region_ablation() {
        let extra = "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">\n\
##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL\">\n";
        let rec = "1\t100\t.\tA\tc\t.\tPASS\tANN=C|missense_variant|MODERATE|GENE1|ENSG1|transcript|ENST1|protein_coding|2/5|c.10A>C|p.Lys4Asn|10/100|10/90|4/30||\tGT\t0/1\t0/0\n\
1\t200\t.\tACGT\tA\t.\tPASS\tCSQ=-|regulatory_region_ablation&regulatory_region_variant|\tGT\t0/1\t0/0\n";
        let (b, _) = run_extra(extra, rec);
        assert_eq!(b.variants[0].gene.as_deref(), Some("GENE1"));
        assert_eq!(
            annotation_of(&b.variants[1]),
            (
                None,
                Some("regulatory_region_ablation&regulatory_region_variant"),
                Some("MODIFIER")
            )
        );
    }

    /// Case 10: `END=.` is END absent.
    #[test]
    fn end_dot_is_absent() {
        let (b, _) = run("1\t100\t.\tACG\tA\t.\tPASS\tEND=.\tGT\t0/1\t0/0\n", ALL);
        assert_eq!(b.variants[0].end_pos, 102);
        assert_eq!(info(&b.variants[0]), json!({"END": null}));
    }

    /// tests/data/fidelity_cases.vcf: one record per case, as each tool writes it.
    #[test]
    fn fidelity_cases_file() {
        let text = include_str!("../../../tests/data/fidelity_cases.vcf");
        let mut r = VcfReader::from_bytes(text.as_bytes().to_vec()).unwrap();
        let header = r.header().clone();
        let mut d = Decomposer::new(&header, ALL, &["P-1".into(), "P-2".into()]);
        let mut b = RowBatch::default();
        while let Some((ln, line)) = r.next_line().unwrap() {
            let line = line.to_vec();
            d.decompose(ln, &line, &mut b).unwrap();
        }
        let v = &b.variants;
        let ann: Vec<_> = v.iter().map(annotation_of).collect();
        assert_eq!(
            ann[0],
            (Some("BRCA1"), Some("transcript_ablation"), Some("HIGH"))
        );
        assert_eq!(v[1].end_pos, 41_305_000);
        assert_eq!(
            ann[2],
            (Some("BRCA2"), Some("frameshift_variant"), Some("HIGH"))
        );
        assert_eq!(ann[3], (None, None, None));
        assert_eq!(ann[4].1, Some("missense"));
        assert_eq!(ann[5].1, Some("synonymous"));
        assert_eq!(
            info(&v[6]),
            json!({"HOMLEN": [7, 5], "AF": "nan", "DP": 5, "DB": true})
        );
        let g = &b.genotypes;
        assert_eq!(g[12].format.as_deref(), Some("{\"AD\":10,\"GQ\":23.5}"));
        assert_eq!(
            (g[12].ad.as_ref(), g[12].gq, g[12].dp),
            (None, None, Some(30))
        );
        assert_eq!(
            (v[7].end_pos, g[14].alt_dosage, g[15].alt_dosage),
            (4000, Some(0), None)
        );
        assert_eq!(
            info(&v[8])["TRAIL"]
                .as_i64()
                .zip(info(&v[8])["OPEN"].as_i64()),
            Some((1, 3))
        );
        assert_eq!(ann[8].0, Some("GENE3"));
        assert_eq!(
            d.warnings.to_json(),
            "{\"duplicate_header_definition\": 1, \"duplicate_info_key\": 1, \"incomplete_header_line\": 1, \"info_flag_with_value\": 1, \"malformed_header_line\": 1, \"undeclared_info_key\": 1}"
        );
    }
}
