//! Load errors and warning counts. A message names the line and field and what is wrong with
//! them — never the value of a sample column (it may hold identifiers).

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcfErrorKind {
    /// Broken syntax: `22P04` bad_copy_file_format.
    Format,
    /// The file could not be read (I/O error after open): `58030` io_error.
    Io,
    /// The file does not exist: `58P01` undefined_file.
    NotFound,
    /// A directory, FIFO or device: `42809` wrong_object_type.
    NotRegularFile,
    /// The path is not a regular file, or permission denied: `58030`/`42501` decided by caller.
    PermissionDenied,
    /// A defect of ours (the parser thread died): `XX000` internal_error.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcfError {
    pub kind: VcfErrorKind,
    /// 1-based line number; 0 when the error is not tied to a line (open, decompression).
    pub line: u64,
    pub field: &'static str,
    pub what: String,
}

impl VcfError {
    /// The message both faces give: `file:line: field: what` (`file: field: what` when the
    /// error is not tied to a line), the file named as the caller gave it.
    pub fn located(&self, given: &str) -> String {
        if self.line > 0 {
            format!("{given}:{}: {}: {}", self.line, self.field, self.what)
        } else {
            format!("{given}: {}: {}", self.field, self.what)
        }
    }

    /// A defect of ours (the parser thread), not of the file.
    pub fn internal(what: impl Into<String>) -> Self {
        VcfError {
            kind: VcfErrorKind::Internal,
            line: 0,
            field: "parser",
            what: what.into(),
        }
    }

    pub fn format(line: u64, field: &'static str, what: impl Into<String>) -> Self {
        VcfError {
            kind: VcfErrorKind::Format,
            line,
            field,
            what: what.into(),
        }
    }
}

impl fmt::Display for VcfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}: {}", self.line, self.field, self.what)
        } else {
            write!(f, "{}: {}", self.field, self.what)
        }
    }
}

impl std::error::Error for VcfError {}

/// Lenient conditions counted per kind (CONTRACT §5), stored in `load_batches.warnings`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Warnings(pub BTreeMap<&'static str, u64>);

impl Warnings {
    pub fn add(&mut self, kind: &'static str) {
        self.add_n(kind, 1);
    }
    pub fn add_n(&mut self, kind: &'static str, n: u64) {
        if n > 0 {
            *self.0.entry(kind).or_insert(0) += n;
        }
    }
    pub fn merge(&mut self, other: &Warnings) {
        for (k, v) in &other.0 {
            *self.0.entry(k).or_insert(0) += v;
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
    pub fn to_json(&self) -> String {
        let mut s = String::from("{");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("\"{k}\": {v}"));
        }
        s.push('}');
        s
    }
    /// One line for the NOTICE: `undeclared_info_key: 3, info_number_mismatch: 1`.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod located_tests {
    use super::*;

    #[test]
    fn located_names_file_line_and_field() {
        assert_eq!(
            VcfError::format(7, "POS", "not a number").located("a.vcf"),
            "a.vcf:7: POS: not a number"
        );
        assert_eq!(
            VcfError::internal("boom").located("a.vcf"),
            "a.vcf: parser: boom"
        );
    }
}
