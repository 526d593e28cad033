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
    /// Writes the format to `out` as it renders, so a large report is never held as text.
    fn write(&self, view: &View<'_>, out: &mut dyn std::io::Write) -> Result<(), RenderError>;

    /// The whole output as text (tests).
    fn render(&self, view: &View<'_>) -> Result<String, RenderError> {
        let mut out = Vec::new();
        self.write(view, &mut out)?;
        String::from_utf8(out).map_err(|e| RenderError::Template {
            name: self.file_name().into(),
            message: e.to_string(),
        })
    }
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

/// Renders a compiled layout with a context into `out`.
fn render_with<T: serde::Serialize>(
    compiled: &Result<handlebars::Handlebars<'static>, String>,
    file: &str,
    context: &T,
    out: &mut dyn std::io::Write,
) -> Result<(), RenderError> {
    let hb = compiled.as_ref().map_err(|e| RenderError::Template {
        name: file.into(),
        message: e.clone(),
    })?;
    hb.render_to_write("main", context, out)
        .map_err(|e| RenderError::Template {
            name: file.into(),
            message: e.to_string(),
        })
}

/// A writer that keeps the first error of the one it wraps: a format reports a failed write
/// in its own terms (a template or CSV error), and the file's error is the one to show.
struct Watched<'w> {
    inner: &'w mut dyn std::io::Write,
    failed: Option<std::io::Error>,
}

impl std::io::Write for Watched<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.keep(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.keep(e))
    }
}

impl Watched<'_> {
    fn keep(&mut self, e: &std::io::Error) {
        if self.failed.is_none() {
            self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
    }
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
        // Buffered before the hash: serde writes a few bytes at a time.
        let mut chunks = std::io::BufWriter::with_capacity(64 * 1024, &mut out);
        serde_json::to_writer_pretty(&mut chunks, report).map_err(std::io::Error::other)?;
        std::io::Write::write_all(&mut chunks, b"\n")?;
        std::io::Write::flush(&mut chunks)?;
        drop(chunks);
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
            let mut render_error = None;
            let done = crate::files::write_new(&path, |w| {
                let mut out = Watched {
                    inner: w,
                    failed: None,
                };
                format.write(&view, &mut out).map_err(|e| {
                    out.failed.take().unwrap_or_else(|| {
                        render_error = Some(e);
                        std::io::Error::other("not rendered")
                    })
                })
            });
            if let Some(e) = render_error {
                return Err(e);
            }
            done.map_err(|e| write_err(&path, e))?;
        }
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::Watched;
    use std::io::Write;

    /// A disk that is full after `room` bytes.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "no space left on device",
                ));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_failed_write_is_kept_for_the_error_message() {
        let mut disk = Full { room: 4 };
        let mut out = Watched {
            inner: &mut disk,
            failed: None,
        };
        let wrote = out.write_all(b"<html>");
        assert_eq!(
            wrote.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::StorageFull)
        );
        let _ = out.write_all(b"again");
        let kept = out.failed.expect("the failure is kept");
        assert_eq!(kept.kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(kept.to_string(), "no space left on device");
    }
}
