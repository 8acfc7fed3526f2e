//! SQL-facing adapters: each file is one SQL surface and stays thin.
pub mod settings;
pub mod version;
