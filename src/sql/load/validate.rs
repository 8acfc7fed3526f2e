//! `vcf_validate(load_batch_id)`: a load's recorded counts against the rows present and,
//! when the file is still there (its real path is kept sealed in the vault), against the
//! file itself. The caller must still be allowed to read that file.

use super::super::errors::raise;
use super::super::privilege::{as_owner, Caller};
use super::super::spi;
use super::super::vault;
use super::access;
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use std::path::Path;
use vcf_pg_loader_core::vcf::VcfReader;

/// A load as stored, and the rows actually present.
struct Stored {
    source_file: String,
    sha: String,
    mode: Option<String>,
    /// variants, genotypes, samples, records as recorded
    recorded: [i64; 4],
    /// variant, genotype and sample rows present
    present: [i64; 3],
}

fn count(what: &str, sql: &str, id: Uuid) -> i64 {
    spi::one::<i64>(what, sql, &[id.into()]).unwrap_or(0)
}

/// One statement per count: on Citus each is a plain (router or colocated) query; subqueries
/// would be planned as subplans the coordinator feeds through a connection to itself.
fn stored(id: Uuid) -> Option<Stored> {
    let mut b = spi::rows(
        "reading the load batch",
        "SELECT b.source_file, b.file_sha256, b.options->>'genotypes', b.variants, b.genotypes, b.samples::pg_catalog.int8, b.records
           FROM vcf.load_batches b WHERE b.load_batch_id = $1",
        &[id.into()],
        |r| Stored {
            source_file: r.req(1),
            sha: r.req(2),
            mode: r.get(3),
            recorded: [r.req(4), r.req(5), r.req(6), r.req(7)],
            present: [0; 3],
        },
    )
    .pop()?;
    b.present = [
        count(
            "counting the load's variants",
            "SELECT pg_catalog.count(*) FROM vcf.variants v WHERE v.load_batch_id = $1",
            id,
        ),
        count(
            "counting the load's genotypes",
            "SELECT pg_catalog.count(*) FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE v.load_batch_id = $1",
            id,
        ),
        count(
            "counting the load's samples",
            "SELECT pg_catalog.count(*) FROM vcf.samples s WHERE s.load_batch_id = $1",
            id,
        ),
    ];
    Some(b)
}

/// Records and ALT alleles counted straight from the file, independently of the decomposer.
fn count_file(path: &Path) -> Option<(i64, i64)> {
    let mut r = VcfReader::open(path).ok()?;
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
    Some((recs, alts))
}

type Check = (String, i64, i64, bool);

fn check(name: &str, expected: i64, actual: i64) -> Check {
    (name.to_string(), expected, actual, expected == actual)
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
    let caller = Caller::current();
    if !(caller.superuser || caller.is_loader() || caller.may_read_server_files()) {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to vcf_validate()",
            Some("Members of vcf_loader (files under vcf_pg_loader.load_directories), pg_read_server_files and superusers may validate loads."),
        );
    }
    let (s, real) = as_owner(|| {
        let s = stored(load_batch_id);
        let real = s.as_ref().and_then(|_| vault::source_path(load_batch_id));
        (s, real)
    });
    let Some(s) = s else {
        raise(
            PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
            format!("load batch {load_batch_id} does not exist"),
            None,
        );
    };
    let [variants, genotypes, samples, records] = s.recorded;
    let [av, ag, asmp] = s.present;
    let mut out = vec![
        check("variant_rows", variants, av),
        check("genotype_rows", genotypes, ag),
        check("samples", samples, asmp),
    ];
    let file = real
        .as_ref()
        .map(|p| Path::new(p.as_str()))
        .filter(|p| p.is_file());
    let Some(file) = file else {
        pgrx::notice!(
            "{}: file no longer present; only database checks were run",
            s.source_file
        );
        return TableIterator::new(out);
    };
    // The file is read again for the caller: it must still be allowed to read it.
    let file = access::readable_path(
        &caller,
        "vcf_validate",
        &file.to_string_lossy(),
        &s.source_file,
    );
    let (now, _) = super::sha256_file(&s.source_file, &file);
    out.push(check("file_sha256_matches", 1, (now == s.sha) as i64));
    if let Some((recs, alts)) = count_file(&file) {
        out.push(check("file_records", recs, records));
        out.push(check("file_alt_alleles", alts, av));
        if s.mode.as_deref() == Some("all") {
            out.push(check("genotype_rows_all_samples", alts * samples, ag));
        }
    }
    TableIterator::new(out)
}
