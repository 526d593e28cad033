//! junit.xml for CI pipelines: one test suite per area, one test case per finding. Fail is a
//! failure, error (not assessed) an error, not applicable and excepted findings are skipped;
//! warnings and info pass with the observation in system-out.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Format, FormatName, RenderError, View};
use crate::evaluate::Status;
use crate::report::ReportFinding;

pub struct Junit;

/// Escapes text and attribute values, and drops characters XML 1.0 cannot carry at all.
pub fn xml(s: &str) -> String {
    let s = crate::text::visible(s, &['\n', '\r', '\t']);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn details(f: &ReportFinding) -> String {
    let mut d = format!(
        "observed: {}\nexpected: {}",
        f.observed.as_deref().unwrap_or("(nothing observed)"),
        f.expected
    );
    if let Some(r) = &f.reason {
        let _ = write!(d, "\nwhy: {r}");
    }
    if let Some(c) = &f.change {
        let _ = write!(d, "\nchange since baseline: {}", c.state.label());
    }
    for (i, step) in f.remediation.iter().enumerate() {
        let _ = write!(d, "\n{}. {step}", i + 1);
    }
    let _ = write!(d, "\nsource: {} <{}>", f.source, f.reference);
    d
}

impl Format for Junit {
    fn name(&self) -> &'static str {
        "junit"
    }

    fn kind(&self) -> FormatName {
        FormatName::Junit
    }

    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    // Built as text, then written: JUnit is for CI systems, not a default format.
    fn write(&self, view: &View<'_>, sink: &mut dyn std::io::Write) -> Result<(), RenderError> {
        let r = view.report;
        let mut areas: BTreeMap<&str, Vec<&ReportFinding>> = BTreeMap::new();
        for f in &r.findings {
            areas.entry(f.area.as_str()).or_default().push(f);
        }
        let count = |fs: &[&ReportFinding], pick: &dyn Fn(&ReportFinding) -> bool| {
            fs.iter().filter(|f| pick(f)).count()
        };
        let skipped = |f: &ReportFinding| f.status == Status::NotApplicable || f.is_excepted();
        let failure = |f: &ReportFinding| f.status == Status::Fail && !f.is_excepted();
        let error = |f: &ReportFinding| f.status == Status::Error && !f.is_excepted();
        let all: Vec<&ReportFinding> = r.findings.iter().collect();
        // The JUnit schema's timestamp has no zone designator; generated_at is UTC.
        let timestamp = r.generated_at.trim_end_matches('Z');
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"readyscan\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\">",
            all.len(),
            count(&all, &failure),
            count(&all, &error),
            count(&all, &skipped),
            xml(timestamp),
        );
        for (area, fs) in &areas {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\" hostname=\"{}\">",
                xml(area),
                fs.len(),
                count(fs, &failure),
                count(fs, &error),
                count(fs, &skipped),
                xml(timestamp),
                xml(&r.scan.host),
            );
            for f in fs {
                let _ = write!(
                    out,
                    "    <testcase classname=\"readyscan.{}.{}\" name=\"{}\">",
                    xml(area),
                    xml(&f.check_id),
                    xml(&format!("{} [{}]", f.title, f.subject)),
                );
                let message = f.observed.as_deref().or(f.reason.as_deref()).unwrap_or("");
                if let Some(x) = f.exception.as_ref().filter(|_| f.is_excepted()) {
                    let _ = write!(
                        out,
                        "<skipped message=\"{}\"/>",
                        xml(&format!(
                            "accepted risk ({}) until {}, approved by {}: {}",
                            f.status, x.expires, x.approver, x.justification
                        ))
                    );
                } else {
                    match f.status {
                        Status::Fail => {
                            let _ = write!(
                                out,
                                "<failure type=\"{}\" message=\"{}\">{}</failure>",
                                f.severity,
                                xml(message),
                                xml(&details(f))
                            );
                        }
                        Status::Error => {
                            let _ = write!(
                                out,
                                "<error type=\"not_assessed\" message=\"{}\">{}</error>",
                                xml(message),
                                xml(&details(f))
                            );
                        }
                        Status::NotApplicable => {
                            let _ = write!(out, "<skipped message=\"{}\"/>", xml(message));
                        }
                        Status::Pass => {
                            let _ = write!(out, "<system-out>pass: {}</system-out>", xml(message));
                        }
                        Status::Warn | Status::Info => {
                            let _ = write!(
                                out,
                                "<system-out>{}: {}</system-out>",
                                f.status,
                                xml(&details(f))
                            );
                        }
                    }
                }
                out.push_str("</testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        sink.write_all(out.as_bytes())
            .map_err(|e| RenderError::Template {
                name: "junit.xml".into(),
                message: e.to_string(),
            })
    }
}
