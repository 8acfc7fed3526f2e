//! `vcf_distribute(shard_count)` (CONTRACT §11): turn an installed extension on a Citus
//! coordinator into the distributed layout — `vcf.variants` and `vcf.genotypes` distributed
//! and colocated on `variant_id`, the small `vcf` tables reference tables, `phi_vault` local
//! to the coordinator. Superusers only; safe to run again (after `citus_add_node`, or to
//! renew the workers' credential).
//!
//! The extension writes as `vcf_pg_loader_owner` (NOLOGIN), and Citus opens its worker
//! connections as the current user. So the owner role gets LOGIN on the workers only, with a
//! fresh random password whose SCRAM verifier is all the workers are told; the password goes
//! to the coordinator's `pg_dist_authinfo` (readable by superusers only), from where Citus
//! reads it for the owner's connections. On the coordinator the owner stays NOLOGIN.

use super::errors::raise;
use super::privilege::{with_pinned_search_path, Caller};
use super::spi;
use super::vault;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde_json::json;
use vcf_pg_loader_core::crypto::scram;

/// Reference tables, in foreign-key order (a referenced table first).
const REFERENCE: [&str; 3] = ["vcf.load_batches", "vcf.samples", "vcf.load_blocks"];
/// Distributed on `variant_id`; the first is the colocation anchor of the second.
const DISTRIBUTED: [&str; 2] = ["vcf.variants", "vcf.genotypes"];

/// Whether Citus distributes `relid` (false where Citus is not installed): the loader uses it
/// to choose a write path Citus routes to the shards.
pub fn is_citus_table(relid: pg_sys::Oid) -> bool {
    citus_installed()
        && spi::one::<bool>(
            "reading the Citus metadata",
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1::pg_catalog.regclass)",
            &[relid.into()],
        )
        .unwrap_or(false)
}

/// Keys, the vault and reveals live on the coordinator. Citus pushes a query's expressions
/// down to the shards, so `phi_reverse_lookup(anonymous_id)` in a query over a distributed
/// table would run on a worker, find no mapping and audit there: refused instead, before any
/// key is read or audit row written.
pub fn refuse_on_worker(function: &str) {
    if is_citus_worker() {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("{function}() runs on the Citus coordinator only, and this node is a worker (the query was pushed down to a shard)"),
            Some("Select the pseudonyms first, then reveal them on the coordinator: WITH p AS MATERIALIZED (SELECT anonymous_id FROM …) SELECT phi_reverse_lookup(anonymous_id, '…') FROM p;"),
        );
    }
}

thread_local! {
    /// (statement start, answer): one catalog look per statement, not per row.
    static WORKER: std::cell::Cell<(i64, bool)> = const { std::cell::Cell::new((i64::MIN, false)) };
}

/// Whether this node is a Citus worker (Citus installed here and this node's group is not
/// the coordinator's).
fn is_citus_worker() -> bool {
    // SAFETY: reads this backend's statement start time; a syscache lookup.
    let (stmt, citus) = unsafe {
        (
            pg_sys::GetCurrentStatementStartTimestamp(),
            pg_sys::get_extension_oid(c"citus".as_ptr(), true) != pg_sys::InvalidOid,
        )
    };
    if !citus {
        return false;
    }
    let (at, answer) = WORKER.with(|w| w.get());
    if at == stmt {
        return answer;
    }
    let worker = spi::one::<bool>(
        "asking Citus for this node's role",
        "SELECT NOT pg_catalog.citus_is_coordinator()",
        &[],
    )
    .unwrap_or(false);
    WORKER.with(|w| w.set((stmt, worker)));
    worker
}

fn citus_installed() -> bool {
    spi::one::<bool>(
        "looking for Citus",
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')",
        &[],
    )
    .unwrap_or(false)
}

#[pg_extern(volatile)]
fn vcf_distribute(
    shard_count: default!(i32, 32),
) -> TableIterator<'static, (name!(relation, String), name!(layout, String))> {
    let caller = Caller::current();
    if !caller.superuser {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to vcf_distribute(): superusers only",
            Some("Run it as the superuser who manages the Citus cluster."),
        );
    }
    if !(1..=64_000).contains(&shard_count) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("shard_count must be between 1 and 64000, not {shard_count}"),
            None,
        );
    }
    let rows = with_pinned_search_path(|| {
        // Citus' NOTICEs about copying rows and converting tables are its own business.
        spi::run("quieting notices", "SET client_min_messages = warning", &[]);
        require_coordinator();
        let workers = require_workers();
        drop_client_row_guard();
        let mut layout = Vec::new();
        // A foreign key from a local table to a new reference table makes Citus convert the
        // local table, which fails for an extension's table; so the keys among the reference
        // tables are set aside while they become reference tables, then put back.
        let keys = set_aside_foreign_keys();
        for t in REFERENCE {
            distribute(
                t,
                &format!("SELECT pg_catalog.create_reference_table('{t}')"),
            );
            layout.push((
                t.to_string(),
                "reference (a copy on every node)".to_string(),
            ));
        }
        restore_foreign_keys(keys);
        let anchor = DISTRIBUTED[0];
        for t in DISTRIBUTED {
            let placement = if t == anchor {
                format!("shard_count => {shard_count}, colocate_with => 'none'")
            } else {
                format!("colocate_with => '{anchor}'")
            };
            distribute(
                t,
                &format!(
                    "SELECT pg_catalog.create_distributed_table('{t}', 'variant_id', {placement})"
                ),
            );
            layout.push((
                t.to_string(),
                format!(
                    "distributed by variant_id, {} shards, colocated with {anchor}",
                    shards_of(t)
                ),
            ));
        }
        // Last: distributing makes Citus copy the owner role (NOLOGIN) to the workers.
        provision_owner_login();
        layout.push(("phi_vault.*".into(), "local to the coordinator".into()));
        vault::audit(
            &caller,
            "distribute",
            json!({"shard_count": shard_count, "workers": workers}),
        );
        layout
    });
    TableIterator::new(rows)
}

fn require_coordinator() {
    if !citus_installed() {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "vcf_distribute() needs Citus: the citus extension is not installed in this database",
            Some("On every node: shared_preload_libraries = 'citus,vcf_pg_loader'. On the coordinator: CREATE EXTENSION citus; SELECT citus_set_coordinator_host(…); SELECT citus_add_node(…) per worker; then vcf_distribute(). See docs/scaling.md."),
        );
    }
    let coordinator = spi::one::<bool>(
        "reading the Citus metadata",
        "SELECT pg_catalog.citus_is_coordinator()",
        &[],
    );
    if coordinator != Some(true) {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "vcf_distribute() runs on the Citus coordinator, and this node is not one",
            Some("SELECT citus_set_coordinator_host('<this host>', <port>); on the coordinator first."),
        );
    }
}

/// The active primary workers ("host:port"), each holding this extension at this version.
fn require_workers() -> Vec<String> {
    let version = env!("CARGO_PKG_VERSION");
    let found = spi::rows(
        "asking the workers for their vcf_pg_loader version",
        "SELECT nodename || ':' || nodeport, success, result
           FROM pg_catalog.run_command_on_workers($$SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vcf_pg_loader'$$)
          ORDER BY 1",
        &[],
        |r| (r.req::<String>(1), r.get::<bool>(2).unwrap_or(false), r.get::<String>(3).unwrap_or_default()),
    );
    if found.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "vcf_distribute() found no active Citus worker",
            Some("SELECT citus_add_node('<worker host>', <port>); for each worker, then run vcf_distribute() again."),
        );
    }
    for (node, ok, v) in &found {
        if !ok || v != version {
            let seen = if !ok {
                "unreachable".to_string()
            } else if v.is_empty() {
                "not installed".into()
            } else {
                format!("version {v}")
            };
            raise(
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("worker {node}: vcf_pg_loader {version} is needed there ({seen})"),
                Some("Install the extension's files on every node; CREATE EXTENSION vcf_pg_loader on the coordinator after citus_add_node creates it on the workers (ALTER EXTENSION vcf_pg_loader UPDATE on the coordinator updates them)."),
            );
        }
    }
    found.into_iter().map(|(n, _, _)| n).collect()
}

/// LOGIN for the owner role on every worker, under a fresh password that only the
/// coordinator's `pg_dist_authinfo` holds; the workers get its SCRAM verifier.
fn provision_owner_login() {
    let (password, verifier) = scram::new_credential();
    // The verifier is base64 and '$:' only: no quoting can be broken.
    // (A worker with log_statement = ddl or all logs this text: the verifier, never the
    // password, which a verifier does not reveal — it is 32 random bytes.)
    let alter = format!(
        "SET LOCAL citus.enable_ddl_propagation TO off; ALTER ROLE vcf_pg_loader_owner LOGIN PASSWORD '{verifier}'"
    );
    on_workers("giving the owner role LOGIN on the workers", &alter);
    spi::run(
        "storing the owner's worker credential",
        "DELETE FROM pg_catalog.pg_dist_authinfo WHERE rolename = 'vcf_pg_loader_owner'",
        &[],
    );
    spi::run(
        "storing the owner's worker credential",
        "INSERT INTO pg_catalog.pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, 'vcf_pg_loader_owner', 'password=' || $1)",
        &[password.as_str().into()],
    );
}

/// The client row guard (statement triggers with transition tables) cannot run on shards:
/// Citus refuses to distribute tables with triggers. Without it, loader roles lose their
/// direct INSERT (the CLI's COPY); `vcf_load` writes as the owner through Citus.
/// On the coordinator and on the workers' copies alike (the workers' tables are the shells
/// of the distributed tables there), so no node answers that client rows may go to them.
fn drop_client_row_guard() {
    for t in DISTRIBUTED {
        let revoke = format!("REVOKE INSERT ON {t} FROM vcf_loader");
        let drop = format!("DROP TRIGGER IF EXISTS client_rows_guard ON {t}");
        if !is_distributed(t) {
            // (Citus refuses trigger DDL on a distributed table: done by the first run.)
            spi::run("removing the client row guard", &drop, &[]);
            on_workers(
                "removing the client row guard on the workers",
                &format!("SET LOCAL citus.enable_ddl_propagation TO off; {drop}; {revoke}"),
            );
        }
        // Again on every run (Citus carries it to the shards and the workers' shells).
        spi::run("revoking direct inserts", &revoke, &[]);
    }
}

/// Run `command` on every worker (as the superuser, one transaction each); raises naming the
/// workers where it failed — never echoing the command, which may hold a verifier.
fn on_workers(what: &str, command: &str) {
    let failed = spi::rows(
        what,
        "SELECT nodename || ':' || nodeport FROM pg_catalog.run_command_on_workers($1) WHERE NOT success ORDER BY 1",
        &[command.into()],
        |r| r.req::<String>(1),
    );
    if !failed.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("vcf_distribute: {what} failed on worker(s) {}", failed.join(", ")),
            Some("Check that vcf_pg_loader is installed there at this version and that the coordinator reaches the worker as a superuser."),
        );
    }
}

/// (table, constraint, definition) of each foreign key between the reference tables that
/// are not distributed yet, dropped.
fn set_aside_foreign_keys() -> Vec<(String, String, String)> {
    let keys = spi::rows(
        "reading foreign keys",
        "SELECT c.conrelid::pg_catalog.regclass::pg_catalog.text, c.conname::pg_catalog.text, pg_catalog.pg_get_constraintdef(c.oid)
           FROM pg_catalog.pg_constraint c
          WHERE c.contype = 'f' AND c.conrelid = ANY ($1::pg_catalog.regclass[]) AND c.confrelid = ANY ($1::pg_catalog.regclass[])
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = c.conrelid)
          ORDER BY 1, 2",
        &[REFERENCE.to_vec().into()],
        |r| (r.req::<String>(1), r.req::<String>(2), r.req::<String>(3)),
    );
    for (table, name, _) in &keys {
        let drop = format!(
            "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {}",
            quote_ident(name)
        );
        spi::run("setting a foreign key aside", &drop, &[]);
        // The workers' copies of the extension's tables become the shells: they get the key
        // back from the coordinator with the shards.
        on_workers(
            "setting a foreign key aside on the workers",
            &format!("SET LOCAL citus.enable_ddl_propagation TO off; {drop}"),
        );
    }
    keys
}

fn restore_foreign_keys(keys: Vec<(String, String, String)>) {
    for (table, name, def) in keys {
        spi::run(
            "putting a foreign key back",
            &format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {def}",
                quote_ident(&name)
            ),
            &[],
        );
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn is_distributed(table: &str) -> bool {
    spi::one::<bool>(
        "reading the Citus metadata",
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1::pg_catalog.regclass)",
        &[table.into()],
    )
    .unwrap_or(false)
}

/// Distribute `table` unless it already is; rows it held move to the shards and leave the
/// coordinator's (now shell) table.
fn distribute(table: &str, create: &str) {
    if is_distributed(table) {
        return;
    }
    spi::run("distributing a table", create, &[]);
    spi::run(
        "removing the local copy of distributed rows",
        "SELECT pg_catalog.truncate_local_data_after_distributing_table($1::pg_catalog.regclass)",
        &[table.into()],
    );
}

fn shards_of(table: &str) -> i64 {
    spi::one::<i64>(
        "counting shards",
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard WHERE logicalrelid = $1::pg_catalog.regclass",
        &[table.into()],
    )
    .unwrap_or(0)
}
