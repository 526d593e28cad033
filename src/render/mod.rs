//! Output formats: one module per format behind the [`Format`] trait.
//!
//! To add a format: write a module with a type implementing [`Format`], name it in
//! [`FormatName`] and list it in [`formats`].

mod csv;
pub mod diff;
mod finding;
mod html;
mod inventory;
mod json;
mod junit;
mod markdown;
mod rerun;
mod sync_csv;
mod sync_view;
mod view;

use std::path::{Path, PathBuf};

pub use self::csv::cell as csv_cell;
pub use finding::{status_label, FindingView};
pub use junit::xml as xml_escape;
pub use markdown::escape_md;
pub use view::{Context, View};

use crate::report::Report;

/// The formats `--format` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatName {
    Html,
    Json,
    Md,
    Csv,
    Junit,
    SyncCsv,
}

impl FormatName {
    pub const ALL: [FormatName; 6] = [
        FormatName::Html,
        FormatName::Json,
        FormatName::Md,
        FormatName::Csv,
        FormatName::Junit,
        FormatName::SyncCsv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FormatName::Html => "html",
            FormatName::Json => "json",
            FormatName::Md => "md",
            FormatName::Csv => "csv",
            FormatName::Junit => "junit",
            FormatName::SyncCsv => "sync-csv",
        }
    }
}

impl std::str::FromStr for FormatName {
    type Err = String;

    fn from_str(s: &str) -> Result<FormatName, String> {
        FormatName::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown format \"{s}\", expected some of {}",
                    format_names().join(",")
                )
            })
    }
}

impl std::fmt::Display for FormatName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    fn kind(&self) -> FormatName;
    /// File written into `--out`.
    fn file_name(&self) -> &'static str;
    fn render(&self, view: &View<'_>) -> Result<String, RenderError>;
}

/// A layout's templates, compiled on first use and kept for the run: the main template
/// under `main`, its partials (the re-run blocks live in their own files) by name.
fn compile(
    templates: &[(&str, &str)],
    setup: impl FnOnce(&mut handlebars::Handlebars<'static>),
) -> Result<handlebars::Handlebars<'static>, String> {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    setup(&mut hb);
    for (name, text) in templates {
        if *name == "main" {
            hb.register_template_string(name, *text)
        } else {
            hb.register_partial(name, *text)
        }
        .map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(hb)
}

/// Renders a compiled layout with a context.
fn render_with<T: serde::Serialize>(
    compiled: &Result<handlebars::Handlebars<'static>, String>,
    file: &str,
    context: &T,
) -> Result<String, RenderError> {
    let hb = compiled.as_ref().map_err(|e| RenderError::Template {
        name: file.into(),
        message: e.clone(),
    })?;
    hb.render("main", context)
        .map_err(|e| RenderError::Template {
            name: file.into(),
            message: e.to_string(),
        })
}

pub fn formats() -> Vec<Box<dyn Format>> {
    vec![
        Box::new(json::Json),
        Box::new(html::Html),
        Box::new(markdown::Markdown),
        Box::new(csv::Csv),
        Box::new(junit::Junit),
        Box::new(sync_csv::SyncCsv),
    ]
}

pub fn format_names() -> Vec<&'static str> {
    formats().iter().map(|f| f.name()).collect()
}

/// Parses `--format` values (comma-separated lists already split).
pub fn parse_formats(names: &[String]) -> Result<Vec<FormatName>, String> {
    names.iter().map(|n| n.parse()).collect()
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hash, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the chosen formats into `dir` (created if missing); returns the paths written.
/// JSON is rendered first so the other formats can quote its SHA-256.
pub fn write_all(
    report: &Report,
    dir: &Path,
    chosen: &[FormatName],
) -> Result<Vec<PathBuf>, RenderError> {
    let write_err = |path: &Path, source| RenderError::Write {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    // report.json is streamed to disk while hashed (to a sink when not chosen), so a large
    // report is never held as text too; the other formats quote the hash.
    let json_path = dir.join("report.json");
    let mut digest = Vec::new();
    let mut stream = |sink: &mut dyn std::io::Write| -> std::io::Result<()> {
        let mut out = Hashing {
            inner: sink,
            hash: <sha2::Sha256 as sha2::Digest>::new(),
        };
        serde_json::to_writer_pretty(&mut out, report).map_err(std::io::Error::other)?;
        std::io::Write::write_all(&mut out, b"\n")?;
        digest = sha2::Digest::finalize(out.hash).to_vec();
        Ok(())
    };
    if chosen.contains(&FormatName::Json) {
        crate::files::write_new(&json_path, stream).map_err(|e| write_err(&json_path, e))?;
    } else {
        stream(&mut std::io::sink()).map_err(|e| write_err(&json_path, e))?;
    }
    let view = View::with_sha256(report, &digest);
    let mut written = Vec::new();
    for format in formats().iter().filter(|f| chosen.contains(&f.kind())) {
        let path = dir.join(format.file_name());
        if format.kind() != FormatName::Json {
            let text = format.render(&view)?;
            crate::files::write_new(&path, |w| w.write_all(text.as_bytes()))
                .map_err(|e| write_err(&path, e))?;
        }
        written.push(path);
    }
    Ok(written)
}
