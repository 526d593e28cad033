//! One problem in an input, with its place: `checks/x.toml:12:5: unknown probe "ldap.rootdse"`.
//! Catalog, config, exceptions and saved-report readers all report through this type, each
//! problem with a stable kebab-case code so tools can branch on it.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// A file name, or a flag such as `--timeout` when the value came from the command line.
    pub file: String,
    /// 1-based; 0 when the problem has no position (a flag, a whole file).
    pub line: usize,
    pub column: usize,
    /// Stable kebab-case code, e.g. `unknown-scope`.
    pub code: &'static str,
    pub message: String,
}

impl Diagnostic {
    /// A problem at a byte offset of `text`.
    pub fn at(
        file: &str,
        text: &str,
        offset: usize,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = line_col(text, offset);
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            code,
            message: message.into(),
        }
    }

    /// A problem with no position: a flag, or a file as a whole.
    pub fn whole(file: &str, code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line: 0,
            column: 0,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// Every problem of an input at once, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("é", 1), (1, 1), "inside a character: its start");
        let d = Diagnostic::at("f.toml", "x = 1\ny = 2", 6, "bad", "no");
        assert_eq!(d.to_string(), "f.toml:2:1: no");
        assert_eq!(
            Diagnostic::whole("--timeout", "bad", "no").to_string(),
            "--timeout: no"
        );
    }
}
