//! `phi_encryption_status()` (CONTRACT §4): key ids, rows per key, and a self-audit of every
//! place a key or identifier can leak. Settings are read in C (`settings::setting_text`,
//! `setting_source`), never through `pg_settings`, which a session can shadow and which
//! hides `NO_SHOW_ALL` settings even from superusers.

use super::keys::{self, KeySource, LoadedKeys};
use super::privilege::as_owner;
use super::settings::{
    raw_setting, session_source, setting_source, setting_text, PHI_KEY, PHI_STORE_PLAINTEXT,
};
use super::spi;
use pgrx::pg_sys::GucSource;
use pgrx::prelude::*;
use std::ffi::CStr;

/// Mapping rows by key state: (active key, other keys, not encrypted, plaintext kept).
struct Counts {
    active: i64,
    other: i64,
    unencrypted: i64,
    plaintext: i64,
}

fn counts(active: &str) -> Counts {
    as_owner(|| {
        let r = spi::rows(
            "counting mapping rows",
            "SELECT pg_catalog.count(*) FILTER (WHERE key_id = $1),
                    pg_catalog.count(*) FILTER (WHERE key_id IS NOT NULL AND key_id <> $1),
                    pg_catalog.count(*) FILTER (WHERE original_id_encrypted IS NULL),
                    pg_catalog.count(*) FILTER (WHERE original_id IS NOT NULL)
               FROM phi_vault.sample_id_mapping",
            &[active.into()],
            |r| Counts {
                active: r.req(1),
                other: r.req(2),
                unencrypted: r.req(3),
                plaintext: r.req(4),
            },
        );
        r.into_iter().next().unwrap_or(Counts {
            active: 0,
            other: 0,
            unencrypted: 0,
            plaintext: 0,
        })
    })
}

/// Whether `shared_preload_libraries` names this library.
pub fn preloaded() -> bool {
    setting_text(c"shared_preload_libraries").is_some_and(|v| {
        v.split(',').any(|l| {
            let l = l.trim().trim_matches('"');
            let l = l.strip_prefix("$libdir/").unwrap_or(l);
            l.strip_suffix(".so").unwrap_or(l) == "vcf_pg_loader"
        })
    })
}

/// A duration setting in milliseconds-or-units form ("0", "250ms", "1s", "-1"): on unless
/// negative.
fn duration_enabled(name: &CStr) -> bool {
    setting_text(name).is_some_and(|v| !v.trim().starts_with('-'))
}

fn rate_positive(name: &CStr) -> bool {
    setting_text(name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .is_some_and(|v| v > 0.0)
}

fn logging_warnings(out: &mut Vec<String>) {
    if setting_text(c"log_statement").as_deref() == Some("all") {
        out.push("log_statement = 'all' writes every statement, including any phi_encrypt('…') plaintext and SET of keys, to the server log".into());
    }
    if duration_enabled(c"log_min_duration_statement") {
        out.push("log_min_duration_statement >= 0 logs statement texts, which may contain identifiers or keys".into());
    }
    if duration_enabled(c"log_min_duration_sample") && rate_positive(c"log_statement_sample_rate") {
        out.push("log_min_duration_sample >= 0 logs a sample of statement texts, which may contain identifiers or keys".into());
    }
    if rate_positive(c"log_transaction_sample_rate") {
        out.push("log_transaction_sample_rate > 0 logs every statement of sampled transactions, which may contain identifiers or keys".into());
    }
}

/// Where the inline key (`phi_key`) came from, and what that exposes.
fn key_setting_warnings(out: &mut Vec<String>) {
    let Some((source, file)) = setting_source(c"vcf_pg_loader.phi_key") else {
        return;
    };
    if raw_setting(&PHI_KEY).is_none() {
        return;
    }
    let file = file.unwrap_or_default();
    if file.ends_with("postgresql.auto.conf") {
        out.push("vcf_pg_loader.phi_key is set via ALTER SYSTEM: the key sits in clear in postgresql.auto.conf".into());
    } else if source == GucSource::PGC_S_FILE && !preloaded() {
        out.push("vcf_pg_loader.phi_key is set in postgresql.conf but the library is not in shared_preload_libraries: every role can SHOW the key until the library loads; use phi_key_file".into());
    } else if session_source(source) {
        out.push("vcf_pg_loader.phi_key was SET in this session: the statement text (with the key) may be in pg_stat_activity, pg_stat_statements and the server log; use phi_key_file".into());
    }
}

/// `vcf_pg_loader.phi_key` lines in `postgresql.auto.conf` (written by ALTER SYSTEM while the
/// library was not loaded, or by hand), whether or not they are in effect.
fn auto_conf_has_key() -> bool {
    // SAFETY: DataDir is set for the life of a backend.
    let dd = unsafe { pgrx::pg_sys::DataDir };
    if dd.is_null() {
        return false;
    }
    let dir = unsafe { CStr::from_ptr(dd) }.to_string_lossy().into_owned();
    let Ok(text) = std::fs::read_to_string(format!("{dir}/postgresql.auto.conf")) else {
        return false;
    };
    let found = text.lines().any(|l| {
        let l = l.trim_start().to_ascii_lowercase();
        l.strip_prefix("vcf_pg_loader.phi_key")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    zeroize::Zeroize::zeroize(&mut text.into_bytes());
    found
}

/// Key text stored in catalogs every role can read: per-role/per-database settings and
/// function SET clauses (accepted by sessions that had not loaded the library).
fn catalog_key_warnings(out: &mut Vec<String>) {
    let (roles, functions) = as_owner(|| {
        let pattern = "vcf_pg_loader.phi_key=%";
        (
            spi::one::<i64>(
                "searching pg_db_role_setting",
                "SELECT pg_catalog.count(*) FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c
                  WHERE pg_catalog.lower(c) LIKE $1",
                &[pattern.into()],
            )
            .unwrap_or(0),
            spi::one::<i64>(
                "searching pg_proc",
                "SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc p, pg_catalog.unnest(p.proconfig) c
                  WHERE pg_catalog.lower(c) LIKE $1",
                &[pattern.into()],
            )
            .unwrap_or(0),
        )
    });
    if roles > 0 {
        out.push(format!("{roles} per-role/per-database setting(s) of vcf_pg_loader.phi_key in pg_db_role_setting: every role can read them; ALTER ROLE/DATABASE … RESET vcf_pg_loader.phi_key and preload the library"));
    }
    if functions > 0 {
        out.push(format!("{functions} function(s) carry vcf_pg_loader.phi_key in a SET clause (pg_proc.proconfig, readable by every role): ALTER FUNCTION … RESET vcf_pg_loader.phi_key"));
    }
    if auto_conf_has_key() {
        out.push("postgresql.auto.conf holds vcf_pg_loader.phi_key in clear (ALTER SYSTEM): ALTER SYSTEM RESET vcf_pg_loader.phi_key and use phi_key_file".into());
    }
}

fn pg_stat_statements_warning(keys: Option<&LoadedKeys>, out: &mut Vec<String>) {
    if !matches!(keys.map(|k| k.source), Some(KeySource::Setting)) {
        return;
    }
    let installed = as_owner(|| {
        spi::one::<bool>(
            "looking for pg_stat_statements",
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements')",
            &[],
        )
    });
    if installed == Some(true) {
        out.push("pg_stat_statements is installed and the key comes from the phi_key setting: SET statements with keys are recorded there".into());
    }
}

fn row_warnings(c: &Counts, out: &mut Vec<String>) {
    if PHI_STORE_PLAINTEXT.get() {
        out.push(
            "vcf_pg_loader.phi_store_plaintext is on: new identifiers are also stored in clear"
                .into(),
        );
    }
    if c.plaintext > 0 {
        out.push(format!("{} mapping row(s) hold identifiers in clear text: SELECT phi_clear_plaintext() once they are encrypted", c.plaintext));
    }
    if c.other > 0 {
        out.push(format!("{} mapping row(s) are under a non-active key: SELECT phi_rotate_key() to finish a rotation", c.other));
    }
    if c.unencrypted > 0 {
        out.push(format!(
            "{} mapping row(s) are not encrypted: configure a key and SELECT phi_rotate_key()",
            c.unencrypted
        ));
    }
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
    let ids: Vec<String> = keys
        .as_ref()
        .map(|k| k.keyring.key_ids().iter().map(|i| i.to_string()).collect())
        .unwrap_or_default();
    match &keys {
        Some(k) => warnings.extend(k.warnings.iter().cloned()),
        None => warnings.push("no PHI key configured: vcf_load refuses sample identifiers while require_encryption is on".into()),
    }
    if !preloaded() {
        warnings.push("vcf_pg_loader is not in shared_preload_libraries: sessions that have not loaded it accept ALTER ROLE/DATABASE … SET of key settings and show postgresql.conf key settings to every role".into());
    }
    key_setting_warnings(&mut warnings);
    catalog_key_warnings(&mut warnings);
    logging_warnings(&mut warnings);
    pg_stat_statements_warning(keys.as_deref(), &mut warnings);
    let c = counts(ids.first().map(String::as_str).unwrap_or(""));
    row_warnings(&c, &mut warnings);
    let library = format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    TableIterator::once((
        keys.is_some(),
        "AES-256-GCM".to_string(),
        keys.as_ref().map(|k| k.source.as_str().to_string()),
        keys.as_ref().and_then(|k| k.key_file.clone()),
        ids.first().cloned(),
        ids.iter().skip(1).cloned().collect(),
        library,
        c.active,
        c.other,
        c.unencrypted,
        c.plaintext,
        warnings,
    ))
}
