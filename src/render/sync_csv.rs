//! sync-errors.csv: the directory-synchronization fix list, one row per object and problem, from
//! the `ldap.sync_objects` observations. Same conventions as checklist.csv (BOM, CRLF, every
//! field quoted, formula-safe cells). readyscan never writes the fixes to the directory.

use serde_json::Value;

use super::{Format, FormatName, RenderError, View};

pub struct SyncCsv;

pub const HEADER: [&str; 9] = [
    "DN",
    "objectClass",
    "Attribute",
    "Value",
    "Error",
    "Suggested value",
    "Rule ID",
    "Severity",
    "Domain",
];

impl Format for SyncCsv {
    fn name(&self) -> &'static str {
        "sync-csv"
    }

    fn kind(&self) -> FormatName {
        FormatName::SyncCsv
    }

    fn file_name(&self) -> &'static str {
        "sync-errors.csv"
    }

    fn write(&self, view: &View<'_>, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
        let err = |e: &dyn std::fmt::Display| RenderError::Template {
            name: "sync-errors.csv".into(),
            message: e.to_string(),
        };
        out.write_all("\u{feff}".as_bytes()).map_err(|e| err(&e))?;
        let mut w = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(HEADER).map_err(|e| err(&e))?;
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        for o in view
            .report
            .observations
            .iter()
            .filter(|o| o.probe == "ldap.sync_objects")
        {
            let rows = o.fields.get("rows").and_then(Value::as_array);
            for r in rows.into_iter().flatten() {
                let blocker = r.get("blocker").and_then(Value::as_bool).unwrap_or(true);
                let row = [
                    text(r, "dn"),
                    text(r, "object_class"),
                    text(r, "attribute"),
                    text(r, "value"),
                    text(r, "what"),
                    text(r, "suggested"),
                    text(r, "rule"),
                    if blocker { "blocker" } else { "warning" }.to_string(),
                    o.subject.clone(),
                ];
                w.write_record(row.iter().map(|s| super::csv::cell(s)))
                    .map_err(|e| err(&e))?;
            }
        }
        w.flush().map_err(|e| err(&e))
    }
}
