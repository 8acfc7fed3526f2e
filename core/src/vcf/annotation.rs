//! Functional annotations to gene / consequence / impact of *one* ALT (CONTRACT §6):
//! SnpEff `ANN`, VEP `CSQ` (layout from the header) and bcftools `BCSQ`. With several
//! transcripts, the most severe impact wins; ties keep the first written.

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

/// Impact of a Sequence Ontology term (VEP's table); bcftools' short names too.
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
        | "inframe_altering" => "MODERATE",
        "splice_donor_5th_base"
        | "splice_region"
        | "splice_donor_region"
        | "splice_polypyrimidine_tract"
        | "incomplete_terminal_codon"
        | "start_retained"
        | "stop_retained"
        | "synonymous" => "LOW",
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
    fn offer(&mut self, impact: &str, ann: Annotation) {
        let r = impact_rank(impact);
        if self.ann.is_none() || r > self.rank {
            self.rank = r;
            self.ann = Some(ann);
        }
    }
}

/// SnpEff ANN: `Allele|Annotation|Annotation_Impact|Gene_Name|…`, one entry per comma.
/// Entries whose Allele is this ALT count (SnpEff writes the ALT as in the record).
pub fn from_ann(value: &str, alt: &str) -> Option<Annotation> {
    let mut best = Best::new();
    for entry in value.split(',') {
        let f: Vec<&str> = entry.split('|').collect();
        if f.len() < 4 || f[0] != alt {
            continue;
        }
        best.offer(
            f[2],
            Annotation {
                gene: non_empty(Some(f[3])),
                consequence: non_empty(Some(f[1])),
                impact: non_empty(Some(f[2])),
            },
        );
    }
    best.ann
}

/// VEP's allele string for one ALT: with a shared first base removed when *every* ALT of
/// the record shares it with REF ("-" when nothing is left).
pub fn vep_allele(ref_allele: &str, alts: &[&str], alt: &str) -> String {
    let first = ref_allele.as_bytes().first();
    let all_share = !alts.is_empty()
        && alts
            .iter()
            .all(|a| !a.starts_with('<') && a.as_bytes().first() == first)
        && !ref_allele.is_empty();
    if all_share && alts.iter().any(|a| a.len() != ref_allele.len()) {
        let rest = &alt[1..];
        if rest.is_empty() {
            "-".to_string()
        } else {
            rest.to_string()
        }
    } else {
        alt.to_string()
    }
}

/// VEP CSQ with its layout `fields`. Matches on ALLELE_NUM when present, else on Allele.
pub fn from_csq(
    value: &str,
    fields: &[String],
    alt_index: usize,
    vep_allele: &str,
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
    for entry in value.split(',') {
        let f: Vec<&str> = entry.split('|').collect();
        let get = |i: Option<usize>| i.and_then(|i| f.get(i).copied());
        let matches = match allele_num {
            Some(_) => get(allele_num) == Some(alt_index.to_string().as_str()),
            None => get(allele) == Some(vep_allele),
        };
        if !matches {
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
        best.offer(
            &imp,
            Annotation {
                gene: non_empty(get(symbol)).or_else(|| non_empty(get(gene))),
                consequence: non_empty(consequence),
                impact: Some(imp.clone()),
            },
        );
    }
    best.ann
}

/// bcftools csq BCSQ: `Consequence|gene|transcript|biotype|strand|aa|dna`. BCSQ is per
/// haplotype, not per ALT, so every ALT of the record gets the most severe entry. Entries
/// starting with `@` point to another record and are skipped.
pub fn from_bcsq(value: &str) -> Option<Annotation> {
    let mut best = Best::new();
    for entry in value.split(',') {
        if entry.starts_with('@') {
            continue;
        }
        let f: Vec<&str> = entry.split('|').collect();
        let cons = f[0].trim_start_matches('*');
        let impact = impact_of_terms(cons);
        best.offer(
            impact,
            Annotation {
                gene: non_empty(f.get(1).copied()),
                consequence: non_empty(Some(cons)),
                impact: Some(impact.to_string()),
            },
        );
    }
    best.ann
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn csq_by_allele_and_by_allele_num() {
        let fields: Vec<String> = ["Allele", "Consequence", "IMPACT", "SYMBOL", "Gene"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let v = "-|frameshift_variant|HIGH|BRCA2|ENSG1,T|intron_variant|MODIFIER|BRCA2|ENSG1";
        assert_eq!(vep_allele("AT", &["A", "ATT"], "A"), "-");
        assert_eq!(vep_allele("AT", &["A", "ATT"], "ATT"), "TT");
        assert_eq!(vep_allele("A", &["G"], "G"), "G");
        assert_eq!(
            from_csq(v, &fields, 1, "-").unwrap().impact.as_deref(),
            Some("HIGH")
        );
        assert_eq!(
            from_csq(v, &fields, 2, "T").unwrap().consequence.as_deref(),
            Some("intron_variant")
        );
        let mut with_num = fields.clone();
        with_num.push("ALLELE_NUM".into());
        let v2 = "G|synonymous_variant||GENE||1,G|missense_variant||GENE||2";
        let a = from_csq(v2, &with_num, 2, "G").unwrap();
        assert_eq!(a.consequence.as_deref(), Some("missense_variant"));
        assert_eq!(a.impact.as_deref(), Some("MODERATE"));
    }

    #[test]
    fn bcsq_short_terms() {
        let a = from_bcsq("intron|EFHD2||protein_coding").unwrap();
        assert_eq!(
            (a.gene.as_deref(), a.impact.as_deref()),
            (Some("EFHD2"), Some("MODIFIER"))
        );
        let a = from_bcsq(
            "synonymous|G1|T|pc|+|1A|1C>T,missense&inframe_altering|G2|T|pc|+|2A>B|2C>T,@123",
        )
        .unwrap();
        assert_eq!(a.gene.as_deref(), Some("G2"));
        assert_eq!(a.impact.as_deref(), Some("MODERATE"));
        assert_eq!(impact_of_consequence("*stop_gained"), "HIGH");
    }
}
