//! readyscan: checks an on-premises environment against the documented minimums for Microsoft
//! Intune / EMS onboarding and writes a remediation checklist.
//!
//! The pipeline, each layer importing only those before it:
//! [`runner::scan`] runs the [`probes`] and returns [`observation`]s (plain data, saved in
//! report.json); [`report::Report::judge`] evaluates them with the [`catalog`]
//! ([`evaluate`]), applies the [`postprocess`] steps (exceptions, baseline, vantage conflicts)
//! and sets the verdict; [`render`] writes the report as HTML, JSON, Markdown, CSV and JUnit.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use readyscan::report::{Judging, Report};
//! let catalog = readyscan::catalog::Catalog::builtin()?;
//! let set = readyscan::scan(readyscan::config::ScanConfig::default(), &catalog, false).await?;
//! let now = time::OffsetDateTime::now_utc();
//! let report = Report::judge(set, &catalog, &Judging::on(now.date(), now));
//! readyscan::render::write_all(&report, "out".as_ref(), &readyscan::render::FormatName::ALL)?;
//! # Ok(()) }
//! ```

// Layer 1: leaves.
pub mod dates;
pub mod diagnostic;
pub mod files;
pub mod text;
pub mod vocab;
// 2-3: what to scan, what was seen.
pub mod config;
pub mod observation;
// 4-6: probe specs, the catalog, probe implementations and the runner.
pub mod catalog;
pub mod probes;
pub mod runner;
// 7-9: judging.
pub mod evaluate;
pub mod postprocess;
pub mod report;
// 10: output; the built-in demo.
pub mod demo;
pub mod render;

pub use runner::{host_name, scan, scan_with_secrets};
