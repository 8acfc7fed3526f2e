//! Schema objects from `sql/`: the portable schema (`schema.sql`, `client_api.sql`, shared
//! with `vcf-pg-loader init-db`) first; the extension-only part after every generated function.

pgrx::extension_sql_file!("../../sql/schema.sql", name = "bootstrap", bootstrap);
pgrx::extension_sql_file!(
    "../../sql/client_api.sql",
    name = "client_api",
    requires = ["bootstrap"]
);
pgrx::extension_sql_file!("../../sql/extension.sql", name = "finalize", finalize);
