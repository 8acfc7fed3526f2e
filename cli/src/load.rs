//! `vcf-pg-loader load FILE`: `vcf_load` done from a client, in one transaction.
//!
//! The steps follow `vcf_load` (src/sql/load/mod.rs) one for one, with the owner's work done
//! by the client API (sql/client_api.sql): claim the content by SHA-256 → pseudonyms (found by
//! blind index, new ones sealed here) → the redacted header → rows by binary COPY, parsed on a
//! worker thread by the same core pipeline the extension runs → counts and the audit row →
//! COMMIT. Any error, a killed client or a dropped connection rolls everything back.

use crate::error::{CliError, Result};
use crate::keys::Keys;
use crate::progress::Progress;
use postgres::{Client, Transaction};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use uuid::Uuid;
use vcf_pg_loader_core::crypto::rng;
use vcf_pg_loader_core::vcf::copy_binary::{GENOTYPE_COLUMNS, VARIANT_COLUMNS};
use vcf_pg_loader_core::vcf::pipeline::{Limits, Message, Payload, Pipeline, Sink};
use vcf_pg_loader_core::vcf::redact::Redactor;
use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, VcfError, VcfReader};

/// Rows per COPY: as the extension's COPY path.
const LIMITS: Limits = Limits {
    variants: 20_000,
    genotypes: 200_000,
};

pub struct Options {
    pub genotypes: GenotypeMode,
    pub genotypes_text: String,
    pub force: bool,
    pub normalize: bool,
    pub progress: bool,
}

/// What `load` reports (and writes to `--report FILE.json`).
#[derive(Debug)]
pub struct Loaded {
    pub load_batch_id: Uuid,
    pub variants: i64,
    pub genotypes: i64,
    pub samples: i32,
    pub records: u64,
    pub already_loaded: bool,
    pub rows_replaced: i64,
    pub warnings: String,
    pub seconds: f64,
    pub file_sha256: String,
    /// The path as stored (sample names replaced by pseudonyms).
    pub source_file: String,
}

impl Loaded {
    pub fn to_json(&self, source_file: &str) -> serde_json::Value {
        json!({
            "source_file": source_file, "file_sha256": self.file_sha256,
            "load_batch_id": self.load_batch_id.to_string(), "already_loaded": self.already_loaded,
            "records": self.records, "variants": self.variants, "genotypes": self.genotypes,
            "samples": self.samples, "rows_replaced": self.rows_replaced,
            "warnings": serde_json::from_str::<serde_json::Value>(&self.warnings).unwrap_or(json!({})),
            "seconds": self.seconds,
        })
    }
}

fn vcf_error(given: &str, e: &VcfError, redact: impl Fn(&str) -> String) -> CliError {
    CliError::new(redact(&e.located(given)))
}

fn db(what: &'static str) -> impl Fn(postgres::Error) -> CliError {
    move |e| CliError::db(what, e)
}

/// A claim's answer (vcf.client_claim_load).
struct Claim {
    id: Uuid,
    already_loaded: bool,
    variants: i64,
    genotypes: i64,
    samples: i32,
    rows_replaced: i64,
}

fn claim(
    tx: &mut Transaction,
    sha: &str,
    size: u64,
    options: &serde_json::Value,
    force: bool,
) -> Result<Claim> {
    let r = tx
        .query_one(
            "SELECT load_batch_id, already_loaded, variants, genotypes, samples, rows_replaced
               FROM vcf.client_claim_load($1, $2, $3, $4)",
            &[&sha, &(size as i64), options, &force],
        )
        .map_err(db("claiming the load"))?;
    Ok(Claim {
        id: r.get(0),
        already_loaded: r.get(1),
        variants: r.get(2),
        genotypes: r.get(3),
        samples: r.get(4),
        rows_replaced: r.get(5),
    })
}

/// One pseudonym per sample name for this content: the ones the vault already has (found by
/// the names' blind indexes under every key held), new ones sealed here under the active key
/// with the pseudonym as context — envelope v1, as the extension seals.
fn pseudonyms(
    tx: &mut Transaction,
    keys: &Keys,
    batch: Uuid,
    names: &[String],
    given: &str,
) -> Result<Vec<Uuid>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let (mut idx, mut hmacs) = (Vec::new(), Vec::new());
    for (i, name) in names.iter().enumerate() {
        for h in keys.keyring.blind_indexes(name.as_bytes()) {
            idx.push(i as i32);
            hmacs.push(h.to_vec());
        }
    }
    let found: HashMap<i32, Uuid> = tx
        .query(
            "SELECT sample_index, anonymous_id FROM phi_vault.client_find_pseudonyms($1, $2, $3)",
            &[&batch, &idx, &hmacs],
        )
        .map_err(db("finding pseudonyms"))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // A name twice in the header is one sample identity, as vcf_load has it.
    let mut by_name: HashMap<&str, Uuid> = HashMap::new();
    let (mut out, mut new_ids, mut envs, mut new_hmacs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, name) in names.iter().enumerate() {
        let id = match found
            .get(&(i as i32))
            .or_else(|| by_name.get(name.as_str()))
        {
            Some(id) => *id,
            None => {
                let id = Uuid::from_bytes(rng::uuid_v4());
                let sealed = keys
                    .keyring
                    .seal(name.as_bytes(), id.to_string().as_bytes())
                    .map_err(|e| CliError::new(format!("sealing a sample identifier: {e}")))?;
                new_hmacs.push(sealed.blind_index().to_vec());
                envs.push(sealed.into_envelope());
                new_ids.push(id);
                id
            }
        };
        by_name.insert(name, id);
        out.push(id);
    }
    if !new_ids.is_empty() {
        let source = redactor(names, &out).free_text(given).into_owned();
        tx.execute(
            "SELECT phi_vault.client_add_pseudonyms($1, $2, $3, $4, $5)",
            &[&batch, &source, &new_ids, &envs, &new_hmacs],
        )
        .map_err(db("storing pseudonyms"))?;
    }
    Ok(out)
}

fn redactor(names: &[String], ids: &[Uuid]) -> Redactor {
    let texts: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
    Redactor::new(names, &texts)
}

fn id_block(tx: &mut Transaction, batch: Uuid) -> Result<i64> {
    Ok(tx
        .query_one("SELECT vcf.client_reserve_block($1)", &[&batch])
        .map_err(db("reserving variant ids"))?
        .get(0))
}

/// The tables this server takes client rows in: `vcf.variants`/`vcf.genotypes`, or guarded
/// staging tables on a Citus coordinator (`vcf.client_copy_targets()`, 0.5.0; before it, the
/// tables themselves). Only names this tool knows are accepted.
fn copy_targets(tx: &mut Transaction) -> Result<(String, String)> {
    let known: bool = tx
        .query_one(
            "SELECT pg_catalog.to_regprocedure('vcf.client_copy_targets()') IS NOT NULL",
            &[],
        )
        .map_err(db("asking where client rows go"))?
        .get(0);
    if !known {
        return Ok(("vcf.variants".into(), "vcf.genotypes".into()));
    }
    let row = tx
        .query_one(
            "SELECT variants, genotypes FROM vcf.client_copy_targets()",
            &[],
        )
        .map_err(db("asking where client rows go"))?;
    let (v, g): (String, String) = (row.get(0), row.get(1));
    match (v.as_str(), g.as_str()) {
        ("vcf.variants", "vcf.genotypes") | ("vcf.client_variants", "vcf.client_genotypes") => {
            Ok((v, g))
        }
        _ => Err(CliError::new(format!(
            "the server names unexpected tables for client rows ({v}, {g})"
        ))),
    }
}

fn copy(tx: &mut Transaction, table: &str, columns: &[&str], bytes: &[u8]) -> Result<u64> {
    let sql = format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        columns.join(", ")
    );
    let mut w = tx.copy_in(&sql).map_err(db("starting COPY"))?;
    w.write_all(bytes)
        .map_err(|e| CliError::new(format!("sending rows to {table}: {e}")))?;
    w.finish().map_err(db("writing rows"))
}

/// Counts of the rows written.
struct Written {
    variants: i64,
    genotypes: i64,
    records: u64,
    warnings: vcf_pg_loader_core::vcf::Warnings,
}

/// Stream the file's rows with binary COPY, parsing on the core's worker thread meanwhile.
fn rows(
    tx: &mut Transaction,
    reader: VcfReader,
    opts: LoadOptions,
    batch: Uuid,
    samples: &[Uuid],
    progress: &Progress,
    fail: impl Fn(&VcfError) -> CliError,
) -> Result<Written> {
    let sink = Sink::Copy {
        load_batch_id: *batch.as_bytes(),
        samples: samples.iter().map(|u| *u.as_bytes()).collect(),
    };
    let texts: Vec<String> = samples.iter().map(|u| u.to_string()).collect();
    let (to_variants, to_genotypes) = copy_targets(tx)?;
    let first = [id_block(tx, batch)?, id_block(tx, batch)?];
    let mut pipe = Pipeline::spawn(reader, opts, texts, sink, LIMITS, first);
    let (mut nv, mut ng, mut records) = (0i64, 0i64, 0u64);
    let warnings = loop {
        let b = match pipe.next(|| {}) {
            Message::Batch(b) => b,
            Message::Done(w) => break w,
            Message::Failed(e) => return Err(fail(&e)),
        };
        for _ in 0..pipe.blocks_wanted(b.blocks_started) {
            pipe.supply_block(id_block(tx, batch)?);
        }
        let Payload::Copy {
            variants,
            genotypes,
        } = b.payload
        else {
            return Err(CliError::new(
                "internal error: the pipeline returned rows, not COPY data",
            ));
        };
        let v = copy(tx, &to_variants, &VARIANT_COLUMNS, &variants)?;
        let g = if b.genotypes > 0 {
            copy(tx, &to_genotypes, &GENOTYPE_COLUMNS, &genotypes)?
        } else {
            0
        };
        if (v, g) != (b.variants, b.genotypes) {
            return Err(CliError::new(format!(
                "internal error: wrote ({v}, {g}) rows of a batch of ({}, {})",
                b.variants, b.genotypes
            )));
        }
        nv += v as i64;
        ng += g as i64;
        records += b.records;
        progress.update(b.bytes_read, records);
    };
    Ok(Written {
        variants: nv,
        genotypes: ng,
        records,
        warnings,
    })
}

pub fn run(client: &mut Client, keys: &Keys, given: &str, o: &Options) -> Result<Loaded> {
    let started = std::time::Instant::now();
    let path = Path::new(given);
    // 1. The content's hash makes loads idempotent.
    let (sha, size) = vcf_pg_loader_core::vcf::input::sha256_file(path, || {})
        .map_err(|e| vcf_error(given, &e, |s| s.to_string()))?;
    let reader = VcfReader::open(path).map_err(|e| vcf_error(given, &e, |s| s.to_string()))?;
    let header = reader.header().clone();
    let options =
        json!({"force": o.force, "normalize": o.normalize, "genotypes": o.genotypes_text});
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::ReadCommitted)
        .start()
        .map_err(db("starting the load's transaction"))?;
    // 2. Claim the content (or return, or replace, the earlier load).
    let c = claim(&mut tx, &sha, size, &options, o.force)?;
    if c.already_loaded {
        tx.commit().map_err(db("committing"))?;
        crate::audit::seal(client);
        eprintln!("{given}: already loaded (a load with the same SHA-256 exists); use --force to replace it");
        return Ok(Loaded {
            load_batch_id: c.id,
            variants: c.variants,
            genotypes: c.genotypes,
            samples: c.samples,
            records: 0,
            already_loaded: true,
            rows_replaced: 0,
            warnings: "{}".into(),
            seconds: started.elapsed().as_secs_f64(),
            file_sha256: sha,
            // The earlier load's pseudonyms are not read here: names in the path become <sample>.
            source_file: Redactor::new(
                &header.samples,
                &vec!["<sample>".to_string(); header.samples.len()],
            )
            .free_text(given)
            .into_owned(),
        });
    }
    if c.rows_replaced > 0 {
        eprintln!(
            "{given}: replacing the earlier load of the same content ({} rows)",
            c.rows_replaced
        );
    }
    // 3. Pseudonyms first, then everything stored of the header redacted.
    let samples = pseudonyms(&mut tx, keys, c.id, &header.samples, given)?;
    let sample_texts: Vec<String> = samples.iter().map(|u| u.to_string()).collect();
    let opts = LoadOptions {
        normalize: o.normalize,
        genotypes: o.genotypes,
        keep_header_commands: false,
    };
    let decomposer = Decomposer::new(&header, opts, &sample_texts);
    let source_file = decomposer.redact_text(given).into_owned();
    let redact = |s: &str| decomposer.redact_text(s).into_owned();
    tx.execute(
        "SELECT vcf.client_describe_load($1, $2, $3, $4, $5, $6, $7)",
        &[
            &c.id,
            &source_file,
            &header.file_format,
            &reader.compression.as_str(),
            &header.reference,
            &decomposer.scrubbed_header(),
            &samples,
        ],
    )
    .map_err(db("recording the load's header"))?;
    // 4. The rows.
    let progress = Progress::start(o.progress, reader.file_size, &source_file);
    let w = rows(&mut tx, reader, opts, c.id, &samples, &progress, |e| {
        vcf_error(given, e, redact)
    })?;
    progress.finish();
    // 5. Counts and the audit row, then commit.
    let warnings = w.warnings.to_json();
    tx.execute(
        "SELECT vcf.client_finish_load($1, $2, $3, $4, $5::text::jsonb)",
        &[
            &c.id,
            &w.variants,
            &w.genotypes,
            &(w.records as i64),
            &warnings,
        ],
    )
    .map_err(db("recording the load's counts"))?;
    tx.commit().map_err(db("committing the load"))?;
    crate::audit::seal(client);
    if !w.warnings.is_empty() {
        eprintln!(
            "{source_file}: loaded with {} lenient warning(s): {}",
            w.warnings.total(),
            redact(&w.warnings.summary())
        );
    }
    Ok(Loaded {
        load_batch_id: c.id,
        variants: w.variants,
        genotypes: w.genotypes,
        samples: samples.len() as i32,
        records: w.records,
        already_loaded: false,
        rows_replaced: c.rows_replaced,
        warnings,
        seconds: started.elapsed().as_secs_f64(),
        file_sha256: sha,
        source_file,
    })
}
