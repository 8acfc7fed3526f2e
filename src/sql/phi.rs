//! The PHI functions of CONTRACT §4, thin over `vcf_pg_loader_core::crypto`: encrypt,
//! decrypt (a bulk reveal), key ids, blind index, lookups and clearing plaintext. Rotation
//! lives in `rotation.rs`, the status report in `status.rs`.

use super::errors::{self, raise};
use super::keys;
use super::privilege::{as_owner, Caller};
use super::settings::{self, REVEAL_REASON};
use super::spi;
use super::vault::{self, audit, check_transport};
use pgrx::prelude::*;
use pgrx::{pg_sys, PgSqlErrorCode, Uuid};
use serde_json::json;
use vcf_pg_loader_core::crypto::envelope::{key_id_of, Envelope};
use vcf_pg_loader_core::crypto::keyring::generate_key_base64;

/// A new random key: base64 of 32 bytes from the OS CSPRNG.
#[pg_extern(volatile, parallel_safe)]
fn phi_generate_key() -> String {
    generate_key_base64().to_string()
}

/// Encrypt under the active key; `context` (e.g. the row's id) must be given again to decrypt.
#[pg_extern(volatile, parallel_safe)]
fn phi_encrypt(
    plaintext: Option<&str>,
    context: default!(Option<&[u8]>, "NULL"),
) -> Option<Vec<u8>> {
    let plaintext = plaintext?;
    let keys = keys::require();
    Some(
        keys.keyring
            .encrypt(plaintext.as_bytes(), context.unwrap_or(&[]))
            .unwrap_or_else(|e| errors::envelope(&e)),
    )
}

/// Refuse (and log) a caller that is neither superuser nor phi_admin member.
pub fn require_phi_admin(caller: &Caller, function: &str) {
    if !caller.is_phi_admin() {
        vault::audit_log_only(
            caller,
            function,
            "refused: caller is not a member of phi_admin",
        );
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("{function}() is restricted to members of phi_admin"),
            Some("GRANT phi_admin TO <role>; every reveal is audited."),
        );
    }
}

thread_local! {
    /// The statement whose `phi_decrypt` calls are already audited: one audit row per
    /// top-level statement.
    static AUDITED_STATEMENT: std::cell::Cell<Option<StatementKey>> = const { std::cell::Cell::new(None) };
}

/// A top-level statement as PostgreSQL tells them apart: the local transaction, the statement
/// start (`statement_timestamp()`: one per query message, so a DO block or a function is one
/// statement however many reveals it makes — and so are several statements sent as one
/// simple-query message, which PostgreSQL also logs and reports as one), and the
/// subtransaction (a reveal after a rolled-back subtransaction is audited again) — and the
/// current user, whose rights were checked (a SECURITY DEFINER function inside the statement
/// is another caller).
type StatementKey = (u32, i64, u32, u32);

fn current_statement() -> StatementKey {
    // SAFETY: reads this backend's PGPROC, transaction state and current user.
    unsafe {
        (
            (*pg_sys::MyProc).lxid,
            pg_sys::GetCurrentStatementStartTimestamp(),
            pg_sys::GetCurrentSubTransactionId(),
            pg_sys::GetUserId().to_u32(),
        )
    }
}

/// `vcf_pg_loader.reveal_reason`, when this session set it (a role, database or file
/// default does not count).
fn session_reveal_reason() -> Option<String> {
    let (source, _) = settings::setting_source(c"vcf_pg_loader.reveal_reason")?;
    if !settings::session_source(source) {
        return None;
    }
    let reason = REVEAL_REASON.get()?;
    let reason = reason.to_string_lossy().trim().to_string();
    (!reason.is_empty()).then_some(reason)
}

/// The first reveal of a statement: needs a session reason, writes the audit row.
fn audit_bulk_reveal(caller: &Caller, stmt: StatementKey) {
    let Some(reason) = session_reveal_reason() else {
        vault::audit_log_only(
            caller,
            "phi_decrypt",
            "refused: no vcf_pg_loader.reveal_reason set in this session",
        );
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "phi_decrypt() requires a reason: vcf_pg_loader.reveal_reason is not set in this session",
            Some("SET vcf_pg_loader.reveal_reason = 'IRB-2024-117 recontact'; it is kept in the audit log with every statement that reveals."),
        );
    };
    audit(
        caller,
        "decrypt",
        json!({"function": "phi_decrypt", "reason": reason, "scope": "statement"}),
    );
    AUDITED_STATEMENT.set(Some(stmt));
}

/// Decrypt an envelope under whichever configured key its header names. A reveal:
/// phi_admin only, reason required, audited once per statement; parallel unsafe because a
/// parallel worker cannot write the audit row.
#[pg_extern(volatile, parallel_unsafe)]
fn phi_decrypt(
    ciphertext: Option<&[u8]>,
    context: default!(Option<&[u8]>, "NULL"),
) -> Option<String> {
    let ct = ciphertext?;
    // The caller, its transport and the audit row once per statement and user; every further
    // row of a bulk reveal only decrypts.
    let stmt = current_statement();
    if AUDITED_STATEMENT.get() != Some(stmt) {
        let caller = Caller::current();
        require_phi_admin(&caller, "phi_decrypt");
        check_transport(&caller, "phi_decrypt");
        keys::require();
        audit_bulk_reveal(&caller, stmt);
    }
    let keys = keys::require();
    let pt = zeroize::Zeroizing::new(
        keys.keyring
            .decrypt(ct, context.unwrap_or(&[]))
            .unwrap_or_else(|e| errors::envelope(&e)),
    );
    match std::str::from_utf8(&pt) {
        Ok(s) => Some(s.to_string()),
        Err(_) => raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            "decrypted value is not valid UTF-8",
            None,
        ),
    }
}

/// The key id in an envelope's header (8 hex digits); NULL if the bytes are not an envelope.
#[pg_extern(immutable, parallel_safe, strict)]
fn phi_key_id(ciphertext: &[u8]) -> Option<String> {
    Envelope::parse(ciphertext).ok()?;
    key_id_of(ciphertext).map(|k| k.to_string())
}

/// 16-byte HMAC-SHA-256 pseudonym under a key derived from the active key.
#[pg_extern(volatile, parallel_safe, strict)]
fn phi_blind_index(plaintext: &str) -> Vec<u8> {
    keys::require()
        .keyring
        .blind_index(plaintext.as_bytes())
        .to_vec()
}

/// The original identifier behind a pseudonym. phi_admin only; every call audited.
#[pg_extern(volatile)]
fn phi_reverse_lookup(anonymous_id: Option<Uuid>, reason: Option<&str>) -> Option<String> {
    let caller = Caller::current();
    require_phi_admin(&caller, "phi_reverse_lookup");
    check_transport(&caller, "phi_reverse_lookup");
    let anonymous_id = anonymous_id?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or_else(|| {
        vault::audit_log_only(&caller, "phi_reverse_lookup", "refused: no reason given");
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "phi_reverse_lookup() requires a reason",
            Some("State why the identifier is needed, e.g. 'IRB-2024-117 recontact'; it is kept in the audit log."),
        )
    });
    let row = as_owner(|| {
        spi::rows(
            "reading a pseudonym",
            "SELECT original_id_encrypted, original_id FROM phi_vault.sample_id_mapping WHERE anonymous_id = $1",
            &[anonymous_id.into()],
            |r| (r.get::<Vec<u8>>(1), r.get::<String>(2)),
        )
        .pop()
    });
    let found = row
        .filter(|(enc, plain)| enc.is_some() || plain.is_some())
        .map(|(enc, plain)| {
            vault::reveal(
                keys::current().as_deref(),
                &anonymous_id,
                enc.as_deref(),
                plain,
            )
        });
    audit(
        &caller,
        "reverse_lookup",
        json!({"anonymous_id": anonymous_id.to_string(), "reason": reason, "found": found.is_some()}),
    );
    found.map(|name| name.to_string())
}

/// The pseudonyms under which an identifier was loaded (blind index; no other row decrypted).
#[pg_extern(volatile)]
fn phi_lookup(original_id: &str) -> SetOfIterator<'static, Uuid> {
    let caller = Caller::current();
    require_phi_admin(&caller, "phi_lookup");
    check_transport(&caller, "phi_lookup");
    // A row's blind index is under the key that was active when it was written or rotated.
    let indexes: Vec<Vec<u8>> = keys::current()
        .map(|k| {
            k.keyring
                .blind_indexes(original_id.as_bytes())
                .into_iter()
                .map(|b| b.to_vec())
                .collect()
        })
        .unwrap_or_default();
    let ids: Vec<Uuid> = as_owner(|| {
        spi::rows(
            "looking up pseudonyms",
            "SELECT anonymous_id FROM phi_vault.sample_id_mapping
             WHERE original_id_hmac OPERATOR(pg_catalog.=) ANY($1::pg_catalog.bytea[])
                OR (original_id_encrypted IS NULL AND original_id OPERATOR(pg_catalog.=) $2)
             ORDER BY mapping_id",
            &[indexes.into(), original_id.into()],
            |r| r.req::<Uuid>(1),
        )
    });
    audit(&caller, "lookup", json!({"matches": ids.len()}));
    SetOfIterator::new(ids)
}

/// Set `original_id` to NULL wherever a ciphertext exists. Audited.
#[pg_extern(volatile)]
fn phi_clear_plaintext() -> i64 {
    let caller = Caller::current();
    require_phi_admin(&caller, "phi_clear_plaintext");
    let n = as_owner(|| {
        spi::one::<i64>(
            "clearing plaintext identifiers",
            "WITH c AS (UPDATE phi_vault.sample_id_mapping SET original_id = NULL
                        WHERE original_id IS NOT NULL AND original_id_encrypted IS NOT NULL RETURNING 1)
             SELECT pg_catalog.count(*) FROM c",
            &[],
        )
    })
    .unwrap_or(0);
    audit(&caller, "clear_plaintext", json!({"rows": n}));
    n
}
