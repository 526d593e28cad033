//! report.json, for machines and for `evaluate`.

use super::{Format, FormatName, RenderError, View};

pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn kind(&self) -> FormatName {
        FormatName::Json
    }

    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn write(&self, view: &View<'_>, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
        let err = |e: &dyn std::fmt::Display| RenderError::Template {
            name: "report.json".into(),
            message: e.to_string(),
        };
        serde_json::to_writer_pretty(&mut *out, view.report).map_err(|e| err(&e))?;
        out.write_all(b"\n").map_err(|e| err(&e))
    }
}
