//! Runs the probes: stage by stage, all requests of a stage concurrently, each under a timeout.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::catalog::{Catalog, Check};
use crate::config::ScanConfig;
use crate::observation::Observation;
use crate::probes::{PlanInput, Probe, ProbeContext, ProbeError};

/// Extra time a probe gets past its own timeout before the runner gives up on it; probes that
/// time out themselves (a filtered port) report a richer result than the runner can.
const GRACE: Duration = Duration::from_millis(250);

/// Collects observations for every in-scope check whose probe this version has.
pub async fn collect(
    config: Arc<ScanConfig>,
    catalog: &Catalog,
    probes: &[Arc<dyn Probe>],
    vantage: String,
    show_progress: bool,
) -> Vec<Observation> {
    let in_scope: Vec<&Check> = catalog
        .checks
        .iter()
        .filter(|c| c.scopes.iter().any(|s| config.scopes.contains(s)))
        .collect();
    let ctx = Arc::new(ProbeContext {
        config: config.clone(),
        timeout: config.timeout,
        vantage,
    });
    let limit = Arc::new(Semaphore::new(config.concurrency));
    let bar = progress_bar(show_progress);
    let mut observations: Vec<Observation> = Vec::new();

    let stages: BTreeSet<u8> = probes.iter().map(|p| p.stage()).collect();
    for stage in stages {
        let mut tasks = JoinSet::new();
        for probe in probes.iter().filter(|p| p.stage() == stage) {
            let name = probe.spec().name;
            let checks: Vec<&Check> = in_scope
                .iter()
                .copied()
                .filter(|c| c.probe == name)
                .collect();
            if checks.is_empty() {
                continue;
            }
            let mut requests = probe.plan(&PlanInput {
                config: &config,
                checks: &checks,
                prior: &observations,
            });
            // Several checks needing the same observation cause one query.
            requests.sort_by(|a, b| a.subject.cmp(&b.subject));
            requests.dedup_by(|a, b| a.subject == b.subject);
            bar.inc_length(requests.len() as u64);
            for request in requests {
                let (probe, ctx, limit, bar) =
                    (probe.clone(), ctx.clone(), limit.clone(), bar.clone());
                tasks.spawn(async move {
                    let _permit = limit.acquire_owned().await.expect("semaphore never closed");
                    let budget = probe.budget(ctx.timeout);
                    let answer = tokio::time::timeout(budget + GRACE, probe.observe(&request, &ctx)).await;
                    bar.inc(1);
                    let answer = answer.unwrap_or(Err(ProbeError::Timeout(budget)));
                    tracing::debug!(probe = name, subject = %request.subject, ok = answer.is_ok(), "probe answered");
                    to_observation(name, request.subject, request.fields, answer)
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(obs) => observations.push(obs),
                // A panicking probe is a bug; keep scanning and say so in the log.
                Err(e) => tracing::error!("a probe task failed: {e}"),
            }
        }
    }
    bar.finish_and_clear();
    observations.sort_by(|a, b| (&a.probe, &a.subject).cmp(&(&b.probe, &b.subject)));
    observations
}

fn to_observation(
    probe: &str,
    subject: String,
    mut fields: serde_json::Map<String, serde_json::Value>,
    answer: Result<serde_json::Map<String, serde_json::Value>, ProbeError>,
) -> Observation {
    match answer {
        Ok(found) => {
            fields.extend(found);
            Observation::observed(probe, &subject, fields)
        }
        Err(ProbeError::NotApplicable(reason)) => Observation {
            status: crate::observation::ObservationStatus::NotApplicable,
            reason: Some(reason),
            ..Observation::observed(probe, &subject, fields)
        },
        Err(e) => Observation::failed(probe, &subject, e.kind(), e.to_string(), fields),
    }
}

fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} probing {pos}/{len} {wide_bar}") {
        bar.set_style(style);
    }
    bar
}
