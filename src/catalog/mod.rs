//! The check catalog: TOML files in `checks/`, embedded at build time, extendable with `--checks DIR`.

mod requirement;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use include_dir::{include_dir, Dir};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use toml::Spanned;

pub use requirement::{describe, meets, Requirement};

use crate::diagnostic::{line_col, Diagnostic, Diagnostics};
use crate::probes::index as probes;
use crate::probes::spec::Ask;
use crate::vocab::{area_ids, SCOPES};

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
    pub title: String,
    pub area: String,
    pub scopes: Vec<String>,
    pub severity: Severity,
    pub probe: String,
    pub field: String,
    pub requirement: Requirement,
    pub expected: String,
    pub remediation: Vec<String>,
    pub reference: String,
    pub source: String,
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
    /// Where the check was defined: `checks/identity.toml:3`.
    pub origin: String,
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
struct RawCheck {
    id: Spanned<String>,
    title: String,
    area: Spanned<String>,
    scopes: Spanned<Vec<String>>,
    severity: Severity,
    probe: Spanned<String>,
    field: Spanned<String>,
    requirement: Spanned<Requirement>,
    expected: String,
    remediation: Spanned<Vec<String>>,
    reference: Spanned<String>,
    source: String,
    #[serde(default)]
    community: bool,
    #[serde(default)]
    filter: Option<Spanned<BTreeMap<String, Value>>>,
    #[serde(default)]
    params: Option<Spanned<Value>>,
    #[serde(default)]
    label_field: Option<Spanned<String>>,
    #[serde(default)]
    depends_on: Option<Spanned<Vec<String>>>,
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
            validate(&raw, &mut report);
            if problems.len() == before {
                let (line, _) = line_col(text, span.start);
                checks.push(into_check(raw, format!("{file}:{line}")));
            }
        }
    }
    checks
}

fn validate(raw: &RawCheck, report: &mut impl FnMut(std::ops::Range<usize>, &'static str, String)) {
    let id = raw.id.get_ref();
    let kebab = regex::Regex::new("^[a-z0-9]+(-[a-z0-9]+)*$").expect("static pattern");
    if !kebab.is_match(id) {
        report(
            raw.id.span(),
            "id-not-kebab-case",
            format!("check id \"{id}\" is not kebab-case (a-z, 0-9 and single hyphens)"),
        );
    }
    let areas = area_ids();
    if !areas.contains(&raw.area.get_ref().as_str()) {
        report(
            raw.area.span(),
            "unknown-area",
            format!(
                "unknown area \"{}\", expected one of {}",
                raw.area.get_ref(),
                areas.join(", ")
            ),
        );
    }
    if raw.scopes.get_ref().is_empty() {
        report(
            raw.scopes.span(),
            "no-scope",
            "scopes must name at least one scope".into(),
        );
    }
    for s in raw
        .scopes
        .get_ref()
        .iter()
        .filter(|s| !SCOPES.contains(&s.as_str()))
    {
        report(
            raw.scopes.span(),
            "unknown-scope",
            format!(
                "unknown scope \"{s}\", expected one of {}",
                SCOPES.join(", ")
            ),
        );
    }
    if raw
        .remediation
        .get_ref()
        .iter()
        .all(|s| s.trim().is_empty())
    {
        report(
            raw.remediation.span(),
            "no-remediation",
            "remediation needs at least one step".into(),
        );
    }
    if !raw.reference.get_ref().starts_with("https://") {
        report(
            raw.reference.span(),
            "reference-not-https",
            "reference must be an https:// URL of the source".into(),
        );
    }
    if let Err(e) = requirement::validate(raw.requirement.get_ref()) {
        report(
            raw.requirement.span(),
            "bad-requirement",
            format!("bad requirement: {e}"),
        );
    }
    let Some(spec) = probes::spec(raw.probe.get_ref()) else {
        report(
            raw.probe.span(),
            "unknown-probe",
            format!(
                "unknown probe \"{}\", known probes: {}",
                raw.probe.get_ref(),
                probes::names().join(", ")
            ),
        );
        return;
    };
    let mut field_known = |name: &str, span: std::ops::Range<usize>| {
        if !spec.fields.contains(&name) {
            report(
                span,
                "unknown-field",
                format!(
                    "probe {} has no field \"{name}\", its fields: {}",
                    spec.name,
                    spec.fields.join(", ")
                ),
            );
        }
    };
    field_known(raw.field.get_ref(), raw.field.span());
    if let Some(label) = &raw.label_field {
        field_known(label.get_ref(), label.span());
    }
    if let Some(filter) = &raw.filter {
        for key in filter.get_ref().keys() {
            field_known(key, filter.span());
        }
    }
    let params = raw
        .params
        .as_ref()
        .map(|p| p.get_ref().clone())
        .unwrap_or(Value::Null);
    if let Err(e) = (spec.check_params)(&params) {
        let span = raw
            .params
            .as_ref()
            .map(|p| p.span())
            .unwrap_or(raw.probe.span());
        report(
            span,
            "bad-params",
            format!("bad params for probe {}: {e}", spec.name),
        );
    }
}

fn into_check(raw: RawCheck, origin: String) -> Check {
    Check {
        id: raw.id.into_inner(),
        title: raw.title,
        area: raw.area.into_inner(),
        scopes: raw.scopes.into_inner(),
        severity: raw.severity,
        probe: raw.probe.into_inner(),
        field: raw.field.into_inner(),
        requirement: raw.requirement.into_inner(),
        expected: raw.expected,
        remediation: raw.remediation.into_inner(),
        reference: raw.reference.into_inner(),
        source: raw.source,
        community: raw.community,
        filter: raw.filter.map(Spanned::into_inner).unwrap_or_default(),
        params: raw.params.map(Spanned::into_inner).unwrap_or(Value::Null),
        label_field: raw.label_field.map(Spanned::into_inner),
        depends_on: raw.depends_on.map(Spanned::into_inner).unwrap_or_default(),
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
