//! Key rotation (CONTRACT §4): re-seal every mapping row whose key id is not the active one.
//! The cursor is each row's key id, so a crash, cancel or second call just continues.
//!
//! Completion is never reported with rows left: the last pass takes SHARE ROW EXCLUSIVE on
//! `phi_vault.sample_id_mapping`, which waits for loads still inserting mappings (they hold
//! ROW EXCLUSIVE) and for rows locked by other sessions, and keeps new loads out until this
//! transaction ends; loads lock first and read the keyring after (vault::pseudonyms_for).

use super::errors::{self, raise};
use super::keys::{self, LoadedKeys};
use super::phi::require_phi_admin;
use super::privilege::{as_owner, Caller};
use super::spi;
use super::vault::{self, audit};
use pgrx::prelude::*;
use pgrx::{pg_sys, PgSqlErrorCode, Uuid};
use serde_json::json;

fn check_batch_size(batch_size: i32) {
    if batch_size < 1 {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("batch_size must be at least 1 (got {batch_size})"),
            None,
        );
    }
}

/// Rotation reads rows with one snapshot per statement; under REPEATABLE READ rows
/// committed by a load after the snapshot would stay invisible and unrotated.
fn require_read_committed(function: &str) {
    // SAFETY: reads the transaction's isolation level.
    if unsafe { pg_sys::XactIsoLevel } >= pg_sys::XACT_REPEATABLE_READ as i32 {
        raise(
            PgSqlErrorCode::ERRCODE_ACTIVE_SQL_TRANSACTION,
            format!("{function}() must run in a READ COMMITTED transaction"),
            Some("Under REPEATABLE READ or SERIALIZABLE it could miss rows committed by a concurrent load."),
        );
    }
}

fn count_stale(active: &str) -> i64 {
    spi::one::<i64>(
        "counting rows to rotate",
        "SELECT pg_catalog.count(*) FROM phi_vault.sample_id_mapping
          WHERE key_id OPERATOR(pg_catalog.<) $1 OR key_id OPERATOR(pg_catalog.>) $1 OR key_id IS NULL",
        &[active.into()],
    )
    .unwrap_or(0)
}

fn lock_out_loads() {
    spi::run(
        "locking the pseudonym table for the last rotation pass",
        "LOCK TABLE phi_vault.sample_id_mapping IN SHARE ROW EXCLUSIVE MODE",
        &[],
    );
}

/// Re-seal up to `limit` stale rows with `mapping_id > after`, in `mapping_id` order; returns
/// (rows read, rows written, the last mapping_id read). Runs as the owner.
///
/// One heap write per row, one visit per row per pass: rows are read without a lock in
/// primary-key order from a cursor (rows behind it — rotated, or their dead versions — are
/// never read again; a key_id index scan would walk the dead entries of every earlier batch)
/// and written by one `UPDATE … FROM` that applies each new envelope only if the row is still
/// under the key it was read under — a concurrent rotator or writer wins, never a lost update.
/// A row another session holds is waited for by that UPDATE.
fn reseal_rows(keys: &LoadedKeys, limit: i32, after: i64) -> (i64, i64, i64) {
    let active = keys.keyring.active_key_id().to_string();
    // The primary-key order, whatever the statistics say (a sequential or bitmap scan would
    // read every row again on every batch).
    spi::run(
        "planning the rotation read",
        "SELECT pg_catalog.set_config('enable_seqscan', 'off', true), pg_catalog.set_config('enable_bitmapscan', 'off', true)",
        &[],
    );
    let rows = spi::rows(
        "reading rows to rotate",
        "SELECT mapping_id, anonymous_id, original_id_encrypted, original_id, key_id FROM phi_vault.sample_id_mapping
          WHERE mapping_id OPERATOR(pg_catalog.>) $3
            AND (key_id OPERATOR(pg_catalog.<) $1 OR key_id OPERATOR(pg_catalog.>) $1 OR key_id IS NULL)
          ORDER BY mapping_id LIMIT $2",
        &[active.clone().into(), limit.into(), after.into()],
        |r| {
            (
                r.req::<i64>(1),
                r.req::<Uuid>(2),
                r.get::<Vec<u8>>(3),
                r.get::<String>(4),
                r.get::<String>(5),
            )
        },
    );
    let n = rows.len();
    let Some(last) = rows.last().map(|r| r.0) else {
        return (0, 0, after);
    };
    let (mut ids, mut encs, mut ivs, mut hmacs, mut olds) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (mapping_id, anon, enc, plain, old) in rows {
        let name = vault::reveal(Some(keys), &anon, enc.as_deref(), plain);
        let sealed = keys
            .keyring
            .seal(name.as_bytes(), &vault::context_of(&anon))
            .unwrap_or_else(|e| errors::envelope(&e));
        ivs.push(sealed.nonce().to_vec());
        hmacs.push(sealed.blind_index().to_vec());
        encs.push(sealed.into_envelope());
        ids.push(mapping_id);
        olds.push(old);
    }
    // The mapping table's guard lets crypto columns change only while this is on; it is
    // discarded with the owner context's settings.
    spi::run(
        "marking the rotation",
        "SELECT pg_catalog.set_config('vcf_pg_loader.internal_rotation', 'on', true)",
        &[],
    );
    let written = spi::one::<i64>(
        "writing rotated rows",
        "WITH w AS (UPDATE phi_vault.sample_id_mapping m
                       SET original_id_encrypted = u.e, encryption_iv = u.i, original_id_hmac = u.h, key_id = $6
                      FROM unnest($1::pg_catalog.int8[], $2::pg_catalog.bytea[], $3::pg_catalog.bytea[], $4::pg_catalog.bytea[], $5::pg_catalog.text[]) AS u(id, e, i, h, k)
                     WHERE m.mapping_id OPERATOR(pg_catalog.=) u.id AND m.key_id IS NOT DISTINCT FROM u.k RETURNING 1)
         SELECT pg_catalog.count(*) FROM w",
        &[ids.into(), encs.into(), ivs.into(), hmacs.into(), olds.into(), active.into()],
    )
    .unwrap_or(0);
    spi::run(
        "ending the rotation mark",
        "SELECT pg_catalog.set_config('vcf_pg_loader.internal_rotation', 'off', true)",
        &[],
    );
    (n as i64, written, last)
}

/// The last pass: loads locked out, locked rows waited for, everything left re-sealed.
fn reseal_rest(keys: &LoadedKeys, batch_size: i32) -> i64 {
    lock_out_loads();
    vault::reseal_source_paths(keys);
    let (mut total, mut cursor) = (0, 0);
    loop {
        check_for_interrupts!();
        let (read, written, last) = reseal_rows(keys, batch_size, cursor);
        total += written;
        cursor = last;
        if read < batch_size as i64 {
            return total;
        }
    }
}

/// Rows still under another key after a pass that should have left none: said, not hidden.
fn report_remaining(function: &str, active: &str) {
    let left = as_owner(|| count_stale(active));
    if left > 0 {
        pgrx::notice!("{function}: {left} mapping row(s) remain under another key; call it again");
    }
}

/// Re-encrypt every mapping row not under the active key, `batch_size` rows at a time, in
/// this transaction. Resumable: the cursor is each row's key id.
#[pg_extern(volatile)]
fn phi_rotate_key(batch_size: default!(i32, 1000), dry_run: default!(bool, false)) -> i64 {
    let caller = Caller::current();
    require_phi_admin(&caller, "phi_rotate_key");
    check_batch_size(batch_size);
    let keys = keys::require();
    let active = keys.keyring.active_key_id().to_string();
    if dry_run {
        let n = as_owner(|| count_stale(&active));
        audit(
            &caller,
            "rotate_key_dry_run",
            json!({"active_key_id": active, "rows_to_rotate": n}),
        );
        return n;
    }
    require_read_committed("phi_rotate_key");
    let total = as_owner(|| reseal_rest(&keys, batch_size));
    report_remaining("phi_rotate_key", &active);
    audit(
        &caller,
        "rotate_key",
        json!({"active_key_id": active, "rows_rotated": total, "batch_size": batch_size}),
    );
    total
}

thread_local! {
    /// (active key id, last mapping_id rotated) of this backend's online rotation. Only a
    /// speed-up: the last pass reads from the first row, so a stale cursor loses nothing.
    static ONLINE_CURSOR: std::cell::RefCell<Option<(String, i64)>> = const { std::cell::RefCell::new(None) };
}

/// One transaction of `phi_rotate_key_online` (the procedure commits between calls):
/// a batch while a full batch of stale rows is found, else the last pass. Returns
/// rows re-sealed; 0 means none are left (the procedure stops there).
#[pg_extern(volatile)]
fn phi_rotate_key_batch(batch_size: default!(i32, 1000)) -> i64 {
    let caller = Caller::current();
    require_phi_admin(&caller, "phi_rotate_key_online");
    check_batch_size(batch_size);
    require_read_committed("phi_rotate_key_online");
    let keys = keys::require();
    let active = keys.keyring.active_key_id().to_string();
    let n = as_owner(|| {
        // A full batch: more may remain, commit this one first. Else the last pass rotates
        // the rest with loads locked out (0 from it: nothing was left).
        // Batches go on from this backend's cursor for the active key (the procedure calls
        // this again and again in one session); the last pass starts from the first row.
        let after = ONLINE_CURSOR.with(|c| match &*c.borrow() {
            Some((key, id)) if *key == active => *id,
            _ => 0,
        });
        let (read, written, last) = reseal_rows(&keys, batch_size, after);
        if read == batch_size as i64 && written > 0 {
            ONLINE_CURSOR.with(|c| *c.borrow_mut() = Some((active.clone(), last)));
            return written;
        }
        ONLINE_CURSOR.with(|c| *c.borrow_mut() = None);
        written + reseal_rest(&keys, batch_size)
    });
    if n > 0 {
        audit(
            &caller,
            "rotate_key_online_batch",
            json!({"active_key_id": active, "rows_rotated": n}),
        );
    }
    n
}
