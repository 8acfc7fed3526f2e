//! Row insertion, separate from row production. This path: one `INSERT … SELECT FROM
//! unnest($1::…[], …)` per batch of rows — never a statement per row. Values travel as
//! typed array parameters, never as SQL text.

use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use vcf_pg_loader_core::vcf::RowBatch;

use super::errors::raise;

/// Hands out variant ids: one sequence call reserves a block of 2^20 ids.
pub struct VariantIds {
    next: i64,
    end: i64,
}

const BLOCK: i64 = 1 << 20;

impl VariantIds {
    pub fn new() -> Self {
        VariantIds { next: 0, end: 0 }
    }
    pub fn take(&mut self) -> i64 {
        if self.next == self.end {
            let block = Spi::get_one::<i64>("SELECT nextval('vcf.variant_id_block_seq')")
                .ok()
                .flatten()
                .unwrap_or_else(|| {
                    raise(
                        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                        "could not reserve variant ids",
                        None,
                    )
                });
            self.next = block * BLOCK;
            self.end = self.next + BLOCK;
        }
        let id = self.next;
        self.next += 1;
        id
    }
}

fn pg_array_text<T: std::fmt::Display>(items: &[T], quote: bool) -> String {
    let mut s = String::from("{");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let v = it.to_string();
        if quote {
            s.push('"');
            for c in v.chars() {
                if c == '"' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('"');
        } else {
            s.push_str(&v);
        }
    }
    s.push('}');
    s
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("inserting {what} failed: {e}"),
        None,
    )
}

/// Insert a batch; `samples[i]` is the pseudonym of sample column i. Returns (variants, genotypes).
pub fn insert_batch(
    batch: &RowBatch,
    load_batch_id: Uuid,
    samples: &[Uuid],
    ids: &mut VariantIds,
) -> (i64, i64) {
    let n = batch.variants.len();
    if n == 0 {
        return (0, 0);
    }
    let variant_ids: Vec<i64> = (0..n).map(|_| ids.take()).collect();
    let v = &batch.variants;
    Spi::run_with_args(
        "INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, alt_index, id, qual, filter, info, gene, consequence, impact, af, source_line)
         SELECT u.vid, $1, u.chrom, u.pos, u.end_pos, u.ref, u.alt, u.alt_index, u.id, u.qual, u.filter::text[], u.info::jsonb, u.gene, u.consequence, u.impact, u.af, u.line
         FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::smallint[], $9::text[], $10::real[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::real[], $17::bigint[])
              AS u(vid, chrom, pos, end_pos, ref, alt, alt_index, id, qual, filter, info, gene, consequence, impact, af, line)",
        &[
            load_batch_id.into(),
            variant_ids.clone().into(),
            v.iter().map(|r| r.chrom.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.pos).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.end_pos).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.ref_allele.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.alt.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.alt_index).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.id.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.qual).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.filter.as_ref().map(|f| pg_array_text(f, true))).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.info.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.gene.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.consequence.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.impact.clone()).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.af).collect::<Vec<_>>().into(),
            v.iter().map(|r| r.line as i64).collect::<Vec<_>>().into(),
        ],
    )
    .unwrap_or_else(|e| fail("variants", e));

    let g = &batch.genotypes;
    if !g.is_empty() {
        Spi::run_with_args(
            "INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt, alt_dosage, phased, dp, gq, ad, format)
             SELECT u.vid, u.anon, u.gt, u.dosage, u.phased, u.dp, u.gq, u.ad::int[], u.fmt::jsonb
             FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::smallint[], $5::boolean[], $6::int[], $7::int[], $8::text[], $9::text[])
                  AS u(vid, anon, gt, dosage, phased, dp, gq, ad, fmt)",
            &[
                g.iter().map(|r| variant_ids[r.variant]).collect::<Vec<_>>().into(),
                g.iter().map(|r| samples[r.sample_index]).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.gt.clone()).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.alt_dosage).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.phased).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.dp).collect::<Vec<_>>().into(),
                g.iter().map(|r| r.gq).collect::<Vec<_>>().into(),
                g.iter()
                    .map(|r| r.ad.as_ref().map(|a| {
                        let items: Vec<String> = a.iter().map(|x| x.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into())).collect();
                        pg_array_text(&items, false)
                    }))
                    .collect::<Vec<_>>()
                    .into(),
                g.iter().map(|r| r.format.clone()).collect::<Vec<_>>().into(),
            ],
        )
        .unwrap_or_else(|e| fail("genotypes", e));
    }
    (n as i64, g.len() as i64)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    #[test]
    fn array_literals() {
        assert_eq!(
            super::pg_array_text(&["PASS", "a\"b"], true),
            "{\"PASS\",\"a\\\"b\"}"
        );
        assert_eq!(super::pg_array_text(&["1", "NULL"], false), "{1,NULL}");
    }
}
