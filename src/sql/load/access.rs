//! Which server files a caller may read (CONTRACT §5, §9), decided for the caller before
//! any switch to the owner. Superusers and `pg_read_server_files` members: any file (as
//! `COPY FROM` a file). `vcf_loader` members: files whose real path (symlinks and `..`
//! resolved) lies under `vcf_pg_loader.load_directories`. Everyone else: none.
//!
//! Every later read uses the resolved path, so a symlink swapped in after the check is not
//! followed again from the name the caller gave.

use super::super::errors::raise;
use super::super::privilege::Caller;
use super::super::settings::{load_directories_of, LOAD_DIRECTORIES};
use pgrx::PgSqlErrorCode;
use std::path::{Component, Path, PathBuf};

fn refuse(function: &str, path: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("permission denied to {function}() \"{path}\""),
        Some("Members of vcf_loader may read files under vcf_pg_loader.load_directories; superusers and members of pg_read_server_files any server file. Never grant loaders pg_read_server_files: it also reads the key file."),
    )
}

/// `load_directories`, each resolved to its real path (entries that do not exist are
/// skipped: they contain nothing to load).
fn load_directories() -> Vec<PathBuf> {
    let value = LOAD_DIRECTORIES
        .get()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    load_directories_of(&value)
        .iter()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .collect()
}

/// `path` with `.` and `..` folded lexically (for a path that does not exist, so that the
/// error does not tell a loader which files exist outside its directories).
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The real path the caller may read `path` as, or ERROR 42501 naming the file as `shown`
/// (the path as given, or its redacted form). Paths that do not resolve are returned as
/// given for privileged callers, so the reader reports 58P01/58030 itself.
pub fn readable_path(caller: &Caller, function: &str, path: &str, shown: &str) -> PathBuf {
    let real = std::fs::canonicalize(path);
    if caller.superuser || caller.may_read_server_files() {
        return real.unwrap_or_else(|_| PathBuf::from(path));
    }
    if !caller.is_loader() || !Path::new(path).is_absolute() {
        refuse(function, shown);
    }
    let dirs = load_directories();
    match real {
        Ok(real) if dirs.iter().any(|d| real.starts_with(d)) => real,
        Ok(_) => refuse(function, shown),
        // Not there (or not reachable): say so only when the name itself lies inside a
        // load directory.
        Err(_)
            if dirs
                .iter()
                .any(|d| lexically_normal(Path::new(path)).starts_with(d)) =>
        {
            PathBuf::from(path)
        }
        Err(_) => refuse(function, shown),
    }
}

#[cfg(test)]
mod tests {
    use super::lexically_normal;
    use std::path::{Path, PathBuf};

    #[test]
    fn dot_dot_is_folded_before_the_directory_test() {
        assert_eq!(
            lexically_normal(Path::new("/data/vcf/../../etc/x")),
            PathBuf::from("/etc/x")
        );
        assert_eq!(
            lexically_normal(Path::new("/data/./vcf/a.vcf")),
            PathBuf::from("/data/vcf/a.vcf")
        );
    }
}
