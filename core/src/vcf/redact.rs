//! PHI out of stored text — CONTRACT §5 (v2). One [`Redactor`] per file decides what of the
//! header, of INFO/FORMAT strings and of any free text we store may still name a person.
//!
//! 1. **Structural lines** (`##fileformat`, `##INFO`, `##FORMAT`, `##FILTER`, `##ALT`,
//!    `##contig`, …, see [`STRUCTURAL_KEYS`]) are kept byte for byte: a sample named `1`,
//!    `A`, `DP`, `chr1` or `PASS` must not rewrite `Number=1` or `##contig=<ID=1>`.
//! 2. **Person fields** — the `#CHROM` sample columns, the ID of `##SAMPLE=<…>`, every value of
//!    `##PEDIGREE=<…>`, and keys such as `##tumor_sample=` ([`is_person_key`]): a value equal
//!    to a sample name becomes its pseudonym, any other value becomes [`REDACTED`] (other
//!    people's IDs, parents, germline samples).
//! 3. **Command lines** (`##GATKCommandLine…`, `##bcftools_viewCommand`, `##cmdline`,
//!    `##SnpEffCmd`, `##VEP-command-line`, …, see [`is_command_key`]; and GATK 3's
//!    `##<Walker>="analysis_type=…"`) are stored as `##<key>=<redacted>`
//!    ([`REDACTED_COMMAND`]); with `keep_commands` they follow rule 4 instead.
//! 4. **Free text** (every other header line, and what the caller hands to
//!    [`Redactor::free_text`]: source path, audit details, log and error lines): a sample
//!    name standing between non-alphanumeric characters (`_ . / -` included) becomes its
//!    pseudonym, so `/data/NA12878_S1.bam` is caught. Names made only of digits or shorter
//!    than [`MIN_FREE_TEXT_NAME`] characters are left alone here (`Version=1.16`). Longest
//!    name first, one left-to-right pass: an inserted pseudonym is never scanned again.
//! 5. **INFO/FORMAT String items** ([`Redactor::items`]): a comma-separated item equal to a
//!    sample name (after percent-decoding) becomes its pseudonym — slivar's `denovo=HG002`.
//!    Never a substring, never an item holding `|` (ANN/CSQ/BCSQ subfields), never a
//!    non-String value (the caller only hands String values).

use std::borrow::Cow;
use std::collections::HashMap;

/// A person field (rule 2) whose value is not one of this file's samples.
pub const REDACTED: &str = "redacted";
/// The whole value of a command-line header line (rule 3): `##GATKCommandLine=<redacted>`.
pub const REDACTED_COMMAND: &str = "<redacted>";
/// Rule 4 replaces names of at least this many characters (and not only digits).
pub const MIN_FREE_TEXT_NAME: usize = 3;

/// Rule 1: header keys whose lines carry no person data by the VCF specification (plus
/// GATK's `##GVCFBlock<a>-<b>=minGQ=…` bands, see [`is_structural_key`]). Case-sensitive,
/// as the specification spells them.
pub const STRUCTURAL_KEYS: &[&str] = &[
    "fileformat",
    "INFO",
    "FORMAT",
    "FILTER",
    "ALT",
    "contig",
    "reference",
    "assembly",
    "META",
    "phasing",
    "fileDate",
];

/// Rule 2: words that make a header key a person field (case-insensitive, anywhere in the key).
const PERSON_WORDS: &[&str] = &[
    "sample",
    "individual",
    "patient",
    "donor",
    "subject",
    "proband",
];

/// Replaces sample names by pseudonyms in stored text, per CONTRACT §5 (v2) (module docs).
pub struct Redactor {
    /// Every name → its pseudonym (rules 2 and 5).
    exact: HashMap<String, String>,
    /// Names rule 4 replaces in free text: at least [`MIN_FREE_TEXT_NAME`] characters, not
    /// only digits.
    text: HashMap<String, String>,
    /// Distinct byte lengths of `text` names, longest first.
    text_lens: Vec<usize>,
    /// First bytes of `text` names: where a match may start.
    text_first: [bool; 256],
    /// Byte lengths of the shortest and longest name in `exact` (a quick filter for items).
    exact_len: (usize, usize),
}

/// What a header line is, by its key (rules 1–4; GATK 3 command lines by their value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Structural,
    Sample,
    Pedigree,
    Command,
    Person,
    Other,
}

impl Redactor {
    /// `pseudonyms[i]` replaces `names[i]`. Empty names are ignored.
    pub fn new(names: &[String], pseudonyms: &[String]) -> Self {
        let mut exact = HashMap::new();
        let mut text = HashMap::new();
        for (n, p) in names.iter().zip(pseudonyms) {
            if n.is_empty() {
                continue;
            }
            exact.insert(n.clone(), p.clone());
            if is_free_text_name(n) {
                text.insert(n.clone(), p.clone());
            }
        }
        let mut text_lens: Vec<usize> = text.keys().map(String::len).collect();
        text_lens.sort_unstable_by(|a, b| b.cmp(a));
        text_lens.dedup();
        let mut text_first = [false; 256];
        for n in text.keys() {
            text_first[n.as_bytes()[0] as usize] = true;
        }
        let exact_len = (
            exact.keys().map(String::len).min().unwrap_or(0),
            exact.keys().map(String::len).max().unwrap_or(0),
        );
        Redactor {
            exact,
            text,
            text_lens,
            text_first,
            exact_len,
        }
    }

    /// The pseudonym of a sample name, if `s` is one.
    pub fn pseudonym(&self, s: &str) -> Option<&str> {
        self.exact.get(s).map(String::as_str)
    }

    /// The stored header: each line per rules 1–4, joined with `\n`, with a trailing `\n`.
    pub fn header(&self, lines: &[String], keep_commands: bool) -> String {
        let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in lines {
            out.push_str(&self.header_line(l, keep_commands));
            out.push('\n');
        }
        out
    }

    /// One header line per rules 1–4.
    pub fn header_line<'a>(&self, line: &'a str, keep_commands: bool) -> Cow<'a, str> {
        if line.starts_with("#CHROM") {
            return Cow::Owned(self.column_line(line));
        }
        let Some((key, value)) = line.strip_prefix("##").and_then(|b| b.split_once('=')) else {
            return self.free_text(line); // `##source` without a value, or not a meta line
        };
        match line_kind(key, value) {
            LineKind::Structural => Cow::Borrowed(line),
            LineKind::Sample => Cow::Owned(format!("##{key}={}", self.sample_value(value))),
            LineKind::Pedigree => Cow::Owned(format!("##{key}={}", self.person_value(value))),
            LineKind::Command if keep_commands => self.free_text(line),
            LineKind::Command => Cow::Owned(format!("##{key}={REDACTED_COMMAND}")),
            LineKind::Person => Cow::Owned(format!(
                "##{}={}",
                self.free_text(key),
                self.person_value(value)
            )),
            LineKind::Other => self.free_text(line),
        }
    }

    /// Rule 4: every sample name (of at least [`MIN_FREE_TEXT_NAME`] characters, not only
    /// digits) standing between non-alphanumeric characters becomes its pseudonym. At each
    /// position the longest name wins; replaced text is never scanned again.
    pub fn free_text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.text.is_empty() {
            return Cow::Borrowed(s);
        }
        let b = s.as_bytes();
        let mut out: Option<String> = None;
        let (mut i, mut copied) = (0, 0);
        // Whether the character before `i` (in the input) is alphanumeric.
        let mut after_alnum = false;
        while i < s.len() {
            if !after_alnum && self.text_first[b[i] as usize] {
                if let Some((name, p)) = self.name_at(s, i) {
                    let o = out.get_or_insert_with(|| String::with_capacity(s.len() + 64));
                    o.push_str(&s[copied..i]);
                    o.push_str(p);
                    i += name.len();
                    copied = i;
                    after_alnum = name.chars().next_back().is_some_and(char::is_alphanumeric);
                    continue;
                }
            }
            let c = s[i..].chars().next().expect("i is a char boundary");
            after_alnum = c.is_alphanumeric();
            i += c.len_utf8();
        }
        match out {
            Some(mut o) => {
                o.push_str(&s[copied..]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(s),
        }
    }

    /// Rule 5 for one INFO/FORMAT String item: its pseudonym if the item (percent-decoded)
    /// is a sample name. Items holding `|` are annotation records and never match.
    pub fn item(&self, item: &str) -> Option<&str> {
        let (min, max) = self.exact_len;
        // A percent-encoded name is at most three times as long as the name.
        if item.len() < min || item.len() > max.saturating_mul(3) || item.contains('|') {
            return None;
        }
        if item.contains('%') {
            self.pseudonym(&percent_decode(item)?)
        } else {
            self.pseudonym(item)
        }
    }

    /// Rule 5 for a whole INFO String value: each comma-separated item equal to a sample
    /// name becomes its pseudonym; everything else is kept as written.
    pub fn items<'a>(&self, value: &'a str) -> Cow<'a, str> {
        self.items_where(value, |_| true)
    }

    /// Rule 5 for a value of a numeric field (INFO or FORMAT, Integer or Float): only items
    /// that are not numbers — stored as strings, as htslib keeps them — are compared, so a
    /// sample named `5` never changes `DP=5`, and `DP=NA12878` does not keep the name.
    pub fn non_numeric_items<'a>(&self, value: &'a str) -> Cow<'a, str> {
        self.items_where(value, |it| it != "." && it.trim().parse::<f64>().is_err())
    }

    fn items_where<'a>(&self, value: &'a str, compared: impl Fn(&str) -> bool) -> Cow<'a, str> {
        if self.exact.is_empty() {
            return Cow::Borrowed(value);
        }
        let mut out: Option<String> = None;
        let (mut start, mut copied) = (0, 0);
        for it in value.split(',') {
            let end = start + it.len();
            // The name lookup (a length test, then a hash) before the predicate, which may
            // parse a number: most items are no name.
            if let Some(p) = self.item(it).filter(|_| compared(it)) {
                let o = out.get_or_insert_with(|| String::with_capacity(value.len() + 32));
                o.push_str(&value[copied..start]);
                o.push_str(p);
                copied = end;
            }
            start = end + 1;
        }
        match out {
            Some(mut o) => {
                o.push_str(&value[copied..]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(value),
        }
    }

    /// Rule 2 for the `#CHROM` line: the fixed columns stay, each sample column becomes its
    /// pseudonym (or [`REDACTED`]).
    fn column_line(&self, line: &str) -> String {
        line.split('\t')
            .enumerate()
            .map(|(i, c)| if i < 9 { c } else { self.person(c) })
            .collect::<Vec<_>>()
            .join("\t")
    }

    /// A sample name's pseudonym, anything else [`REDACTED`].
    fn person<'s>(&'s self, v: &str) -> &'s str {
        self.pseudonym(v).unwrap_or(REDACTED)
    }

    /// A person value as written in a header: quoted (`"…"`, quotes kept) or bare.
    fn person_raw(&self, raw: &str) -> String {
        match unquote(raw) {
            Some(inner) => format!("\"{}\"", self.person(&inner)),
            None => self.person(raw.trim()).to_string(),
        }
    }

    /// Rule 2 for a person line's value: `<k=v,…>` keeps its keys and makes every value a
    /// person; a bare value is one person, or a comma-separated list of them.
    fn person_value(&self, value: &str) -> String {
        if let Some(fields) = split_structured(value) {
            return join_structured(fields.iter().map(|f| match f.key {
                Some(k) => format!("{k}={}", self.person_raw(f.value)),
                None => self.person_raw(f.value),
            }));
        }
        if value.starts_with('<') || self.pseudonym(value).is_some() {
            // Unparsable structure, or one name that holds commas: one value.
            return self.person_raw(value);
        }
        value
            .split(',')
            .map(|v| self.person_raw(v))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `##SAMPLE=<ID=…,…>`: the ID is a person (rule 2), other values are free text (rule 4),
    /// keys are kept. An unparsable value is one person value.
    fn sample_value(&self, value: &str) -> String {
        let Some(fields) = split_structured(value) else {
            return self.person_raw(value);
        };
        join_structured(fields.iter().map(|f| match f.key {
            Some(k) if k.trim() == "ID" => format!("{k}={}", self.person_raw(f.value)),
            Some(k) => format!("{k}={}", self.free_text(f.value)),
            None => self.free_text(f.value).into_owned(),
        }))
    }

    /// The longest free-text name starting at byte `i` and followed by a boundary.
    fn name_at<'s>(&'s self, s: &str, i: usize) -> Option<(&'s str, &'s str)> {
        for &len in &self.text_lens {
            let end = i + len;
            if end > s.len() || !s.is_char_boundary(end) {
                continue;
            }
            let boundary_after = s[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            if !boundary_after {
                continue;
            }
            if let Some((n, p)) = self.text.get_key_value(&s[i..end]) {
                return Some((n.as_str(), p.as_str()));
            }
        }
        None
    }
}

/// Rule 4 skips names made only of digits or shorter than [`MIN_FREE_TEXT_NAME`].
fn is_free_text_name(n: &str) -> bool {
    n.chars().count() >= MIN_FREE_TEXT_NAME && !n.bytes().all(|b| b.is_ascii_digit())
}

fn line_kind(key: &str, value: &str) -> LineKind {
    if is_structural_key(key) {
        LineKind::Structural
    } else if key.eq_ignore_ascii_case("SAMPLE") {
        LineKind::Sample
    } else if key.eq_ignore_ascii_case("PEDIGREE") {
        LineKind::Pedigree
    } else if is_command_key(key) || is_gatk3_command(value) {
        LineKind::Command
    } else if is_person_key(key) {
        LineKind::Person
    } else {
        LineKind::Other
    }
}

/// Rule 1: [`STRUCTURAL_KEYS`], and GATK's `GVCFBlock<a>-<b>` reference-confidence bands.
pub fn is_structural_key(key: &str) -> bool {
    STRUCTURAL_KEYS.contains(&key)
        || key.strip_prefix("GVCFBlock").is_some_and(|r| {
            r.split_once('-').is_some_and(|(a, b)| {
                [a, b]
                    .iter()
                    .all(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
            })
        })
}

/// Rule 3, case-insensitive: `command` anywhere (`commandline`, GATK's `GATKCommandLine` and
/// `GATKCommandLine.HaplotypeCaller`, bcftools' `bcftools_viewCommand` and
/// `bcftools/csqCommand`, `…_command…`, VEP's `VEP-command-line`), `cmdline` anywhere
/// (Strelka's `cmdline`), `…cmd` at the end (SnpEff's `SnpEffCmd`).
pub fn is_command_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("command") || k.contains("cmdline") || k.ends_with("cmd")
}

/// Rule 3 for GATK 3 walkers, whose command line has the walker's name as key:
/// `##UnifiedGenotyper="analysis_type=UnifiedGenotyper input_file=[…] …"`.
fn is_gatk3_command(value: &str) -> bool {
    value
        .strip_prefix('"')
        .unwrap_or(value)
        .starts_with("analysis_type=")
}

/// Rule 2, case-insensitive: a key holding one of `sample`, `individual`, `patient`,
/// `donor`, `subject`, `proband` (`tumor_sample`, `normal_sample`, `SampleName`,
/// `patient_id`). `##SAMPLE` and `##PEDIGREE` have their own rules; command keys come first.
pub fn is_person_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    PERSON_WORDS.iter().any(|w| k.contains(w))
}

/// One `key=value` of a `<…>` header value, as written (a quoted value keeps its quotes).
struct Field<'a> {
    key: Option<&'a str>,
    value: &'a str,
}

/// `<ID=x,Description="a, \"b\"">` → its fields, losslessly (commas inside quotes stay).
/// None if `value` is not `<…>` or a quote is not closed.
fn split_structured(value: &str) -> Option<Vec<Field<'_>>> {
    let inner = value.strip_prefix('<')?.strip_suffix('>')?;
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    parts.push(&inner[start..]);
    Some(
        parts
            .into_iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) => Field {
                    key: Some(k),
                    value: v,
                },
                None => Field {
                    key: None,
                    value: p,
                },
            })
            .collect(),
    )
}

fn join_structured(fields: impl Iterator<Item = String>) -> String {
    format!("<{}>", fields.collect::<Vec<_>>().join(","))
}

/// `"a \"b\""` → `a "b"`; None if `raw` is not a quoted string.
fn unquote(raw: &str) -> Option<String> {
    let inner = raw.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    Some(out)
}

/// VCF percent-encoding (`%2C` → `,`); a `%` not followed by two hex digits stays as is.
/// None if the decoded bytes are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcf::reader::VcfReader;
    use std::path::{Path, PathBuf};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Samples `names[i]` with pseudonyms `P<i+1>`.
    fn redactor(names: &[&str]) -> Redactor {
        let ps: Vec<String> = (1..=names.len()).map(|i| format!("P{i}")).collect();
        Redactor::new(&strings(names), &ps)
    }

    fn line(r: &Redactor, l: &str) -> String {
        r.header_line(l, false).into_owned()
    }

    fn kept_command(r: &Redactor, l: &str) -> String {
        r.header_line(l, true).into_owned()
    }

    /// Names that collide with VCF vocabulary, numbers and short codes.
    const AWKWARD: &[&str] = &[
        "1",
        "2",
        "10",
        "A",
        "S1",
        "DP",
        "GT",
        "PASS",
        "chr1",
        "chr22",
        "INFO",
        "Number",
        "String",
        "Integer",
        "Description",
        "NON_REF",
        "ID",
    ];

    // ---- Rule 1: structural lines ------------------------------------------------------

    #[test]
    fn structural_lines_are_kept_byte_for_byte_whatever_the_sample_names() {
        let r = redactor(AWKWARD);
        for l in [
            "##fileformat=VCFv4.2",
            "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth; some reads may have been filtered\">",
            "##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL\">",
            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
            "##FILTER=<ID=PASS,Description=\"All filters passed\">",
            "##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele at this location\">",
            "##contig=<ID=1,length=249250621,assembly=b37>",
            "##contig=<ID=chr1,length=248956422>",
            "##reference=file:///data/diag/diagInternal/tmp/temp/GATK_bundle_2.8/b37/human_g1k_v37_decoy.fasta",
            "##assembly=ftp://ftp-trace.ncbi.nih.gov/1000genomes/ftp/release/sv/breakpoint_assemblies.fasta",
            "##META=<ID=Assay,Type=String,Number=.,Values=[WholeGenome, Exome]>",
            "##phasing=partial",
            "##fileDate=20151104",
            "##GVCFBlock10-11=minGQ=10(inclusive),maxGQ=11(exclusive)",
        ] {
            assert!(matches!(r.header_line(l, false), Cow::Borrowed(_)), "{l}");
            assert_eq!(r.header_line(l, true), l);
        }
    }

    #[test]
    fn structural_keys_are_exact() {
        assert!(is_structural_key("INFO") && is_structural_key("GVCFBlock0-1"));
        // Look-alikes are ordinary text lines.
        for k in [
            "INFOS",
            "info",
            "GVCFBlock",
            "GVCFBlockNA1-2",
            "contigs",
            "source",
        ] {
            assert!(!is_structural_key(k), "{k}");
        }
    }

    // ---- Rule 2: person fields ---------------------------------------------------------

    #[test]
    fn the_column_line_gets_pseudonyms_for_every_sample_however_named() {
        let r = redactor(&["1", "A", "NA12878"]);
        assert_eq!(
            line(
                &r,
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t1\tA\tNA12878\tother"
            ),
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\tP2\tP3\tredacted"
        );
        let sites = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO";
        assert_eq!(line(&r, sites), sites);
    }

    #[test]
    fn sample_lines_pseudonymize_the_id_and_scrub_the_other_values() {
        let r = redactor(&["NA12878", "1", "Description"]);
        assert_eq!(
            line(
                &r,
                "##SAMPLE=<ID=NA12878,Assay=WholeGenome,Description=\"NA12878 from /data/NA12878_S1/, mother of NA12877\">"
            ),
            "##SAMPLE=<ID=P1,Assay=WholeGenome,Description=\"P1 from /data/P1_S1/, mother of NA12877\">"
        );
        // Another person (VCF 4.2 example): the ID is redacted, the rest is text.
        assert_eq!(
            line(
                &r,
                "##SAMPLE=<ID=Blood,Genomes=Germline,Mixture=1.,Description=\"Patient germline genome\">"
            ),
            "##SAMPLE=<ID=redacted,Genomes=Germline,Mixture=1.,Description=\"Patient germline genome\">"
        );
        // A numeric name is replaced in the ID (a person field), not in `Mixture=1.`; a
        // sample named `Description` does not rename the key.
        assert_eq!(
            line(&r, "##SAMPLE=<ID=\"1\",Mixture=1.,Description=\"x\">"),
            "##SAMPLE=<ID=\"P2\",Mixture=1.,Description=\"x\">"
        );
        assert_eq!(line(&r, "##SAMPLE=NA12877"), "##SAMPLE=redacted");
        assert_eq!(line(&r, "##SAMPLE=<ID=\"unclosed>"), "##SAMPLE=redacted");
    }

    #[test]
    fn pedigree_lines_keep_only_pseudonyms_in_every_form() {
        let r = redactor(&["HG002", "HG003", "2"]);
        for (input, stored) in [
            // VCF 4.3: ID, Father, Mother.
            (
                "##PEDIGREE=<ID=HG002,Father=HG003,Mother=HG004>",
                "##PEDIGREE=<ID=P1,Father=P2,Mother=redacted>",
            ),
            // VCF 4.2/4.3: derived genomes (tumour from germline).
            (
                "##PEDIGREE=<Derived=HG002,Original=GermlineID>",
                "##PEDIGREE=<Derived=P1,Original=redacted>",
            ),
            (
                "##PEDIGREE=<ID=TumourSample,Original=HG003>",
                "##PEDIGREE=<ID=redacted,Original=P2>",
            ),
            // VCF 4.2: Child/Mother/Father and the Name_N list.
            (
                "##PEDIGREE=<Child=HG002,Mother=HG004,Father=HG003>",
                "##PEDIGREE=<Child=P1,Mother=redacted,Father=P2>",
            ),
            (
                "##PEDIGREE=<Name_0=HG002,Name_1=Ancestor_1,Name_2=2>",
                "##PEDIGREE=<Name_0=P1,Name_1=redacted,Name_2=P3>",
            ),
            // Quoted values keep their quotes; missing values are redacted too.
            (
                "##PEDIGREE=<ID=\"HG002\",Father=\"Smith, John\",Mother=>",
                "##PEDIGREE=<ID=\"P1\",Father=\"redacted\",Mother=redacted>",
            ),
            // Not structured: one value.
            ("##PEDIGREE=HG002 HG003", "##PEDIGREE=redacted"),
        ] {
            assert_eq!(line(&r, input), stored, "{input}");
        }
    }

    #[test]
    fn tumor_normal_and_other_person_keys() {
        // Mutect2 (mutect2_chr22.vcf.gz).
        let r = redactor(&["HCC1395_HCC1395N", "HCC1395_HCC1395T", "1"]);
        assert_eq!(
            line(&r, "##normal_sample=HCC1395_HCC1395N"),
            "##normal_sample=P1"
        );
        assert_eq!(
            line(&r, "##tumor_sample=HCC1395_HCC1395T"),
            "##tumor_sample=P2"
        );
        assert_eq!(line(&r, "##tumor_sample=1"), "##tumor_sample=P3");
        // Someone not in the file, whatever the key's spelling.
        for key in [
            "tumor_sample",
            "TUMOR_SAMPLE",
            "normalSample",
            "sample",
            "SampleName",
            "individual",
            "patient_id",
            "Donor",
            "subject",
            "proband",
        ] {
            assert_eq!(
                line(&r, &format!("##{key}=NA24385")),
                format!("##{key}={REDACTED}")
            );
        }
        assert_eq!(
            line(&r, "##samples=HCC1395_HCC1395N,NA24385"),
            "##samples=P1,redacted"
        );
        assert_eq!(
            line(&r, "##individual=<ID=HCC1395_HCC1395T,Sex=F>"),
            "##individual=<ID=P2,Sex=redacted>"
        );
        assert!(!is_person_key("source_version") && !is_person_key("filtering_status"));
    }

    // ---- Rule 3: command lines ---------------------------------------------------------

    /// Command lines of real callers (from /work/shared/data/vcf unless noted; the long GATK
    /// lines abridged with `…`).
    const COMMAND_LINES: &[&str] = &[
        // GATK 4, mutect2_chr22.vcf.gz.
        "##GATKCommandLine=<ID=Mutect2,CommandLine=\"Mutect2 --f1r2-tar-gz HCC1395T_vs_HCC1395N.mutect2.chr17_38877931-38878296.f1r2.tar.gz --normal-sample HCC1395_HCC1395N --panel-of-normals /localscratch/21167387.youssef.abili/nxf.K4Lfm8RXcb/1000g_pon.hg38.vcf.gz …\",Version=\"4.5.0.0\",Date=\"June 24, 2025 at 1:09:48 PM GMT\">",
        // GATK 4, gvcf_sample.vcf.gz.
        "##GATKCommandLine=<ID=HaplotypeCaller,CommandLine=\"HaplotypeCaller --emit-ref-confidence GVCF --output chr22_1-40001_testN.g.vcf --intervals chr22_1-40001.bed --input testN.recal.bam --reference genome.fasta …\">",
        // GATK 3 (its documented form).
        "##GATKCommandLine.HaplotypeCaller=<ID=HaplotypeCaller,Version=3.8-0-ge9d806836,Date=\"Mon Jan 08 10:14:55 CET 2018\",Epoch=1515402895,CommandLineOptions=\"analysis_type=HaplotypeCaller input_file=[/data/testN/testN.sorted.bam] …\">",
        // GATK 3 walkers, mills_indels.vcf.gz.
        "##UnifiedGenotyper=\"analysis_type=UnifiedGenotyper input_file=[/broad/shptmp/temporary_1000G_bams/chr1/CEU.phase1.chr1.31.cleaned.bam, …] sample_metadata=[] …\"",
        // bcftools, mutect2_chr22.vcf.gz, sarscov2.vcf.gz and with_annotations.vcf.
        "##bcftools_viewCommand=view -r chr22 -Oz -o HCC1395T_vs_HCC1395N.mutect2.filtered_chr22.vcf.gz HCC1395T_vs_HCC1395N.mutect2.filtered.vcf.gz; Date=Wed Oct 29 10:58:58 2025",
        "##bcftoolsCommand=mpileup -Ou -f data/genomics/sarscov2/fasta/test_genome.fasta data/genomics/sarscov2/bam/test_paired_end.sorted.bam",
        "##bcftools/csqCommand=csq -l -g Homo_sapiens.GRCh37.82.gff3.gz -s - -f /data/human/g1k_v37_decoy.fa xx.bcf; Date=Tue Jun 11 20:33:27 2019",
        // Strelka, strelka_snvs_chr22.vcf.gz.
        "##cmdline=/usr/local/bin/configureStrelkaSomaticWorkflow.py --tumor HCC1395T.recal.cram --normal HCC1395N.recal.cram --referenceFasta Homo_sapiens_assembly38.fasta --callRegions chr1_11981-12351.bed.gz --indelCandidates HCC1395T_vs_HCC1395N.manta.candidate_small_indels.vcf.gz --exome --runDir strelka",
        // SnpEff, snpeff_test.ann.vcf.
        "##SnpEffCmd=\"SnpEff  GRCh37.75 examples/test.vcf \"",
        // VEP (its usual form).
        "##VEP-command-line='vep --input_file testN.vcf --output_file testN.vep.vcf --everything --fork 4'",
        // freebayes and anything spelled like it.
        "##commandline=\"freebayes -f ref.fa testN.bam\"",
        "##CMDLINE=bwa mem ref.fa testN_R1.fq",
        "##source_command=manta --bam testN.bam",
    ];

    #[test]
    fn command_lines_are_stored_as_key_and_redacted_by_default() {
        let r = redactor(&["HCC1395_HCC1395N", "testN", "test"]);
        for l in COMMAND_LINES {
            let key = &l[2..l.find('=').unwrap()];
            assert_eq!(line(&r, l), format!("##{key}=<redacted>"));
        }
        for not_a_command in ["SnpEffVersion", "bcftools_viewVersion", "source", "content"] {
            assert!(!is_command_key(not_a_command), "{not_a_command}");
        }
        // Keys alone are enough, in any case; GATK 3 walkers are known by their value.
        for key in [
            "GATKCommandLine.HaplotypeCaller",
            "VEP-command-line",
            "CmdLine",
            "snpeffcmd",
        ] {
            assert!(is_command_key(key), "{key}");
        }
        assert_eq!(
            line(
                &r,
                "##VariantsToVCF=\"analysis_type=VariantsToVCF input_file=[] …\""
            ),
            "##VariantsToVCF=<redacted>"
        );
    }

    #[test]
    fn kept_command_lines_have_sample_names_replaced_as_free_text() {
        let r = redactor(&["HCC1395_HCC1395N", "testN", "test", "1"]);
        let kept = |prefix: &str| {
            let l = COMMAND_LINES
                .iter()
                .find(|l| l.starts_with(prefix))
                .unwrap();
            kept_command(&r, l)
        };
        let mutect2 = kept("##GATKCommandLine=<ID=Mutect2");
        assert!(mutect2.contains("--normal-sample P1 --panel-of-normals"));
        // Other people's file names are not sample names: they stay (that is why the
        // default is to redact the whole line).
        assert!(mutect2.contains("HCC1395T_vs_HCC1395N.mutect2"));
        let hc = kept("##GATKCommandLine=<ID=HaplotypeCaller");
        assert!(hc.contains("--output chr22_1-40001_P2.g.vcf --intervals"));
        assert!(hc.contains("--input P2.recal.bam"));
        assert!(kept("##GATKCommandLine.").contains("input_file=[/data/P2/P2.sorted.bam]"));
        assert!(kept("##bcftoolsCommand")
            .contains("fasta/P3_genome.fasta data/genomics/sarscov2/bam/P3_paired_end"));
        assert_eq!(
            kept("##SnpEffCmd"),
            "##SnpEffCmd=\"SnpEff  GRCh37.75 examples/P3.vcf \""
        );
        assert!(kept("##VEP")
            .contains("--input_file P2.vcf --output_file P2.vep.vcf --everything --fork 4"));
        assert_eq!(kept("##CMDLINE"), "##CMDLINE=bwa mem ref.fa P2_R1.fq");
        // A numeric sample name never touches free text (`1:09:48`, `GRCh37.82`).
        assert!(mutect2.contains("1:09:48") && kept("##bcftools/").contains("GRCh37.82"));
    }

    // ---- Rule 4: free text --------------------------------------------------------------

    #[test]
    fn free_text_catches_names_inside_paths_and_file_names() {
        let r = redactor(&["NA12878", "NA12877_S1"]);
        for (text, stored) in [
            ("NA12878_S1.bam", "P1_S1.bam"),
            ("/data/NA12878/", "/data/P1/"),
            ("NA12878.g.vcf.gz", "P1.g.vcf.gz"),
            (
                "--input /data/NA12878.sorted.bam",
                "--input /data/P1.sorted.bam",
            ),
            ("bam/NA12877_S1/NA12877_S1.bam", "bam/P2/P2.bam"),
            ("NA12878-tumor,NA12878:1", "P1-tumor,P1:1"),
            ("file:///x/NA12878", "file:///x/P1"),
            ("NA12878", "P1"),
        ] {
            assert_eq!(r.free_text(text), stored, "{text}");
        }
    }

    #[test]
    fn free_text_never_replaces_inside_a_longer_word() {
        let r = redactor(&["NA12878", "test"]);
        for text in [
            "NA128780",
            "xNA12878",
            "NA12878x",
            "testN.bam",
            "latest",
            "éNA12878",
            "NA12878é",
        ] {
            assert!(matches!(r.free_text(text), Cow::Borrowed(_)), "{text}");
        }
        assert_eq!(r.free_text("ü/test/ü"), "ü/P2/ü");
    }

    #[test]
    fn numeric_and_short_names_stay_out_of_free_text() {
        let r = redactor(&["1", "2", "10", "A", "S1", "DP"]);
        for text in [
            "##source_version=2.9.10",
            "##bcftools_viewVersion=1.12+htslib-1.12",
            "##SnpEffVersion=\"4.1 (build 2015-01-07), by Pablo Cingolani\"",
            "##GVCFBlock=minGQ=1(inclusive)",
            "A S1 DP 1 2 10",
            "Version=1.16",
        ] {
            assert!(matches!(r.free_text(text), Cow::Borrowed(_)), "{text}");
            assert_eq!(line(&r, text), text);
        }
        // Three characters, not only digits, is enough.
        let r = redactor(&["S12", "123"]);
        assert_eq!(r.free_text("S12.bam 123.bam"), "P1.bam 123.bam");
    }

    #[test]
    fn word_like_names_are_replaced_in_free_text_but_not_in_structure() {
        let r = redactor(&["PASS", "chr1", "Description"]);
        assert_eq!(
            line(&r, "##source=PASS chr1 caller"),
            "##source=P1 P2 caller"
        );
        let filter = "##FILTER=<ID=PASS,Description=\"All filters passed\">";
        assert_eq!(line(&r, filter), filter);
        assert_eq!(line(&r, "##contig=<ID=chr1>"), "##contig=<ID=chr1>");
    }

    #[test]
    fn longer_names_win_and_pseudonyms_are_never_rescanned() {
        // A name that is a prefix of another.
        let r = redactor(&["NA1", "NA12", "NA12878", "NA12878_S1"]);
        assert_eq!(
            r.free_text("NA1 NA12 NA123 NA12878 NA12878_S1.bam NA12878_S2.bam"),
            "P1 P2 NA123 P3 P4.bam P3_S2.bam"
        );
        // Pseudonyms that are themselves sample names are inserted once, not chained.
        let names = strings(&["alice", "bob", "carol"]);
        let r = Redactor::new(&names, &strings(&["bob", "carol", "alice"]));
        assert_eq!(r.free_text("alice/bob/carol"), "bob/carol/alice");
        assert_eq!(r.items("alice,bob"), "bob,carol");
    }

    #[test]
    fn no_samples_means_no_change() {
        let r = Redactor::new(&[], &[]);
        assert!(matches!(r.free_text("anything"), Cow::Borrowed(_)));
        assert!(matches!(r.items("a,b"), Cow::Borrowed(_)));
        assert_eq!(
            r.header(&strings(&["##fileformat=VCFv4.2", "##x=y"]), false),
            "##fileformat=VCFv4.2\n##x=y\n"
        );
    }

    // ---- Rule 5: INFO/FORMAT String items ------------------------------------------------

    #[test]
    fn items_equal_to_a_sample_name_become_pseudonyms() {
        let r = redactor(&["HG002", "HG003", "1", "a,b"]);
        for (value, stored) in [
            // slivar's denovo=HG002.
            ("HG002", "P1"),
            ("HG002,HG003", "P1,P2"),
            ("HG004,HG003,.", "HG004,P2,."),
            // Numeric names too: items are person values, not prose.
            ("1", "P3"),
            ("0,1", "0,P3"),
            // Compared after percent-decoding.
            ("HG%30%302", "P1"),
            ("a%2Cb", "P4"),
            // Not a substring, not an annotation subfield.
            ("HG0021", "HG0021"),
            ("xHG002", "xHG002"),
            ("HG002_S1", "HG002_S1"),
            ("A|missense|HG002|1", "A|missense|HG002|1"),
            ("A|x|HG002,HG002", "A|x|HG002,P1"),
            ("", ""),
            ("%zz", "%zz"),
        ] {
            assert_eq!(r.items(value), stored, "{value}");
        }
        assert!(matches!(r.items("HG004,0.5"), Cow::Borrowed(_)));
        assert_eq!(r.item("HG003"), Some("P2"));
        assert_eq!(r.item("%FF%FE"), None);
    }

    // ---- Real files ----------------------------------------------------------------------

    /// The real caller files, read at test time (not copied into the repository).
    fn real_files() -> Option<Vec<PathBuf>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/vcf");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!("skipped: {} not found", dir.display());
            return None;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.to_string_lossy();
                n.ends_with(".vcf") || n.ends_with(".vcf.gz")
            })
            .collect();
        files.sort();
        Some(files)
    }

    fn header_lines(path: &Path) -> (Vec<String>, Vec<String>) {
        let r = VcfReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (r.header().lines.clone(), r.header().samples.clone())
    }

    /// The key of a meta line, as the contract's structural list names them (independent of
    /// [`STRUCTURAL_KEYS`] on purpose: an oracle, not a copy).
    fn is_spec_structural(l: &str) -> bool {
        [
            "fileformat",
            "INFO",
            "FORMAT",
            "FILTER",
            "ALT",
            "contig",
            "reference",
            "assembly",
            "META",
            "phasing",
            "fileDate",
        ]
        .iter()
        .any(|k| l.starts_with(&format!("##{k}=")))
    }

    #[test]
    fn property_real_structural_lines_survive_awkward_sample_names() {
        let Some(files) = real_files() else { return };
        let mut checked = 0;
        for f in &files {
            let (lines, _) = header_lines(f);
            // All awkward names at once, and each alone (pseudonyms unlike any VCF text).
            let mut sets: Vec<Vec<&str>> = vec![AWKWARD.to_vec()];
            sets.extend(AWKWARD.iter().map(|n| vec![*n]));
            for names in sets {
                let ps: Vec<String> = (0..names.len()).map(|i| format!("~pseudo{i}~")).collect();
                let r = Redactor::new(&strings(&names), &ps);
                for keep in [false, true] {
                    let stored = r.header(&lines, keep);
                    let out: Vec<&str> = stored.lines().collect();
                    assert_eq!(out.len(), lines.len());
                    for (a, b) in lines.iter().zip(&out) {
                        if is_spec_structural(a) {
                            assert_eq!(a, b, "{}: names {names:?}", f.display());
                            checked += 1;
                        }
                    }
                }
            }
        }
        println!(
            "{checked} structural lines checked across {} files",
            files.len()
        );
    }

    /// Whether `name` stands in `text` between non-alphanumeric characters.
    fn at_boundary(text: &str, name: &str) -> bool {
        text.match_indices(name).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + name.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    }

    #[test]
    fn real_files_keep_no_sample_name_outside_structural_lines() {
        let Some(files) = real_files() else { return };
        for f in &files {
            let (lines, samples) = header_lines(f);
            let ps: Vec<String> = (0..samples.len())
                .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
                .collect();
            let r = Redactor::new(&samples, &ps);
            for keep in [false, true] {
                let stored = r.header(&lines, keep);
                for (l, s) in lines.iter().zip(stored.lines()) {
                    let key = l
                        .strip_prefix("##")
                        .and_then(|b| b.split_once('='))
                        .map(|(k, _)| k);
                    if is_spec_structural(l) {
                        assert_eq!(l, s);
                        continue;
                    }
                    if !keep && key.is_some_and(is_command_key) {
                        assert_eq!(s, format!("##{}=<redacted>", key.unwrap()));
                    }
                    for n in samples.iter().filter(|n| is_free_text_name(n)) {
                        assert!(!at_boundary(s, n), "{}: {n} in {s}", f.display());
                    }
                }
                let columns = stored.lines().last().unwrap();
                for n in &samples {
                    assert!(!columns.split('\t').any(|c| c == n), "{}", f.display());
                }
                if !samples.is_empty() {
                    assert!(columns.ends_with(ps.last().unwrap().as_str()));
                }
            }
        }
    }
}
