//! The PHI vault seen from Rust: the audit log, the transport guard, revealing one mapping
//! row, and the pseudonym API the loader calls (CONTRACT §4–5).
//!
//! Vault tables grant no writes to anyone; entry points check the caller
//! (`privilege::Caller`), then write inside `privilege::as_owner`.

use super::errors::{self, raise, KEY_HINT};
use super::keys;
use super::privilege::{as_owner, transport_is_protected, Caller};
use super::settings::{PHI_STORE_PLAINTEXT, REQUIRE_ENCRYPTION, REQUIRE_SSL};
use super::spi;
use pgrx::{PgSqlErrorCode, Uuid};
use std::collections::HashMap;
use vcf_pg_loader_core::crypto::rng;
use zeroize::Zeroizing;

/// A line for the server log only (LOG_SERVER_ONLY): audit anchors and refusals carry other
/// sessions' operations and details, which a client with `client_min_messages = log` must not get.
macro_rules! server_log {
    ($($arg:tt)*) => {
        pgrx::ereport!(
            pgrx::PgLogLevel::LOG_SERVER_ONLY,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            format!($($arg)*)
        )
    };
}

/// `require_ssl`: refuse revealing identifiers to a TCP client without TLS.
pub fn check_transport(caller: &Caller, function: &str) {
    super::distribute::refuse_on_worker(function);
    if !REQUIRE_SSL.get() || transport_is_protected() {
        return;
    }
    audit_log_only(
        caller,
        function,
        "refused: TCP connection without TLS while vcf_pg_loader.require_ssl is on",
    );
    raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("{function}() reveals identifiers and vcf_pg_loader.require_ssl is on, but this connection is not encrypted"),
        Some("Connect with sslmode=verify-full (or over the local Unix socket)."),
    );
}

/// Append to `phi_vault.audit_log`. The row is stamped by its trigger now and sealed into the
/// hash chain as this transaction commits ([`seal_pending`]), so the chain's lock is held for
/// the commit only — an open transaction never holds up another's audited work. `detail`
/// must never hold keys, identifiers or ciphertext.
pub fn audit(caller: &Caller, operation: &str, detail: serde_json::Value) {
    super::distribute::refuse_on_worker(operation);
    let detail = pgrx::JsonB(detail);
    let id = as_owner(|| {
        spi::one::<i64>(
            "writing the audit log",
            "INSERT INTO phi_vault.audit_log (\"current_user\", operation, detail) VALUES ($1::pg_catalog.name, $2, $3) RETURNING audit_id",
            &[caller.name.clone().into(), operation.into(), detail.into()],
        )
    })
    .unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "vcf_pg_loader: the audit row was not written",
            None,
        )
    });
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_empty() {
            register_sealing();
        }
        p.push(id);
    });
}

thread_local! {
    /// Audit rows this transaction wrote, to seal at commit.
    static PENDING: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Seal at pre-commit; write the anchors once committed; forget on abort; refuse PREPARE (a
/// prepared transaction would commit elsewhere, unsealed).
fn register_sealing() {
    use pgrx::{register_xact_callback, PgXactCallbackEvent};
    register_xact_callback(PgXactCallbackEvent::PreCommit, seal_pending);
    register_xact_callback(PgXactCallbackEvent::Commit, log_anchors);
    register_xact_callback(PgXactCallbackEvent::Abort, || {
        PENDING.with(|p| p.borrow_mut().clear());
        ANCHORS.with(|a| a.borrow_mut().clear());
    });
    register_xact_callback(PgXactCallbackEvent::PrePrepare, || {
        PENDING.with(|p| p.borrow_mut().clear());
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "a transaction that wrote vcf_pg_loader audit rows cannot be prepared",
            Some("Run audited calls outside PREPARE TRANSACTION."),
        );
    });
}

/// A sealed row's anchor, as its LOG line gives it.
struct Anchor {
    audit_id: i64,
    hash: [u8; 32],
    chain_seq: i64,
    operation: String,
    /// Never keys, identifiers or ciphertext (what `audit` is given).
    detail: String,
}

thread_local! {
    /// Anchors of the rows this transaction sealed, logged once it has committed.
    static ANCHORS: std::cell::RefCell<Vec<Anchor>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Link this transaction's audit rows into the chain, just before commit, as the owner —
/// with every committed row still pending (the client API's rows, or rows a commit before us
/// left). The head is taken with SKIP LOCKED, retried for up to [`HEAD_WAIT`]: a transaction
/// that holds it open (`vcf_loader` and `phi_admin` members can, around `phi_vault.seal_audit()`)
/// delays sealing and costs a commit at most that wait; rows left pending are linked by the next seal. Under the lock only the
/// SHA-256 chain (microseconds a row) and one UPDATE run.
fn seal_pending() {
    let ids = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if ids.is_empty() {
        return;
    }
    // At pre-commit no statement is running, so no snapshot is active: SPI needs one.
    struct Snapshot;
    impl Drop for Snapshot {
        fn drop(&mut self) {
            // SAFETY: pops the snapshot pushed below.
            unsafe { pgrx::pg_sys::PopActiveSnapshot() };
        }
    }
    // SAFETY: a transaction is in progress (pre-commit); the guard pops it on every exit.
    unsafe { pgrx::pg_sys::PushActiveSnapshot(pgrx::pg_sys::GetTransactionSnapshot()) };
    let _snapshot = Snapshot;
    let anchors = as_owner(|| {
        let Some((seq, max_id, last)) = lock_head() else {
            server_log!(
                "vcf_pg_loader audit: {} row(s) left pending: another transaction holds the chain head; the next seal links them (SELECT phi_vault.seal_audit())",
                ids.len()
            );
            return Vec::new();
        };
        let rows = spi::rows(
            "reading audit rows to seal",
            "SELECT audit_id, phi_vault.audit_row_payload(audit_id, at, \"session_user\", \"current_user\", client_addr, operation, detail),
                    operation, detail::pg_catalog.text
               FROM phi_vault.audit_log WHERE hash IS NULL AND chain_seq IS NULL ORDER BY audit_id",
            &[],
            |r| (r.req::<i64>(1), r.req::<Vec<u8>>(2), r.req::<String>(3), r.req::<String>(4)),
        );
        if rows.is_empty() {
            return Vec::new();
        }
        let payloads = rows.iter().map(|r| (r.0, r.1.as_slice()));
        let chain = vcf_pg_loader_core::audit::link(last.as_deref(), seq, payloads);
        let new_max = rows.iter().map(|r| r.0).max().unwrap_or(max_id).max(max_id);
        let last = chain.last().expect("rows is not empty");
        spi::run(
            "sealing the audit log",
            "UPDATE phi_vault.audit_log a SET prev_hash = u.p, hash = u.h, chain_seq = u.s
               FROM unnest($1::pg_catalog.int8[], $2::pg_catalog.int8[], $3::pg_catalog.bytea[], $4::pg_catalog.bytea[]) AS u(id, s, p, h)
              WHERE a.audit_id = u.id",
            &[
                chain.iter().map(|l| l.audit_id).collect::<Vec<_>>().into(),
                chain.iter().map(|l| l.chain_seq).collect::<Vec<_>>().into(),
                chain.iter().map(|l| l.prev_hash.clone()).collect::<Vec<_>>().into(),
                chain.iter().map(|l| l.hash.to_vec()).collect::<Vec<_>>().into(),
            ],
        );
        spi::run(
            "advancing the audit chain head",
            "UPDATE phi_vault.audit_chain_head SET last_seq = $1, max_id = $2, last_hash = $3",
            &[
                last.chain_seq.into(),
                new_max.into(),
                last.hash.to_vec().into(),
            ],
        );
        chain
            .iter()
            .zip(rows)
            .map(|(l, (_, _, operation, detail))| Anchor {
                audit_id: l.audit_id,
                hash: l.hash,
                chain_seq: l.chain_seq,
                operation,
                detail,
            })
            .collect()
    });
    ANCHORS.with(|a| *a.borrow_mut() = anchors);
}

/// How long a commit tries for the chain head before leaving its rows pending (committing
/// sealers hold it for microseconds; a holder that keeps it costs each commit this, once).
const HEAD_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The chain head (position, highest id, hash), locked; None if another transaction held it
/// for all of [`HEAD_WAIT`]. Committing sealers hold it for milliseconds.
fn lock_head() -> Option<(i64, i64, Option<Vec<u8>>)> {
    let start = std::time::Instant::now();
    loop {
        let head = spi::rows(
            "locking the audit chain head",
            "SELECT last_seq, max_id, last_hash FROM phi_vault.audit_chain_head FOR UPDATE SKIP LOCKED",
            &[],
            |r| (r.req::<i64>(1), r.req::<i64>(2), r.get::<Vec<u8>>(3)),
        )
        .pop();
        if head.is_some() || start.elapsed() >= HEAD_WAIT {
            return head;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The anchor of every row sealed, in the server log once the transaction has committed (so
/// a rolled-back call leaves none): a shipped log proves what the chain held.
fn log_anchors() {
    let anchors = ANCHORS.with(|a| std::mem::take(&mut *a.borrow_mut()));
    if anchors.is_empty() {
        return;
    }
    // SAFETY: reads this backend's top transaction id (still set at the commit callback).
    let xid = unsafe { pgrx::pg_sys::GetTopFullTransactionIdIfAny() }.value;
    for a in anchors {
        let hex: String = a.hash.iter().map(|b| format!("{b:02x}")).collect();
        server_log!(
            "vcf_pg_loader audit: audit_id={} hash={hex} xid={xid} chain_seq={} operation={} detail={}",
            a.audit_id,
            a.chain_seq,
            a.operation,
            a.detail
        );
    }
}

/// A trace that survives a rollback: the server log only (refused attempts).
pub fn audit_log_only(caller: &Caller, operation: &str, what: &str) {
    server_log!(
        "vcf_pg_loader audit: {operation} by {}: {what}",
        caller.name
    );
}

/// Context bound into a mapping row's ciphertext: the pseudonym's text form, exactly
/// `anonymous_id::text` (pgrx's Uuid Display is the hyphenated lower-case form).
pub fn context_of(anonymous_id: &Uuid) -> Vec<u8> {
    anonymous_id.to_string().into_bytes()
}

/// One mapping row's identifier: decrypted when it has a ciphertext (ERROR 55000 without a
/// key), else its plaintext column. Zeroized when the caller drops it.
pub fn reveal(
    keys: Option<&keys::LoadedKeys>,
    anonymous_id: &Uuid,
    encrypted: Option<&[u8]>,
    plain: Option<String>,
) -> Zeroizing<String> {
    let Some(ct) = encrypted else {
        return Zeroizing::new(plain.unwrap_or_default());
    };
    let keys = keys.unwrap_or_else(|| keys::no_key());
    let pt = keys
        .keyring
        .decrypt(ct, &context_of(anonymous_id))
        .unwrap_or_else(|e| errors::envelope(&e));
    match String::from_utf8(pt) {
        Ok(s) => Zeroizing::new(s),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            raise(
                PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
                "decrypted identifier is not valid UTF-8",
                None,
            )
        }
    }
}

/// The pseudonym API (CONTRACT §5): one anonymous id per (sample name, file content).
/// Existing mappings of this file content are reused; new names are sealed here in the
/// backend (envelope with context = the pseudonym, key id, blind index: one core call) and
/// inserted with parameters — never SQL text. `source_file_for` gives the stored (redacted)
/// source path once the pseudonyms are known.
pub fn pseudonyms_for(
    names: &[String],
    file_sha256: &str,
    load_batch_id: Uuid,
    source_file_for: impl FnOnce(&[Uuid]) -> String,
) -> Vec<Uuid> {
    if names.is_empty() {
        return Vec::new();
    }
    as_owner(|| {
        // Rotation takes SHARE ROW EXCLUSIVE on the mappings before it reports completion:
        // lock first, then read the keyring fresh, so a load that waited for a rotation
        // seals under the key that rotation moved to — never a retired one.
        spi::run(
            "locking the pseudonym table",
            "LOCK TABLE phi_vault.sample_id_mapping IN ROW EXCLUSIVE MODE",
            &[],
        );
        let keys = keys::current_fresh();
        if keys.is_none() && REQUIRE_ENCRYPTION.get() {
            raise(
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("refusing to store {} sample identifier(s) without encryption: no PHI key is configured", names.len()),
                Some(KEY_HINT),
            );
        }
        let store_plain = PHI_STORE_PLAINTEXT.get() || keys.is_none();
        let mut known = KnownNames::default();
        let existing = spi::rows(
            "reading pseudonyms",
            "SELECT anonymous_id, original_id_encrypted, original_id FROM phi_vault.sample_id_mapping WHERE file_sha256 = $1",
            &[file_sha256.into()],
            |r| (r.req::<Uuid>(1), r.get::<Vec<u8>>(2), r.get::<String>(3)),
        );
        for (id, enc, plain) in existing {
            known.0.insert(
                reveal(keys.as_deref(), &id, enc.as_deref(), plain).to_string(),
                id,
            );
        }
        let mut out = Vec::with_capacity(names.len());
        let mut new = NewMappings::default();
        for name in names {
            if let Some(id) = known.0.get(name) {
                out.push(*id);
                continue;
            }
            let id = Uuid::from_bytes(rng::uuid_v4());
            new.push(keys.as_deref(), id, name, store_plain);
            known.0.insert(name.clone(), id);
            out.push(id);
        }
        new.insert(&source_file_for(&out), file_sha256, load_batch_id);
        out
    })
}

/// Identifiers already mapped for this file content; zeroized when dropped.
#[derive(Default)]
struct KnownNames(HashMap<String, Uuid>);

impl Drop for KnownNames {
    fn drop(&mut self) {
        for (name, _) in self.0.drain() {
            drop(Zeroizing::new(name));
        }
    }
}

/// Mapping rows to insert, column by column.
#[derive(Default)]
struct NewMappings {
    ids: Vec<Uuid>,
    plains: Vec<Option<String>>,
    encs: Vec<Option<Vec<u8>>>,
    ivs: Vec<Option<Vec<u8>>>,
    key_ids: Vec<Option<String>>,
    hmacs: Vec<Option<Vec<u8>>>,
}

impl NewMappings {
    fn push(&mut self, keys: Option<&keys::LoadedKeys>, id: Uuid, name: &str, store_plain: bool) {
        let sealed = keys.map(|k| {
            k.keyring
                .seal(name.as_bytes(), &context_of(&id))
                .unwrap_or_else(|e| errors::envelope(&e))
        });
        self.ivs.push(sealed.as_ref().map(|s| s.nonce().to_vec()));
        self.key_ids
            .push(sealed.as_ref().map(|s| s.key_id().to_string()));
        self.hmacs
            .push(sealed.as_ref().map(|s| s.blind_index().to_vec()));
        self.encs.push(sealed.map(|s| s.into_envelope()));
        self.plains.push(store_plain.then(|| name.to_string()));
        self.ids.push(id);
    }

    fn insert(self, source_file: &str, file_sha256: &str, load_batch_id: Uuid) {
        if self.ids.is_empty() {
            return;
        }
        spi::run(
            "storing pseudonyms",
            "INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id, original_id_encrypted, encryption_iv, key_id, original_id_hmac, source_file, file_sha256, load_batch_id)
             SELECT a, p, e, i, k, h, $7, $8, $9 FROM unnest($1::pg_catalog.uuid[], $2::pg_catalog.text[], $3::pg_catalog.bytea[], $4::pg_catalog.bytea[], $5::pg_catalog.text[], $6::pg_catalog.bytea[]) AS u(a, p, e, i, k, h)",
            &[
                self.ids.into(),
                self.plains.into(),
                self.encs.into(),
                self.ivs.into(),
                self.key_ids.into(),
                self.hmacs.into(),
                source_file.into(),
                file_sha256.into(),
                load_batch_id.into(),
            ],
        );
    }
}

/// Context bound into a load's sealed real path.
fn source_context(load_batch_id: &Uuid) -> Vec<u8> {
    format!("load_source:{load_batch_id}").into_bytes()
}

/// Keep a load's real path in the vault (CONTRACT §5): sealed under the active key, or in
/// clear only when no key is configured (as identifiers are then). Runs as the owner.
pub fn store_source_path(load_batch_id: Uuid, real_path: &str) {
    let sealed = keys::current().map(|k| {
        k.keyring
            .seal(real_path.as_bytes(), &source_context(&load_batch_id))
            .unwrap_or_else(|e| errors::envelope(&e))
    });
    let plain = sealed.is_none().then(|| real_path.to_string());
    let key_id = sealed.as_ref().map(|s| s.key_id().to_string());
    spi::run(
        "storing the load's path",
        "INSERT INTO phi_vault.load_sources (load_batch_id, path_encrypted, key_id, path) VALUES ($1, $2, $3, $4)
         ON CONFLICT (load_batch_id) DO UPDATE SET path_encrypted = EXCLUDED.path_encrypted, key_id = EXCLUDED.key_id, path = EXCLUDED.path",
        &[load_batch_id.into(), sealed.map(|s| s.into_envelope()).into(), key_id.into(), plain.into()],
    );
}

/// A load's real path, if the vault has it. Runs as the owner.
pub fn source_path(load_batch_id: Uuid) -> Option<Zeroizing<String>> {
    let (enc, plain) = spi::rows(
        "reading the load's path",
        "SELECT path_encrypted, path FROM phi_vault.load_sources WHERE load_batch_id = $1",
        &[load_batch_id.into()],
        |r| (r.get::<Vec<u8>>(1), r.get::<String>(2)),
    )
    .pop()?;
    let Some(ct) = enc else {
        return plain.map(Zeroizing::new);
    };
    let keys = keys::require();
    let pt = keys
        .keyring
        .decrypt(&ct, &source_context(&load_batch_id))
        .unwrap_or_else(|e| errors::envelope(&e));
    String::from_utf8(pt).ok().map(Zeroizing::new)
}

/// Re-seal every stored load path not under the active key (rotation's last pass; the
/// table is one row per load). Runs as the owner; returns rows re-sealed.
pub fn reseal_source_paths(keys: &keys::LoadedKeys) -> i64 {
    let active = keys.keyring.active_key_id().to_string();
    let rows = spi::rows(
        "reading load paths to rotate",
        "SELECT load_batch_id, path_encrypted FROM phi_vault.load_sources
          WHERE path_encrypted IS NOT NULL AND key_id <> $1 FOR UPDATE",
        &[active.clone().into()],
        |r| (r.req::<Uuid>(1), r.req::<Vec<u8>>(2)),
    );
    let n = rows.len() as i64;
    for (id, ct) in rows {
        let ctx = source_context(&id);
        let sealed = keys
            .keyring
            .reseal(Some(&ct), None, &ctx)
            .unwrap_or_else(|e| errors::envelope(&e));
        spi::run(
            "writing a rotated load path",
            "UPDATE phi_vault.load_sources SET path_encrypted = $2, key_id = $3 WHERE load_batch_id = $1",
            &[id.into(), sealed.into_envelope().into(), active.clone().into()],
        );
    }
    n
}
