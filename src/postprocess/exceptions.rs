//! Accepted risks (`--exceptions FILE`): a matched open finding keeps its real status, is shown as
//! excepted with the reason, and an excepted blocker no longer blocks readiness. Every entry has
//! an expiry with an explicit time zone; an expired entry no longer applies and the report says so.
//!
//! ```toml
//! [[exception]]
//! check = "net-dc-ports"
//! subject = "dc1.corp.contoso.test:9389"   # optional glob (* and ?); absent: every subject
//! justification = "AD Web Services is not used; firewall change CHG-1234 planned for Q1"
//! approver = "J. Doe, CISO"
//! expires = 2027-01-31T23:59:59+01:00       # RFC 3339 with an offset, or:
//! # expires = 2027-01-31                    # a date, valid to the end of that day in
//! # timezone = "UTC"                        # this zone ("UTC" or an offset like "+01:00")
//! ```

use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};
use toml::Spanned;

use crate::catalog::Catalog;
use crate::dates::rfc3339;
use crate::diagnostic::{line_col, Diagnostic, Diagnostics};
use crate::evaluate::Finding;
use crate::observation::subject;

#[derive(Debug, thiserror::Error)]
pub enum ExceptionsError {
    #[error(transparent)]
    Read(#[from] crate::files::FileError),
    /// Every bad entry, each with file:line:column.
    #[error("{0}")]
    Invalid(Diagnostics),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    check: Spanned<String>,
    subject: Option<Spanned<String>>,
    justification: Spanned<String>,
    approver: Spanned<String>,
    expires: Spanned<toml::Value>,
    timezone: Option<Spanned<String>>,
}

/// One accepted risk as loaded.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Line of the entry in the file, so the report can point at it.
    pub line: usize,
    pub check: String,
    pub subject: Option<String>,
    pattern: Option<Regex>,
    pub justification: String,
    pub approver: String,
    pub expires_at: OffsetDateTime,
    /// The expiry as written, normalised to RFC 3339 with its own offset.
    pub expires: String,
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        // In a merged report the subject carries its vantage; a pattern may name either form.
        let base = subject::split(&f.subject).map(|(b, _)| b);
        f.check_id == self.check
            && self
                .pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&f.subject) || base.is_some_and(|b| p.is_match(b)))
    }

    fn summary(&self) -> EntryRef {
        EntryRef {
            line: self.line,
            check: self.check.clone(),
            subject: self.subject.clone(),
            justification: self.justification.clone(),
            approver: self.approver.clone(),
            expires: self.expires.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exceptions {
    pub file: String,
    pub entries: Vec<Entry>,
}

impl Exceptions {
    /// Loads and checks the file; check ids must exist in the catalog (a typo would otherwise
    /// silently except nothing).
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Exceptions, ExceptionsError> {
        let text = crate::files::read_text(path)?;
        Exceptions::parse(&text, &path.display().to_string(), catalog)
    }

    pub fn parse(text: &str, file: &str, catalog: &Catalog) -> Result<Exceptions, ExceptionsError> {
        let at = |offset: usize, code: &'static str, message: String| {
            Diagnostic::at(file, text, offset, code, message)
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            ExceptionsError::Invalid(
                at(
                    e.span().map(|s| s.start).unwrap_or(0),
                    "exceptions-syntax",
                    e.message().trim().to_string(),
                )
                .into(),
            )
        })?;
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for spanned in raw.exception {
            let entry_line = line_col(text, spanned.span().start).0;
            let e = spanned.into_inner();
            let before = problems.len();
            let check = e.check.get_ref().trim().to_string();
            if catalog.get(&check).is_none() {
                problems.push(at(
                    e.check.span().start,
                    "unknown-check",
                    format!(
                        "check: no check with id \"{check}\" (`readyscan checks list` shows them)"
                    ),
                ));
            }
            for (name, value) in [
                ("justification", &e.justification),
                ("approver", &e.approver),
            ] {
                if value.get_ref().trim().is_empty() {
                    problems.push(at(
                        value.span().start,
                        "empty-value",
                        format!("{name}: must not be empty"),
                    ));
                }
            }
            let (subject, pattern) = match &e.subject {
                Some(s) if s.get_ref().trim().is_empty() => {
                    problems.push(at(
                        s.span().start,
                        "empty-pattern",
                        "subject: empty pattern; leave the key out to match every subject".into(),
                    ));
                    (None, None)
                }
                Some(s) => (Some(s.get_ref().clone()), Some(glob(s.get_ref()))),
                None => (None, None),
            };
            let expiry = expiry(
                e.expires.get_ref(),
                e.timezone.as_ref().map(|t| t.get_ref().as_str()),
            );
            let (expires_at, expires) = match expiry {
                Ok(x) => x,
                Err(m) => {
                    problems.push(at(
                        e.expires.span().start,
                        "bad-expiry",
                        format!("expires: {m}"),
                    ));
                    continue;
                }
            };
            if problems.len() > before {
                continue;
            }
            entries.push(Entry {
                line: entry_line,
                check,
                subject,
                pattern,
                justification: e.justification.into_inner().trim().to_string(),
                approver: e.approver.into_inner().trim().to_string(),
                expires_at,
                expires,
            });
        }
        if !problems.is_empty() {
            return Err(ExceptionsError::Invalid(Diagnostics(problems)));
        }
        Ok(Exceptions {
            file: file.to_string(),
            entries,
        })
    }

    /// The entry each open finding matches (one slot per finding) and the summary for
    /// report.json. `now` decides which entries are still in force.
    pub fn apply(
        &self,
        findings: &[Finding],
        now: OffsetDateTime,
    ) -> (Vec<Option<Applied>>, ExceptionsSummary) {
        let mut matched = vec![false; self.entries.len()];
        let mut applied = 0;
        let mut marks = vec![None; findings.len()];
        for (slot, f) in marks
            .iter_mut()
            .zip(findings)
            .filter(|(_, f)| f.status.is_open())
        {
            // An entry in force wins over an expired one for the same finding.
            let mut hits = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.matches(f))
                .collect::<Vec<_>>();
            hits.sort_by_key(|(_, e)| e.expires_at <= now);
            let Some((_, e)) = hits.first() else { continue };
            for (j, _) in &hits {
                matched[*j] = true;
            }
            let expired = e.expires_at <= now;
            if !expired {
                applied += 1;
            }
            *slot = Some(Applied {
                line: e.line,
                justification: e.justification.clone(),
                approver: e.approver.clone(),
                expires: e.expires.clone(),
                expired,
            });
        }
        let refs = |pick: &dyn Fn(usize, &Entry) -> bool| -> Vec<EntryRef> {
            self.entries
                .iter()
                .enumerate()
                .filter(|(i, e)| pick(*i, e))
                .map(|(_, e)| e.summary())
                .collect()
        };
        let summary = ExceptionsSummary {
            file: self.file.clone(),
            judged_at: rfc3339(now),
            entries: self.entries.len(),
            applied,
            expired: refs(&|_, e| e.expires_at <= now),
            unmatched: refs(&|i, _| !matched[i]),
        };
        (marks, summary)
    }
}

/// The entry that matched a finding, as the finding carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Applied {
    /// Line of the entry in the exceptions file.
    pub line: usize,
    pub justification: String,
    pub approver: String,
    /// RFC 3339 with the offset the file gave.
    pub expires: String,
    /// The entry has expired: it no longer applies and the finding counts as usual.
    pub expired: bool,
}

impl Applied {
    /// In force: the finding stops counting against the verdict.
    pub fn in_force(&self) -> bool {
        !self.expired
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EntryRef {
    pub line: usize,
    pub check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub justification: String,
    pub approver: String,
    pub expires: String,
}

/// What report.json says about the exceptions file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExceptionsSummary {
    pub file: String,
    /// The time entries were judged in force or expired at (when the report was made).
    pub judged_at: String,
    pub entries: usize,
    /// Open findings covered by an entry in force.
    pub applied: usize,
    /// Entries past their expiry: they no longer apply.
    pub expired: Vec<EntryRef>,
    /// Entries that matched no open finding: the risk may be gone, or the pattern is wrong.
    pub unmatched: Vec<EntryRef>,
}

/// `*` any run of characters, `?` one character; the whole subject, ignoring case.
fn glob(pattern: &str) -> Regex {
    let mut re = String::from("(?i)^");
    for c in pattern.trim().chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    // Only escaped literals and .* / . : always a valid expression.
    Regex::new(&re).unwrap_or_else(|_| Regex::new("^$").expect("valid"))
}

const NEEDS_ZONE: &str = "give the time zone: an RFC 3339 time with an offset like \
     2027-01-31T23:59:59+01:00, or a date plus timezone = \"UTC\" (or \"+01:00\")";

/// The instant an entry stops applying. A bare date lasts to the end of that day in `timezone`.
fn expiry(value: &toml::Value, timezone: Option<&str>) -> Result<(OffsetDateTime, String), String> {
    let dt = match value {
        toml::Value::Datetime(dt) => *dt,
        toml::Value::String(s) => s
            .trim()
            .parse::<toml::value::Datetime>()
            .map_err(|_| format!("\"{s}\" is not a date or an RFC 3339 time"))?,
        other => {
            return Err(format!(
                "expected a date or time, found {}",
                other.type_str()
            ))
        }
    };
    let Some(d) = dt.date else {
        return Err("a time of day without a date".into());
    };
    let offset = match (dt.offset, timezone) {
        (Some(_), Some(_)) => return Err("has an offset and timezone is set too; keep one".into()),
        (Some(toml::value::Offset::Z), None) => UtcOffset::UTC,
        (Some(toml::value::Offset::Custom { minutes }), None) => {
            UtcOffset::from_whole_seconds(i32::from(minutes) * 60)
                .map_err(|_| "the offset is out of range".to_string())?
        }
        (None, Some(tz)) => parse_zone(tz)?,
        (None, None) => return Err(NEEDS_ZONE.into()),
    };
    let month = time::Month::try_from(d.month).map_err(|_| "month out of range".to_string())?;
    let date = time::Date::from_calendar_date(i32::from(d.year), month, d.day)
        .map_err(|e| format!("not a calendar date: {e}"))?;
    let at = match dt.time {
        Some(t) => {
            let time = time::Time::from_hms(t.hour, t.minute, t.second.unwrap_or(0))
                .map_err(|e| format!("not a time of day: {e}"))?;
            date.with_time(time).assume_offset(offset)
        }
        // Valid through the whole day named.
        None => date.midnight().assume_offset(offset) + Duration::days(1) - Duration::seconds(1),
    };
    let shown = at
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    Ok((at, shown))
}

fn parse_zone(tz: &str) -> Result<UtcOffset, String> {
    let tz = tz.trim();
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return Ok(UtcOffset::UTC);
    }
    UtcOffset::parse(
        tz,
        time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
    )
    .map_err(|_| {
        format!("timezone \"{tz}\": use \"UTC\" or an offset like \"+01:00\" (zone names are not supported)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiry_forms() {
        let v = |s: &str| toml::from_str::<toml::Table>(&format!("x = {s}")).unwrap()["x"].clone();
        let (at, shown) = expiry(&v("2027-01-31T23:59:59+01:00"), None).unwrap();
        assert_eq!(at, datetime!(2027-01-31 22:59:59 UTC));
        assert_eq!(shown, "2027-01-31T23:59:59+01:00");
        let (at, _) = expiry(&v("2027-01-31"), Some("UTC")).unwrap();
        assert_eq!(at, datetime!(2027-01-31 23:59:59 UTC));
        let (at, _) = expiry(&v("2027-01-31"), Some("-05:00")).unwrap();
        assert_eq!(at, datetime!(2027-02-01 04:59:59 UTC));
        let (at, _) = expiry(&v("\"2027-01-31T10:00:00Z\""), None).unwrap();
        assert_eq!(at, datetime!(2027-01-31 10:00 UTC));
        assert!(expiry(&v("2027-01-31"), None)
            .unwrap_err()
            .contains("time zone"));
        assert!(expiry(&v("2027-01-31T10:00:00"), None).is_err());
        assert!(expiry(&v("2027-01-31T10:00:00Z"), Some("UTC")).is_err());
        assert!(expiry(&v("2027-01-31"), Some("Europe/Berlin"))
            .unwrap_err()
            .contains("zone names"));
        assert!(expiry(&v("12"), None).is_err());
    }

    #[test]
    fn every_bad_entry_is_reported_at_once() {
        let catalog = Catalog::builtin().unwrap();
        let text = "[[exception]]\ncheck = \"no-such-check\"\njustification = \"x\"\napprover = \"y\"\nexpires = 2027-01-01\ntimezone = \"UTC\"\n\n[[exception]]\ncheck = \"net-dc-ports\"\njustification = \"\"\napprover = \"y\"\nexpires = 2027-01-01\n";
        let Err(ExceptionsError::Invalid(d)) = Exceptions::parse(text, "x.toml", &catalog) else {
            panic!("both entries are bad");
        };
        let codes: Vec<&str> = d.0.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["unknown-check", "empty-value", "bad-expiry"], "{d}");
        assert!(
            d.0[0]
                .to_string()
                .starts_with("x.toml:2:9: check: no check"),
            "{d}"
        );
        assert_eq!((d.0[2].line, d.0[2].column), (12, 11));
    }

    #[test]
    fn globs() {
        assert!(glob("dc1.*:9389").is_match("DC1.corp.contoso.test:9389"));
        assert!(!glob("dc1.*:9389").is_match("dc1.corp.contoso.test:93890"));
        assert!(glob("a?c").is_match("abc"));
        assert!(!glob("a.c").is_match("abc"));
    }
}
