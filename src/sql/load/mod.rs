//! `vcf_load`, `vcf_unload` (CONTRACT §5), and `vcf_validate` (`validate.rs`). All in the
//! caller's transaction: a load succeeds whole or leaves nothing. The caller's rights are
//! checked first (`access`), then every write runs as the owner role (`privilege`).

mod access;
mod batch;
mod progress;
mod validate;
mod write;

use super::errors::{self, raise};
use super::privilege::{as_owner, Caller};
use super::settings::KEEP_HEADER_COMMANDS;
use super::vault::{self, audit};
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use serde_json::json;
use std::path::Path;
use vcf_pg_loader_core::crypto::rng;
use vcf_pg_loader_core::vcf::redact::Redactor;
use vcf_pg_loader_core::vcf::{Decomposer, GenotypeMode, LoadOptions, VcfReader};

fn parse_genotypes(genotypes: &str) -> GenotypeMode {
    GenotypeMode::parse(genotypes).unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("invalid value for genotypes: \"{genotypes}\""),
            Some("Use 'all' (every sample), 'carriers' (calls holding the row's ALT) or 'none' (sites only)."),
        )
    })
}

/// SHA-256 and size of the file at `real`; errors name the path as given.
fn sha256_file(given: &str, real: &Path) -> (String, u64) {
    vcf_pg_loader_core::vcf::input::sha256_file(real, || {
        check_for_interrupts!();
    })
    .unwrap_or_else(|e| errors::vcf(given, &e))
}

/// The row `vcf_load` returns.
type LoadResult = (Uuid, i64, i64, i32, bool);

/// Claim the content for a new load, or settle it with the earlier one: `Err` is the
/// result to return (already loaded), `Ok` means go on. Runs as the owner.
fn claim(
    caller: &Caller,
    claim: &batch::Claim,
    force: bool,
    given: &str,
) -> Result<(), LoadResult> {
    loop {
        check_for_interrupts!();
        if batch::claim(claim) {
            return Ok(());
        }
        let Some(old) = batch::by_sha(claim.sha) else {
            continue; // the earlier load was just removed: claim again
        };
        if !force {
            pgrx::notice!("{given}: already loaded (a load with the same SHA-256 exists); use force => true to replace it");
            return Err((old.id, old.variants, old.genotypes, old.samples, true));
        }
        if !(caller.superuser || may_replace(caller, old.id)) {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied to replace load batch {}", old.id),
                Some("Only its loader (or a superuser) may replace or unload a load."),
            );
        }
        let removed = batch::unload(old.id);
        pgrx::notice!("{given}: replacing the earlier load of the same content ({removed} rows)");
    }
}

/// A non-superuser may replace or unload the loads it made: as the same role, from the same
/// login (so `SET ROLE vcf_loader` by one loader does not hand its loads to every other).
fn may_replace(caller: &Caller, id: Uuid) -> bool {
    batch::loaded_by(id).is_some_and(|(role, session)| {
        caller.is_role_named(&role) && session.is_none_or(|s| s == caller.session)
    })
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
    // 1. Who may read which file: decided for the caller, before any switch.
    let caller = Caller::current();
    let real = access::readable_path(&caller, "vcf_load", path, path);
    let mode = parse_genotypes(genotypes);
    // 2. The content's hash makes loads idempotent.
    let (sha, size) = sha256_file(path, &real);
    let options = json!({"force": force, "normalize": normalize, "genotypes": genotypes});
    let batch_id = Uuid::from_bytes(rng::uuid_v4());
    let claimed = batch::Claim {
        id: batch_id,
        sha: &sha,
        size,
        loaded_by: &caller.name,
        loaded_by_session: &caller.session,
        options: options.clone(),
    };
    // 3. Claim the content (or return, or replace, the earlier load).
    if let Err(old) = as_owner(|| claim(&caller, &claimed, force, path)) {
        let source = as_owner(|| batch::source_file(old.0)).unwrap_or_default();
        audit(
            &caller,
            "load",
            json!({"source_file": source, "file_sha256": sha, "load_batch_id": old.0.to_string(), "already_loaded": true}),
        );
        return TableIterator::once(old);
    }
    // 4. The header: pseudonyms first, then everything stored of it redacted.
    let reader = VcfReader::open(&real).unwrap_or_else(|e| errors::vcf(path, &e));
    let header = reader.header().clone();
    let samples = vault::pseudonyms_for(&header.samples, &sha, batch_id, |ids| {
        redactor(&header.samples, ids).free_text(path).into_owned()
    });
    let sample_texts: Vec<String> = samples.iter().map(|u| u.to_string()).collect();
    let opts = LoadOptions {
        normalize,
        genotypes: mode,
        keep_header_commands: KEEP_HEADER_COMMANDS.get(),
    };
    let decomposer = Decomposer::new(&header, opts, &sample_texts);
    let source_file = decomposer.redact_text(path).into_owned();
    let redact = |s: &str| decomposer.redact_text(s).into_owned();
    let (compression, file_size) = (reader.compression, reader.file_size);
    // 5. The rows, as the owner.
    let written = as_owner(|| {
        batch::describe(
            batch_id,
            batch::Described {
                source_file: &source_file,
                file_format: header.file_format.clone(),
                compression: compression.as_str(),
                reference: header.reference.clone(),
                header: decomposer.scrubbed_header(),
                samples: &samples,
            },
        );
        vault::store_source_path(batch_id, &real.to_string_lossy());
        let written = write::rows(
            write::Rows {
                reader,
                opts,
                load_batch_id: batch_id,
                samples: &samples,
                file_size,
            },
            path,
            redact,
        );
        batch::finish(
            batch_id,
            &batch::Finished {
                variants: written.variants,
                genotypes: written.genotypes,
                records: written.records as i64,
                warnings: written.warnings.to_json(),
            },
        );
        written
    });
    // 6. Say what happened: NOTICE for lenient warnings, one audit row.
    if !written.warnings.is_empty() {
        pgrx::notice!(
            "{source_file}: loaded with {} lenient warning(s): {}",
            written.warnings.total(),
            redact(&written.warnings.summary())
        );
    }
    audit(
        &caller,
        "load",
        json!({"source_file": source_file, "file_sha256": sha, "load_batch_id": batch_id.to_string(),
               "records": written.records, "variants": written.variants, "genotypes": written.genotypes,
               "samples": samples.len(), "options": options, "method": written.path.as_str(),
               "already_loaded": false}),
    );
    TableIterator::once((
        batch_id,
        written.variants,
        written.genotypes,
        samples.len() as i32,
        false,
    ))
}

/// The free-text redactor for names → pseudonyms (source paths before the decomposer exists).
fn redactor(names: &[String], ids: &[Uuid]) -> Redactor {
    let texts: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
    Redactor::new(names, &texts)
}

/// Remove a load's variants and genotypes (pseudonym mappings stay: they are immutable).
/// Superusers: any load; loaders: the loads they made.
#[pg_extern(volatile)]
fn vcf_unload(load_batch_id: Uuid) -> i64 {
    let caller = Caller::current();
    if !(caller.superuser || caller.is_loader() || caller.may_read_server_files()) {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to vcf_unload()",
            Some("Members of vcf_loader may unload the loads they made; superusers any."),
        );
    }
    let n = as_owner(|| {
        if batch::by_id(load_batch_id).is_none() {
            raise(
                PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
                format!("load batch {load_batch_id} does not exist"),
                None,
            );
        }
        if !(caller.superuser || may_replace(&caller, load_batch_id)) {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied to unload load batch {load_batch_id}"),
                Some("Only its loader (or a superuser) may unload a load."),
            );
        }
        batch::unload(load_batch_id)
    });
    audit(
        &caller,
        "unload",
        json!({"load_batch_id": load_batch_id.to_string(), "rows": n}),
    );
    n
}
