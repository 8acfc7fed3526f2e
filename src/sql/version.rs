use pgrx::prelude::*;

/// `vcf_pg_loader_version()`: crate name and version of the loaded library.
#[pg_extern(immutable, parallel_safe)]
fn vcf_pg_loader_version() -> String {
    format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}
