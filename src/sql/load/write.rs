//! Writing a load's rows, as the owner: the parser thread's batches go to PostgreSQL's COPY
//! machinery (`copy`) or to batched INSERTs (`insert`), one enum naming the path everywhere.

use super::super::copy;
use super::super::errors::{self, raise};
use super::super::insert::insert_batch;
use super::super::privilege::owner_role;
use super::super::settings::{LoadMethod, LOAD_METHOD};
use super::super::spi;
use super::progress::Progress;
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use vcf_pg_loader_core::vcf::copy_binary::{GENOTYPE_COLUMNS, VARIANT_COLUMNS};
use vcf_pg_loader_core::vcf::pipeline::{Limits, Message, Payload, Pipeline, Sink};
use vcf_pg_loader_core::vcf::{LoadOptions, VcfReader, Warnings};

/// Rows per INSERT statement / per COPY call: a batch is closed at whichever limit it
/// reaches first. COPY batches are larger because each call sets up an executor state.
const INSERT_LIMITS: Limits = Limits {
    variants: 5_000,
    genotypes: 50_000,
};
const COPY_LIMITS: Limits = Limits {
    variants: 20_000,
    genotypes: 200_000,
};

/// How rows reach the tables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    Copy,
    Insert,
}

impl WritePath {
    pub fn as_str(self) -> &'static str {
        match self {
            WritePath::Copy => "copy",
            WritePath::Insert => "insert",
        }
    }

    /// From `vcf_pg_loader.load_method`, for rows written as the owner role.
    fn choose(relids: &[pg_sys::Oid]) -> WritePath {
        let why_not = || copy::unavailable(relids, owner_role());
        match LOAD_METHOD.get() {
            LoadMethod::Insert => WritePath::Insert,
            LoadMethod::Auto => match why_not() {
                None => WritePath::Copy,
                Some(_) => WritePath::Insert,
            },
            LoadMethod::Copy => match why_not() {
                None => WritePath::Copy,
                Some(why) => raise(
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!("vcf_load cannot use the COPY path: {why}"),
                    Some("SET vcf_pg_loader.load_method = auto (or insert) to load with batched INSERT statements."),
                ),
            },
        }
    }
}

fn regclass(name: &str) -> pg_sys::Oid {
    spi::one::<pg_sys::Oid>(
        "finding the load tables",
        "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid",
        &[name.into()],
    )
    .filter(|o| *o != pg_sys::InvalidOid)
    .unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("{name} does not exist"),
            None,
        )
    })
}

/// A block of 2^20 variant ids for the load (`vcf.reserve_block`: recorded in
/// `vcf.load_blocks`, so unloads find the load's genotypes by its blocks).
fn id_block(load_batch_id: Uuid) -> i64 {
    spi::one::<i64>(
        "reserving variant ids",
        "SELECT vcf.reserve_block($1)",
        &[load_batch_id.into()],
    )
    .unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "could not reserve variant ids",
            None,
        )
    })
}

/// What a load wrote.
pub struct Written {
    pub variants: i64,
    pub genotypes: i64,
    pub records: u64,
    pub warnings: Warnings,
    pub path: WritePath,
}

/// Everything the rows need from the load.
pub struct Rows<'a> {
    pub reader: VcfReader,
    pub opts: LoadOptions,
    pub load_batch_id: Uuid,
    pub samples: &'a [Uuid],
    pub file_size: u64,
}

/// Stream the file's rows into `vcf.variants` / `vcf.genotypes`. Runs as the owner.
/// A worker's error is raised naming the file as given, passed through `redact`.
pub fn rows(r: Rows, given: &str, redact: impl Fn(&str) -> String) -> Written {
    let rels = [regclass("vcf.variants"), regclass("vcf.genotypes")];
    let path = WritePath::choose(&rels);
    let sample_texts: Vec<String> = r.samples.iter().map(|u| u.to_string()).collect();
    let (sink, limits) = match path {
        WritePath::Copy => (
            Sink::Copy {
                load_batch_id: *r.load_batch_id.as_bytes(),
                samples: r.samples.iter().map(|u| *u.as_bytes()).collect(),
            },
            COPY_LIMITS,
        ),
        WritePath::Insert => (Sink::Rows, INSERT_LIMITS),
    };
    let progress = Progress::start(rels[0], r.file_size);
    // Dropping the pipeline (also when an ERROR unwinds through here) stops the worker.
    let mut pipe = Pipeline::spawn(
        r.reader,
        r.opts,
        sample_texts,
        sink,
        limits,
        [id_block(r.load_batch_id), id_block(r.load_batch_id)],
    );
    let (mut nv, mut ng, mut records) = (0i64, 0i64, 0u64);
    let warnings = loop {
        let batch = match pipe.next(|| {
            check_for_interrupts!();
        }) {
            Message::Batch(b) => b,
            Message::Done(w) => break w,
            Message::Failed(e) => errors::vcf_redacted(given, &e, &redact),
        };
        for _ in 0..pipe.blocks_wanted(batch.blocks_started) {
            pipe.supply_block(id_block(r.load_batch_id));
        }
        check_for_interrupts!();
        let written = match batch.payload {
            Payload::Copy {
                variants,
                genotypes,
            } => {
                let v = copy::copy_into(rels[0], &VARIANT_COLUMNS, variants);
                let g = if batch.genotypes > 0 {
                    copy::copy_into(rels[1], &GENOTYPE_COLUMNS, genotypes)
                } else {
                    0
                };
                (v as i64, g as i64)
            }
            Payload::Rows {
                mut rows,
                variant_ids,
            } => insert_batch(&mut rows, variant_ids, r.load_batch_id, r.samples),
        };
        if written != (batch.variants as i64, batch.genotypes as i64) {
            raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!(
                    "wrote {written:?} rows of a batch of ({}, {})",
                    batch.variants, batch.genotypes
                ),
                None,
            );
        }
        nv += written.0;
        ng += written.1;
        records += batch.records;
        progress.report(batch.bytes_read, nv + ng);
    };
    Written {
        variants: nv,
        genotypes: ng,
        records,
        warnings,
        path,
    }
}
