//! The PHI vault seen from Rust: who the caller is, acting as the extension owner for vault
//! writes, the audit log, and the pseudonym API the loader calls (CONTRACT §4–5).
//!
//! Vault tables grant no writes to anyone; functions check the caller, then write as the
//! extension owner — what SECURITY DEFINER does, scoped to the write. A transaction or
//! subtransaction abort restores the previous user, so an ERROR inside cannot leak it.

use super::errors::{self, raise, KEY_HINT};
use super::keys;
use super::settings::{PHI_STORE_PLAINTEXT, REQUIRE_ENCRYPTION, REQUIRE_SSL};
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use std::collections::HashMap;
use vcf_pg_loader_core::crypto::envelope::{Envelope, HEADER_LEN, NONCE_LEN};
use vcf_pg_loader_core::crypto::rng;

pub fn is_superuser() -> bool {
    // SAFETY: plain catalog lookups for the current user.
    unsafe { pg_sys::superuser() }
}

fn has_role(name: &std::ffi::CStr) -> bool {
    // SAFETY: catalog lookups; missing_ok so a dropped role just means "no".
    unsafe {
        let role = pg_sys::get_role_oid(name.as_ptr(), true);
        role != pg_sys::InvalidOid && pg_sys::has_privs_of_role(pg_sys::GetUserId(), role)
    }
}

pub fn is_phi_admin() -> bool {
    is_superuser() || has_role(c"phi_admin")
}

pub fn may_read_server_files() -> bool {
    is_superuser() || has_role(c"pg_read_server_files")
}

pub fn current_user_name() -> String {
    // SAFETY: a syscache lookup of the current user id; the returned string is palloc'd.
    unsafe {
        let name = pg_sys::GetUserNameFromId(pg_sys::GetUserId(), false);
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}

/// `require_ssl`: refuse revealing identifiers to a TCP client without TLS.
pub fn check_transport(function: &str) {
    if !REQUIRE_SSL.get() {
        return;
    }
    let insecure = Spi::get_one::<bool>(
        "SELECT inet_client_addr() IS NOT NULL AND NOT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
    )
    .ok()
    .flatten()
    .unwrap_or(true);
    if insecure {
        audit_log_only(
            function,
            "refused: TCP connection without TLS while vcf_pg_loader.require_ssl is on",
        );
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("{function}() reveals identifiers and vcf_pg_loader.require_ssl is on, but this connection is not encrypted"),
            Some("Connect with sslmode=verify-full (or over the local Unix socket)."),
        );
    }
}

thread_local! {
    /// (extension oid, its owner): re-read only when the extension is re-created.
    static OWNER: std::cell::Cell<Option<(pg_sys::Oid, pg_sys::Oid)>> = const { std::cell::Cell::new(None) };
}

/// The owner of this extension, looked up by SQL once per extension oid (every audited or
/// vault-writing call switches to it, so it must not cost a query each time).
fn extension_owner() -> pg_sys::Oid {
    // SAFETY: an index lookup in pg_extension; missing_ok.
    let ext = unsafe { pg_sys::get_extension_oid(c"vcf_pg_loader".as_ptr(), true) };
    if ext == pg_sys::InvalidOid {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "extension vcf_pg_loader is not installed in this database",
            Some("CREATE EXTENSION vcf_pg_loader;"),
        );
    }
    if let Some((e, owner)) = OWNER.get() {
        if e == ext {
            return owner;
        }
    }
    let owner = Spi::get_one_with_args::<pg_sys::Oid>(
        "SELECT extowner FROM pg_catalog.pg_extension WHERE oid = $1",
        &[ext.into()],
    )
    .ok()
    .flatten()
    .unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "could not read the extension's owner",
            None,
        )
    });
    OWNER.set(Some((ext, owner)));
    owner
}

/// Run `f` as the extension owner (a superuser: bypasses the vault's RLS and grants).
pub fn as_owner<R>(f: impl FnOnce() -> R) -> R {
    let owner = extension_owner();
    let mut old_user = pg_sys::InvalidOid;
    let mut old_ctx = 0;
    // SAFETY: save, switch, run, restore — exactly as fmgr_security_definer does. On ERROR the
    // (sub)transaction abort restores the saved user id.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut old_user, &mut old_ctx);
        pg_sys::SetUserIdAndSecContext(
            owner,
            old_ctx | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let r = f();
    unsafe { pg_sys::SetUserIdAndSecContext(old_user, old_ctx) };
    r
}

/// Append to `phi_vault.audit_log` (hash-chained; the trigger also writes it to the server
/// log). `detail` must never hold keys, identifiers or ciphertext.
pub fn audit(operation: &str, detail: serde_json::Value) {
    let op = operation.to_string();
    let detail = pgrx::JsonB(detail);
    let caller = current_user_name(); // before the switch to the owner
    as_owner(|| {
        Spi::run_with_args(
            "INSERT INTO phi_vault.audit_log (\"session_user\", \"current_user\", operation, detail) VALUES (session_user, $1::name, $2, $3)",
            &[caller.into(), op.into(), detail.into()],
        )
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("could not write the audit log: {e}"), None));
    });
}

/// A trace that survives a rollback: the server log only (refused attempts).
pub fn audit_log_only(operation: &str, what: &str) {
    pgrx::log!(
        "vcf_pg_loader audit: {operation} by {}: {what}",
        current_user_name()
    );
}

/// Context bound into a mapping row's ciphertext: the pseudonym's text form, exactly
/// `anonymous_id::text` (pgrx's Uuid Display is the hyphenated lower-case form).
pub fn context_of(anonymous_id: &Uuid) -> Vec<u8> {
    anonymous_id.to_string().into_bytes()
}

/// One mapping row's identifier: decrypted when it has a ciphertext (ERROR 55000 without a
/// key), else its plaintext column.
pub fn reveal(
    keys: Option<&keys::LoadedKeys>,
    anonymous_id: &Uuid,
    encrypted: Option<&[u8]>,
    plain: Option<String>,
) -> String {
    let Some(ct) = encrypted else {
        return plain.unwrap_or_default();
    };
    let keys = keys.unwrap_or_else(|| keys::no_key());
    let pt = keys
        .keyring
        .decrypt(ct, &context_of(anonymous_id))
        .unwrap_or_else(|e| errors::envelope(&e));
    String::from_utf8(pt).unwrap_or_else(|_| {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            "decrypted identifier is not valid UTF-8",
            None,
        )
    })
}

/// The pseudonym API (CONTRACT §5): one anonymous id per (sample name, file content).
/// Existing mappings of this file content are reused; new names are encrypted here in the
/// backend (context = the pseudonym) and inserted with parameters — never SQL text.
pub fn pseudonyms_for(
    names: &[String],
    file_sha256: &str,
    source_file: &str,
    load_batch_id: Uuid,
) -> Vec<Uuid> {
    if names.is_empty() {
        return Vec::new();
    }
    let keys = keys::current();
    if keys.is_none() && REQUIRE_ENCRYPTION.get() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("refusing to store the {} sample identifier(s) of \"{source_file}\" without encryption: no PHI key is configured", names.len()),
            Some(KEY_HINT),
        );
    }
    let store_plain = PHI_STORE_PLAINTEXT.get() || keys.is_none();
    as_owner(|| {
        let mut known: HashMap<String, Uuid> = HashMap::new();
        Spi::connect(|client| {
            let rows = client
                .select(
                    "SELECT anonymous_id, original_id_encrypted, original_id FROM phi_vault.sample_id_mapping WHERE file_sha256 = $1",
                    None,
                    &[file_sha256.into()],
                )
                .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("reading pseudonyms failed: {e}"), None));
            for row in rows {
                let id: Uuid = row.get(1).ok().flatten().expect("anonymous_id is NOT NULL");
                let enc: Option<Vec<u8>> = row.get(2).ok().flatten();
                let plain: Option<String> = row.get(3).ok().flatten();
                known.insert(reveal(keys.as_deref(), &id, enc.as_deref(), plain), id);
            }
        });
        let mut out = Vec::with_capacity(names.len());
        let (mut ids, mut plains, mut encs, mut ivs, mut key_ids, mut hmacs) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for name in names {
            if let Some(id) = known.get(name) {
                out.push(*id);
                continue;
            }
            let id = Uuid::from_bytes(rng::uuid_v4());
            match &keys {
                Some(k) => {
                    let ct = k
                        .keyring
                        .encrypt(name.as_bytes(), &context_of(&id))
                        .unwrap_or_else(|e| errors::envelope(&e));
                    let env = Envelope::parse(&ct).expect("fresh envelope parses");
                    ivs.push(Some(ct[HEADER_LEN..HEADER_LEN + NONCE_LEN].to_vec()));
                    key_ids.push(Some(env.key_id.to_string()));
                    hmacs.push(Some(k.keyring.blind_index(name.as_bytes()).to_vec()));
                    encs.push(Some(ct));
                }
                None => {
                    ivs.push(None);
                    key_ids.push(None);
                    hmacs.push(None);
                    encs.push(None);
                }
            }
            plains.push(if store_plain {
                Some(name.clone())
            } else {
                None
            });
            ids.push(id);
            known.insert(name.clone(), id);
            out.push(id);
        }
        if !ids.is_empty() {
            Spi::run_with_args(
                "INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id, original_id_encrypted, encryption_iv, key_id, original_id_hmac, source_file, file_sha256, load_batch_id)
                 SELECT a, p, e, i, k, h, $7, $8, $9 FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::text[], $6::bytea[]) AS u(a, p, e, i, k, h)",
                &[ids.into(), plains.into(), encs.into(), ivs.into(), key_ids.into(), hmacs.into(), source_file.into(), file_sha256.into(), load_batch_id.into()],
            )
            .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("storing pseudonyms failed: {e}"), None));
        }
        out
    })
}
