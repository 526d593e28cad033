//! What the judging subcommands share: output flags, the re-run inputs (baseline and
//! exceptions), and writing the reports with the console summary.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use time::{Date, OffsetDateTime};

use super::Exit;
use readyscan::catalog::{Catalog, Severity};
use readyscan::evaluate::Status;
use readyscan::observation::ObservationSet;
use readyscan::postprocess::baseline::{self, ChangeState, Snapshot};
use readyscan::postprocess::exceptions::Exceptions;
use readyscan::render::{self, FormatName};
use readyscan::report::{Judging, Report};
use readyscan::text::terminal;
use readyscan::vocab::plural;

#[derive(Args)]
pub struct OutputArgs {
    /// Directory for the reports (created if missing).
    #[arg(long, short, value_name = "DIR", default_value = "readyscan-report")]
    pub out: PathBuf,
    /// Formats to write, comma-separated: html, json, md, csv (checklist.csv), junit (junit.xml).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "html,json,md"
    )]
    pub format: Vec<String>,
    /// Extra check files: adds checks, or replaces built-in ones with the same id.
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
    /// Onboarding scopes to judge (repeatable or comma-separated): core, intune, configmgr, federation.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    #[command(flatten)]
    pub rerun: RerunArgs,
}

#[derive(Args)]
pub struct RerunArgs {
    /// A report.json from an earlier run: every finding gets a change state against it.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    /// Accepted risks (TOML [[exception]] entries: check, subject glob, justification, approver,
    /// expires with a time zone); matched findings keep their status, excepted blockers stop blocking.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Exit 1 when a finding that passed in the baseline is open now.
    #[arg(long)]
    pub fail_on_regression: bool,
}

impl OutputArgs {
    /// `--format` as typed names; checked before anything is scanned or written.
    pub fn formats(&self) -> anyhow::Result<Vec<FormatName>> {
        render::parse_formats(&self.format).map_err(|e| anyhow::anyhow!("--format: {e}"))
    }

    /// `--scope`, when given.
    pub fn scopes(&self) -> anyhow::Result<Option<Vec<String>>> {
        if self.scopes.is_empty() {
            return Ok(None);
        }
        readyscan::config::parse_scopes(&self.scopes)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("--scope: {e}"))
    }
}

pub fn load_catalog(dir: Option<&Path>) -> anyhow::Result<Catalog> {
    let catalog = match dir {
        Some(d) => Catalog::with_overrides(d),
        None => Catalog::builtin(),
    };
    catalog.context("the check catalog is invalid")
}

/// `--as-of`, else the day the observations were collected.
pub fn judged_day(as_of: Option<&str>, set: &ObservationSet) -> anyhow::Result<Date> {
    match as_of {
        Some(d) => readyscan::dates::parse_day(d).map_err(|e| anyhow::anyhow!("--as-of: {e}")),
        None => Ok(readyscan::dates::parse_day(&set.scan.collected_at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc().date())),
    }
}

/// The baseline and exceptions a run is judged with, loaded before anything is written.
pub struct Rerun {
    pub baseline: Option<Snapshot>,
    pub exceptions: Option<Exceptions>,
    pub fail_on_regression: bool,
}

impl Rerun {
    pub fn load(
        args: &RerunArgs,
        catalog: &Catalog,
        default_baseline: Option<Snapshot>,
    ) -> anyhow::Result<Rerun> {
        let baseline = match &args.baseline {
            Some(p) => Some(baseline::read(p).map_err(|e| anyhow::anyhow!("--baseline: {e}"))?),
            None => default_baseline,
        };
        if args.fail_on_regression && baseline.is_none() {
            bail!("--fail-on-regression: needs --baseline REPORT to compare with");
        }
        let exceptions = match &args.exceptions {
            Some(p) => Some(
                Exceptions::load(p, catalog).map_err(|e| anyhow::anyhow!("--exceptions: {e}"))?,
            ),
            None => None,
        };
        Ok(Rerun {
            baseline,
            exceptions,
            fail_on_regression: args.fail_on_regression,
        })
    }
}

/// Judges the set through the library pipeline, writes the chosen formats, prints the summary.
pub fn finish(
    set: ObservationSet,
    catalog: &Catalog,
    today: Date,
    out: &OutputArgs,
    rerun: Rerun,
    quiet: bool,
) -> anyhow::Result<Exit> {
    let formats = out.formats()?;
    let report = Report::judge(
        set,
        catalog,
        &Judging {
            today,
            now: OffsetDateTime::now_utc(),
            exceptions: rerun.exceptions.as_ref(),
            baseline: rerun.baseline.as_ref(),
        },
    );
    let written = render::write_all(&report, &out.out, &formats)?;
    // Said even with --quiet: nothing else tells the admin the password was wrong.
    for why in readyscan::report::bind_rejections(&report.observations) {
        eprintln!("readyscan: {}", readyscan::text::terminal(why));
    }
    for (name, why) in readyscan::report::unresolved_dcs(&report.observations) {
        eprintln!(
            "readyscan: --dc {}: {}; the DCs of the domain's SRV record were asked instead",
            readyscan::text::terminal(&name),
            readyscan::text::terminal(&why)
        );
    }
    if !quiet {
        print_summary(&report, &written);
    }
    let exit = if rerun.fail_on_regression && report.regressions() > 0 {
        Exit::NotReady
    } else {
        report.verdict.into()
    };
    // The process ends next: freeing every finding and observation one by one only delays
    // it (a tenth of a second at 100,000).
    std::mem::forget(report);
    Ok(exit)
}

fn print_summary(report: &Report, written: &[PathBuf]) {
    let s = &report.summary;
    println!(
        "{}: {} failed, {} not assessed, {}, {} passed ({})",
        report.verdict_text(),
        s.count(Status::Fail),
        s.count(Status::Error),
        plural(s.count(Status::Warn), "warning"),
        s.count(Status::Pass),
        plural(report.findings.len(), "finding"),
    );
    let seen = readyscan::report::scanned::Scanned::of(&report.scan, &report.observations);
    let list = |names: &[String], none: &str| {
        if names.is_empty() {
            none.to_string()
        } else {
            terminal(&names.join(", ")).into_owned()
        }
    };
    println!(
        "Scanned: domains {}; DCs {}; DNS {}; {} ({}); from {}",
        list(&seen.domains, "none"),
        list(&seen.dcs, "none answered"),
        terminal(&seen.dns_servers),
        terminal(&seen.bind),
        terminal(&seen.ldap_transport),
        terminal(&report.scan.host),
    );
    if report.cloud_not_tested() {
        println!(
            "Cloud connectivity: not tested from this host (add --cloud-endpoints to test it)"
        );
    }
    if let Some(b) = &report.baseline {
        let counts: Vec<String> = ChangeState::ALL
            .iter()
            .map(|s| {
                let n = b.counts.get(s).copied().unwrap_or(0);
                format!("{n} {}", s.label().to_lowercase())
            })
            .collect();
        println!(
            "Progress since {}: {}; {} no longer reported",
            terminal(&b.run.collected_at),
            counts.join(", "),
            b.dropped.len()
        );
    }
    if let Some(x) = &report.exceptions {
        let blockers = report
            .findings
            .iter()
            .filter(|f| f.is_excepted() && f.severity == Severity::Blocker)
            .count();
        println!(
            "Exceptions: {} findings excepted ({blockers} blockers, not counted in the verdict), {} entries expired, {} matched nothing",
            x.applied,
            x.expired.len(),
            x.unmatched.len()
        );
    }
    for c in &report.conflicts {
        let sides: Vec<String> = c
            .sides
            .iter()
            .map(|s| format!("{} from {}", s.status, terminal(&s.vantage)))
            .collect();
        println!(
            "Conflict: {} on {}: {}",
            terminal(&c.check_id),
            terminal(&c.subject),
            sides.join(", ")
        );
    }
    for path in written {
        println!("  wrote {}", terminal(&path.display().to_string()));
    }
}
