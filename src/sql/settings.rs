//! `vcf_pg_loader.*` settings (CONTRACT §2). Key settings are superuser-only, hidden from
//! `SHOW ALL`, refused in `ALTER SYSTEM` (DISALLOW_IN_AUTO_FILE) and — by the check hook —
//! in per-role, per-database and per-function settings, whose text any role can read in
//! `pg_db_role_setting` / `pg_proc.proconfig`. `SHOW vcf_pg_loader.phi_key` prints key ids.

use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicU64, Ordering};
use vcf_pg_loader_core::crypto::Keyring;

pub static PHI_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
pub static PHI_KEY_FILE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
pub static PHI_KEY_COMMAND: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
pub static PHI_STORE_PLAINTEXT: GucSetting<bool> = GucSetting::<bool>::new(false);
pub static REQUIRE_ENCRYPTION: GucSetting<bool> = GucSetting::<bool>::new(true);
pub static REQUIRE_SSL: GucSetting<bool> = GucSetting::<bool>::new(false);
/// Directories `vcf_loader` members may load from (CONTRACT §2, §5).
pub static LOAD_DIRECTORIES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Why identifiers are revealed in bulk (`phi_decrypt`); only a value SET in the session counts.
pub static REVEAL_REASON: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Keep command-line header lines (sample names replaced) instead of storing them redacted.
pub static KEEP_HEADER_COMMANDS: GucSetting<bool> = GucSetting::<bool>::new(false);
/// Set (transaction-local) by rotation so the mapping table's trigger lets crypto columns change.
pub static INTERNAL_ROTATION: GucSetting<bool> = GucSetting::<bool>::new(false);

/// How `vcf_load` writes rows (docs/performance.md).
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LoadMethod {
    /// COPY machinery where it may be used, else batched INSERT.
    #[name = c"auto"]
    Auto,
    /// COPY machinery or an error saying why it cannot be used.
    #[name = c"copy"]
    Copy,
    /// Batched `INSERT … SELECT FROM unnest(…)` statements.
    #[name = c"insert"]
    Insert,
}
pub static LOAD_METHOD: GucSetting<LoadMethod> = GucSetting::<LoadMethod>::new(LoadMethod::Auto);

/// Bumped whenever a key setting changes: the key cache compares it, so keys are read once
/// per change, never per row.
pub static KEY_GENERATION: AtomicU64 = AtomicU64::new(1);

fn key_flags() -> GucFlags {
    GucFlags::SUPERUSER_ONLY
        | GucFlags::NO_SHOW_ALL
        | GucFlags::DISALLOW_IN_AUTO_FILE
        | GucFlags::NO_RESET_ALL
}

pub fn register() {
    // SAFETY: hooks are #[pg_guard]ed and only read their arguments.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"vcf_pg_loader.phi_key",
            c"PHI keyring inline: comma-separated base64 keys, the first active. For tests and sessions.",
            c"Superuser-only; takes precedence over phi_key_file. SHOW prints key ids, never keys. Prefer phi_key_file in production.",
            &PHI_KEY,
            GucContext::Suset,
            key_flags(),
            Some(check_key_setting),
            Some(bump_generation),
            Some(show_phi_key),
        );
        GucRegistry::define_string_guc_with_hooks(
            c"vcf_pg_loader.phi_key_file",
            c"Path of the PHI keyring file: one base64 key per line, first active.",
            c"Must be a regular file owned by the server user (mode 0600 or stricter) or by root (0640 or stricter).",
            &PHI_KEY_FILE,
            GucContext::Suset,
            key_flags(),
            Some(check_key_setting),
            Some(bump_generation),
            None,
        );
        GucRegistry::define_string_guc_with_hooks(
            c"vcf_pg_loader.phi_key_command",
            c"Command whose standard output is the PHI keyring (KMS hook), like ssl_passphrase_command.",
            c"postgresql.conf only. Run once per change; must finish within 10 s. Lowest precedence.",
            &PHI_KEY_COMMAND,
            GucContext::Sighup,
            key_flags(),
            Some(check_key_setting),
            Some(bump_generation),
            None,
        );
    }
    GucRegistry::define_bool_guc(
        c"vcf_pg_loader.phi_store_plaintext",
        c"Also keep sample identifiers in clear text in phi_vault.sample_id_mapping.original_id.",
        c"Legacy queries only; phi_encryption_status() warns while it is on.",
        &PHI_STORE_PLAINTEXT,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"vcf_pg_loader.require_encryption",
        c"vcf_load refuses to store sample identifiers when no PHI key is configured.",
        c"",
        &REQUIRE_ENCRYPTION,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"vcf_pg_loader.require_ssl",
        c"Functions that reveal identifiers refuse TCP connections without TLS.",
        c"",
        &REQUIRE_SSL,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"vcf_pg_loader.keep_header_commands",
        c"Keep command-line header lines (with sample names replaced) instead of storing them as <redacted>.",
        c"Command lines often name other people's files and samples; off by default.",
        &KEEP_HEADER_COMMANDS,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SAFETY: hooks are #[pg_guard]ed and only read their arguments.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"vcf_pg_loader.load_directories",
            c"Comma-separated absolute directories from which members of vcf_loader may vcf_load.",
            c"A file's real path (symlinks resolved) must lie under one of them. Empty: vcf_loader members can load nothing.",
            &LOAD_DIRECTORIES,
            GucContext::Suset,
            GucFlags::default(),
            Some(check_load_directories),
            None,
            None,
        );
        GucRegistry::define_string_guc_with_hooks(
            c"vcf_pg_loader.reveal_reason",
            c"Why identifiers are revealed in bulk with phi_decrypt(); recorded in the audit log.",
            c"Only a value set in the session counts: role, database and file defaults are refused.",
            &REVEAL_REASON,
            GucContext::Userset,
            GucFlags::NO_RESET_ALL,
            Some(check_reveal_reason),
            None,
            None,
        );
    }
    GucRegistry::define_enum_guc(
        c"vcf_pg_loader.load_method",
        c"How vcf_load writes rows: auto (COPY machinery unless row-level security applies), copy, or insert.",
        c"insert uses batched INSERT statements, which row-level security policies and statement-level tooling see.",
        &LOAD_METHOD,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"vcf_pg_loader.internal_rotation",
        c"Internal: set by phi_rotate_key while it rewrites crypto columns.",
        c"",
        &INTERNAL_ROTATION,
        GucContext::Userset,
        GucFlags::NO_SHOW_ALL
            | GucFlags::NO_RESET_ALL
            | GucFlags::DISALLOW_IN_FILE
            | GucFlags::DISALLOW_IN_AUTO_FILE,
    );
    // SAFETY: plain C call with a static string.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"vcf_pg_loader".as_ptr()) };
}

/// Refuse key settings from places whose text other roles can read.
#[pg_guard]
unsafe extern "C-unwind" fn check_key_setting(
    _newval: *mut *mut c_char,
    _extra: *mut *mut c_void,
    source: pg_sys::GucSource::Type,
) -> bool {
    use pg_sys::GucSource::*;
    let refused = matches!(
        source,
        PGC_S_GLOBAL | PGC_S_DATABASE | PGC_S_USER | PGC_S_DATABASE_USER | PGC_S_TEST
    );
    if refused {
        // SAFETY: the GUC machinery reads these palloc'd strings right after we return false.
        unsafe {
            pg_sys::GUC_check_errcode(PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE as i32);
            pg_sys::GUC_check_errmsg_string = pg_sys::pstrdup(
                c"PHI key settings cannot be set per role, per database or per function".as_ptr(),
            );
            pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(
                c"Their values are readable by every role there. Use vcf_pg_loader.phi_key_file in postgresql.conf.".as_ptr(),
            );
        }
    }
    !refused
}

/// A reveal reason is a statement of this session: refuse defaults whose text was set for
/// everyone (postgresql.conf, ALTER ROLE/DATABASE … SET, function SET clauses).
#[pg_guard]
unsafe extern "C-unwind" fn check_reveal_reason(
    _newval: *mut *mut c_char,
    _extra: *mut *mut c_void,
    source: pg_sys::GucSource::Type,
) -> bool {
    let ok = session_source(source) || source == pg_sys::GucSource::PGC_S_DEFAULT;
    if !ok {
        // SAFETY: as in check_key_setting.
        unsafe {
            pg_sys::GUC_check_errcode(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE as i32);
            pg_sys::GUC_check_errmsg_string = pg_sys::pstrdup(
                c"vcf_pg_loader.reveal_reason can only be set in the session that reveals".as_ptr(),
            );
            pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(
                c"SET vcf_pg_loader.reveal_reason = '<why>' before calling phi_decrypt().".as_ptr(),
            );
        }
    }
    ok
}

/// A value the session itself chose: `SET`, `set_config()`, or connection options.
pub fn session_source(source: pg_sys::GucSource::Type) -> bool {
    use pg_sys::GucSource::*;
    matches!(source, PGC_S_SESSION | PGC_S_CLIENT | PGC_S_INTERACTIVE)
}

/// Every entry of `load_directories` must be an absolute path.
#[pg_guard]
unsafe extern "C-unwind" fn check_load_directories(
    newval: *mut *mut c_char,
    _extra: *mut *mut c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: the GUC machinery passes a valid C string (or null).
    let value = unsafe {
        if newval.is_null() || (*newval).is_null() {
            return true;
        }
        CStr::from_ptr(*newval).to_string_lossy().into_owned()
    };
    let ok = load_directories_of(&value)
        .iter()
        .all(|d| d.starts_with('/'));
    if !ok {
        unsafe {
            pg_sys::GUC_check_errmsg_string = pg_sys::pstrdup(
                c"vcf_pg_loader.load_directories must list absolute directories".as_ptr(),
            );
        }
    }
    ok
}

/// The directories of a `load_directories` value, trimmed, empty entries dropped.
pub fn load_directories_of(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

#[pg_guard]
unsafe extern "C-unwind" fn bump_generation(_newval: *const c_char, _extra: *mut c_void) {
    KEY_GENERATION.fetch_add(1, Ordering::SeqCst);
}

thread_local! {
    static SHOWN: std::cell::RefCell<CString> = std::cell::RefCell::new(CString::default());
}

/// `SHOW vcf_pg_loader.phi_key`: key ids only.
#[pg_guard]
unsafe extern "C-unwind" fn show_phi_key() -> *const c_char {
    let raw = unsafe { *PHI_KEY.as_ptr() };
    let text = if raw.is_null() || unsafe { *raw } == 0 {
        String::new()
    } else {
        let value = unsafe { CStr::from_ptr(raw) }.to_str().unwrap_or("");
        match Keyring::parse(value) {
            Ok(k) => redacted(&k),
            Err(_) => "(redacted: invalid keyring)".to_string(),
        }
    };
    SHOWN.with(|s| {
        *s.borrow_mut() = CString::new(text).unwrap_or_default();
        s.borrow().as_ptr()
    })
}

pub fn redacted(k: &Keyring) -> String {
    let ids: Vec<String> = k.key_ids().iter().map(|i| i.to_string()).collect();
    format!(
        "(redacted: {} key{}, active {}{})",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" },
        ids[0],
        if ids.len() > 1 {
            format!(", also {}", ids[1..].join(" "))
        } else {
            String::new()
        }
    )
}

/// The raw C string of a string setting, without copying it (keys are zeroized copies only).
pub fn raw_setting(setting: &'static GucSetting<Option<CString>>) -> Option<&'static CStr> {
    // SAFETY: the GUC machinery owns the string until the next assignment; callers use it
    // immediately and do not keep the reference.
    let raw = unsafe { *setting.as_ptr() };
    if raw.is_null() {
        return None;
    }
    let s = unsafe { CStr::from_ptr(raw) };
    if s.to_bytes().is_empty() {
        None
    } else {
        Some(s)
    }
}

/// A server setting's current value, read in C (`GetConfigOption`), never through the
/// `pg_settings` view a session can shadow. None if the setting does not exist.
pub fn setting_text(name: &CStr) -> Option<String> {
    // SAFETY: returns a pointer into GUC storage (or null), copied at once.
    unsafe {
        let v = pg_sys::GetConfigOption(name.as_ptr(), true, false);
        (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
    }
}

/// Where a setting's current value came from: its source and, for files, the file name.
pub fn setting_source(name: &CStr) -> Option<(pg_sys::GucSource::Type, Option<String>)> {
    // SAFETY: walks the backend's GUC array; entries are valid for the life of the backend.
    unsafe {
        let vars = pg_sys::get_guc_variables();
        for i in 0..pg_sys::GetNumConfigOptions() as usize {
            let g = *vars.add(i);
            if g.is_null() || libc::strcasecmp((*g).name, name.as_ptr()) != 0 {
                continue;
            }
            let file = (!(*g).sourcefile.is_null()).then(|| {
                CStr::from_ptr((*g).sourcefile)
                    .to_string_lossy()
                    .into_owned()
            });
            return Some(((*g).source, file));
        }
    }
    None
}
