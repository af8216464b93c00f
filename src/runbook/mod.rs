//! Runbooks: the file format, loading and validation, the CEL environment, the engine.

pub mod access;
pub mod bounded;
pub mod catalog;
pub mod cel;
pub mod compile;
pub mod engine;
pub mod format;
pub mod invoke;
pub mod model;
pub mod record;
pub mod validate;

pub use catalog::Catalog;
pub use model::Runbook;

use std::fmt;

/// A runbook that cannot be loaded: where, what, and a one-line fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunbookError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

impl RunbookError {
    pub fn new(
        file: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        RunbookError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// One line: the message quotes what the runbook's author wrote (ids, names, "did you
/// mean" among them), which may be anything.
impl fmt::Display for RunbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::sanitize_line;
        write!(
            f,
            "{}:{}:{}: {} (fix: {})",
            sanitize_line(&self.file),
            self.line,
            self.column,
            sanitize_line(&self.message),
            sanitize_line(&self.hint)
        )
    }
}
