//! One VCF data line → one [`VariantRow`] per ALT allele plus its
//! [`GenotypeRow`](super::rows::GenotypeRow)s (CONTRACT §5): Number=A/R/G slicing for INFO
//! and FORMAT, `normalize` trimming, END/`end_pos`, ANN/CSQ/BCSQ for *this* ALT, GT dosage
//! and the `genotypes` modes, lenient warnings as htslib.
//!
//! The line is read column by column by [`super::record`] (fixed columns, INFO, FORMAT and
//! samples, Number=A/R/G picking); this module checks the column count, keeps what a file's
//! records share, and assembles each ALT's rows.

use super::annotation::{self, Annotation};
use super::error::{VcfError, Warnings};
use super::genotype::Call;
use super::header::Header;
use super::json;
use super::record::fixed::{self, Fixed};
use super::record::info::{self, InfoEntry, KnownInfo, Prepared};
use super::record::samples::{self, FormatLayout, GenotypeContext};
use super::record::AltRow;
use super::redact::Redactor;
use super::rows::{RowBatch, VariantRow};
use std::borrow::Cow;

pub use super::record::fixed::{trim_alleles, MAX_POS, MAX_RECORD_WORK};

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

pub struct Decomposer<'h> {
    header: &'h Header,
    opts: LoadOptions,
    redactor: Redactor,
    pub warnings: Warnings,
    calls: Vec<Call>,
    /// What the last FORMAT column said (records of a file mostly share one).
    layout: FormatLayout<'h>,
}

/// FORMAT keys and the fields of each sample column.
#[derive(Default)]
struct Samples<'a> {
    format: Vec<&'a str>,
    fields: Vec<Vec<&'a str>>,
}

/// One record read column by column: what each of its rows is made from.
struct Record<'r, 'a, 'h> {
    ln: u64,
    fixed: &'r Fixed<'a>,
    info: &'r [InfoEntry<'a>],
    prepared: &'r [Prepared<'r, 'h>],
    known: &'r KnownInfo<'r>,
    end: Option<i64>,
    af: Option<Vec<&'r str>>,
    /// SVLEN, one per ALT (Number=A in VCF 4.4, `.` before).
    svlen: Vec<&'r str>,
    /// What VEP calls each ALT, when the record has VEP's output.
    vep_alleles: Option<Vec<Vec<String>>>,
    format: &'r [&'a str],
    samples: &'r [Vec<&'a str>],
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

    /// The rows of data line `line` (line number `ln`) into `batch`.
    pub fn decompose(
        &mut self,
        ln: u64,
        line: &[u8],
        batch: &mut RowBatch,
    ) -> Result<(), VcfError> {
        let cols = self.columns(ln, line)?;
        let row_bytes = if self.opts.genotypes == GenotypeMode::None {
            cols[7].len()
        } else {
            line.len()
        };
        let fixed = fixed::parse(ln, &cols, row_bytes)?;
        if !self.header.contigs.contains(fixed.chrom) {
            self.warnings.add("undeclared_contig");
        }
        let info = info::parse_info(cols[7], &mut self.warnings);
        let known = KnownInfo::find(&info, self.header);
        let end = known.end(ln)?;
        let samples = self.samples(ln, &cols, fixed.alts.len())?;
        let prepared = info::prepare(&info, self.header, &self.redactor);
        let rec = Record {
            ln,
            fixed: &fixed,
            info: &info,
            prepared: &prepared,
            known: &known,
            end,
            af: known.af.map(|v| v.split(',').collect()),
            svlen: known.svlen.map_or(Vec::new(), |v| v.split(',').collect()),
            vep_alleles: known
                .csq
                .map(|_| annotation::vep_alleles(fixed.ref_allele, &fixed.alts, known.svtype())),
            format: &samples.format,
            samples: &samples.fields,
        };
        let n_alt = fixed.alts.len();
        for k in 1..=n_alt.max(1) {
            let k = (n_alt > 0).then_some(k);
            self.rows(
                &rec,
                AltRow {
                    k,
                    n_alt,
                    first: k.unwrap_or(1) == 1,
                },
                batch,
            )?;
        }
        batch.records += 1;
        Ok(())
    }

    /// The line's tab-separated columns, after checking their count. Sites-only loads split
    /// off the fixed columns only (htslib too parses sample columns lazily); the count holds
    /// for every line.
    fn columns<'a>(&self, ln: u64, line: &'a [u8]) -> Result<Vec<&'a [u8]>, VcfError> {
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
        let wanted = if self.opts.genotypes == GenotypeMode::None {
            n_cols.min(9)
        } else {
            n_cols
        };
        Ok(line.split(|&b| b == b'\t').take(wanted).collect())
    }

    /// FORMAT keys and each sample's fields, GT parsed into `self.calls`; nothing for
    /// sites-only loads.
    fn samples<'a>(
        &mut self,
        ln: u64,
        cols: &[&'a [u8]],
        n_alt: usize,
    ) -> Result<Samples<'a>, VcfError> {
        let n_samples = if self.opts.genotypes == GenotypeMode::None {
            0
        } else {
            self.header.samples.len()
        };
        if n_samples == 0 {
            return Ok(Samples::default());
        }
        let format = samples::parse_format(ln, cols[8])?;
        self.layout
            .update(cols[8], &format, self.header, &mut self.warnings);
        if self.calls.len() < n_samples {
            self.calls.resize_with(n_samples, Call::default);
        }
        let fields =
            samples::parse_samples(ln, cols, &format, n_alt, &mut self.calls[..n_samples])?;
        Ok(Samples { format, fields })
    }

    /// The variant row of `row` and, per the `genotypes` mode, its genotype rows.
    fn rows(&mut self, rec: &Record, row: AltRow, batch: &mut RowBatch) -> Result<(), VcfError> {
        let variant = self.variant_row(rec, row)?;
        let variant_index = batch.variants.len();
        batch.variants.push(variant);
        if self.opts.genotypes == GenotypeMode::None {
            return Ok(());
        }
        let cx = GenotypeContext {
            keys: rec.format,
            layout: &self.layout,
            redactor: &self.redactor,
            row,
            variant: variant_index,
        };
        for (s, fields) in rec.samples.iter().enumerate() {
            let call = &self.calls[s];
            if self.opts.genotypes == GenotypeMode::Carriers
                && !row.k.is_some_and(|k| call.carries(k as u32))
            {
                continue;
            }
            let g = samples::genotype_row(&cx, s, call, fields, &mut self.warnings)
                .map_err(|what| VcfError::format(rec.ln, "FORMAT", what))?;
            batch.genotypes.push(g);
        }
        Ok(())
    }

    /// The `vcf.variants` row of `row`: alleles (trimmed with `normalize`), end_pos, INFO
    /// sliced to this ALT, AF, and the annotation of this ALT.
    fn variant_row(&mut self, rec: &Record, row: AltRow) -> Result<VariantRow, VcfError> {
        let f = rec.fixed;
        let alt = row.k.map(|k| f.alts[k - 1]);
        let (mut pos, mut ref_allele) = (f.pos, f.ref_allele);
        let mut alt_out = alt;
        if let (true, Some(a)) = (self.opts.normalize, alt) {
            let (p, r, a) = trim_alleles(f.pos, f.ref_allele, a);
            (pos, ref_allele, alt_out) = (p, r, Some(a));
        }
        let ref_end = pos + ref_allele.len() as i64 - 1;
        let end_pos = match (rec.end, row.k, alt) {
            (Some(e), _, _) => e,
            (None, Some(k), Some(a)) => {
                svlen_end(a, rec.svlen.get(k - 1).copied(), pos).map_or(ref_end, |e| e.max(ref_end))
            }
            _ => ref_end,
        };
        let info = info::info_json(rec.ln, rec.info, rec.prepared, row, &mut self.warnings)?;
        let af = match (&rec.af, row.k) {
            (Some(items), Some(k)) if items.len() == row.n_alt => items[k - 1].parse::<f32>().ok(),
            (Some(items), None) if items.len() == 1 => items[0].parse::<f32>().ok(),
            _ => None,
        };
        let ann = match row.k {
            Some(k) => {
                let vep = rec.vep_alleles.as_ref().map(|a| a[k - 1].as_slice());
                annotate(rec.known, vep, f, k)
            }
            None => Annotation::default(),
        };
        Ok(VariantRow {
            line: rec.ln,
            chrom: f.chrom.to_string(),
            pos,
            end_pos,
            ref_allele: ref_allele.to_string(),
            alt: alt_out.map(str::to_string),
            alt_index: row.k.map(|k| k as i16),
            id: f.id.clone(),
            qual: f.qual,
            filter: f.filter.clone(),
            info,
            gene: ann.gene,
            consequence: ann.consequence,
            impact: ann.impact,
            af,
        })
    }
}

/// gene / consequence / impact of ALT `k` (1-based): SnpEff ANN first, then VEP's output
/// (`vep`: what VEP calls this ALT, [`annotation::vep_alleles`]), then bcftools BCSQ — each
/// read against the record as written (POS, REF, ALTs before `normalize`).
fn annotate(known: &KnownInfo, vep: Option<&[String]>, f: &Fixed, k: usize) -> Annotation {
    known
        .ann
        .and_then(|v| annotation::from_ann(v, f.alts[k - 1]))
        .or_else(|| {
            let (v, fields) = known.csq?;
            annotation::from_csq(v, fields, k, vep?, f.alts.len())
        })
        .or_else(|| annotation::from_bcsq(known.bcsq?, f.pos, f.ref_allele, &f.alts, k))
        .unwrap_or_default()
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
    fn info_string_items_are_redacted_only_when_whole() {
        // Samples named `1` and `DP`: only INFO String items equal to a name change.
        let head_extra = "##INFO=<ID=ANN,Number=.,Type=String,Description=\"x\">\n\
##INFO=<ID=LBL,Number=1,Type=String,Description=\"x\">\n\
##INFO=<ID=CH,Number=1,Type=Character,Description=\"x\">\n\
##FORMAT=<ID=FT,Number=.,Type=String,Description=\"x\">\n";
        let rec = "1\t100\t.\tA\tC\t.\t.\tDP=1;AC=1;denovo=1,DP,x1,D%50;ANN=C|DP|1;LBL=1_DP;CH=1;XX=DP\tGT:DP:FT:SM\t0/1:1:DP,1:DP\t0/1:1:PASS:x\n";
        let (b, _) = rows_of("1\tDP", head_extra, rec);
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
        // FORMAT String items too (SM), except FT, whose values are FILTER ids.
        let f: Value = serde_json::from_str(g.format.as_deref().unwrap()).unwrap();
        assert_eq!(f, json!({"FT": ["DP", "1"], "SM": "P-2"}));
    }

    /// A name where a number belongs (a numeric field holding text) is stored as text, so it
    /// is replaced; numbers never are, even when a sample is named like one.
    #[test]
    fn names_in_numeric_fields_are_replaced_numbers_never() {
        let head_extra = "##INFO=<ID=PROBAND,Number=1,Type=Integer,Description=\"x\">\n\
##INFO=<ID=N,Number=.,Type=Integer,Description=\"x\">\n";
        let rec = "1\t100\t.\tA\tC\t.\t.\tPROBAND=NA12878;N=5,NA12878\tGT:DP:GQ:AD\t0/1:NA12878:5:NA12878,3\t0/1:5:5:1,2\n";
        let (b, _) = rows_of("NA12878\t5", head_extra, rec);
        let i = info(&b.variants[0]);
        assert_eq!(i["PROBAND"], json!("P-1"));
        assert_eq!(
            i["N"],
            json!([5, "P-1"]),
            "5 stays a number with a sample named 5"
        );
        let f: Value = serde_json::from_str(b.genotypes[0].format.as_deref().unwrap()).unwrap();
        assert_eq!(f["DP"], json!("P-1"));
        assert_eq!(f["AD"], json!(["P-1", "3"]));
        assert_eq!(b.genotypes[1].dp, Some(5));
        assert!(!format!("{:?}", b).contains("NA12878"));
    }

    /// Rows and warnings of `records` under HEAD with `extra` header lines (samples S1, S2).
    fn run_extra(extra: &str, records: &str) -> (RowBatch, Warnings) {
        rows_of("S1\tS2", extra, records)
    }

    /// Rows and warnings of `records` under HEAD with `extra` header lines, for two samples
    /// `names` (tab-separated) whose pseudonyms are P-1, P-2.
    fn rows_of(names: &str, extra: &str, records: &str) -> (RowBatch, Warnings) {
        let mut r = decomposer_input(names, extra, records);
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
