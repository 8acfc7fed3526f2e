//! Functional annotations to gene / consequence / impact of *one* ALT (CONTRACT §6):
//! SnpEff `ANN`, VEP's output (`CSQ`, or the key its header description names: gnomAD's
//! `vep`) and bcftools `BCSQ`. With several transcripts, the most severe impact wins; ties
//! keep the first written. How each tool names the ALT an entry belongs to, and how we
//! match it, is in docs/loading.md ("gene / consequence / impact").

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Annotation {
    pub gene: Option<String>,
    pub consequence: Option<String>,
    pub impact: Option<String>,
}

fn impact_rank(impact: &str) -> u8 {
    match impact {
        "HIGH" => 4,
        "MODERATE" => 3,
        "LOW" => 2,
        "MODIFIER" => 1,
        _ => 0,
    }
}

/// Impact of a Sequence Ontology term: VEP's consequence table (ensembl-variation
/// `Utils/Constants.pm`, release 110 on, where `feature_elongation`/`feature_truncation` are
/// HIGH and `regulatory_region_ablation` MODIFIER — MODERATE before), and bcftools' short
/// names (`missense`, `inframe_altering`, …). Only used where the annotation carries no
/// IMPACT of its own (BCSQ, or a CSQ layout without IMPACT).
pub fn impact_of_consequence(term: &str) -> &'static str {
    let t = term.trim_start_matches(['*', '@']);
    let t = t.strip_suffix("_variant").unwrap_or(t);
    match t {
        "transcript_ablation"
        | "splice_acceptor"
        | "splice_donor"
        | "stop_gained"
        | "frameshift"
        | "stop_lost"
        | "start_lost"
        | "transcript_amplification"
        | "feature_elongation"
        | "feature_truncation" => "HIGH",
        "inframe_insertion" | "inframe_deletion" | "missense" | "protein_altering"
        | "inframe_altering" | "TFBS_ablation" => "MODERATE",
        "splice_donor_5th_base"
        | "splice_region"
        | "splice_donor_region"
        | "splice_polypyrimidine_tract"
        | "incomplete_terminal_codon"
        | "start_retained"
        | "stop_retained"
        | "synonymous" => "LOW",
        "coding_sequence"
        | "mature_miRNA"
        | "5_prime_UTR"
        | "5_prime_utr"
        | "3_prime_UTR"
        | "3_prime_utr"
        | "non_coding_transcript_exon"
        | "intron"
        | "NMD_transcript"
        | "non_coding_transcript"
        | "non_coding"
        | "coding_transcript"
        | "upstream_gene"
        | "downstream_gene"
        | "TFBS_amplification"
        | "TF_binding_site"
        | "regulatory_region_ablation"
        | "regulatory_region_amplification"
        | "regulatory_region"
        | "intergenic"
        | "sequence" => "MODIFIER",
        _ => "MODIFIER",
    }
}

/// Most severe impact over `a&b&c` consequence terms.
fn impact_of_terms(terms: &str) -> &'static str {
    terms
        .split('&')
        .map(impact_of_consequence)
        .max_by_key(|i| impact_rank(i))
        .unwrap_or("MODIFIER")
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|v| !v.is_empty()).map(str::to_string)
}

struct Best {
    rank: u8,
    ann: Option<Annotation>,
}

impl Best {
    fn new() -> Self {
        Best { rank: 0, ann: None }
    }
    fn offer(&mut self, impact: &str, ann: impl FnOnce() -> Annotation) {
        let r = impact_rank(impact);
        if self.ann.is_none() || r > self.rank {
            self.rank = r;
            self.ann = Some(ann());
        }
    }
}

/// SnpEff ANN: `Allele|Annotation|Annotation_Impact|Gene_Name|…`, one entry per comma.
/// Entries whose Allele is this ALT count (SnpEff writes the ALT as in the record; compared
/// without regard to case, as SnpEff upper-cases what it reads).
pub fn from_ann(value: &str, alt: &str) -> Option<Annotation> {
    let mut best = Best::new();
    for entry in value.split(',') {
        let f: Vec<&str> = entry.split('|').collect();
        if f.len() < 4 || !f[0].eq_ignore_ascii_case(alt) {
            continue;
        }
        best.offer(f[2], || Annotation {
            gene: non_empty(Some(f[3])),
            consequence: non_empty(Some(f[1])),
            impact: non_empty(Some(f[2])),
        });
    }
    best.ann
}

/// What VEP writes as the Allele of each ALT of a record (`[k-1]` for ALT k): every
/// spelling a VEP release may have used, compared without regard to case.
///
/// - A record VEP reads as a structural variant (`Parser/VCF.pm`: not only A/C/G/T, and
///   `SVTYPE` or a symbolic / breakend ALT): the SO term of its class (`get_SO_term`:
///   `<DEL>` deletion, `<DUP>` duplication, `<DUP:TANDEM>` tandem_duplication, `<INS>`
///   insertion, `<INV>` inversion, `<CNV>`/`<CN3>` copy_number_variation, `<CN0>` deletion,
///   `<DEL:ME:ALU>` Alu_deletion, `<INS:ME>` mobile_element_insertion, breakends
///   chromosome_breakpoint), the class as older releases wrote it (deletion, `INV`, …, from
///   the ALT without its `:subtype`, or from `SVTYPE`), and the ALT itself (what VEP ≥ 111
///   writes for a breakend: `G]17:198982]`).
/// - Any other record: the ALT with the first base removed when REF and every ALT that is
///   not `*` share it and some allele differs in length from REF (`-` when nothing is
///   left); `*` stays `*`. So `AT A,*` gives `-` and `*`.
pub fn vep_alleles(ref_allele: &str, alts: &[&str], svtype: Option<&str>) -> Vec<Vec<String>> {
    if is_vep_sv_record(ref_allele, alts, svtype) {
        let joined = alts.join("/");
        let record_type = match svtype {
            Some(t) if !starts_with_sv_class(&joined) => t.to_string(),
            _ => joined,
        };
        let record_term = so_term(&record_type);
        return alts
            .iter()
            .map(|alt| {
                let mut c: Vec<String> = vec![alt.to_string()];
                c.extend(record_term.map(str::to_string));
                if let Some(t) = so_term(alt) {
                    c.push(t.to_string());
                    // `Alu_deletion` was `mobile_element_deletion` before VEP knew Alu.
                    if let Some(class) = ["insertion", "deletion"]
                        .into_iter()
                        .find(|c| t.ends_with(c) && t != *c)
                    {
                        c.push(format!("mobile_element_{class}"));
                    }
                }
                // The class as written, without `<>` and `:subtype` (`<INV>` → INV).
                let base = alt
                    .strip_prefix('<')
                    .and_then(|a| a.strip_suffix('>'))
                    .and_then(|a| a.split(':').next());
                for t in [base, svtype].into_iter().flatten() {
                    c.push(t.to_string());
                    c.extend(legacy_term(t).map(str::to_string));
                    c.extend(so_term(t).map(str::to_string));
                }
                if is_breakend(alt) {
                    c.push("chromosome_breakpoint".to_string());
                }
                let mut unique: Vec<String> = Vec::with_capacity(c.len());
                for s in c {
                    if !s.is_empty() && !unique.contains(&s) {
                        unique.push(s);
                    }
                }
                unique
            })
            .collect();
    }
    let is_indel = alts
        .iter()
        .any(|a| a.starts_with(['D', 'I']) || a.len() != ref_allele.len());
    let trim = is_indel && {
        if alts.len() > 1 {
            let mut firsts = std::iter::once(ref_allele)
                .chain(alts.iter().copied())
                .filter(|a| !a.contains('*'))
                .map(|a| a.as_bytes().first());
            let first = firsts.next().flatten();
            first.is_some() && firsts.all(|f| f == first)
        } else {
            !ref_allele.is_empty()
                && alts
                    .first()
                    .is_some_and(|a| a.as_bytes().first() == ref_allele.as_bytes().first())
        }
    };
    alts.iter()
        .map(|alt| {
            let a = if !trim || alt.contains('*') {
                alt.to_string()
            } else if alt.len() > 1 {
                alt[1..].to_string()
            } else {
                "-".to_string()
            };
            vec![a]
        })
        .collect()
}

/// VEP's test for a structural variant record (`create_VariationFeatures`).
fn is_vep_sv_record(ref_allele: &str, alts: &[&str], svtype: Option<&str>) -> bool {
    let acgt = |s: &str| s.bytes().all(|b| matches!(b, b'A' | b'C' | b'G' | b'T'));
    let all_acgt = acgt(ref_allele) && alts.iter().all(|a| acgt(a));
    !all_acgt && (svtype.is_some() || alts.iter().any(|a| looks_symbolic(a)))
}

/// `[<\[\]][^\*]+[>\]\[]|^\.\w+|\w+\.$` on one ALT.
fn looks_symbolic(a: &str) -> bool {
    let b = a.as_bytes();
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    if b.len() > 1 && b[0] == b'.' && word(&b[1]) {
        return true;
    }
    if b.len() > 1 && b[b.len() - 1] == b'.' && word(&b[b.len() - 2]) {
        return true;
    }
    let opens = |c: u8| matches!(c, b'<' | b'[' | b']');
    let closes = |c: u8| matches!(c, b'>' | b'[' | b']');
    for (i, &c) in b.iter().enumerate() {
        if !opens(c) {
            continue;
        }
        // At least one non-`*` character, then a closing one, with no `*` in between.
        for (seen, &d) in b[i + 1..].iter().enumerate() {
            if seen > 0 && closes(d) {
                return true;
            }
            if d == b'*' {
                break;
            }
        }
    }
    false
}

fn is_breakend(a: &str) -> bool {
    a.contains(['[', ']']) || (a.len() > 1 && (a.starts_with('.') || a.ends_with('.')))
}

/// `^<?(DEL|INS|DUP|INV|CNV|CN=?[0-9]+)`: an ALT that names its class (VCF 4.4), so
/// `SVTYPE` does not override it.
fn starts_with_sv_class(alt: &str) -> bool {
    let a = alt.strip_prefix('<').unwrap_or(alt);
    if ["DEL", "INS", "DUP", "INV", "CNV"]
        .iter()
        .any(|c| a.starts_with(c))
    {
        return true;
    }
    let Some(rest) = a.strip_prefix("CN") else {
        return false;
    };
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    rest.starts_with(|c: char| c.is_ascii_digit())
}

/// VEP's `get_SO_term` (Parser.pm) and `%SO_TERMS` (ensembl-variation Utils/Config.pm).
fn so_term(t: &str) -> Option<&'static str> {
    let up = t.to_ascii_uppercase();
    let abbrev: String = if let Some(i) = up.find("INS:ME").or_else(|| up.find("DEL:ME")) {
        let class = &up[i..i + 3];
        let element = up[i + 6..]
            .trim_start_matches(':')
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        let element = if element == "L1" { "LINE1" } else { element };
        match element {
            "ALU" | "HERV" | "LINE1" | "SVA" => format!("{class}_{element}"),
            _ => format!("{class}_ME"),
        }
    } else if up.contains("DUP:TANDEM") {
        "TDUP".into()
    } else if up.contains("CNV:TR") {
        "TREP".into()
    } else if has_copy_number(&up) {
        let bare = up.strip_prefix('<').unwrap_or(&up);
        let bare = bare.strip_suffix('>').unwrap_or(bare);
        match bare
            .strip_prefix("CN")
            .map(|r| r.strip_prefix('=').unwrap_or(r))
        {
            Some("0") => "DEL".into(),
            Some("2") => "DUP".into(),
            _ => "CNV".into(),
        }
    } else if up.contains("CNV") {
        "CNV".into()
    } else if up.contains(['[', ']']) || up.starts_with('.') || up.ends_with('.') {
        "BND".into()
    } else if up.starts_with('<') || up.ends_with('>') {
        up.replace(['<', '>'], "")
            .split(':')
            .next()
            .unwrap_or("")
            .to_string()
    } else {
        up
    };
    Some(match abbrev.as_str() {
        "INS" => "insertion",
        "INS_ME" => "mobile_element_insertion",
        "INS_ALU" => "Alu_insertion",
        "INS_HERV" => "HERV_insertion",
        "INS_LINE1" => "LINE1_insertion",
        "INS_SVA" => "SVA_insertion",
        "DEL" => "deletion",
        "DEL_ME" => "mobile_element_deletion",
        "DEL_ALU" => "Alu_deletion",
        "DEL_HERV" => "HERV_deletion",
        "DEL_LINE1" => "LINE1_deletion",
        "DEL_SVA" => "SVA_deletion",
        "TREP" => "tandem_repeat",
        "TDUP" => "tandem_duplication",
        "DUP" => "duplication",
        "CNV" => "copy_number_variation",
        "INV" => "inversion",
        "BND" => "chromosome_breakpoint",
        _ => return None,
    })
}

/// `CN=?[0-9]` anywhere: a copy-number allele (`<CN0>`, `<CN=3>`).
fn has_copy_number(up: &str) -> bool {
    up.match_indices("CN").any(|(i, _)| {
        let r = &up[i + 2..];
        r.strip_prefix('=')
            .unwrap_or(r)
            .starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The class names of VEP releases before 110 (INS, DEL, TDUP, DUP, CNV mapped; anything
/// else written as the type itself, which the caller adds).
fn legacy_term(t: &str) -> Option<&'static str> {
    Some(match t.to_ascii_uppercase().as_str() {
        "INS" => "insertion",
        "DEL" => "deletion",
        "TDUP" => "tandem_duplication",
        "DUP" => "duplication",
        "CNV" => "copy_number_variation",
        _ => return None,
    })
}

/// VEP's output with its layout `fields`, for ALT `alt_index` (1-based) of `n_alt`. An
/// entry belongs to this ALT by its ALLELE_NUM when the layout has one and the entry a
/// number there, else by its Allele being one of `alleles` ([`vep_alleles`]). When a record
/// has a single ALT and no entry names it (a spelling we do not know, a custom VEP build),
/// every entry is taken as that ALT's: VEP annotates only ALT alleles, so there is no other
/// allele the entries could be about.
pub fn from_csq(
    value: &str,
    fields: &[String],
    alt_index: usize,
    alleles: &[String],
    n_alt: usize,
) -> Option<Annotation> {
    let pos = |name: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(name));
    let (allele, cons, impact, symbol, gene) = (
        pos("Allele"),
        pos("Consequence"),
        pos("IMPACT"),
        pos("SYMBOL"),
        pos("Gene"),
    );
    let allele_num = pos("ALLELE_NUM");
    let mut best = Best::new();
    let mut any = Best::new();
    for entry in value.split(',') {
        let f: Vec<&str> = entry.split('|').collect();
        let get = |i: Option<usize>| i.and_then(|i| f.get(i).copied());
        let matches = match get(allele_num).and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n == alt_index,
            None => get(allele).is_some_and(|a| alleles.iter().any(|c| c.eq_ignore_ascii_case(a))),
        };
        if !matches && n_alt != 1 {
            continue;
        }
        let consequence = get(cons);
        let imp = match get(impact) {
            Some(i) if !i.is_empty() => i.to_string(),
            _ => consequence
                .map(impact_of_terms)
                .unwrap_or("MODIFIER")
                .to_string(),
        };
        let ann = || Annotation {
            gene: non_empty(get(symbol)).or_else(|| non_empty(get(gene))),
            consequence: non_empty(consequence),
            impact: Some(imp.clone()),
        };
        if matches {
            best.offer(&imp, ann);
        } else {
            any.offer(&imp, ann);
        }
    }
    best.ann.or(any.ann)
}

/// bcftools csq BCSQ: `Consequence|gene|transcript|biotype|strand|amino_acid_change|
/// dna_change`. The dna_change names the alleles of the haplotype it describes as
/// `POS REF>ALT` joined by `+` (csq.c: `100A>C`, `100A>C+102G>T` for a compound): an entry
/// whose dna_change names an ALT of this record belongs to that ALT only; entries without
/// one (intron, UTR, splice region, …) belong to every ALT. `@POS` entries point to another
/// record and are skipped. `pos`, `ref_allele` and `alts` as written in the record.
pub fn from_bcsq(
    value: &str,
    pos: i64,
    ref_allele: &str,
    alts: &[&str],
    alt_index: usize,
) -> Option<Annotation> {
    let prefix = format!("{pos}{ref_allele}>");
    // Which ALT (1-based) one `POS REF>ALT` names.
    let named = |part: &str| -> Option<usize> {
        let head = part.get(..prefix.len())?;
        if !head.eq_ignore_ascii_case(&prefix) {
            return None;
        }
        let alt = &part[prefix.len()..];
        alts.iter()
            .position(|a| a.eq_ignore_ascii_case(alt))
            .map(|i| i + 1)
    };
    let mut best = Best::new();
    for entry in value.split(',') {
        if entry.starts_with('@') {
            continue;
        }
        let f: Vec<&str> = entry.split('|').collect();
        if let Some(dna) = f.get(6).filter(|d| !d.is_empty()) {
            let mut names = dna.split('+').filter_map(named).peekable();
            if names.peek().is_some() && !names.any(|k| k == alt_index) {
                continue;
            }
        }
        let cons = f[0].trim_start_matches('*');
        let impact = impact_of_terms(cons);
        best.offer(impact, || Annotation {
            gene: non_empty(f.get(1).copied()),
            consequence: non_empty(Some(cons)),
            impact: Some(impact.to_string()),
        });
    }
    best.ann
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ann_picks_this_alt_and_most_severe() {
        let v =
            "G|upstream_gene_variant|MODIFIER|DDX11L1|ENSG1|transcript|T1|pt||n.-1C>G|||||1400|,\
                 G|missense_variant|MODERATE|WASH7P|ENSG2|transcript|T2|pc||c.1C>G||||||,\
                 T|stop_gained|HIGH|OTHER|ENSG3|transcript|T3|pc||c.1C>T||||||";
        let a = from_ann(v, "G").unwrap();
        assert_eq!(a.gene.as_deref(), Some("WASH7P"));
        assert_eq!(a.consequence.as_deref(), Some("missense_variant"));
        assert_eq!(a.impact.as_deref(), Some("MODERATE"));
        assert_eq!(from_ann(v, "T").unwrap().impact.as_deref(), Some("HIGH"));
        assert_eq!(from_ann(v, "C"), None);
    }

    /// Issue case 10: SnpEff's Allele compared without regard to case.
    #[test]
    fn ann_allele_is_matched_case_insensitively() {
        let v = "t|stop_gained|HIGH|GENE1|E1|transcript|T1|pc||c.1C>T||||||";
        assert_eq!(from_ann(v, "T").unwrap().gene.as_deref(), Some("GENE1"));
        assert_eq!(
            from_ann("T|x|LOW|G2|||||||", "t")
                .unwrap()
                .impact
                .as_deref(),
            Some("LOW")
        );
    }

    #[test]
    fn csq_by_allele_and_by_allele_num() {
        let fields = strings(&["Allele", "Consequence", "IMPACT", "SYMBOL", "Gene"]);
        let v = "-|frameshift_variant|HIGH|BRCA2|ENSG1,T|intron_variant|MODIFIER|BRCA2|ENSG1";
        let al = vep_alleles("AT", &["A", "ATT"], None);
        assert_eq!(al, vec![strings(&["-"]), strings(&["TT"])]);
        assert_eq!(vep_alleles("A", &["G"], None), vec![strings(&["G"])]);
        assert_eq!(
            from_csq(v, &fields, 1, &al[0], 2)
                .unwrap()
                .impact
                .as_deref(),
            Some("HIGH")
        );
        assert_eq!(
            from_csq(v, &fields, 2, &strings(&["T"]), 2)
                .unwrap()
                .consequence
                .as_deref(),
            Some("intron_variant")
        );
        let mut with_num = fields.clone();
        with_num.push("ALLELE_NUM".into());
        let v2 = "G|synonymous_variant||GENE||1,G|missense_variant||GENE||2";
        let a = from_csq(v2, &with_num, 2, &strings(&["G"]), 2).unwrap();
        assert_eq!(a.consequence.as_deref(), Some("missense_variant"));
        assert_eq!(a.impact.as_deref(), Some("MODERATE"));
    }

    /// Issue case 1: VEP writes a symbolic SV's Allele as the SO term of its class.
    #[test]
    fn csq_symbolic_sv_alleles_are_so_terms() {
        let sv = |alt: &str| vep_alleles("N", &[alt], None).remove(0);
        let has = |c: &[String], t: &str| c.iter().any(|s| s.eq_ignore_ascii_case(t));
        for (alt, term) in [
            ("<DEL>", "deletion"),
            ("<DUP>", "duplication"),
            ("<DUP:TANDEM>", "tandem_duplication"),
            ("<DUP:TANDEM>", "duplication"),
            ("<INS>", "insertion"),
            ("<INV>", "inversion"),
            ("<INV>", "INV"),
            ("<CNV>", "copy_number_variation"),
            ("<CN0>", "deletion"),
            ("<DEL:ME:ALU>", "Alu_deletion"),
            ("<DEL:ME:ALU>", "deletion"),
            ("<DEL:ME:ALU>", "mobile_element_deletion"),
            ("<INS:ME:L1>", "LINE1_insertion"),
            ("<INS:ME>", "mobile_element_insertion"),
            ("N]17:198982]", "chromosome_breakpoint"),
            ("N]17:198982]", "N]17:198982]"),
            ("N.", "chromosome_breakpoint"),
        ] {
            assert!(has(&sv(alt), term), "{alt} → {term}: {:?}", sv(alt));
        }
        assert!(!has(&sv("<DEL>"), "duplication"));
        assert_eq!(
            sv("<DEL>"),
            strings(&["<DEL>", "deletion", "DEL"]),
            "each spelling once"
        );
        // VEP's test for a structural-variant record.
        for (alt, symbolic) in [
            ("<NON_REF>", true),
            ("<*>", false),
            ("N.", true),
            (".N", true),
            ("C[2:321682[", true),
            ("AC", false),
        ] {
            assert_eq!(looks_symbolic(alt), symbolic, "{alt}");
        }
        assert!(!is_vep_sv_record("A", &["C", "<*>"], None));
        assert!(
            !is_vep_sv_record("T", &["TACGTAC"], Some("INS")),
            "only A/C/G/T"
        );
        assert!(is_vep_sv_record("N", &["NACGTAC"], Some("INS")));
        assert!(!is_vep_sv_record("T", &["TACGTAC"], None));
        // SVTYPE names the class when the ALT does not.
        let c = vep_alleles("N", &["N[2:300["], Some("BND")).remove(0);
        assert!(has(&c, "chromosome_breakpoint"));
        let fields = strings(&["Allele", "Consequence", "IMPACT", "SYMBOL", "Gene"]);
        let v = "deletion|transcript_ablation|HIGH|BRCA1|ENSG00000012048,\
                 deletion|upstream_gene_variant|MODIFIER|NBR2|ENSG00000198496";
        let a = from_csq(v, &fields, 1, &sv("<DEL>"), 1).unwrap();
        assert_eq!(
            (
                a.gene.as_deref(),
                a.consequence.as_deref(),
                a.impact.as_deref()
            ),
            (Some("BRCA1"), Some("transcript_ablation"), Some("HIGH"))
        );
        // Two SV ALTs: each gets the entries of its own class.
        let both = vep_alleles("N", &["<DEL>", "<DUP>"], None);
        let v2 = "deletion|feature_truncation|HIGH|G1|E1,duplication|feature_elongation|HIGH|G2|E2";
        assert_eq!(
            from_csq(v2, &fields, 2, &both[1], 2)
                .unwrap()
                .gene
                .as_deref(),
            Some("G2")
        );
    }

    /// Issue case 1, second part: one ALT, no entry names it — the entries are its own.
    #[test]
    fn csq_single_alt_takes_entries_that_match_nothing() {
        let fields = strings(&["Allele", "Consequence", "IMPACT", "SYMBOL"]);
        let v = "CUSTOM|intron_variant|MODIFIER|G1,OTHER|missense_variant|MODERATE|G2";
        let a = from_csq(v, &fields, 1, &strings(&["T"]), 1).unwrap();
        assert_eq!(a.gene.as_deref(), Some("G2"));
        // With two ALTs nothing is guessed.
        assert_eq!(from_csq(v, &fields, 1, &strings(&["T"]), 2), None);
        // An entry that does name the ALT wins over the others.
        let v = "T|intron_variant|MODIFIER|G1,OTHER|missense_variant|MODERATE|G2";
        assert_eq!(
            from_csq(v, &fields, 1, &strings(&["T"]), 1)
                .unwrap()
                .gene
                .as_deref(),
            Some("G1")
        );
    }

    /// Issue case 3: VEP's shared-first-base rule leaves `*` out.
    #[test]
    fn csq_star_allele_does_not_stop_first_base_trimming() {
        let al = vep_alleles("AT", &["A", "*"], None);
        assert_eq!(al, vec![strings(&["-"]), strings(&["*"])]);
        let fields = strings(&["Allele", "Consequence", "IMPACT", "SYMBOL"]);
        let v = "-|frameshift_variant|HIGH|BRCA2,*|coding_sequence_variant|MODIFIER|BRCA2";
        let a = from_csq(v, &fields, 1, &al[0], 2).unwrap();
        assert_eq!(a.consequence.as_deref(), Some("frameshift_variant"));
        let b = from_csq(v, &fields, 2, &al[1], 2).unwrap();
        assert_eq!(b.consequence.as_deref(), Some("coding_sequence_variant"));
        // Different first bases among the non-`*` alleles: nothing is trimmed.
        assert_eq!(
            vep_alleles("AT", &["G", "*"], None),
            vec![strings(&["G"]), strings(&["*"])]
        );
        // SNVs are never trimmed, even with a `*`... unless lengths differ.
        assert_eq!(vep_alleles("A", &["G"], None), vec![strings(&["G"])]);
    }

    /// Issue case 4: BCSQ's dna_change names the ALT of each consequence.
    #[test]
    fn bcsq_matches_each_alt_by_its_dna_change() {
        let v = "missense|G1|T1|protein_coding|+|10K>10N|100A>C,\
                 synonymous|G1|T1|protein_coding|+|10K|100A>G";
        let c = from_bcsq(v, 100, "A", &["C", "G"], 1).unwrap();
        let g = from_bcsq(v, 100, "A", &["C", "G"], 2).unwrap();
        assert_eq!(c.consequence.as_deref(), Some("missense"));
        assert_eq!(g.consequence.as_deref(), Some("synonymous"));
        assert_eq!(g.impact.as_deref(), Some("LOW"));
        // Compound entries name this record's allele among others.
        let v = "missense|G1|T1|protein_coding|+|10K>10T|98C>G+100A>G,@98";
        assert_eq!(from_bcsq(v, 100, "A", &["C", "G"], 1), None);
        assert!(from_bcsq(v, 100, "A", &["C", "G"], 2).is_some());
    }

    #[test]
    fn bcsq_short_terms() {
        let a = from_bcsq("intron|EFHD2||protein_coding", 1, "A", &["C"], 1).unwrap();
        assert_eq!(
            (a.gene.as_deref(), a.impact.as_deref()),
            (Some("EFHD2"), Some("MODIFIER"))
        );
        let a = from_bcsq(
            "synonymous|G1|T|pc|+|1A|1C>T,missense&inframe_altering|G2|T|pc|+|2A>B|2C>T,@123",
            1,
            "C",
            &["T"],
            1,
        )
        .unwrap();
        assert_eq!(a.gene.as_deref(), Some("G2"));
        assert_eq!(a.impact.as_deref(), Some("MODERATE"));
        assert_eq!(impact_of_consequence("*stop_gained"), "HIGH");
    }

    /// Issue case 10: the impact table against VEP's consequence list.
    #[test]
    fn impact_table_is_veps() {
        for (term, impact) in [
            ("transcript_ablation", "HIGH"),
            ("feature_truncation", "HIGH"),
            ("TFBS_ablation", "MODERATE"),
            ("protein_altering_variant", "MODERATE"),
            ("splice_donor_5th_base_variant", "LOW"),
            ("splice_polypyrimidine_tract_variant", "LOW"),
            ("regulatory_region_ablation", "MODIFIER"),
            ("regulatory_region_amplification", "MODIFIER"),
            ("TFBS_amplification", "MODIFIER"),
            ("coding_transcript_variant", "MODIFIER"),
            ("intergenic_variant", "MODIFIER"),
            ("sequence_variant", "MODIFIER"),
            ("5_prime_utr", "MODIFIER"),
        ] {
            assert_eq!(impact_of_consequence(term), impact, "{term}");
        }
    }
}
