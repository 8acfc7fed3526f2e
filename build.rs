// The install script is generated from sql/*.sql by pgrx's extension_sql_file!, which cargo
// does not know to watch: rebuild when any of them changes, or an install would carry stale SQL.
fn main() {
    println!("cargo:rerun-if-changed=sql");
    println!("cargo:rerun-if-changed=build.rs");
}
