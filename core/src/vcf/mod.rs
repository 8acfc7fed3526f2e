//! VCF reading and the record → rows decomposition (CONTRACT §5). No PostgreSQL here.
//!
//! Flow: [`input::open`] detects plain / gzip / BGZF by content and counts compressed bytes
//! for progress; [`header::Header`] models the meta lines; [`reader::VcfReader`] yields data
//! lines with their line numbers; [`decompose::Decomposer`] turns one line into one
//! [`rows::VariantRow`] per ALT plus its [`rows::GenotypeRow`]s, reading the line column by
//! column with [`record`].
//!
//! The record parser is our own rather than noodles-vcf's: the contract wants htslib's
//! leniency (undeclared keys, count mismatches, empty values) with per-kind warning counts,
//! and raw-byte GT parsing is several times faster than noodles' typed genotypes
//! (see docs/loading.md). BGZF is read with noodles-bgzf.

pub mod annotation;
pub mod copy_binary;
pub mod decompose;
pub mod error;
pub mod genotype;
pub mod header;
pub mod input;
pub mod json;
pub mod pipeline;
pub mod reader;
pub mod record;
pub mod redact;
pub mod rows;

pub use decompose::{Decomposer, GenotypeMode, LoadOptions};
pub use error::{VcfError, VcfErrorKind, Warnings};
pub use header::Header;
pub use reader::VcfReader;
pub use rows::{GenotypeRow, RowBatch, VariantRow};
