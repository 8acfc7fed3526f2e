//! The client's keyring (CONTRACT §2 and §10), from the first of: `VCF_PG_LOADER_PHI_KEY`
//! (keys inline, comma-separated, first active), `VCF_PG_LOADER_PHI_KEY_FILE` (the server's
//! ownership and mode rule, for the user running the CLI), `VCF_PG_LOADER_PHI_KEY_COMMAND`
//! (its standard output; `/bin/sh -c`, 10 s, own process group — the server's rules). The
//! same keyring format, key ids and blind index as the extension: one core.
//!
//! Key text is read into zeroized buffers, and the inline variable is removed from this
//! process's environment once read, so no child process (a key command) inherits it.

use crate::error::{CliError, Result};
use std::time::Duration;
use vcf_pg_loader_core::crypto::{key_command, key_file, keyring, Keyring};
use zeroize::Zeroizing;

pub const KEY_ENV: &str = "VCF_PG_LOADER_PHI_KEY";
pub const KEY_FILE_ENV: &str = "VCF_PG_LOADER_PHI_KEY_FILE";
pub const KEY_COMMAND_ENV: &str = "VCF_PG_LOADER_PHI_KEY_COMMAND";
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
pub const NO_KEY_HINT: &str = "mkdir -m 700 -p ~/.vcf-pg-loader && vcf-pg-loader security generate-key --output ~/.vcf-pg-loader/phi.key, then export VCF_PG_LOADER_PHI_KEY_FILE=~/.vcf-pg-loader/phi.key (or VCF_PG_LOADER_PHI_KEY_COMMAND for a KMS)";

/// Where the keyring came from, for check-encryption (never the key).
#[derive(Debug, Clone)]
pub enum KeySource {
    Inline,
    File(String),
    Command,
}

impl KeySource {
    pub fn describe(&self) -> String {
        match self {
            KeySource::Inline => format!("environment ({KEY_ENV})"),
            KeySource::File(p) => format!("key file {p} ({KEY_FILE_ENV})"),
            KeySource::Command => format!("key command ({KEY_COMMAND_ENV})"),
        }
    }
}

pub struct Keys {
    pub keyring: Keyring,
    pub source: KeySource,
}

pub fn parse(text: &[u8], from: &str) -> Result<Keyring> {
    let text = std::str::from_utf8(text).map_err(|_| {
        CliError::new(format!(
            "PHI keyring from {from} is not text (invalid UTF-8)"
        ))
    })?;
    Keyring::parse(text).map_err(|e| {
        CliError::new(format!("invalid PHI keyring from {from}: {e}"))
            .hint("Each key is base64 of 32 random bytes, one per line (or comma-separated); vcf-pg-loader security generate-key makes one.")
    })
}

/// Read a keyring file under the key file rule.
pub fn read_file(path: &str) -> Result<Keyring> {
    let no_file = |e: std::io::Error| {
        CliError::new(format!("could not read PHI key file \"{path}\": {e}")).hint(NO_KEY_HINT)
    };
    let mut f = std::fs::File::open(path).map_err(no_file)?;
    let meta = f.metadata().map_err(no_file)?;
    key_file::check(&meta, key_file::euid()).map_err(|p| {
        CliError::new(format!("PHI key file \"{path}\" {p}")).hint(
            "chmod 0600 FILE, owned by the user running vcf-pg-loader (or by root with mode 0640)",
        )
    })?;
    let bytes = keyring::read_text(&mut f, meta.len() as usize).map_err(no_file)?;
    parse(&bytes, &format!("key file \"{path}\""))
}

fn run_command(cmd: &str) -> Result<Keyring> {
    let out = key_command::run(cmd, COMMAND_TIMEOUT, || {}).map_err(|e| {
        CliError::new(format!("{KEY_COMMAND_ENV} failed: {e}")).hint(
            "The command must print the keyring (base64 keys) on standard output within 10 s.",
        )
    })?;
    parse(&out, KEY_COMMAND_ENV)
}

/// The keyring from the environment, or None when no source is set.
pub fn from_env() -> Result<Option<Keys>> {
    if let Some(v) = std::env::var_os(KEY_ENV) {
        let text = Zeroizing::new(v.into_encoded_bytes());
        // Gone before any child process can be started.
        std::env::remove_var(KEY_ENV);
        if !text.is_empty() {
            return Ok(Some(Keys {
                keyring: parse(&text, KEY_ENV)?,
                source: KeySource::Inline,
            }));
        }
    }
    if let Some(path) = std::env::var(KEY_FILE_ENV).ok().filter(|p| !p.is_empty()) {
        return Ok(Some(Keys {
            keyring: read_file(&path)?,
            source: KeySource::File(path),
        }));
    }
    if let Some(cmd) = std::env::var(KEY_COMMAND_ENV)
        .ok()
        .filter(|c| !c.is_empty())
    {
        return Ok(Some(Keys {
            keyring: run_command(&cmd)?,
            source: KeySource::Command,
        }));
    }
    Ok(None)
}

/// The keyring, or an error saying how to make one.
pub fn require() -> Result<Keys> {
    from_env()?.ok_or_else(|| {
        CliError::new("no PHI key: sample identifiers are sealed on this client, and none of VCF_PG_LOADER_PHI_KEY, VCF_PG_LOADER_PHI_KEY_FILE, VCF_PG_LOADER_PHI_KEY_COMMAND is set")
            .hint(NO_KEY_HINT)
    })
}
