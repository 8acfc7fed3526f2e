//! The one place where typed errors of the pure cores become SQLSTATEs (CONTRACT §7).
//! Messages carry positions and key ids only — never key bytes, identifiers or ciphertext.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use vcf_pg_loader_core::crypto::{EnvelopeError, KeyringError};
use vcf_pg_loader_core::vcf::{VcfError, VcfErrorKind};

pub const KEY_HINT: &str = "Create a key file: umask 077; psql -Atc 'SELECT phi_generate_key()' > /etc/postgresql/vcf_phi.keys; chown postgres /etc/postgresql/vcf_phi.keys; then set vcf_pg_loader.phi_key_file to its path in postgresql.conf and reload.";

/// Raise an ERROR; never returns.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, hint: Option<&str>) -> ! {
    let mut r = ErrorReport::new(code, message.into(), "vcf_pg_loader");
    if let Some(h) = hint {
        r = r.set_hint(h.to_string());
    }
    r.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

pub fn envelope(e: &EnvelopeError) -> ! {
    match e {
        EnvelopeError::UnknownKeyId(_) => raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            e.to_string(),
            Some("Add the key with that id to the keyring (after the active key) so it can decrypt; phi_encryption_status() lists configured key ids."),
        ),
        EnvelopeError::TooLong => raise(PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED, e.to_string(), None),
        EnvelopeError::Malformed(_) | EnvelopeError::AuthenticationFailed(_) => {
            raise(PgSqlErrorCode::ERRCODE_DATA_CORRUPTED, e.to_string(), None)
        }
    }
}

pub fn keyring(source: &str, e: &KeyringError) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("invalid PHI keyring from {source}: {e}"),
        Some("Each key is base64 of 32 random bytes, one per line (or comma-separated in the setting); SELECT phi_generate_key() makes one."),
    )
}

pub fn vcf(path: &str, e: &VcfError) -> ! {
    vcf_redacted(path, e, |s| s.to_string())
}

/// A VCF error raised after the header is read: the whole message passes through `redact`
/// (sample names to pseudonyms, CONTRACT §5), the path included.
pub fn vcf_redacted(path: &str, e: &VcfError, redact: impl Fn(&str) -> String) -> ! {
    let code = match e.kind {
        VcfErrorKind::Format => PgSqlErrorCode::ERRCODE_BAD_COPY_FILE_FORMAT,
        VcfErrorKind::NotFound => PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
        VcfErrorKind::NotRegularFile => PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
        VcfErrorKind::Io => PgSqlErrorCode::ERRCODE_IO_ERROR,
        VcfErrorKind::PermissionDenied => PgSqlErrorCode::ERRCODE_IO_ERROR,
        VcfErrorKind::Internal => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
    };
    let hint = match e.kind {
        VcfErrorKind::NotFound | VcfErrorKind::PermissionDenied => {
            Some("The path is read by the database server process, on the server's file system.")
        }
        VcfErrorKind::NotRegularFile => {
            Some("vcf_load reads .vcf or .vcf.gz files, not directories, devices or FIFOs.")
        }
        _ => None,
    };
    raise(code, redact(&e.located(path)), hint)
}
