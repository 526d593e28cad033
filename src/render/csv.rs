//! checklist.csv: one row per open item, for the project team's tracker or Excel.
//!
//! Excel opens it correctly: UTF-8 with a byte order mark, CRLF line ends, every field quoted
//! (commas, quotes and newlines survive). Cells starting with = + - @ or a tab/CR get a leading
//! apostrophe so an environment string cannot become a formula (CSV injection).

use super::{Format, FormatName, RenderError, View};

pub struct Csv;

pub const HEADER: [&str; 20] = [
    "#",
    "Result",
    "Check",
    "Check ID",
    "Area",
    "Subject",
    "Severity",
    "Observed",
    "Expected",
    "Why",
    "Remediation",
    "Reference",
    "Source",
    "Blocked by",
    "Change since baseline",
    "Exception",
    "Owner",
    "Due date",
    "Status",
    "Notes",
];

/// Neutralises spreadsheet formulas; everything else is left as it is.
pub fn cell(s: &str) -> String {
    // Invisible controls (ESC, BEL, NUL, bidi overrides) are dropped; line breaks and tabs stay.
    let s = crate::text::visible(s, &['\n', '\r', '\t']);
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.into_owned(),
    }
}

impl Format for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn kind(&self) -> FormatName {
        FormatName::Csv
    }

    fn file_name(&self) -> &'static str {
        "checklist.csv"
    }

    fn write(&self, view: &View<'_>, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
        let err = |e: &dyn std::fmt::Display| RenderError::Template {
            name: "checklist.csv".into(),
            message: e.to_string(),
        };
        out.write_all("\u{feff}".as_bytes()).map_err(|e| err(&e))?;
        let mut w = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(HEADER).map_err(|e| err(&e))?;
        // One row per open finding; rows of one check share its checklist number.
        for item in view.checklist() {
            let blocked_by: Vec<String> = item.blocked_by.iter().map(|n| format!("#{n}")).collect();
            for f in &item.findings {
                let steps: Vec<String> = f
                    .remediation
                    .iter()
                    .enumerate()
                    .map(|(n, s)| format!("{}. {s}", n + 1))
                    .collect();
                let change = f
                    .change
                    .as_ref()
                    .map(|c| match c.was {
                        Some(was) => format!(
                            "{} (was {})",
                            c.state.label(),
                            super::finding::status_label(was)
                        ),
                        None => c.state.label().to_string(),
                    })
                    .unwrap_or_default();
                let exception = f
                    .exception
                    .as_ref()
                    .map(|x| {
                        if x.expired {
                            format!(
                                "expired {} (no longer applies): {}",
                                x.expires, x.justification
                            )
                        } else {
                            format!(
                                "accepted risk until {}, approved by {}: {}",
                                x.expires, x.approver, x.justification
                            )
                        }
                    })
                    .unwrap_or_default();
                let row = [
                    item.number.to_string(),
                    super::finding::status_label(f.status).to_string(),
                    f.title.to_string(),
                    f.check_id.clone(),
                    f.area.clone(),
                    f.subject.clone(),
                    f.severity.to_string(),
                    f.observed.clone().unwrap_or_default(),
                    f.expected.to_string(),
                    f.reason.clone().unwrap_or_default(),
                    steps.join("\n"),
                    f.reference.to_string(),
                    f.source.to_string(),
                    blocked_by.join(", "),
                    change,
                    exception,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ];
                w.write_record(row.iter().map(|s| cell(s)))
                    .map_err(|e| err(&e))?;
            }
        }
        w.flush().map_err(|e| err(&e))
    }
}
