//! The check catalog: TOML files in `checks/`, embedded at build time, extendable with `--checks DIR`.

mod requirement;
pub mod template;
mod validate;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use include_dir::{include_dir, Dir};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use toml::Spanned;

pub use requirement::{describe, meets, Requirement};

use crate::diagnostic::{line_col, Diagnostic, Diagnostics};
use crate::probes::spec::Ask;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/checks");

/// A catalog problem: `checks/x.toml:12:5: unknown probe "ldap.rootdse"`.
pub type Problem = Diagnostic;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Blocker,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Blocker => "blocker",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One documented minimum, as loaded and validated.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: String,
    pub title: Arc<str>,
    pub area: String,
    pub scopes: Vec<String>,
    pub severity: Severity,
    pub probe: String,
    pub field: String,
    pub requirement: Requirement,
    pub expected: Arc<str>,
    pub remediation: Vec<String>,
    pub reference: Arc<str>,
    pub source: Arc<str>,
    /// True when the fact comes from community tools, not a Microsoft document.
    pub community: bool,
    /// Observation fields that must hold these values (arrays: contain) for the check to apply.
    pub filter: BTreeMap<String, Value>,
    /// Probe-specific inputs, such as the ports of a role.
    pub params: Value,
    /// A field shown in brackets after the observed value, e.g. a level's Windows Server name.
    pub label_field: Option<String>,
    /// Checks whose fix comes first (a port before the LDAP check that needs it).
    pub depends_on: Vec<String>,
    /// Only observations with something to judge get a verdict; others are not applicable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applies_when: Option<AppliesWhen>,
    /// Where the check was defined: `checks/identity.toml:3`.
    pub origin: String,
}

/// `applies_when = { field = "targets", reason = "no SRV records to check: see dns-dc-srv" }`:
/// an observation whose `field` is missing, null, false, "" or [] has nothing for the check to
/// judge, so its finding is `not_applicable` with `reason` instead of an empty pass.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppliesWhen {
    pub field: String,
    pub reason: String,
}

impl AppliesWhen {
    /// Whether the observation has something for the check to judge.
    pub fn holds(&self, fields: &serde_json::Map<String, Value>) -> bool {
        match fields.get(&self.field) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
            Some(_) => true,
        }
    }
}

impl Check {
    /// What this check asks of its probe.
    pub fn ask(&self) -> Ask<'_> {
        Ask {
            check_id: &self.id,
            params: &self.params,
            filter: &self.filter,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) id: Spanned<String>,
    pub(crate) title: String,
    pub(crate) area: Spanned<String>,
    pub(crate) scopes: Spanned<Vec<String>>,
    pub(crate) severity: Severity,
    pub(crate) probe: Spanned<String>,
    pub(crate) field: Spanned<String>,
    pub(crate) requirement: Spanned<Requirement>,
    pub(crate) expected: String,
    pub(crate) remediation: Spanned<Vec<String>>,
    pub(crate) reference: Spanned<String>,
    pub(crate) source: String,
    #[serde(default)]
    pub(crate) community: bool,
    #[serde(default)]
    pub(crate) filter: Option<Spanned<BTreeMap<String, Value>>>,
    #[serde(default)]
    pub(crate) params: Option<Spanned<Value>>,
    #[serde(default)]
    pub(crate) label_field: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) depends_on: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(crate) applies_when: Option<Spanned<AppliesWhen>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{}", Diagnostics(.0.clone()))]
    Invalid(Vec<Problem>),
    #[error("cannot read check directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] crate::files::FileError),
}

/// The validated, merged set of checks.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub checks: Vec<Check>,
    /// Short hash of every source file, so a report names the catalog it was judged by.
    pub version: String,
}

impl Catalog {
    /// The checks built into the binary.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Self::build(builtin_sources(), Vec::new())
    }

    /// The built-in checks, then the files of `dir`: a user check with a built-in id replaces it.
    pub fn with_overrides(dir: &Path) -> Result<Catalog, CatalogError> {
        Self::build(builtin_sources(), read_dir(dir)?)
    }

    /// Only the files of `dir`, as `checks validate DIR` sees them.
    pub fn from_dir(dir: &Path) -> Result<Catalog, CatalogError> {
        Self::build(read_dir(dir)?, Vec::new())
    }

    /// Parses and validates sources given as (file name, text).
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Catalog, CatalogError> {
        Self::build(sources, Vec::new())
    }

    fn build(
        base: Vec<(String, String)>,
        overrides: Vec<(String, String)>,
    ) -> Result<Catalog, CatalogError> {
        let mut problems = Vec::new();
        let mut hash = Sha256::new();
        let mut checks = parse_layer(&base, &mut problems, &mut hash);
        for check in parse_layer(&overrides, &mut problems, &mut hash) {
            match checks.iter_mut().find(|c| c.id == check.id) {
                Some(existing) => *existing = check,
                None => checks.push(check),
            }
        }
        let ids: HashSet<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        for c in &checks {
            for dep in c.depends_on.iter().filter(|d| !ids.contains(d.as_str())) {
                problems.push(problem_at(
                    &c.origin,
                    "unknown-dependency",
                    format!("depends_on names unknown check \"{dep}\""),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(CatalogError::Invalid(problems));
        }
        let digest = hash.finalize();
        let version = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(Catalog { checks, version })
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

fn builtin_sources() -> Vec<(String, String)> {
    let mut files: Vec<_> = BUILTIN
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .map(|f| {
            let name = format!("checks/{}", f.path().display());
            (name, f.contents_utf8().unwrap_or_default().to_string())
        })
        .collect();
    files.sort();
    files
}

fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, CatalogError> {
    let io = |source| CatalogError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            // Regular files only, size-capped: a FIFO named x.toml must not hang the run.
            let text = crate::files::read_text(&path)?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CatalogError::Invalid(vec![Problem::whole(
            &dir.display().to_string(),
            "no-check-files",
            "no .toml check files in this directory",
        )]));
    }
    Ok(files)
}

/// Parses one layer; ids must be unique within it.
fn parse_layer(
    sources: &[(String, String)],
    problems: &mut Vec<Problem>,
    hash: &mut Sha256,
) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for (file, text) in sources {
        hash.update(file.as_bytes());
        hash.update(text.as_bytes());
        let at = |span: std::ops::Range<usize>, code: &'static str, message: String| {
            Problem::at(file, text, span.start, code, message)
        };
        let parsed: CheckFile = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(at(
                    e.span().unwrap_or(0..0),
                    "check-syntax",
                    e.message().trim().to_string(),
                ));
                continue;
            }
        };
        for raw in parsed.check {
            let span = raw.span();
            let raw = raw.into_inner();
            let before = problems.len();
            let mut report = |span: std::ops::Range<usize>, code: &'static str, msg: String| {
                problems.push(at(span, code, msg))
            };
            if let Some(first) = checks.iter().find(|c| c.id == *raw.id.get_ref()) {
                report(
                    raw.id.span(),
                    "duplicate-check-id",
                    format!(
                        "duplicate check id \"{}\" (first defined at {})",
                        raw.id.get_ref(),
                        first.origin
                    ),
                );
            }
            validate::validate(&raw, &mut report);
            if problems.len() == before {
                let (line, _) = line_col(text, span.start);
                checks.push(into_check(raw, format!("{file}:{line}")));
            }
        }
    }
    checks
}

fn into_check(raw: RawCheck, origin: String) -> Check {
    Check {
        id: raw.id.into_inner(),
        title: raw.title.into(),
        area: raw.area.into_inner(),
        scopes: raw.scopes.into_inner(),
        severity: raw.severity,
        probe: raw.probe.into_inner(),
        field: raw.field.into_inner(),
        requirement: raw.requirement.into_inner(),
        expected: raw.expected.into(),
        remediation: raw.remediation.into_inner(),
        reference: raw.reference.into_inner().into(),
        source: raw.source.into(),
        community: raw.community,
        filter: raw.filter.map(Spanned::into_inner).unwrap_or_default(),
        params: raw.params.map(Spanned::into_inner).unwrap_or(Value::Null),
        label_field: raw.label_field.map(Spanned::into_inner),
        depends_on: raw.depends_on.map(Spanned::into_inner).unwrap_or_default(),
        applies_when: raw.applies_when.map(Spanned::into_inner),
        origin,
    }
}

fn problem_at(origin: &str, code: &'static str, message: String) -> Problem {
    let (file, line) = origin.rsplit_once(':').unwrap_or((origin, "0"));
    Problem {
        file: file.to_string(),
        line: line.parse().unwrap_or(0),
        column: 1,
        code,
        message,
    }
}
