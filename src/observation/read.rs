//! Reading saved JSON: observation sets (fixtures) and report.json files, with the schema
//! version checked in one place for every reader (evaluate, merge, baseline, diff).

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ObservationSet;
use crate::files::{self, FileError};

/// Bumped when report.json changes in a way older readers cannot follow.
pub const SCHEMA_VERSION: u32 = 1;
/// The oldest report.json schema this version reads. Version 1 is the first one shipped.
pub const MIN_SCHEMA_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: not a readyscan report.json (it has no {missing}); compare with the report.json an earlier `readyscan scan` or `evaluate` wrote")]
    NotAReport { file: String, missing: &'static str },
    #[error("{file}: schema_version {found} is newer than this readyscan understands ({SCHEMA_VERSION}); upgrade readyscan")]
    Newer { file: String, found: u64 },
    #[error("{file}: schema_version {found} is older than this readyscan can compare (it reads {MIN_SCHEMA_VERSION} to {SCHEMA_VERSION}); re-run the scan with this version to get a new baseline")]
    Older { file: String, found: u64 },
}

/// What a reader demands of the file besides parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An observation set or a report.json (its observations are judged again).
    Observations,
    /// A report.json with its findings (baselines and diffs).
    Report,
}

/// Reads a file whole (a regular file, size-capped); errors name it.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    Ok(files::read_bytes(path)?)
}

/// Bytes read from `file` as UTF-8 text; bad bytes are an error with their offset.
pub fn text(bytes: Vec<u8>, file: &str) -> Result<String, InputError> {
    Ok(files::text_of(bytes, file)?)
}

/// Parses saved JSON as `T` after checking the schema version (and, for reports, that it is
/// one); errors carry the file's line and column.
pub fn parse_json<T: DeserializeOwned>(
    text: &str,
    file: &str,
    expect: Expect,
) -> Result<T, InputError> {
    let parse_error = |e: serde_json::Error| InputError::Parse {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    // Only the two keys looked at are kept; the rest is skipped, not built as a Value tree
    // (that tree would be several times the file's size).
    #[derive(serde::Deserialize)]
    struct Head {
        schema_version: Option<Value>,
        findings: Option<serde::de::IgnoredAny>,
    }
    let head: Head = serde_json::from_str(text).map_err(parse_error)?;
    let not_a_report = |missing| InputError::NotAReport {
        file: file.to_string(),
        missing,
    };
    let found = head.schema_version.as_ref().and_then(Value::as_u64);
    if expect == Expect::Report && found.is_none() {
        return Err(not_a_report("schema_version"));
    }
    if let Some(found) = found {
        if found > SCHEMA_VERSION as u64 {
            return Err(InputError::Newer {
                file: file.to_string(),
                found,
            });
        }
        if expect == Expect::Report && found < MIN_SCHEMA_VERSION {
            return Err(InputError::Older {
                file: file.to_string(),
                found,
            });
        }
    }
    if expect == Expect::Report && head.findings.is_none() {
        return Err(not_a_report("findings"));
    }
    // Parse from the text again (not the Value) so errors carry a line and column.
    serde_json::from_str(text).map_err(parse_error)
}

/// Reads a saved observation set or a report.json (whose observations are judged again).
pub fn read_observations(path: &Path) -> Result<ObservationSet, InputError> {
    let file = path.display().to_string();
    parse_observations(&text(read_bytes(path)?, &file)?, &file)
}

pub fn parse_observations(text: &str, file: &str) -> Result<ObservationSet, InputError> {
    parse_json(text, file, Expect::Observations)
}
