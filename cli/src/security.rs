//! `vcf-pg-loader security …`: generate-key, check-encryption, rotate-key (CONTRACT §10).

use crate::error::{CliError, Result};
use crate::keys::{self, Keys};
use postgres::Client;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use uuid::Uuid;
use vcf_pg_loader_core::crypto::{keyring, Keyring};
use zeroize::Zeroizing;

/// A new key: into a new file (0600, owned by the user running this, never overwritten), or
/// printed. Returns the line to print on stdout, if any.
pub fn generate_key(output: Option<&str>, raw: bool) -> Result<Option<Zeroizing<String>>> {
    let key = keyring::generate_key_base64();
    let id = keyring::key_id(&decode(&key)?);
    let Some(path) = output else {
        if raw {
            return Ok(Some(key));
        }
        eprintln!("a new PHI key, key id {id}: keep it in a file of mode 0600 (or a secrets manager); never in SQL or shell history");
        return Ok(Some(key));
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            let e = CliError::new(format!("could not create key file \"{path}\": {e}"));
            if std::path::Path::new(path).exists() {
                e.hint("A key file is never overwritten: data sealed under its key would be lost. Choose a new name.")
            } else {
                e
            }
        })?;
    // The umask may have narrowed the mode; nothing may have widened it.
    let mut line = Zeroizing::new(String::with_capacity(key.len() + 1));
    line.push_str(&key);
    line.push('\n');
    f.write_all(line.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| CliError::new(format!("could not write key file \"{path}\": {e}")))?;
    eprintln!("wrote a new PHI key (key id {id}) to {path} (mode 0600)");
    Ok(None)
}

fn decode(key: &str) -> Result<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map(Zeroizing::new)
        .map_err(|_| CliError::new("internal error: generated key is not base64"))
}

/// Mapping rows per key id (None: stored without encryption).
fn counts(c: &mut Client) -> Result<Vec<(Option<String>, i64)>> {
    Ok(c
        .query(
            "SELECT key_id, count(*) FROM phi_vault.pseudonyms GROUP BY key_id ORDER BY key_id NULLS FIRST",
            &[],
        )
        .map_err(|e| CliError::db("counting mapping rows (phi_vault.pseudonyms; phi_admin or phi_viewer)", e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The status block of the encryption guide, then the database's counts. Ok(false) when
/// something needs attention (no key, rows in clear, rows under a key this keyring lacks).
pub fn check_encryption(c: &mut Client, keys: Option<&Keys>, label: &str) -> Result<bool> {
    let mut ok = true;
    match keys {
        Some(k) => {
            let ids: Vec<String> = k.keyring.key_ids().iter().map(|i| i.to_string()).collect();
            println!("Status:      ENABLED");
            println!("Algorithm:   AES-256-GCM (envelope v1: 96-bit random nonce, 128-bit tag, context-bound)");
            println!("Key Source:  {}", k.source.describe());
            println!(
                "Key IDs:     {} (active), {} in the keyring",
                ids[0],
                ids.len()
            );
        }
        None => {
            ok = false;
            println!("Status:      DISABLED (no PHI key)");
            println!("Algorithm:   AES-256-GCM (envelope v1)");
            println!("Key Source:  none: set VCF_PG_LOADER_PHI_KEY_FILE, VCF_PG_LOADER_PHI_KEY_COMMAND or VCF_PG_LOADER_PHI_KEY");
        }
    }
    println!(
        "Library:     vcf-pg-loader {} (RustCrypto aes-gcm, client-side)",
        env!("CARGO_PKG_VERSION")
    );
    let ext: Option<String> = c
        .query_opt(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vcf_pg_loader'",
            &[],
        )
        .map_err(|e| CliError::db("reading pg_extension", e))?
        .map(|r| r.get(0));
    println!(
        "Database:    {label} ({})",
        match ext {
            Some(v) => format!("extension vcf_pg_loader {v} installed"),
            None => "no extension: client-side encryption".into(),
        }
    );
    let rows = counts(c)?;
    let clear: i64 = rows.iter().filter(|r| r.0.is_none()).map(|r| r.1).sum();
    let sealed: i64 = rows.iter().filter(|r| r.0.is_some()).map(|r| r.1).sum();
    println!("Encrypted:   {sealed} mapping rows");
    println!("Unencrypted: {clear} mapping rows");
    if clear > 0 {
        ok = false;
    }
    for (id, n) in rows
        .iter()
        .filter_map(|(id, n)| id.as_ref().map(|i| (i, n)))
    {
        let note = match keys {
            Some(k) if k.keyring.active_key_id().to_string() == *id => " (active)",
            Some(k) if k.keyring.key_ids().iter().any(|i| i.to_string() == *id) => {
                " (in the keyring: rotate-key moves these to the active key)"
            }
            Some(_) => {
                ok = false;
                " (NOT in this keyring: these cannot be revealed or rotated here)"
            }
            None => "",
        };
        println!("  key {id}: {n}{note}");
    }
    Ok(ok)
}

/// Mapping rows sealed under a key other than `active` (phi_vault.pseudonyms).
pub fn left_under_other_keys(c: &mut Client, active: &str) -> Result<i64> {
    Ok(c.query_one(
        "SELECT count(*) FROM phi_vault.pseudonyms WHERE key_id IS NOT NULL AND key_id <> $1",
        &[&active],
    )
    .map_err(|e| CliError::db("counting rows left to rotate", e))?
    .get(0))
}

/// The new active key, from `--new-key` or `--new-key-file`.
pub fn new_key(key: Option<&str>, file: Option<&str>) -> Result<Keyring> {
    match (key, file) {
        (Some(k), None) => keys::parse(k.as_bytes(), "--new-key"),
        (None, Some(f)) => keys::read_file(f),
        _ => Err(CliError::new(
            "give exactly one of --new-key KEY and --new-key-file FILE",
        )),
    }
}

/// What a rotation did.
pub struct Rotated {
    pub rows: i64,
    /// Rows this keyring could not open (unknown key, not authentic): reported, passed over.
    pub unopened: Vec<(Uuid, String)>,
}

/// Re-seal every mapping row not under `new`'s active key, `batch` rows per transaction:
/// rows read locked (SKIP LOCKED) in mapping_id order, opened with the current keyring, sealed
/// and indexed under the new key, written back only if still under the key they were read
/// under, audited per batch, committed. A row that cannot be opened is reported and passed;
/// a rerun resumes by key id (rows under the new key are done).
pub fn rotate_key(c: &mut Client, current: &Keyring, new: &Keyring, batch: i32) -> Result<Rotated> {
    let active = new.active_key_id().to_string();
    let mut done = Rotated {
        rows: 0,
        unopened: Vec::new(),
    };
    let mut after = 0i64;
    loop {
        let mut tx = c
            .transaction()
            .map_err(|e| CliError::db("starting a rotation batch", e))?;
        let rows = tx
            .query(
                "SELECT mapping_id, anonymous_id, key_id, original_id_encrypted FROM phi_vault.client_rotation_rows($1, $2, $3)",
                &[&active, &batch, &after],
            )
            .map_err(|e| CliError::db("reading rows to rotate", e))?;
        if rows.is_empty() {
            tx.commit().map_err(|e| CliError::db("committing", e))?;
            return Ok(done);
        }
        let (mut ids, mut olds, mut envs, mut hmacs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in &rows {
            after = after.max(r.get::<_, i64>(0));
            let id: Uuid = r.get(1);
            let old: String = r.get(2);
            let ct: Vec<u8> = r.get(3);
            let ctx = id.to_string();
            let name = match current.decrypt(&ct, ctx.as_bytes()) {
                Ok(pt) => Zeroizing::new(pt),
                Err(e) => {
                    done.unopened.push((id, e.to_string()));
                    continue;
                }
            };
            let sealed = new
                .seal(&name, ctx.as_bytes())
                .map_err(|e| CliError::new(format!("sealing mapping row {id}: {e}")))?;
            hmacs.push(sealed.blind_index().to_vec());
            envs.push(sealed.into_envelope());
            ids.push(id);
            olds.push(old);
        }
        let n: i64 = if ids.is_empty() {
            0
        } else {
            tx.query_one(
                "SELECT phi_vault.client_rotate($1, $2, $3, $4)",
                &[&ids, &olds, &envs, &hmacs],
            )
            .map_err(|e| CliError::db("writing rotated rows", e))?
            .get(0)
        };
        tx.commit()
            .map_err(|e| CliError::db("committing a rotation batch", e))?;
        crate::audit::seal(c);
        done.rows += n;
        eprintln!(
            "rotate-key: {} rows re-encrypted under key {active}",
            done.rows
        );
    }
}
