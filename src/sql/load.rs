//! `vcf_load`, `vcf_validate`, `vcf_unload` (CONTRACT §5). Reads with the pure reader and
//! decomposer of `vcf_pg_loader_core::vcf`, inserts with `insert`, all in the caller's
//! transaction: it succeeds whole or leaves nothing.

use super::copy;
use super::errors::{self, raise};
use super::insert::insert_batch;
use super::settings::{LoadMethod, LOAD_METHOD};
use super::vault::{self, as_owner, audit, may_read_server_files};
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use serde_json::json;
use std::path::Path;
use vcf_pg_loader_core::crypto::rng;
use vcf_pg_loader_core::vcf::copy_binary::{GENOTYPE_COLUMNS, VARIANT_COLUMNS};
use vcf_pg_loader_core::vcf::pipeline::{Limits, Message, Payload, Pipeline, Sink};
use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, VcfReader};

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

fn require_file_privilege(function: &str) {
    if !may_read_server_files() {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("permission denied to {function}() a server file"),
            Some("Only superusers and members of pg_read_server_files may read server files, as with COPY FROM a file."),
        );
    }
}

fn sha256_file(path: &str) -> (String, u64) {
    vcf_pg_loader_core::vcf::input::sha256_file(Path::new(path), || {
        check_for_interrupts!();
    })
    .unwrap_or_else(|e| errors::vcf(path, &e))
}

/// A batch's counts as `vcf_load` returns them: (id, variants, genotypes, samples).
fn batch_counts(where_sql: &str, arg: pgrx::datum::DatumWithOid) -> Option<(Uuid, i64, i64, i32)> {
    as_owner(|| {
        Spi::connect(|c| {
            let mut rows = c
                .select(
                    &format!("SELECT load_batch_id, variants, genotypes, samples FROM vcf.load_batches WHERE {where_sql}"),
                    Some(1),
                    &[arg],
                )
                .ok()?;
            let r = rows.next()?;
            Some((
                r.get(1).ok()??,
                r.get(2).ok()??,
                r.get(3).ok()??,
                r.get(4).ok()??,
            ))
        })
    })
}

/// This load's row in `pg_stat_progress_copy`: type FILE, bytes of the file, tuples so far.
/// `BeginCopyFrom` restarts the row for each COPY call, so `report` rewrites all of it.
struct Progress {
    relid: pg_sys::Oid,
    total: u64,
}

impl Progress {
    fn start(relid: pg_sys::Oid, total: u64) -> Self {
        let p = Progress { relid, total };
        p.report(0, 0);
        p
    }
    fn report(&self, bytes: u64, tuples: i64) {
        // SAFETY: progress reporting for this backend; ended on drop or by transaction abort.
        unsafe {
            pg_sys::pgstat_progress_start_command(
                pg_sys::ProgressCommandType::PROGRESS_COMMAND_COPY,
                self.relid,
            );
            for (param, value) in [
                (
                    pg_sys::PROGRESS_COPY_COMMAND,
                    pg_sys::PROGRESS_COPY_COMMAND_FROM as i64,
                ),
                (
                    pg_sys::PROGRESS_COPY_TYPE,
                    pg_sys::PROGRESS_COPY_TYPE_FILE as i64,
                ),
                (pg_sys::PROGRESS_COPY_BYTES_TOTAL, self.total as i64),
                (pg_sys::PROGRESS_COPY_BYTES_PROCESSED, bytes as i64),
                (pg_sys::PROGRESS_COPY_TUPLES_PROCESSED, tuples),
            ] {
                pg_sys::pgstat_progress_update_param(param as i32, value);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        unsafe { pg_sys::pgstat_progress_end_command() };
    }
}

fn regclass(name: &str) -> pg_sys::Oid {
    Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{name}'::regclass::oid"))
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            raise(
                PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
                format!("{name} does not exist"),
                None,
            )
        })
}

/// A block of 2^20 variant ids (`vcf.variant_id_block_seq`).
fn id_block() -> i64 {
    Spi::get_one::<i64>("SELECT nextval('vcf.variant_id_block_seq')")
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                "could not reserve variant ids",
                None,
            )
        })
}

/// Whether this load uses the COPY machinery, from `vcf_pg_loader.load_method`. Runs as the
/// owner, who writes the rows.
fn use_copy(relids: &[pg_sys::Oid]) -> bool {
    match LOAD_METHOD.get() {
        LoadMethod::Insert => false,
        LoadMethod::Auto => copy::unavailable(relids).is_none(),
        LoadMethod::Copy => match copy::unavailable(relids) {
            None => true,
            Some(why) => raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("vcf_load cannot use the COPY path: {why}"),
                Some("SET vcf_pg_loader.load_method = auto (or insert) to load with batched INSERT statements."),
            ),
        },
    }
}

/// Load a VCF (`.vcf`, `.vcf.gz`: plain, gzip or BGZF) from the server's file system.
#[pg_extern(volatile)]
fn vcf_load(
    path: &str,
    force: default!(bool, false),
    normalize: default!(bool, true),
    genotypes: default!(&str, "'all'"),
) -> TableIterator<
    'static,
    (
        name!(load_batch_id, Uuid),
        name!(variants, i64),
        name!(genotypes, i64),
        name!(samples, i32),
        name!(already_loaded, bool),
    ),
> {
    require_file_privilege("vcf_load");
    let mode = GenotypeMode::parse(genotypes).unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("invalid value for genotypes: \"{genotypes}\""),
            Some("Use 'all' (every sample), 'carriers' (calls holding the row's ALT) or 'none' (sites only)."),
        )
    });
    let (sha, size) = sha256_file(path);
    // Loads of the same content serialize here; the second then sees the first's batch.
    Spi::run_with_args(
        "SELECT pg_advisory_xact_lock(7366301, hashtext($1))",
        &[sha.clone().into()],
    )
    .unwrap_or_else(|e| {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("could not lock the load: {e}"),
            None,
        )
    });
    if let Some((old, v, g, s)) = batch_counts("file_sha256 = $1", sha.clone().into()) {
        if !force {
            pgrx::notice!("{path}: already loaded (a load with the same SHA-256 exists); use force => true to replace it");
            audit(
                "load",
                json!({"source_file": path, "file_sha256": sha, "load_batch_id": old.to_string(), "already_loaded": true}),
            );
            return TableIterator::once((old, v, g, s, true));
        }
        let removed = unload(old);
        pgrx::notice!("{path}: replacing the earlier load of the same content ({removed} rows)");
    }

    let reader = VcfReader::open(Path::new(path)).unwrap_or_else(|e| errors::vcf(path, &e));
    let header = reader.header().clone();
    let batch_id = Uuid::from_bytes(rng::uuid_v4());
    let samples = vault::pseudonyms_for(&header.samples, &sha, path, batch_id);
    let sample_texts: Vec<String> = samples.iter().map(|u| u.to_string()).collect();
    let opts = LoadOptions {
        normalize,
        genotypes: mode,
    };
    let scrubbed_header = Decomposer::new(&header, opts, &sample_texts).scrubbed_header();
    let (compression, file_size) = (reader.compression, reader.file_size);
    let options = json!({"force": force, "normalize": normalize, "genotypes": genotypes});

    let (variants, genotype_rows, records, warnings, method) = as_owner(|| {
        let rels = [regclass("vcf.variants"), regclass("vcf.genotypes")];
        let method = if use_copy(&rels) { "copy" } else { "insert" };
        Spi::run_with_args(
            "INSERT INTO vcf.load_batches (load_batch_id, source_file, file_sha256, file_size, file_format, compression, reference, loaded_by, samples, options, header)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::name, $9, $10, $11)",
            &[
                batch_id.into(),
                path.into(),
                sha.clone().into(),
                (size as i64).into(),
                header.file_format.clone().into(),
                compression.as_str().into(),
                header.reference.clone().into(),
                vault::current_user_name().into(),
                (samples.len() as i32).into(),
                pgrx::JsonB(options.clone()).into(),
                scrubbed_header.into(),
            ],
        )
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("recording the load failed: {e}"), None));
        Spi::run_with_args(
            "INSERT INTO vcf.samples (load_batch_id, sample_index, anonymous_id) SELECT $1, i - 1, a FROM unnest($2::uuid[]) WITH ORDINALITY AS u(a, i)",
            &[batch_id.into(), samples.clone().into()],
        )
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("recording samples failed: {e}"), None));

        let (sink, limits) = if method == "copy" {
            let sink = Sink::Copy {
                load_batch_id: *batch_id.as_bytes(),
                samples: samples.iter().map(|u| *u.as_bytes()).collect(),
            };
            (sink, COPY_LIMITS)
        } else {
            (Sink::Rows, INSERT_LIMITS)
        };
        let progress = Progress::start(rels[0], file_size);
        // Dropping the pipeline (also when an ERROR unwinds through here) stops the worker.
        let mut pipe = Pipeline::spawn(
            reader,
            opts,
            sample_texts,
            sink,
            limits,
            [id_block(), id_block()],
        );
        let (mut nv, mut ng, mut records) = (0i64, 0i64, 0u64);
        let warnings = loop {
            let batch = match pipe.next(|| {
                check_for_interrupts!();
            }) {
                Message::Batch(b) => b,
                Message::Done(w) => break w,
                Message::Failed(e) => errors::vcf(path, &e),
            };
            for _ in 0..pipe.blocks_wanted(batch.blocks_started) {
                pipe.supply_block(id_block());
            }
            check_for_interrupts!();
            let written = match batch.payload {
                Payload::Copy {
                    variants,
                    genotypes,
                } => {
                    let (tuples, bytes) = (nv + ng, batch.bytes_read);
                    let v = copy::copy_into(rels[0], &VARIANT_COLUMNS, variants, || {
                        progress.report(bytes, tuples)
                    });
                    let g = if batch.genotypes > 0 {
                        copy::copy_into(rels[1], &GENOTYPE_COLUMNS, genotypes, || {
                            progress.report(bytes, tuples)
                        })
                    } else {
                        0
                    };
                    (v as i64, g as i64)
                }
                Payload::Rows {
                    mut rows,
                    variant_ids,
                } => insert_batch(&mut rows, variant_ids, batch_id, &samples),
            };
            if written != (batch.variants as i64, batch.genotypes as i64) {
                raise(
                    PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    format!(
                        "{path}: wrote {written:?} rows of a batch of ({}, {})",
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
        drop(pipe);
        Spi::run_with_args(
            "UPDATE vcf.load_batches SET variants = $2, genotypes = $3, records = $4, warnings = $5::jsonb WHERE load_batch_id = $1",
            &[batch_id.into(), nv.into(), ng.into(), (records as i64).into(), warnings.to_json().into()],
        )
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("recording the load failed: {e}"), None));
        (nv, ng, records, warnings, method)
    });
    if !warnings.is_empty() {
        pgrx::notice!(
            "{path}: loaded with {} lenient warning(s): {}",
            warnings.total(),
            warnings.summary()
        );
    }
    audit(
        "load",
        json!({"source_file": path, "file_sha256": sha, "load_batch_id": batch_id.to_string(),
               "records": records, "variants": variants, "genotypes": genotype_rows, "samples": samples.len(),
               "options": options, "method": method, "already_loaded": false}),
    );
    TableIterator::once((
        batch_id,
        variants,
        genotype_rows,
        samples.len() as i32,
        false,
    ))
}

/// Remove a batch's rows (as the owner); returns variant + genotype rows removed.
fn unload(batch: Uuid) -> i64 {
    as_owner(|| {
        let g = Spi::get_one_with_args::<i64>(
            "WITH d AS (DELETE FROM vcf.genotypes g USING vcf.variants v
                        WHERE v.load_batch_id = $1 AND g.variant_id = v.variant_id RETURNING 1) SELECT count(*) FROM d",
            &[batch.into()],
        )
        .ok()
        .flatten()
        .unwrap_or(0);
        let v = Spi::get_one_with_args::<i64>(
            "WITH d AS (DELETE FROM vcf.variants WHERE load_batch_id = $1 RETURNING 1) SELECT count(*) FROM d",
            &[batch.into()],
        )
        .ok()
        .flatten()
        .unwrap_or(0);
        Spi::run_with_args(
            "DELETE FROM vcf.load_batches WHERE load_batch_id = $1",
            &[batch.into()],
        )
        .ok();
        g + v
    })
}

/// Remove a load's variants and genotypes (pseudonym mappings stay: they are immutable).
#[pg_extern(volatile)]
fn vcf_unload(load_batch_id: Uuid) -> i64 {
    require_file_privilege("vcf_unload");
    if batch_counts("load_batch_id = $1", load_batch_id.into()).is_none() {
        raise(
            PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
            format!("load batch {load_batch_id} does not exist"),
            None,
        );
    }
    let n = unload(load_batch_id);
    audit(
        "unload",
        json!({"load_batch_id": load_batch_id.to_string(), "rows": n}),
    );
    n
}

/// Check a load against the database and, when the file is still there, against the file.
#[pg_extern(volatile)]
fn vcf_validate(
    load_batch_id: Uuid,
) -> TableIterator<
    'static,
    (
        name!(check, String),
        name!(expected, i64),
        name!(actual, i64),
        name!(ok, bool),
    ),
> {
    require_file_privilege("vcf_validate");
    // The batch's recorded counts and the rows actually present, in one statement.
    let row = as_owner(|| {
        Spi::connect(|c| {
            let mut rows = c
                .select(
                    "SELECT b.source_file, b.file_sha256, b.variants, b.genotypes, b.samples::bigint, b.records,
                            b.options->>'genotypes',
                            (SELECT count(*) FROM vcf.variants v WHERE v.load_batch_id = b.load_batch_id),
                            (SELECT count(*) FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id)
                              WHERE v.load_batch_id = b.load_batch_id),
                            (SELECT count(*) FROM vcf.samples s WHERE s.load_batch_id = b.load_batch_id)
                       FROM vcf.load_batches b WHERE b.load_batch_id = $1",
                    Some(1),
                    &[load_batch_id.into()],
                )
                .ok()?;
            let r = rows.next()?;
            let n = |i: usize| r.get::<i64>(i).ok().flatten().unwrap_or(0);
            Some((
                r.get::<String>(1).ok()??,
                r.get::<String>(2).ok()??,
                [n(3), n(4), n(5), n(6), n(8), n(9), n(10)],
                r.get::<String>(7).ok().flatten(),
            ))
        })
    });
    let Some((path, sha, [variants, genotypes, samples, records, av, ag, asmp], mode)) = row else {
        raise(
            PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
            format!("load batch {load_batch_id} does not exist"),
            None,
        );
    };
    let mut out: Vec<(String, i64, i64, bool)> = vec![
        ("variant_rows".into(), variants, av, variants == av),
        ("genotype_rows".into(), genotypes, ag, genotypes == ag),
        ("samples".into(), samples, asmp, samples == asmp),
    ];
    if Path::new(&path).is_file() {
        let (now, _) = sha256_file(&path);
        out.push((
            "file_sha256_matches".into(),
            1,
            (now == sha) as i64,
            now == sha,
        ));
        // Count records and ALT alleles straight from the file, independently of the decomposer.
        if let Ok(mut r) = VcfReader::open(Path::new(&path)) {
            let (mut recs, mut alts) = (0i64, 0i64);
            while let Ok(Some((_, line))) = r.next_line() {
                check_for_interrupts!();
                recs += 1;
                let alt = line.split(|&b| b == b'\t').nth(4).unwrap_or(b".");
                alts += if alt == b"." {
                    1
                } else {
                    alt.iter().filter(|&&b| b == b',').count() as i64 + 1
                };
            }
            out.push(("file_records".into(), recs, records, recs == records));
            out.push(("file_alt_alleles".into(), alts, av, alts == av));
            if mode.as_deref() == Some("all") {
                let exp = alts * samples;
                out.push(("genotype_rows_all_samples".into(), exp, ag, exp == ag));
            }
        }
    } else {
        pgrx::notice!("{path}: file no longer present; only database checks were run");
    }
    TableIterator::new(out)
}
