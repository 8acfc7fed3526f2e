//! `vcf-pg-loader phi reveal UUID --reason R` and `phi lookup NAME`, audited like
//! `phi_reverse_lookup` and `phi_lookup`: the audit row is written by the server's client API
//! and committed before the client decrypts or prints anything.

use crate::error::{CliError, Result};
use postgres::Client;
use uuid::Uuid;
use vcf_pg_loader_core::crypto::Keyring;
use zeroize::Zeroizing;

pub fn reveal(
    c: &mut Client,
    keyring: &Keyring,
    id: Uuid,
    reason: &str,
) -> Result<Zeroizing<String>> {
    let mut tx = c
        .transaction()
        .map_err(|e| CliError::db("starting the reveal", e))?;
    let row = tx
        .query_one(
            "SELECT original_id_encrypted, original_id FROM phi_vault.client_reveal($1, $2)",
            &[&id, &reason],
        )
        .map_err(|e| CliError::db("phi reveal", e))?;
    tx.commit()
        .map_err(|e| CliError::db("committing the audit row", e))?;
    crate::audit::seal(c);
    let (enc, plain): (Option<Vec<u8>>, Option<String>) = (row.get(0), row.get(1));
    match (enc, plain) {
        (Some(ct), _) => {
            let pt = Zeroizing::new(keyring.decrypt(&ct, id.to_string().as_bytes()).map_err(|e| {
                CliError::new(format!("pseudonym {id}: {e}"))
                    .hint("The keyring must hold the key the row was sealed under (security check-encryption lists key ids).")
            })?);
            String::from_utf8(pt.to_vec())
                .map(Zeroizing::new)
                .map_err(|_| {
                    CliError::new(format!(
                        "pseudonym {id}: decrypted identifier is not valid UTF-8"
                    ))
                })
        }
        (None, Some(p)) => Ok(Zeroizing::new(p)),
        (None, None) => Err(CliError::new(format!("no sample has pseudonym {id}"))),
    }
}

pub fn lookup(c: &mut Client, keyring: &Keyring, name: &str) -> Result<Vec<Uuid>> {
    let hmacs: Vec<Vec<u8>> = keyring
        .blind_indexes(name.as_bytes())
        .iter()
        .map(|h| h.to_vec())
        .collect();
    let mut tx = c
        .transaction()
        .map_err(|e| CliError::db("starting the lookup", e))?;
    let ids = tx
        .query("SELECT phi_vault.client_lookup($1)", &[&hmacs])
        .map_err(|e| CliError::db("phi lookup", e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit()
        .map_err(|e| CliError::db("committing the audit row", e))?;
    crate::audit::seal(c);
    Ok(ids)
}
