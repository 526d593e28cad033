//! Runs the probes: stage by stage, all requests of a stage concurrently, each under a timeout.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::catalog::{Catalog, Check};
use crate::config::ScanConfig;
use crate::dates::rfc3339;
use crate::observation::{Observation, ObservationSet, ObservationStatus, ScanInfo};
use crate::probes::{
    effective_scopes, registry, Ask, PlanInput, Probe, ProbeContext, ProbeError, Request, Secrets,
    ServiceError, Services,
};
use crate::vocab::natural_cmp;

/// The scanning host's name, recorded as the vantage point of network results.
pub fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Runs every probe this version has against the configured environment.
pub async fn scan(
    config: ScanConfig,
    catalog: &Catalog,
    show_progress: bool,
) -> Result<ObservationSet, ServiceError> {
    scan_with_secrets(config, Secrets::default(), catalog, show_progress).await
}

/// As [`scan`], with the secrets (bind password) some probes need. Fails before any traffic
/// when the scan's own inputs are unusable (a bad `--ca-cert`).
pub async fn scan_with_secrets(
    config: ScanConfig,
    secrets: Secrets,
    catalog: &Catalog,
    show_progress: bool,
) -> Result<ObservationSet, ServiceError> {
    let host = host_name();
    let started = time::OffsetDateTime::now_utc();
    let services = Arc::new(Services::build(&config)?);
    let config = Arc::new(config);
    let observations = collect(
        config.clone(),
        services,
        catalog,
        &registry(),
        secrets,
        host.clone(),
        show_progress,
    )
    .await;
    let mut config = Arc::unwrap_or_clone(config);
    config.scopes = effective_scopes(&config, &observations);
    Ok(ObservationSet {
        scan: ScanInfo {
            mode: "live".into(),
            collected_at: rfc3339(started),
            host,
            config,
            vantages: Vec::new(),
        },
        observations,
    })
}

/// Extra time a probe gets past its own timeout before the runner gives up on it; probes that
/// time out themselves (a filtered port) report a richer result than the runner can.
const GRACE: Duration = Duration::from_millis(250);

/// A request waiting for its turn, with the probe that will answer it.
type Queued = (Arc<dyn Probe>, Request);

/// Collects observations for every in-scope check whose probe this version has.
pub async fn collect(
    config: Arc<ScanConfig>,
    services: Arc<Services>,
    catalog: &Catalog,
    probes: &[Arc<dyn Probe>],
    secrets: Secrets,
    vantage: String,
    show_progress: bool,
) -> Vec<Observation> {
    let bar = progress_bar(show_progress);
    let ctx = Arc::new(ProbeContext {
        config: config.clone(),
        services,
        secrets,
        timeout: config.timeout,
        vantage,
        progress: bar.clone(),
    });
    let limit = Arc::new(Semaphore::new(config.concurrency));
    // Slots per host (the request's `host` field), shared across stages and probes.
    let mut per_host: HashMap<String, Arc<HostSlots>> = HashMap::new();
    let mut observations: Vec<Observation> = Vec::new();

    let stages: BTreeSet<u8> = probes.iter().map(|p| p.spec().stage).collect();
    let first_stage = stages.first().copied().unwrap_or_default();
    // Dropped (aborted) when the scan ends; the probes read their answers through the resolver.
    let _read_ahead = read_ahead(&ctx, catalog, probes);
    for stage in stages {
        let in_scope = checks_in_scope(catalog, &config, &observations);
        // This stage's requests, taken host by host in turn, so a window of running tasks
        // covers every host and a busy one does not hold the others back.
        let mut by_host: BTreeMap<Option<String>, VecDeque<Queued>> = BTreeMap::new();
        let early = |p: &Arc<dyn Probe>| p.plans_early() && stage == first_stage;
        for probe in probes
            .iter()
            .filter(|p| p.spec().stage == stage || early(p))
        {
            let name = probe.spec().name;
            let Some(checks) = asks(name, &in_scope, catalog, probes) else {
                continue;
            };
            let mut requests = probe.plan(&PlanInput {
                config: &config,
                checks: &checks,
                prior: &observations,
            });
            // Several checks needing the same observation cause one query.
            requests.sort_by(|a, b| natural_cmp(&a.subject, &b.subject));
            requests.dedup_by(|a, b| a.subject == b.subject);
            if probe.plans_early() {
                // By subject: 10,000 ports planned early are not each compared with 10,000
                // observations.
                let done: HashMap<String, usize> = observations
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.probe == name)
                    .map(|(i, o)| (o.subject.clone(), i))
                    .collect();
                requests.retain(|r| match done.get(&r.subject) {
                    Some(&i) => {
                        join_roles(&mut observations[i], r);
                        false
                    }
                    None => true,
                });
            }
            bar.inc_length(requests.len() as u64);
            for request in requests {
                by_host
                    .entry(host_key(&request))
                    .or_default()
                    .push_back((probe.clone(), request));
            }
        }
        let mut queue = Vec::new();
        while !by_host.is_empty() {
            by_host.retain(|_, reqs| {
                if let Some(r) = reqs.pop_front() {
                    queue.push(r);
                }
                !reqs.is_empty()
            });
        }

        // Tasks are spawned as earlier ones finish: 10,000 probes never sit in memory at once.
        let window = config.concurrency.max(config.per_host).max(1) * 2;
        observations.reserve_exact(queue.len());
        let mut queue = queue.into_iter();
        let mut tasks = JoinSet::new();
        loop {
            while tasks.len() < window {
                let Some((probe, request)) = queue.next() else {
                    break;
                };
                let name = probe.spec().name;
                let host = host_key(&request).map(|h| {
                    per_host
                        .entry(h)
                        .or_insert_with(|| {
                            Arc::new(HostSlots {
                                slots: Arc::new(Semaphore::new(config.per_host.max(1))),
                                rtt: std::sync::Mutex::default(),
                            })
                        })
                        .clone()
                });
                let (ctx, limit, bar) = (ctx.clone(), limit.clone(), bar.clone());
                let frees = probe.frees_host_slot_when_slow();
                let timeout = config.timeout;
                tasks.spawn(async move {
                    // Host first, then global: a task waiting on a busy host holds no global slot.
                    let host_permit = match &host {
                        Some(h) => Some(
                            h.slots
                                .clone()
                                .acquire_owned()
                                .await
                                .expect("semaphore never closed"),
                        ),
                        None => None,
                    };
                    let hold = host
                        .as_ref()
                        .filter(|_| frees)
                        .map(|h| h.rtt.lock().map(|r| r.hold(timeout)).unwrap_or(timeout));
                    let _permit = limit.acquire_owned().await.expect("semaphore never closed");
                    tracing::info!(probe = name, subject = %request.subject, "probing");
                    let started = std::time::Instant::now();
                    // Shared with the probe's task, taken back when it ends: no copy per probe.
                    let request = Arc::new(request);
                    let observe = observe_guarded(probe, request.clone(), ctx);
                    let answer = match (hold, host_permit) {
                        (Some(hold), Some(permit)) => {
                            tokio::pin!(observe);
                            tokio::select! {
                                answer = &mut observe => answer,
                                _ = tokio::time::sleep(hold) => {
                                    drop(permit);
                                    observe.await
                                }
                            }
                        }
                        (_, _permit) => observe.await,
                    };
                    // Answered within half the timeout: a sample of the host's answer time.
                    let took = started.elapsed();
                    if let (Some(h), true) = (host.as_ref().filter(|_| frees), took < timeout / 2) {
                        if let Ok(mut rtt) = h.rtt.lock() {
                            rtt.sample(took);
                        }
                    }
                    bar.inc(1);
                    match &answer {
                        Ok(_) => tracing::info!(probe = name, subject = %request.subject, took = ?started.elapsed(), "observed"),
                        Err(e) => tracing::info!(probe = name, subject = %request.subject, took = ?started.elapsed(), kind = e.kind(), "not observed: {e}"),
                    }
                    let request = Arc::try_unwrap(request).unwrap_or_else(|r| (*r).clone());
                    to_observation(name, request.subject, request.fields, answer)
                });
            }
            match tasks.join_next().await {
                Some(Ok(obs)) => observations.push(obs),
                // A panicking probe is a bug; keep scanning and say so in the log.
                Some(Err(e)) => tracing::error!("a probe task failed: {e}"),
                None => break,
            }
        }
    }
    bar.finish_and_clear();
    order_observations(&mut observations);
    observations
}

/// The checks in scope; earlier stages may bring in a scope (a ConfigMgr site found in AD).
fn checks_in_scope<'c>(
    catalog: &'c Catalog,
    config: &ScanConfig,
    observations: &[Observation],
) -> Vec<&'c Check> {
    let scopes = effective_scopes(config, observations);
    catalog
        .checks
        .iter()
        .filter(|c| c.scopes.iter().any(|s| scopes.contains(s)))
        .collect()
}

/// What the in-scope checks ask of probe `name`, or None when nothing needs the probe (no
/// check reads it, and it discovers nothing another probe needs).
fn asks<'c>(
    name: &str,
    in_scope: &[&'c Check],
    catalog: &Catalog,
    probes: &[Arc<dyn Probe>],
) -> Option<Vec<Ask<'c>>> {
    if !needed(name, in_scope, probes) && !discovers(name, catalog, probes) {
        return None;
    }
    Some(
        in_scope
            .iter()
            .filter(|c| c.probe == name)
            .map(|c| c.ask())
            .collect(),
    )
}

/// Sends the DNS queries later stages will need that the configuration alone names, at once:
/// a DNS server that is down then costs its timeouts beside the first stage's, not after it.
fn read_ahead(
    ctx: &Arc<ProbeContext>,
    catalog: &Catalog,
    probes: &[Arc<dyn Probe>],
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let Ok(dns) = ctx.services.dns() else {
        return tasks;
    };
    let in_scope = checks_in_scope(catalog, &ctx.config, &[]);
    for probe in probes {
        let Some(checks) = asks(probe.spec().name, &in_scope, catalog, probes) else {
            continue;
        };
        let input = PlanInput {
            config: &ctx.config,
            checks: &checks,
            prior: &[],
        };
        for (query, rtype) in probe.read_ahead(&input) {
            let dns = dns.clone();
            tasks.spawn(async move {
                let _ = dns.query(&query, rtype).await;
            });
        }
    }
    tasks
}

/// A request for a subject observed in an earlier stage: the roles it adds (a host found
/// again in another role) join that observation.
fn join_roles(done: &mut Observation, request: &Request) {
    if let (Some(serde_json::Value::Array(new)), Some(serde_json::Value::Array(had))) =
        (request.fields.get("roles"), done.fields.get_mut("roles"))
    {
        for role in new {
            if !had.contains(role) {
                had.push(role.clone());
            }
        }
    }
}

/// One host's share of the scan: its `--per-host` slots, and how fast it answers.
struct HostSlots {
    slots: Arc<Semaphore>,
    rtt: std::sync::Mutex<Rtt>,
}

/// Smoothed answer time of a host's connects and its variation (RFC 6298's estimator, as TCP
/// and nmap keep it).
#[derive(Default)]
struct Rtt {
    srtt: Option<Duration>,
    rttvar: Duration,
}

impl Rtt {
    fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                self.rttvar = (self.rttvar * 3 + s.abs_diff(r)) / 4;
                self.srtt = Some((s * 7 + r) / 8);
            }
        }
    }

    /// How long an unanswered connect keeps its host slot: the host's usual answer time and
    /// four variations (at least 10 ms, at most a tenth of the timeout); a tenth of the
    /// timeout (at least 100 ms) until the host has answered. Past that it is likely filtered,
    /// and waiting on it must not hold back the host's other ports.
    fn hold(&self, timeout: Duration) -> Duration {
        let most = (timeout / 10).max(Duration::from_millis(100));
        match self.srtt {
            None => most,
            Some(s) => (s + self.rttvar * 4).clamp(Duration::from_millis(10), most),
        }
    }
}

/// Observations by probe, then subject with numbers as numbers (ports 389, 445, 3268).
pub fn order_observations(observations: &mut [Observation]) {
    observations.sort_by(|a, b| {
        a.probe
            .cmp(&b.probe)
            .then_with(|| natural_cmp(&a.subject, &b.subject))
    });
}

fn host_key(request: &Request) -> Option<String> {
    request
        .fields
        .get("host")
        .and_then(serde_json::Value::as_str)
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

/// A probe that can bring a scope in (its observations carry `adds_scopes`, e.g. a ConfigMgr
/// site found in AD) runs when the catalog has a check for it, even one not in scope yet.
fn discovers(name: &str, catalog: &Catalog, probes: &[Arc<dyn Probe>]) -> bool {
    probes
        .iter()
        .any(|p| p.spec().name == name && p.spec().fields.contains(&"adds_scopes"))
        && catalog.checks.iter().any(|c| c.probe == name)
}

/// A probe runs when an in-scope check names it, or when a probe that runs reads its output.
fn needed(name: &str, in_scope: &[&Check], probes: &[Arc<dyn Probe>]) -> bool {
    in_scope.iter().any(|c| c.probe == name)
        || probes
            .iter()
            .filter(|p| p.spec().reads.contains(&name))
            .any(|p| needed(p.spec().name, in_scope, probes))
}

/// Runs one request under its time budget; a probe that panics on a hostile answer becomes a
/// failed observation instead of taking the scan down.
async fn observe_guarded(
    probe: Arc<dyn Probe>,
    request: Arc<Request>,
    ctx: Arc<ProbeContext>,
) -> Result<serde_json::Map<String, serde_json::Value>, ProbeError> {
    // A request planned as not tested (cloud endpoints without --cloud-endpoints) never
    // reaches its probe: nothing can leave for the Internet, whichever probe planned it.
    if request.fields.get("not_tested") == Some(&serde_json::Value::Bool(true)) {
        return Err(ProbeError::NotTested(
            crate::probes::CLOUD_NOT_TESTED.into(),
        ));
    }
    let budget = probe.spec().time_budget(ctx.timeout) + GRACE;
    let timeout = ctx.timeout;
    // Caught in this task rather than in a task of its own: one task per probe, not two.
    let observe = tokio::time::timeout(budget, probe.observe(&request, &ctx));
    match std::panic::AssertUnwindSafe(observe).catch_unwind().await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_elapsed)) => Err(ProbeError::Timeout(budget.max(timeout))),
        Err(_panic) => Err(ProbeError::Failed(
            "the probe failed on the server's answer (malformed response)".into(),
        )),
    }
}

fn to_observation(
    probe: &str,
    subject: String,
    fields: serde_json::Map<String, serde_json::Value>,
    answer: Result<serde_json::Map<String, serde_json::Value>, ProbeError>,
) -> Observation {
    match answer {
        Ok(found) => {
            // At its final size: extending would leave the map's room for about twice as
            // many fields, held by every one of 10,000 observations until the report is out.
            let mut all = serde_json::Map::with_capacity(fields.len() + found.len());
            all.extend(fields);
            all.extend(found);
            Observation::observed(probe, &subject, all)
        }
        Err(ProbeError::NotApplicable(reason)) => Observation {
            status: ObservationStatus::NotApplicable,
            reason: Some(reason),
            ..Observation::observed(probe, &subject, fields)
        },
        Err(e @ ProbeError::NotTested(_)) => Observation {
            status: ObservationStatus::NotApplicable,
            reason: Some(e.to_string()),
            kind: Some(e.kind().into()),
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
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} probing {pos}/{len} {wide_bar} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn an_unanswered_connect_holds_its_slot_for_the_hosts_answer_time() {
        let timeout = Duration::from_secs(3);
        let mut rtt = Rtt::default();
        // Nothing heard yet: a tenth of the timeout, at least 100 ms.
        assert_eq!(rtt.hold(timeout), 300 * MS);
        assert_eq!(rtt.hold(500 * MS), 100 * MS);
        // A LAN host answering in a millisecond: the 10 ms floor.
        for _ in 0..20 {
            rtt.sample(MS);
        }
        assert_eq!(rtt.hold(timeout), 10 * MS);
        // A WAN host at 40 ms with some jitter: its time and four variations.
        let mut wan = Rtt::default();
        for r in [40, 50, 30, 40, 45, 35] {
            wan.sample(r * MS);
        }
        let hold = wan.hold(timeout);
        assert!(hold > 40 * MS && hold < 120 * MS, "{hold:?}");
        // Never more than a tenth of the timeout.
        let mut slow = Rtt::default();
        slow.sample(900 * MS);
        assert_eq!(slow.hold(timeout), 300 * MS);
    }
}
