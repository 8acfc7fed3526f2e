//! `vcf.load_batches` bookkeeping, as the owner: claiming a file's content, finding an
//! earlier load, recording the result, removing a load.
//!
//! Loads of the same content are ordered by the unique index on `file_sha256`
//! (`INSERT … ON CONFLICT DO NOTHING` waits for a concurrent load of that content to commit
//! or roll back) — no advisory lock a lesser role could take first.

use super::super::spi;
use pgrx::{JsonB, Uuid};

/// A load as `vcf_load` returns it.
#[derive(Clone, Copy)]
pub struct BatchCounts {
    pub id: Uuid,
    pub variants: i64,
    pub genotypes: i64,
    pub samples: i32,
}

const COUNTS: &str = "SELECT load_batch_id, variants, genotypes, samples FROM vcf.load_batches";

fn counts_where(
    what: &str,
    condition: &str,
    arg: pgrx::datum::DatumWithOid,
) -> Option<BatchCounts> {
    spi::rows(what, &format!("{COUNTS} WHERE {condition}"), &[arg], |r| {
        BatchCounts {
            id: r.req(1),
            variants: r.req(2),
            genotypes: r.req(3),
            samples: r.req(4),
        }
    })
    .pop()
}

pub fn by_sha(sha: &str) -> Option<BatchCounts> {
    counts_where("finding an earlier load", "file_sha256 = $1", sha.into())
}

pub fn by_id(id: Uuid) -> Option<BatchCounts> {
    counts_where("finding the load batch", "load_batch_id = $1", id.into())
}

/// A batch's stored (redacted) source path.
pub fn source_file(id: Uuid) -> Option<String> {
    spi::one::<String>(
        "reading the load's source",
        "SELECT source_file FROM vcf.load_batches WHERE load_batch_id = $1",
        &[id.into()],
    )
}

/// Who loaded a batch: the role (`loaded_by`) and the login role (`loaded_by_session`, NULL
/// for loads made before 0.3.0).
pub fn loaded_by(id: Uuid) -> Option<(String, Option<String>)> {
    spi::rows(
        "reading who loaded the batch",
        "SELECT loaded_by::pg_catalog.text, loaded_by_session::pg_catalog.text FROM vcf.load_batches WHERE load_batch_id = $1",
        &[id.into()],
        |r| (r.req::<String>(1), r.get::<String>(2)),
    )
    .pop()
}

/// What a claimed load is known by before its header is read.
pub struct Claim<'a> {
    pub id: Uuid,
    pub sha: &'a str,
    pub size: u64,
    pub loaded_by: &'a str,
    pub loaded_by_session: &'a str,
    pub options: serde_json::Value,
}

/// Claim `sha` for a new load; false when a committed load of that content exists.
pub fn claim(c: &Claim) -> bool {
    spi::one::<Uuid>(
        "recording the load",
        "INSERT INTO vcf.load_batches (load_batch_id, source_file, file_sha256, file_size, loaded_by, loaded_by_session, options)
         VALUES ($1, '', $2, $3, $4::pg_catalog.name, $5::pg_catalog.name, $6)
         ON CONFLICT (file_sha256) DO NOTHING RETURNING load_batch_id",
        &[
            c.id.into(),
            c.sha.into(),
            (c.size as i64).into(),
            c.loaded_by.into(),
            c.loaded_by_session.into(),
            JsonB(c.options.clone()).into(),
        ],
    )
    .is_some()
}

/// What the header says about a claimed load.
pub struct Described<'a> {
    pub source_file: &'a str,
    pub file_format: Option<String>,
    pub compression: &'a str,
    pub reference: Option<String>,
    pub header: String,
    pub samples: &'a [Uuid],
}

pub fn describe(id: Uuid, d: Described) {
    spi::run(
        "recording the load's header",
        "UPDATE vcf.load_batches SET source_file = $2, file_format = $3, compression = $4, reference = $5, header = $6, samples = $7
          WHERE load_batch_id = $1",
        &[
            id.into(),
            d.source_file.into(),
            d.file_format.into(),
            d.compression.into(),
            d.reference.into(),
            d.header.into(),
            (d.samples.len() as i32).into(),
        ],
    );
    spi::run(
        "recording samples",
        "INSERT INTO vcf.samples (load_batch_id, sample_index, anonymous_id)
         SELECT $1, u.i OPERATOR(pg_catalog.-) 1, u.a FROM pg_catalog.unnest($2::pg_catalog.uuid[]) WITH ORDINALITY AS u(a, i)",
        &[id.into(), d.samples.to_vec().into()],
    );
}

/// The counts of a finished load.
pub struct Finished {
    pub variants: i64,
    pub genotypes: i64,
    pub records: i64,
    pub warnings: String,
}

pub fn finish(id: Uuid, f: &Finished) {
    spi::run(
        "recording the load's counts",
        "UPDATE vcf.load_batches SET variants = $2, genotypes = $3, records = $4, warnings = $5::pg_catalog.jsonb WHERE load_batch_id = $1",
        &[
            id.into(),
            f.variants.into(),
            f.genotypes.into(),
            f.records.into(),
            f.warnings.clone().into(),
        ],
    );
    // Finished: no more rows may join the load's blocks (vcf.client_rows_guard, claimed_here).
    spi::run(
        "marking the load finished",
        "UPDATE vcf.load_blocks SET finished = true WHERE load_batch_id = $1",
        &[id.into()],
    );
    // The BRIN ranges of the pages just written, so that an unload visits only its own pages.
    spi::run(
        "summarizing the load's genotype pages",
        "SELECT vcf.summarize_genotypes()",
        &[],
    );
}

/// Remove a batch's rows; returns variant + genotype rows removed (`vcf.unload_batch`, shared
/// with the client API in sql/client_api.sql).
pub fn unload(id: Uuid) -> i64 {
    // An error is raised by SPI; a missing count would mean the function is broken: say so.
    spi::one::<i64>(
        "removing the load",
        "SELECT vcf.unload_batch($1)",
        &[id.into()],
    )
    .unwrap_or_else(|| {
        super::super::errors::raise(
            pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("vcf.unload_batch({id}) returned no row count"),
            None,
        )
    })
}
