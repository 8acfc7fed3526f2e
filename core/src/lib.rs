//! Pure-Rust cores of vcf_pg_loader. Nothing here knows about PostgreSQL, so every
//! module is unit-tested with `cargo test -p vcf_pg_loader_core` and fuzzable on its own.
//!
//! - [`crypto`]: keyring, key ids, the v1 ciphertext envelope (CONTRACT §2–3), blind index.
//! - [`vcf`]: streaming VCF reader and the record → rows decomposition (CONTRACT §5).
//! - [`threads`]: how threads start inside a backend (signals blocked).

pub mod audit;
pub mod crypto;
pub mod threads;
pub mod vcf;
