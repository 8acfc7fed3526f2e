//! The key file rule (CONTRACT §2), the one PostgreSQL applies to `ssl_key_file`: a regular
//! file owned by the user reading it with no group or world access, or owned by root with at
//! most group read. The server (user postgres) and the client (`vcf-pg-loader`, any user) apply
//! the same rule to their own effective user.

use std::fmt;
use std::os::unix::fs::MetadataExt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFileProblem {
    NotRegular,
    GroupOrWorldAccess { mode: u32 },
    RootButTooOpen { mode: u32 },
    WrongOwner,
}

impl fmt::Display for KeyFileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileProblem::NotRegular => write!(f, "is not a regular file"),
            KeyFileProblem::GroupOrWorldAccess { mode } => {
                write!(f, "has group or world access (mode {mode:04o})")
            }
            KeyFileProblem::RootButTooOpen { mode } => write!(
                f,
                "is owned by root but has more than group read access (mode {mode:04o})"
            ),
            KeyFileProblem::WrongOwner => write!(f, "must be owned by {} or root", Self::OWNER),
        }
    }
}

impl KeyFileProblem {
    /// Who must own the file, as messages name them.
    const OWNER: &'static str = "the user reading it";
}

/// Check `meta` (of an opened key file) for the user `euid`.
pub fn check(meta: &std::fs::Metadata, euid: u32) -> Result<(), KeyFileProblem> {
    check_fields(meta.is_file(), meta.uid(), meta.mode(), euid)
}

fn check_fields(is_file: bool, uid: u32, mode: u32, euid: u32) -> Result<(), KeyFileProblem> {
    if !is_file {
        return Err(KeyFileProblem::NotRegular);
    }
    let mode = mode & 0o777;
    if uid == euid {
        if mode & 0o077 != 0 {
            return Err(KeyFileProblem::GroupOrWorldAccess { mode });
        }
    } else if uid == 0 {
        if mode & 0o037 != 0 {
            return Err(KeyFileProblem::RootButTooOpen { mode });
        }
    } else {
        return Err(KeyFileProblem::WrongOwner);
    }
    Ok(())
}

/// The effective user of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_file_must_be_private() {
        assert_eq!(check_fields(true, 1000, 0o100600, 1000), Ok(()));
        assert_eq!(check_fields(true, 1000, 0o100400, 1000), Ok(()));
        assert_eq!(
            check_fields(true, 1000, 0o100640, 1000),
            Err(KeyFileProblem::GroupOrWorldAccess { mode: 0o640 })
        );
        assert_eq!(
            check_fields(true, 1000, 0o100604, 1000),
            Err(KeyFileProblem::GroupOrWorldAccess { mode: 0o604 })
        );
    }

    #[test]
    fn root_file_may_be_group_readable_only() {
        assert_eq!(check_fields(true, 0, 0o100640, 1000), Ok(()));
        assert_eq!(
            check_fields(true, 0, 0o100660, 1000),
            Err(KeyFileProblem::RootButTooOpen { mode: 0o660 })
        );
        assert_eq!(
            check_fields(true, 0, 0o100644, 1000),
            Err(KeyFileProblem::RootButTooOpen { mode: 0o644 })
        );
    }

    #[test]
    fn other_owners_and_non_files_are_refused() {
        assert_eq!(
            check_fields(true, 1001, 0o100600, 1000),
            Err(KeyFileProblem::WrongOwner)
        );
        assert_eq!(
            check_fields(false, 1000, 0o040700, 1000),
            Err(KeyFileProblem::NotRegular)
        );
    }
}
