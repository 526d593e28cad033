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
use crate::probes::{PlanInput, Probe, ProbeContext, ProbeError, Request, Secrets};

/// Extra time a probe gets past its own timeout before the runner gives up on it; probes that
/// time out themselves (a filtered port) report a richer result than the runner can.
const GRACE: Duration = Duration::from_millis(250);

/// Collects observations for every in-scope check whose probe this version has.
pub async fn collect(
    config: Arc<ScanConfig>,
    catalog: &Catalog,
    probes: &[Arc<dyn Probe>],
    secrets: Secrets,
    vantage: String,
    show_progress: bool,
) -> Vec<Observation> {
    let ctx = Arc::new(ProbeContext {
        config: config.clone(),
        secrets,
        timeout: config.timeout,
        vantage,
    });
    let limit = Arc::new(Semaphore::new(config.concurrency));
    let bar = progress_bar(show_progress);
    let mut observations: Vec<Observation> = Vec::new();

    let stages: BTreeSet<u8> = probes.iter().map(|p| p.stage()).collect();
    for stage in stages {
        // Earlier stages may bring in a scope (a ConfigMgr site found in AD).
        let scopes = crate::probes::effective_scopes(&config, &observations);
        let in_scope: Vec<&Check> = catalog
            .checks
            .iter()
            .filter(|c| c.scopes.iter().any(|s| scopes.contains(s)))
            .collect();
        let mut tasks = JoinSet::new();
        for probe in probes.iter().filter(|p| p.stage() == stage) {
            let name = probe.spec().name;
            let checks: Vec<&Check> = in_scope
                .iter()
                .copied()
                .filter(|c| c.probe == name)
                .collect();
            if !needed(name, &in_scope, probes) {
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
                    let answer = observe_guarded(probe, request.clone(), ctx).await;
                    bar.inc(1);
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

/// A probe runs when an in-scope check names it, or when a probe that runs reads its output.
fn needed(name: &str, in_scope: &[&Check], probes: &[Arc<dyn Probe>]) -> bool {
    in_scope.iter().any(|c| c.probe == name)
        || probes
            .iter()
            .filter(|p| p.reads().contains(&name))
            .any(|p| needed(p.spec().name, in_scope, probes))
}

/// Runs one request under its time budget; a probe that panics on a hostile answer becomes a
/// failed observation instead of taking the scan down.
async fn observe_guarded(
    probe: Arc<dyn Probe>,
    request: Request,
    ctx: Arc<ProbeContext>,
) -> Result<serde_json::Map<String, serde_json::Value>, ProbeError> {
    let budget = probe.time_budget(ctx.timeout) + GRACE;
    let timeout = ctx.timeout;
    let task =
        tokio::spawn(
            async move { tokio::time::timeout(budget, probe.observe(&request, &ctx)).await },
        );
    match task.await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_elapsed)) => Err(ProbeError::Timeout(budget.max(timeout))),
        Err(e) => Err(ProbeError::Failed(format!(
            "the probe failed on the server's answer ({})",
            if e.is_panic() {
                "malformed response"
            } else {
                "cancelled"
            }
        ))),
    }
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
