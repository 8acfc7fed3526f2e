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
use vcf_pg_loader_core::crypto::EnvelopeError;
use vcf_pg_loader_core::threads;

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

/// Stale rows read for re-sealing, in `mapping_id` order.
struct Stale {
    ids: Vec<i64>,
    rows: Vec<(Uuid, Option<Vec<u8>>, Option<String>)>,
    /// Each row's key id as read: the write applies only if it is unchanged.
    olds: Vec<Option<String>>,
}

/// The new column values of a batch, ready for the UPDATE.
struct Resealed {
    ids: Vec<i64>,
    envelopes: Vec<Vec<u8>>,
    nonces: Vec<Vec<u8>>,
    blind: Vec<Vec<u8>>,
    olds: Vec<Option<String>>,
}

/// Up to `limit` stale rows with `mapping_id > after`. Rows are read without a lock in
/// primary-key order (rows behind the cursor — rotated, or their dead versions — are never
/// read again; a key_id index scan would walk the dead entries of every earlier batch).
fn read_stale(active: &str, limit: i32, after: i64) -> Stale {
    // The primary-key order, whatever the statistics say (a sequential or bitmap scan would
    // read every row again on every batch).
    spi::run(
        "planning the rotation read",
        "SELECT pg_catalog.set_config('enable_seqscan', 'off', true), pg_catalog.set_config('enable_bitmapscan', 'off', true)",
        &[],
    );
    let mut stale = Stale {
        ids: vec![],
        rows: vec![],
        olds: vec![],
    };
    spi::rows(
        "reading rows to rotate",
        "SELECT mapping_id, anonymous_id, original_id_encrypted, original_id, key_id FROM phi_vault.sample_id_mapping
          WHERE mapping_id OPERATOR(pg_catalog.>) $3
            AND (key_id OPERATOR(pg_catalog.<) $1 OR key_id OPERATOR(pg_catalog.>) $1 OR key_id IS NULL)
          ORDER BY mapping_id LIMIT $2",
        &[active.into(), limit.into(), after.into()],
        |r| {
            stale.ids.push(r.req::<i64>(1));
            stale.rows.push((r.req::<Uuid>(2), r.get::<Vec<u8>>(3), r.get::<String>(4)));
            stale.olds.push(r.get::<String>(5));
        },
    );
    stale
}

/// Seal every row again under the active key. Pure (no PostgreSQL call), so it may run on
/// another thread while the backend writes the previous batch.
fn reseal(keys: &LoadedKeys, stale: Stale) -> Result<Resealed, EnvelopeError> {
    let n = stale.ids.len();
    let mut out = Resealed {
        ids: stale.ids,
        envelopes: Vec::with_capacity(n),
        nonces: Vec::with_capacity(n),
        blind: Vec::with_capacity(n),
        olds: stale.olds,
    };
    for (anon, enc, plain) in &stale.rows {
        let sealed =
            keys.keyring
                .reseal(enc.as_deref(), plain.as_deref(), &vault::context_of(anon))?;
        out.nonces.push(sealed.nonce().to_vec());
        out.blind.push(sealed.blind_index().to_vec());
        out.envelopes.push(sealed.into_envelope());
    }
    Ok(out)
}

/// One `UPDATE … FROM` for the batch; each new envelope applies only if the row is still
/// under the key it was read under — a concurrent rotator or writer wins, never a lost
/// update. A row another session holds is waited for. Returns rows written.
fn write_resealed(r: Resealed, active: &str) -> i64 {
    let (Some(&first), Some(&last)) = (r.ids.first(), r.ids.last()) else {
        return 0;
    };
    // The mapping table's guard lets crypto columns change only while this is on; it is
    // discarded with the owner context's settings.
    spi::run(
        "marking the rotation",
        "SELECT pg_catalog.set_config('vcf_pg_loader.internal_rotation', 'on', true)",
        &[],
    );
    // The id bounds keep a merge join from reading the index from the first row each batch.
    let written = spi::count(
        "writing rotated rows",
        "UPDATE phi_vault.sample_id_mapping m
            SET original_id_encrypted = u.e, encryption_iv = u.i, original_id_hmac = u.h, key_id = $6
           FROM unnest($1::pg_catalog.int8[], $2::pg_catalog.bytea[], $3::pg_catalog.bytea[], $4::pg_catalog.bytea[], $5::pg_catalog.text[]) AS u(id, e, i, h, k)
          WHERE m.mapping_id OPERATOR(pg_catalog.=) u.id AND m.key_id IS NOT DISTINCT FROM u.k
            AND m.mapping_id OPERATOR(pg_catalog.>=) $7 AND m.mapping_id OPERATOR(pg_catalog.<=) $8",
        &[
            r.ids.into(),
            r.envelopes.into(),
            r.nonces.into(),
            r.blind.into(),
            r.olds.into(),
            active.into(),
            first.into(),
            last.into(),
        ],
    );
    spi::run(
        "ending the rotation mark",
        "SELECT pg_catalog.set_config('vcf_pg_loader.internal_rotation', 'off', true)",
        &[],
    );
    written
}

/// Re-seal up to `limit` stale rows with `mapping_id > after`; returns (rows read, rows
/// written, the last mapping_id read). Runs as the owner.
fn reseal_rows(keys: &LoadedKeys, limit: i32, after: i64) -> (i64, i64, i64) {
    let active = keys.keyring.active_key_id().to_string();
    let stale = read_stale(&active, limit, after);
    let (read, last) = (
        stale.ids.len() as i64,
        stale.ids.last().copied().unwrap_or(after),
    );
    let resealed = reseal(keys, stale).unwrap_or_else(|e| errors::envelope(&e));
    (read, write_resealed(resealed, &active), last)
}

/// The last pass: loads locked out, locked rows waited for, everything left re-sealed.
/// Batch k+1 is sealed on a second thread while the backend writes batch k (the sealing
/// was a tenth of the time; the UPDATE is the rest).
fn reseal_rest(keys: &LoadedKeys, batch_size: i32) -> i64 {
    lock_out_loads();
    vault::reseal_source_paths(keys);
    let active = keys.keyring.active_key_id().to_string();
    let (mut total, mut cursor, mut pending) = (0, 0, None::<Resealed>);
    loop {
        check_for_interrupts!();
        let stale = read_stale(&active, batch_size, cursor);
        let full = stale.ids.len() == batch_size as usize;
        cursor = stale.ids.last().copied().unwrap_or(cursor);
        let sealed = std::thread::scope(|s| {
            let sealer = threads::with_signals_blocked(|| s.spawn(|| reseal(keys, stale)));
            if let Some(batch) = pending.take() {
                total += write_resealed(batch, &active);
            }
            sealer.join()
        });
        let sealed = match sealed {
            Ok(Ok(batch)) => batch,
            Ok(Err(e)) => errors::envelope(&e),
            Err(_) => raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                "the rotation's sealing thread failed",
                None,
            ),
        };
        if !full {
            return total + write_resealed(sealed, &active);
        }
        pending = Some(sealed);
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
