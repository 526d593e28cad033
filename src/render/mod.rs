//! Output formats: one module per format behind the [`Format`] trait.
//!
//! To add a format: write a module with a type implementing [`Format`] and list it in [`formats`].

mod csv;
mod html;
mod json;
mod junit;
mod markdown;
mod rerun;
mod view;

use std::path::{Path, PathBuf};

pub use self::csv::cell as csv_cell;
pub use junit::xml as xml_escape;
pub use markdown::escape_md;
pub use view::View;

use crate::report::Report;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

pub trait Format {
    /// Name used by `--format`.
    fn name(&self) -> &'static str;
    /// File written into `--out`.
    fn file_name(&self) -> &'static str;
    fn render(&self, view: &View<'_>) -> Result<String, RenderError>;
}

/// Registers template partials (the re-run blocks live in their own files).
fn register_partials(
    hb: &mut handlebars::Handlebars<'_>,
    partials: &[(&str, &str)],
) -> Result<(), RenderError> {
    for (name, text) in partials {
        hb.register_partial(name, *text)
            .map_err(|e| RenderError::Template {
                name: format!("{name} partial"),
                message: e.to_string(),
            })?;
    }
    Ok(())
}

pub fn formats() -> Vec<Box<dyn Format>> {
    vec![
        Box::new(json::Json),
        Box::new(html::Html),
        Box::new(markdown::Markdown),
        Box::new(csv::Csv),
        Box::new(junit::Junit),
    ]
}

pub fn format_names() -> Vec<&'static str> {
    formats().iter().map(|f| f.name()).collect()
}

/// Writes the chosen formats into `dir` (created if missing); returns the paths written.
/// JSON is rendered first so the other formats can quote its SHA-256.
pub fn write_all(
    report: &Report,
    dir: &Path,
    chosen: &[String],
) -> Result<Vec<PathBuf>, RenderError> {
    let write_err = |path: &Path, source| RenderError::Write {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let json_text = json::to_text(report)?;
    let view = View::new(report, &json_text);
    let mut written = Vec::new();
    for format in formats()
        .iter()
        .filter(|f| chosen.iter().any(|c| c == f.name()))
    {
        // report.json is written from the text already made: no second copy of a large report.
        let text = match format.name() {
            "json" => std::borrow::Cow::Borrowed(json_text.as_str()),
            _ => std::borrow::Cow::Owned(format.render(&view)?),
        };
        let path = dir.join(format.file_name());
        std::fs::write(&path, text.as_bytes()).map_err(|e| write_err(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
