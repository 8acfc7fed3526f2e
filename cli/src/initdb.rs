//! `vcf-pg-loader init-db`: the extension's schema on a server that cannot load the library,
//! from the same SQL files CREATE EXTENSION runs (`sql/schema.sql`, `sql/client_api.sql`),
//! in one transaction. A database with the extension is left as it is.

use crate::error::{CliError, Result};
use postgres::Client;

const SCHEMA: &str = include_str!("../../sql/schema.sql");
const CLIENT_API: &str = include_str!("../../sql/client_api.sql");

/// What init-db found, or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    ExtensionPresent(String),
    AlreadyInstalled,
    Installed,
}

pub const GRANTS: &str = "\
Roles (NOLOGIN groups; grant them to login roles):
  vcf_loader   loads with `vcf-pg-loader load`: EXECUTE on vcf.client_claim_load/reserve_block/describe_load/
               finish_load and phi_vault.client_find/add_pseudonyms, phi_vault.seal_audit(); INSERT on
               vcf.variants and vcf.genotypes (the binary COPY; a trigger admits only rows of the caller's own load)
  phi_admin    reveals, looks up and rotates: EXECUTE on phi_vault.client_reveal/lookup/rotation_rows/rotate,
               seal_audit(), verify_audit_chain(); SELECT on the vault without the blind index
  phi_viewer   pseudonyms and counts (check-encryption), never identifiers
  vcf_pg_loader_owner  owns every table and the client functions; NOLOGIN, never superuser; grant it to no one
No role gets INSERT, UPDATE or DELETE on a phi_vault table: pseudonyms and audit rows are written by the
owner's SECURITY DEFINER functions, which stamp the time and the login role themselves.
For example:
  CREATE ROLE genomics_loader LOGIN PASSWORD '…' IN ROLE vcf_loader;
  CREATE ROLE privacy_officer LOGIN PASSWORD '…' IN ROLE phi_admin;";

/// The installed extension's version, if any.
fn extension_version(c: &mut Client) -> Result<Option<String>> {
    let row = c
        .query_opt(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vcf_pg_loader'",
            &[],
        )
        .map_err(|e| CliError::db("reading pg_extension", e))?;
    Ok(row.map(|r| r.get(0)))
}

pub fn run(c: &mut Client) -> Result<Outcome> {
    if let Some(v) = extension_version(c)? {
        return Ok(Outcome::ExtensionPresent(v));
    }
    let present: bool = c
        .query_one(
            "SELECT pg_catalog.to_regclass('phi_vault.audit_log') IS NOT NULL",
            &[],
        )
        .map_err(|e| CliError::db("looking for an earlier install", e))?
        .get(0);
    if present {
        let has_api: bool = c
            .query_one("SELECT pg_catalog.to_regprocedure('vcf.client_claim_load(text, bigint, jsonb, boolean)') IS NOT NULL", &[])
            .map_err(|e| CliError::db("looking for an earlier install", e))?
            .get(0);
        if has_api {
            // The client API is re-runnable (CREATE OR REPLACE): bring it to this version.
            let mut tx = c
                .transaction()
                .map_err(|e| CliError::db("starting the update", e))?;
            tx.batch_execute(CLIENT_API)
                .map_err(|e| CliError::db("updating the client API (sql/client_api.sql)", e))?;
            tx.commit()
                .map_err(|e| CliError::db("committing the update", e))?;
            return Ok(Outcome::AlreadyInstalled);
        }
        return Err(CliError::new("schemas vcf and phi_vault exist but hold no client API: an install this version cannot update")
            .hint("Install the extension there (CREATE EXTENSION vcf_pg_loader) or move the schemas aside."));
    }
    let mut tx = c
        .transaction()
        .map_err(|e| CliError::db("starting the install", e))?;
    tx.batch_execute(SCHEMA)
        .map_err(|e| CliError::db("installing the schema (sql/schema.sql)", e))?;
    tx.batch_execute(CLIENT_API)
        .map_err(|e| CliError::db("installing the client API (sql/client_api.sql)", e))?;
    tx.commit()
        .map_err(|e| CliError::db("committing the install", e))?;
    Ok(Outcome::Installed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portable_sql_needs_nothing_of_the_extension() {
        for (name, sql) in [("schema.sql", SCHEMA), ("client_api.sql", CLIENT_API)] {
            assert!(
                !sql.contains("@extschema@"),
                "{name} names the extension schema"
            );
            // Dump marks only where the object is an extension member (an extension script).
            for (at, _) in sql.match_indices("pg_extension_config_dump(") {
                let before = &sql[at.saturating_sub(400)..at];
                assert!(
                    before.contains("deptype = 'e'"),
                    "{name}: a dump mark not guarded by extension membership"
                );
            }
        }
    }
}
