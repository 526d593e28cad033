//! readyscan: checks an on-premises environment against the documented minimums for Microsoft
//! Intune / EMS onboarding and writes a remediation checklist.
//!
//! The pipeline: [`runner::collect`] runs the [`probes`] and returns [`observation`]s (plain data,
//! saved in report.json); [`evaluate::evaluate`] judges them with the [`catalog`] of checks;
//! [`report::Report`] holds the findings and [`render`] writes them as HTML, JSON and Markdown.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let catalog = readyscan::catalog::Catalog::builtin()?;
//! let set = readyscan::scan(readyscan::config::ScanConfig::default(), &catalog, false).await;
//! let today = time::OffsetDateTime::now_utc().date();
//! let report = readyscan::report::Report::build(set, &catalog, today, time::OffsetDateTime::now_utc());
//! readyscan::render::write_all(&report, "out".as_ref(), &["html".into(), "json".into()])?;
//! # Ok(()) }
//! ```

pub mod baseline;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod evaluate;
pub mod exceptions;
pub mod merge;
pub mod observation;
pub mod probes;
pub mod render;
pub mod report;
pub mod runner;

use std::sync::Arc;

use catalog::Catalog;
use config::ScanConfig;
use observation::{ObservationSet, ScanInfo};

/// The scanning host's name, recorded as the vantage point of network results.
pub fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Runs every probe this version has against the configured environment.
pub async fn scan(config: ScanConfig, catalog: &Catalog, show_progress: bool) -> ObservationSet {
    scan_with_secrets(config, probes::Secrets::default(), catalog, show_progress).await
}

/// As [`scan`], with the secrets (bind password) some probes need.
pub async fn scan_with_secrets(
    config: ScanConfig,
    secrets: probes::Secrets,
    catalog: &Catalog,
    show_progress: bool,
) -> ObservationSet {
    let host = host_name();
    let started = time::OffsetDateTime::now_utc();
    let config = Arc::new(config);
    let observations = runner::collect(
        config.clone(),
        catalog,
        &probes::registry(),
        secrets,
        host.clone(),
        show_progress,
    )
    .await;
    let mut config = Arc::unwrap_or_clone(config);
    config.scopes = probes::effective_scopes(&config, &observations);
    ObservationSet {
        scan: ScanInfo {
            mode: "live".into(),
            collected_at: report::rfc3339(started),
            host,
            config,
            vantages: Vec::new(),
        },
        observations,
    }
}
