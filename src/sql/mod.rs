//! SQL-facing adapters: each file is one SQL surface and stays thin. Type conversion,
//! settings and SPI live here; logic lives in `vcf_pg_loader_core`.
pub mod copy;
pub mod distribute;
pub mod errors;
pub mod insert;
pub mod keys;
pub mod load;
pub mod phi;
pub mod privilege;
pub mod rotation;
pub mod schema;
pub mod settings;
pub mod spi;
pub mod status;
mod tests;
pub mod vault;
pub mod version;
