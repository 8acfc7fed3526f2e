//! Schema objects from `sql/`: roles, schemas, tables, triggers first; grants after every
//! generated function exists.

pgrx::extension_sql_file!("../../sql/bootstrap.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!("../../sql/finalize.sql", name = "finalize", finalize);
