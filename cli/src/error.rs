//! The CLI's one error type: a message (positions, key ids, SQLSTATEs — never key bytes,
//! identifiers or ciphertext), an optional hint, and the exit status it ends the process with.

use std::fmt;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    /// The server's SQLSTATE, when the error came from the database.
    pub sqlstate: Option<String>,
    pub exit: i32,
}

pub type Result<T> = std::result::Result<T, CliError>;

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: None,
            sqlstate: None,
            exit: 1,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Wraps a database error with what was being done. The server's message and hint are
    /// kept (ours never carry identifiers); its DETAIL is not (a constraint's DETAIL can
    /// quote a row's values).
    pub fn db(what: &str, e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => CliError {
                message: format!("{what}: {}", db.message()),
                hint: db.hint().map(str::to_string),
                sqlstate: Some(db.code().code().to_string()),
                exit: 1,
            },
            None => CliError::new(format!("{what}: {}", describe(&e))),
        }
    }
}

/// A client-side error's text with its source chain (TLS and I/O causes live there).
fn describe(e: &postgres::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sqlstate {
            Some(code) => write!(f, "ERROR {code}: {}", self.message)?,
            None => write!(f, "error: {}", self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\nHINT: {h}")?;
        }
        Ok(())
    }
}
