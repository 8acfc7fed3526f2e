//! Where the keyring comes from, and its per-backend cache (CONTRACT §2): `phi_key`, else
//! `phi_key_file`, else `phi_key_command`. Parsed once per change of the setting (or of the
//! file's inode/size/mtime, checked at most once per statement) — never per row.

use super::errors::{self, raise, KEY_HINT};
use super::settings::{raw_setting, KEY_GENERATION, PHI_KEY, PHI_KEY_COMMAND, PHI_KEY_FILE};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;
use std::os::unix::fs::MetadataExt;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use vcf_pg_loader_core::crypto::{key_command, key_file, keyring, Keyring};
use zeroize::Zeroizing;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeySource {
    Setting,
    File,
    Command,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Setting => "setting",
            KeySource::File => "file",
            KeySource::Command => "command",
        }
    }
}

pub struct LoadedKeys {
    pub source: KeySource,
    pub keyring: Keyring,
    pub key_file: Option<String>,
    /// Non-fatal findings about the key's source (file inside the data directory...).
    pub warnings: Vec<String>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

struct Cached {
    generation: u64,
    stamp: Option<FileStamp>,
    checked_at: pg_sys::TimestampTz,
    keys: Option<Rc<LoadedKeys>>,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The configured keyring, or None when no key source is set.
pub fn current() -> Option<Rc<LoadedKeys>> {
    let generation = KEY_GENERATION.load(Ordering::SeqCst);
    // SAFETY: reads the statement start time of this backend.
    let stmt = unsafe { pg_sys::GetCurrentStatementStartTimestamp() };
    let hit = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let cached = c.as_mut()?;
        if cached.generation != generation {
            return None;
        }
        match cached.keys.as_ref().map(|k| k.source) {
            Some(KeySource::File) if cached.checked_at != stmt => {
                let path = cached.keys.as_ref()?.key_file.clone()?;
                let now = stamp_of(&path);
                if now.is_some() && now == cached.stamp {
                    cached.checked_at = stmt;
                    Some(cached.keys.clone())
                } else {
                    None
                }
            }
            _ => Some(cached.keys.clone()),
        }
    });
    if let Some(keys) = hit {
        return keys;
    }
    let (keys, stamp) = load();
    let keys = keys.map(Rc::new);
    if let Some(k) = &keys {
        for w in &k.warnings {
            pgrx::warning!("{w}");
        }
        pgrx::log!(
            "vcf_pg_loader: PHI keyring loaded from {} ({} key(s), active {})",
            k.source.as_str(),
            k.keyring.key_ids().len(),
            k.keyring.active_key_id()
        );
    }
    CACHE.with(|c| {
        *c.borrow_mut() = Some(Cached {
            generation,
            stamp,
            checked_at: stmt,
            keys: keys.clone(),
        })
    });
    keys
}

/// The keyring, or ERROR 55000 with a HINT when none is configured.
pub fn require() -> Rc<LoadedKeys> {
    current().unwrap_or_else(|| no_key())
}

/// ERROR 55000: no key source is configured.
pub fn no_key() -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "no PHI encryption key is configured (vcf_pg_loader.phi_key_file, phi_key or phi_key_command)",
        Some(KEY_HINT),
    )
}

fn load() -> (Option<LoadedKeys>, Option<FileStamp>) {
    if let Some(v) = raw_setting(&PHI_KEY) {
        // Parsed where the setting lives: no copy of the key text unless it is not UTF-8.
        let lossy: Zeroizing<String>;
        let text = match v.to_str() {
            Ok(t) => t,
            Err(_) => {
                lossy = Zeroizing::new(v.to_string_lossy().into_owned());
                lossy.as_str()
            }
        };
        let keyring =
            Keyring::parse(text).unwrap_or_else(|e| errors::keyring("vcf_pg_loader.phi_key", &e));
        return (
            Some(LoadedKeys {
                source: KeySource::Setting,
                keyring,
                key_file: None,
                warnings: vec![],
            }),
            None,
        );
    }
    if let Some(p) = raw_setting(&PHI_KEY_FILE) {
        let path = p.to_string_lossy().into_owned();
        let (keys, stamp) = load_file(&path);
        return (Some(keys), Some(stamp));
    }
    if let Some(c) = raw_setting(&PHI_KEY_COMMAND) {
        let cmd = c.to_string_lossy().into_owned();
        let text = run_key_command(&cmd);
        let text = std::str::from_utf8(&text).unwrap_or_else(|_| {
            raise(
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                "vcf_pg_loader.phi_key_command printed something that is not a keyring (invalid UTF-8)",
                None,
            )
        });
        let keyring = Keyring::parse(text)
            .unwrap_or_else(|e| errors::keyring("vcf_pg_loader.phi_key_command", &e));
        return (
            Some(LoadedKeys {
                source: KeySource::Command,
                keyring,
                key_file: None,
                warnings: vec![],
            }),
            None,
        );
    }
    (None, None)
}

fn stamp_of(path: &str) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
    })
}

/// The ownership and mode rule PostgreSQL applies to `ssl_key_file` (`core::crypto::key_file`).
pub fn check_key_file_permissions(
    path: &str,
    meta: &std::fs::Metadata,
) -> Result<(), (String, &'static str)> {
    let hint = "chown postgres:postgres FILE && chmod 0600 FILE (or owned by root with mode 0640)";
    key_file::check(meta, key_file::euid()).map_err(|p| {
        let msg = match p {
            key_file::KeyFileProblem::WrongOwner => {
                format!("PHI key file \"{path}\" must be owned by the database server user or root")
            }
            p => format!("PHI key file \"{path}\" {p}"),
        };
        (msg, hint)
    })
}

fn load_file(path: &str) -> (LoadedKeys, FileStamp) {
    let no_file = |e: std::io::Error| -> ! {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("could not read PHI key file \"{path}\": {e}"),
            Some(KEY_HINT),
        )
    };
    let mut f = std::fs::File::open(path).unwrap_or_else(|e| no_file(e));
    let meta = f.metadata().unwrap_or_else(|e| no_file(e));
    if let Err((msg, hint)) = check_key_file_permissions(path, &meta) {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            msg,
            Some(hint),
        );
    }
    // One buffer of the file's size (+1 to notice growth), never regrown, zeroed on drop.
    let bytes = keyring::read_text(&mut f, meta.len() as usize).unwrap_or_else(|e| no_file(e));
    let text = std::str::from_utf8(&bytes).unwrap_or_else(|_| {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("PHI key file \"{path}\" is not text (invalid UTF-8)"),
            Some(KEY_HINT),
        )
    });
    let keyring = Keyring::parse(text)
        .unwrap_or_else(|e| errors::keyring(&format!("key file \"{path}\""), &e));
    let mut warnings = Vec::new();
    if inside_data_directory(path) {
        warnings.push(format!(
            "PHI key file \"{path}\" lies inside the data directory: it is copied by file-level backups and replicas along with the data it protects"
        ));
    }
    let stamp = FileStamp {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.size(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
    };
    (
        LoadedKeys {
            source: KeySource::File,
            keyring,
            key_file: Some(path.to_string()),
            warnings,
        },
        stamp,
    )
}

pub fn inside_data_directory(path: &str) -> bool {
    // SAFETY: DataDir is set for the life of a backend.
    let dd = unsafe { pg_sys::DataDir };
    if dd.is_null() {
        return false;
    }
    let data_dir = unsafe { std::ffi::CStr::from_ptr(dd) }
        .to_string_lossy()
        .into_owned();
    let (Ok(p), Ok(d)) = (
        std::fs::canonicalize(path),
        std::fs::canonicalize(&data_dir),
    ) else {
        return false;
    };
    p.starts_with(d)
}

/// Run `phi_key_command` like `ssl_passphrase_command`: its stdout is the keyring. Errors
/// name the exit status, never the output (it may be a key). The command runs in its own
/// process group, killed on timeout or cancel; the wait checks for interrupts (query cancel)
/// at least every 50 ms (see `vcf_pg_loader_core::crypto::key_command`).
fn run_key_command(cmd: &str) -> Zeroizing<Vec<u8>> {
    let fail = |what: String| -> ! {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("vcf_pg_loader.phi_key_command {what}"),
            Some("Run the command by hand as the server user; it must print the keyring (base64 keys, one per line) and exit 0 within 10 s."),
        )
    };
    key_command::run(cmd, COMMAND_TIMEOUT, || {
        check_for_interrupts!();
    })
    .unwrap_or_else(|e| fail(e.to_string()))
}

/// The keyring re-checked now, not once per statement: for a load that waited on a lock
/// (rotation's last pass), so the key file is looked at again after the wait.
pub fn current_fresh() -> Option<Rc<LoadedKeys>> {
    CACHE.with(|c| {
        if let Some(cached) = c.borrow_mut().as_mut() {
            cached.checked_at = 0;
        }
    });
    current()
}
