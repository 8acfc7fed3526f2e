//! vcf_pg_loader: the PostgreSQL side. This file is only an index: the module list and
//! `_PG_init`. Pure logic lives in the `vcf_pg_loader_core` crate (`core/`), which never
//! imports pgrx; `src/sql/` adapts it to SQL.

::pgrx::pg_module_magic!(name, version);

mod sql;

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    sql::settings::register();
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    /// The KMS hook, driven by a script the key-command test writes (src/sql/tests.rs).
    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["vcf_pg_loader.phi_key_command = '/bin/sh /tmp/vcf_pg_loader_keycmd.sh'"]
    }
}
