//! After each commit of an audited operation the CLI links the committed audit rows into the
//! hash chain (`phi_vault.seal_audit()`, a transaction of its own that never waits). A failure
//! here is reported but loses nothing: the rows stay pending and the next seal links them.

use postgres::Client;

pub fn seal(c: &mut Client) {
    if let Err(e) = c.query_one("SELECT phi_vault.seal_audit()", &[]) {
        let e = crate::error::CliError::db(
            "sealing the audit rows (they stay pending; the next seal links them)",
            e,
        );
        eprintln!("vcf-pg-loader: warning: {e}");
    }
}
