//! The INSERT path (fallback of the COPY path in `copy`, used where row-level security
//! applies or `vcf_pg_loader.load_method = insert`): one `INSERT … SELECT FROM
//! unnest($1::…[], …)` per batch of rows — never a statement per row. Values travel as
//! typed array parameters, never as SQL text.

use pgrx::Uuid;
use vcf_pg_loader_core::vcf::RowBatch;

use super::spi;

/// `{"a","b"}`: a text[] literal for one row's FILTER (pgrx cannot bind ragged 2-D arrays).
fn text_array_literal(items: &[String]) -> String {
    let mut s = String::with_capacity(2 + items.iter().map(|i| i.len() + 3).sum::<usize>());
    s.push('{');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        for c in it.chars() {
            if c == '"' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('"');
    }
    s.push('}');
    s
}

/// `{1,NULL}`: an int[] literal for one genotype's AD.
fn int_array_literal(items: &[Option<i32>]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(2 + items.len() * 4);
    s.push('{');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match it {
            Some(v) => write!(s, "{v}").expect("writing to a String cannot fail"),
            None => s.push_str("NULL"),
        }
    }
    s.push('}');
    s
}

/// Insert a batch (`variant_ids[i]` numbers variant row i; `samples[i]` is the pseudonym of
/// sample column i). Strings are moved out of the rows into the parameter arrays, not copied.
/// Returns (variants, genotypes).
pub fn insert_batch(
    batch: &mut RowBatch,
    variant_ids: Vec<i64>,
    load_batch_id: Uuid,
    samples: &[Uuid],
) -> (i64, i64) {
    let n = batch.variants.len();
    if n == 0 {
        return (0, 0);
    }
    let genotype_vids: Vec<i64> = batch
        .genotypes
        .iter()
        .map(|r| variant_ids[r.variant])
        .collect();
    let v = &mut batch.variants;
    spi::run(
        "inserting variants",
        "INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, alt_index, id, qual, filter, info, gene, consequence, impact, af, source_line)
         SELECT u.vid, $1, u.chrom, u.pos, u.end_pos, u.ref, u.alt, u.alt_index, u.id, u.qual, u.filter::text[], u.info::jsonb, u.gene, u.consequence, u.impact, u.af, u.line
         FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::smallint[], $9::text[], $10::real[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::real[], $17::bigint[])
              AS u(vid, chrom, pos, end_pos, ref, alt, alt_index, id, qual, filter, info, gene, consequence, impact, af, line)",
        &[
            load_batch_id.into(),
            variant_ids.into(),
            v.iter_mut().map(|r| std::mem::take(&mut r.chrom)).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.pos).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.end_pos).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| std::mem::take(&mut r.ref_allele)).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| r.alt.take()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.alt_index).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| r.id.take()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.qual).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.filter.as_deref().map(text_array_literal)).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| std::mem::take(&mut r.info)).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| r.gene.take()).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| r.consequence.take()).collect::<Vec<_>>().into(),
            v.iter_mut().map(|r| r.impact.take()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.af).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.line as i64).collect::<Vec<_>>().into(),
        ],
    );

    let g = &mut batch.genotypes;
    if !g.is_empty() {
        spi::run(
            "inserting genotypes",
            "INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt, alt_dosage, phased, dp, gq, ad, format)
             SELECT u.vid, u.anon, u.gt, u.dosage, u.phased, u.dp, u.gq, u.ad::int[], u.fmt::jsonb
             FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::smallint[], $5::boolean[], $6::int[], $7::int[], $8::text[], $9::text[])
                  AS u(vid, anon, gt, dosage, phased, dp, gq, ad, fmt)",
            &[
                genotype_vids.into(),
                g.iter().map(|r| samples[r.sample_index]).collect::<Vec<_>>().into(),
                g.iter_mut().map(|r| r.gt.take()).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.alt_dosage).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.phased).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.dp).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.gq).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.ad.as_deref().map(int_array_literal)).collect::<Vec<_>>().into(),
                g.iter_mut().map(|r| r.format.take()).collect::<Vec<_>>().into(),
            ],
        );
    }
    (n as i64, g.len() as i64)
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    #[test]
    fn array_literals() {
        let filter = ["PASS".to_string(), "a\"b".to_string()];
        assert_eq!(super::text_array_literal(&filter), "{\"PASS\",\"a\\\"b\"}");
        assert_eq!(super::int_array_literal(&[Some(1), None]), "{1,NULL}");
    }
}
