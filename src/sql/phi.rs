//! The PHI functions of CONTRACT §4, thin over `vcf_pg_loader_core::crypto`.

use super::errors::{self, raise};
use super::keys::{self, KeySource};
use super::settings::{raw_setting, PHI_KEY, PHI_STORE_PLAINTEXT};
use super::vault::{self, as_owner, audit, check_transport, is_phi_admin};
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use serde_json::json;
use vcf_pg_loader_core::crypto::envelope::{key_id_of, Envelope, HEADER_LEN, NONCE_LEN};
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

/// Decrypt an envelope under whichever configured key its header names.
#[pg_extern(volatile, parallel_safe)]
fn phi_decrypt(
    ciphertext: Option<&[u8]>,
    context: default!(Option<&[u8]>, "NULL"),
) -> Option<String> {
    let ct = ciphertext?;
    check_transport("phi_decrypt");
    let keys = keys::require();
    let pt = keys
        .keyring
        .decrypt(ct, context.unwrap_or(&[]))
        .unwrap_or_else(|e| errors::envelope(&e));
    Some(String::from_utf8(pt).unwrap_or_else(|_| {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            "decrypted value is not valid UTF-8",
            None,
        )
    }))
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

fn require_phi_admin(function: &str) {
    if !is_phi_admin() {
        vault::audit_log_only(function, "refused: caller is not a member of phi_admin");
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("{function}() is restricted to members of phi_admin"),
            Some("GRANT phi_admin TO <role>; every reveal is audited."),
        );
    }
}

/// The original identifier behind a pseudonym. phi_admin only; every call audited.
#[pg_extern(volatile)]
fn phi_reverse_lookup(anonymous_id: Option<Uuid>, reason: Option<&str>) -> Option<String> {
    require_phi_admin("phi_reverse_lookup");
    check_transport("phi_reverse_lookup");
    let anonymous_id = anonymous_id?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or_else(|| {
        vault::audit_log_only("phi_reverse_lookup", "refused: no reason given");
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "phi_reverse_lookup() requires a reason",
            Some("State why the identifier is needed, e.g. 'IRB-2024-117 recontact'; it is kept in the audit log."),
        )
    });
    let row = as_owner(|| {
        Spi::get_two_with_args::<Vec<u8>, String>(
            "SELECT original_id_encrypted, original_id FROM phi_vault.sample_id_mapping WHERE anonymous_id = $1",
            &[anonymous_id.into()],
        )
    });
    let found = match row {
        Ok((enc, plain)) if enc.is_some() || plain.is_some() => Some(vault::reveal(
            keys::current().as_deref(),
            &anonymous_id,
            enc.as_deref(),
            plain,
        )),
        _ => None,
    };
    audit(
        "reverse_lookup",
        json!({"anonymous_id": anonymous_id.to_string(), "reason": reason, "found": found.is_some()}),
    );
    found
}

/// The pseudonyms under which an identifier was loaded (blind index; no other row decrypted).
#[pg_extern(volatile)]
fn phi_lookup(original_id: &str) -> SetOfIterator<'static, Uuid> {
    require_phi_admin("phi_lookup");
    check_transport("phi_lookup");
    let keys = keys::current();
    // A row's blind index is under the key that was active when it was written or rotated.
    let indexes: Vec<Vec<u8>> = match &keys {
        Some(k) => k
            .keyring
            .blind_indexes(original_id.as_bytes())
            .into_iter()
            .map(|b| b.to_vec())
            .collect(),
        None => Vec::new(),
    };
    let ids: Vec<Uuid> = as_owner(|| {
        Spi::connect(|c| {
            c.select(
                "SELECT anonymous_id FROM phi_vault.sample_id_mapping
                 WHERE original_id_hmac = ANY($1::bytea[]) OR (original_id_encrypted IS NULL AND original_id = $2)
                 ORDER BY mapping_id",
                None,
                &[indexes.into(), original_id.into()],
            )
            .map(|rows| rows.filter_map(|r| r.get::<Uuid>(1).ok().flatten()).collect())
            .unwrap_or_default()
        })
    });
    audit("lookup", json!({"matches": ids.len()}));
    SetOfIterator::new(ids)
}

/// Set `original_id` to NULL wherever a ciphertext exists. Audited.
#[pg_extern(volatile)]
fn phi_clear_plaintext() -> i64 {
    require_phi_admin("phi_clear_plaintext");
    let n = as_owner(|| {
        Spi::get_one::<i64>(
            "WITH c AS (UPDATE phi_vault.sample_id_mapping SET original_id = NULL
                        WHERE original_id IS NOT NULL AND original_id_encrypted IS NOT NULL RETURNING 1)
             SELECT count(*) FROM c",
        )
    })
    .ok()
    .flatten()
    .unwrap_or(0);
    audit("clear_plaintext", json!({"rows": n}));
    n
}

/// A mapping row as rotation reads it: id, pseudonym, ciphertext, plaintext.
type StaleRow = (i64, Uuid, Option<Vec<u8>>, Option<String>);

/// Re-encrypt (and re-index) up to `batch_size` stale rows under the active key.
fn rotate_batch(batch_size: i32) -> i64 {
    let keys = keys::require();
    let active = keys.keyring.active_key_id().to_string();
    as_owner(|| {
        // FOR UPDATE locks rows: a writing statement, so it needs a read-write SPI client.
        let rows: Vec<StaleRow> = Spi::connect_mut(|c| {
            c.update(
                "SELECT mapping_id, anonymous_id, original_id_encrypted, original_id FROM phi_vault.sample_id_mapping
                 WHERE key_id IS DISTINCT FROM $1 ORDER BY mapping_id LIMIT $2 FOR UPDATE SKIP LOCKED",
                None,
                &[active.clone().into(), batch_size.into()],
            )
            .map(|t| {
                t.map(|r| {
                    (
                        r.get::<i64>(1).ok().flatten().unwrap_or_default(),
                        r.get::<Uuid>(2).ok().flatten().expect("NOT NULL"),
                        r.get::<Vec<u8>>(3).ok().flatten(),
                        r.get::<String>(4).ok().flatten(),
                    )
                })
                .collect()
            })
            .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("rotation read failed: {e}"), None))
        });
        if rows.is_empty() {
            return 0;
        }
        let n = rows.len();
        let (mut ids, mut encs, mut ivs, mut hmacs) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (mapping_id, anon, enc, plain) in rows {
            let name =
                zeroize::Zeroizing::new(vault::reveal(Some(&keys), &anon, enc.as_deref(), plain));
            let ct = keys
                .keyring
                .encrypt(name.as_bytes(), &vault::context_of(&anon))
                .unwrap_or_else(|e| errors::envelope(&e));
            ivs.push(ct[HEADER_LEN..HEADER_LEN + NONCE_LEN].to_vec());
            hmacs.push(keys.keyring.blind_index(name.as_bytes()).to_vec());
            encs.push(ct);
            ids.push(mapping_id);
        }
        Spi::run("SELECT set_config('vcf_pg_loader.internal_rotation', 'on', true)").ok();
        Spi::run_with_args(
            "UPDATE phi_vault.sample_id_mapping m SET original_id_encrypted = u.e, encryption_iv = u.i, original_id_hmac = u.h, key_id = $5
             FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[]) AS u(id, e, i, h) WHERE m.mapping_id = u.id",
            &[ids.into(), encs.into(), ivs.into(), hmacs.into(), active.clone().into()],
        )
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("rotation write failed: {e}"), None));
        Spi::run("SELECT set_config('vcf_pg_loader.internal_rotation', 'off', true)").ok();
        n as i64
    })
}

fn count_stale(active: &str) -> i64 {
    as_owner(|| {
        Spi::get_one_with_args::<i64>(
            "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE key_id IS DISTINCT FROM $1",
            &[active.into()],
        )
    })
    .ok()
    .flatten()
    .unwrap_or(0)
}

fn check_batch_size(batch_size: i32) {
    if batch_size < 1 {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("batch_size must be at least 1 (got {batch_size})"),
            None,
        );
    }
}

/// Re-encrypt every mapping row not under the active key, `batch_size` rows at a time, in
/// this transaction. Resumable: the cursor is each row's key id.
#[pg_extern(volatile)]
fn phi_rotate_key(batch_size: default!(i32, 1000), dry_run: default!(bool, false)) -> i64 {
    require_phi_admin("phi_rotate_key");
    check_batch_size(batch_size);
    let keys = keys::require();
    let active = keys.keyring.active_key_id().to_string();
    if dry_run {
        let n = count_stale(&active);
        audit(
            "rotate_key_dry_run",
            json!({"active_key_id": active, "rows_to_rotate": n}),
        );
        return n;
    }
    let mut total = 0i64;
    loop {
        check_for_interrupts!();
        let n = rotate_batch(batch_size);
        total += n;
        if n < batch_size as i64 {
            break;
        }
    }
    audit(
        "rotate_key",
        json!({"active_key_id": active, "rows_rotated": total, "batch_size": batch_size}),
    );
    total
}

/// One batch of `phi_rotate_key_online` (the procedure commits between calls).
#[pg_extern(volatile)]
fn phi_rotate_key_batch(batch_size: default!(i32, 1000)) -> i64 {
    require_phi_admin("phi_rotate_key_online");
    check_batch_size(batch_size);
    let n = rotate_batch(batch_size);
    if n > 0 {
        let active = keys::require().keyring.active_key_id().to_string();
        audit(
            "rotate_key_online_batch",
            json!({"active_key_id": active, "rows_rotated": n}),
        );
    }
    n
}

fn setting_text(name: &str) -> Option<String> {
    Spi::get_one_with_args::<String>("SELECT current_setting($1, true)", &[name.into()])
        .ok()
        .flatten()
}

/// Encryption state, key ids, row counts per key, and settings that can leak keys or PHI.
#[pg_extern(volatile)]
#[allow(clippy::type_complexity)]
fn phi_encryption_status() -> TableIterator<
    'static,
    (
        name!(enabled, bool),
        name!(algorithm, String),
        name!(key_source, Option<String>),
        name!(key_file, Option<String>),
        name!(active_key_id, Option<String>),
        name!(other_key_ids, Vec<String>),
        name!(library, String),
        name!(rows_active_key, i64),
        name!(rows_other_keys, i64),
        name!(rows_unencrypted, i64),
        name!(rows_plaintext, i64),
        name!(warnings, Vec<String>),
    ),
> {
    let keys = keys::current();
    let mut warnings: Vec<String> = Vec::new();
    let (source, file, active, others) = match &keys {
        Some(k) => {
            warnings.extend(k.warnings.iter().cloned());
            let ids: Vec<String> = k.keyring.key_ids().iter().map(|i| i.to_string()).collect();
            (
                Some(k.source.as_str().to_string()),
                k.key_file.clone(),
                Some(ids[0].clone()),
                ids[1..].to_vec(),
            )
        }
        None => {
            warnings.push("no PHI key configured: vcf_load refuses sample identifiers while require_encryption is on".into());
            (None, None, None, vec![])
        }
    };
    let (a, o, u, p) = as_owner(|| {
        let active = active.clone().unwrap_or_default();
        let counts = Spi::get_three_with_args::<i64, i64, i64>(
            "SELECT count(*) FILTER (WHERE key_id = $1), count(*) FILTER (WHERE key_id IS NOT NULL AND key_id <> $1),
                    count(*) FILTER (WHERE original_id_encrypted IS NULL) FROM phi_vault.sample_id_mapping",
            &[active.into()],
        );
        let plain = Spi::get_one::<i64>(
            "SELECT count(*) FROM phi_vault.sample_id_mapping WHERE original_id IS NOT NULL",
        );
        let (a, o, u) = counts.unwrap_or((None, None, None));
        // Leak self-audit: read server settings with the owner's rights (pg_settings hides
        // sources from other roles).
        if setting_text("log_statement").as_deref() == Some("all") {
            warnings.push("log_statement = 'all' writes every statement, including any phi_encrypt('…') plaintext and SET of keys, to the server log".into());
        }
        if setting_text("log_min_duration_statement")
            .and_then(|v| v.trim_end_matches("ms").parse::<i64>().ok())
            .is_some_and(|v| v >= 0)
        {
            warnings.push("log_min_duration_statement >= 0 logs statement texts, which may contain identifiers or keys".into());
        }
        if let Ok(Some(src)) = Spi::get_one::<String>(
            "SELECT source || ':' || coalesce(sourcefile, '') FROM pg_settings WHERE name = 'vcf_pg_loader.phi_key'",
        ) {
            if src.contains("postgresql.auto.conf") {
                warnings.push("vcf_pg_loader.phi_key is set via ALTER SYSTEM: the key sits in clear in postgresql.auto.conf".into());
            } else if src.starts_with("configuration file") {
                let preloaded = setting_text("shared_preload_libraries").is_some_and(|v| v.split(',').any(|l| l.trim().trim_matches('"') == "vcf_pg_loader"));
                if !preloaded && raw_setting(&PHI_KEY).is_some() {
                    warnings.push("vcf_pg_loader.phi_key is set in postgresql.conf but the library is not in shared_preload_libraries: every role can SHOW the key until the library loads; use phi_key_file".into());
                }
            } else if src.starts_with("session") && raw_setting(&PHI_KEY).is_some() {
                warnings.push("vcf_pg_loader.phi_key was SET in this session: the statement text (with the key) may be in pg_stat_statements and the server log".into());
            }
        }
        if Spi::get_one::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')",
        )
        .ok()
        .flatten()
            == Some(true)
            && matches!(keys.as_ref().map(|k| k.source), Some(KeySource::Setting))
        {
            warnings.push("pg_stat_statements is installed and the key comes from the phi_key setting: SET statements with keys are recorded there".into());
        }
        (
            a.unwrap_or(0),
            o.unwrap_or(0),
            u.unwrap_or(0),
            plain.ok().flatten().unwrap_or(0),
        )
    });
    if PHI_STORE_PLAINTEXT.get() {
        warnings.push(
            "vcf_pg_loader.phi_store_plaintext is on: new identifiers are also stored in clear"
                .into(),
        );
    }
    if p > 0 {
        warnings.push(format!("{p} mapping row(s) hold identifiers in clear text: SELECT phi_clear_plaintext() once they are encrypted"));
    }
    if o > 0 {
        warnings.push(format!("{o} mapping row(s) are under a non-active key: SELECT phi_rotate_key() to finish a rotation"));
    }
    if u > 0 {
        warnings.push(format!(
            "{u} mapping row(s) are not encrypted: configure a key and SELECT phi_rotate_key()"
        ));
    }
    let library = format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    TableIterator::once((
        keys.is_some(),
        "AES-256-GCM".to_string(),
        source,
        file,
        active,
        others,
        library,
        a,
        o,
        u,
        p,
        warnings,
    ))
}
