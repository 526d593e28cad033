//! report.json, for machines and for `evaluate`.

use super::{Format, FormatName, RenderError, View};
use crate::report::Report;

pub struct Json;

pub fn to_text(report: &Report) -> Result<String, RenderError> {
    serde_json::to_string_pretty(report)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| RenderError::Template {
            name: "report.json".into(),
            message: e.to_string(),
        })
}

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

    fn render(&self, view: &View<'_>) -> Result<String, RenderError> {
        to_text(view.report)
    }
}
