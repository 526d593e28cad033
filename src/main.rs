//! The `readyscan` command: parses flags, calls the library, maps the verdict to an exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use time::{Date, OffsetDateTime};

use readyscan::baseline::{self, ChangeState};
use readyscan::catalog::{Catalog, Check};
use readyscan::config::{self, ConfigFile, ScanConfig};
use readyscan::evaluate::{Status, Verdict};
use readyscan::observation::ObservationSet;
use readyscan::probes::Secrets;

/// Environment variable holding the LDAP bind password.
const PASSWORD_ENV: &str = "READYSCAN_PASSWORD";
use readyscan::render;
use readyscan::report::{self, Report};

const EXIT_CODES: &str = "Exit codes:
  0  ready: no blocker in scope failed or went unassessed
  1  not ready: a blocker failed
  2  bad input: a flag, the config file, a check file or an input file is wrong
     (or the report could not be written)
  3  incomplete: no blocker failed, but some could not be assessed
With --fail-on-regression, a finding that passed in the baseline and is open now exits 1.
Excepted blockers (--exceptions, not expired) do not count against the verdict.";

const DIFF_EXIT_CODES: &str = "Exit codes:
  0  compared (regressions are listed, not fatal)
  1  --fail-on-regression and at least one finding regressed
  2  bad input: a file cannot be read or is not a readyscan report.json";

/// What the process tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Ready = 0,
    NotReady = 1,
    BadInput = 2,
    Incomplete = 3,
}

impl From<Verdict> for Exit {
    fn from(v: Verdict) -> Exit {
        match v {
            Verdict::Ready => Exit::Ready,
            Verdict::NotReady => Exit::NotReady,
            Verdict::Incomplete => Exit::Incomplete,
        }
    }
}

#[derive(Parser)]
#[command(
    name = "readyscan",
    version,
    about = "Checks an on-premises environment against the documented minimums for Intune / EMS onboarding",
    long_about = "Checks an on-premises environment against the documented minimums for Microsoft \
                  Intune / EMS onboarding and writes a remediation checklist (HTML, JSON, Markdown). \
                  readyscan only reads: it never changes a directory, DNS zone or server it scans.",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Only errors on stderr; no progress bar, no summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan the environment (or the built-in demo) and write the reports.
    #[command(after_help = EXIT_CODES)]
    Scan(Box<ScanArgs>),
    /// Judge saved observations (an observation set or a report.json) again, without the network.
    #[command(after_help = EXIT_CODES)]
    Evaluate(EvaluateArgs),
    /// Compare two saved report.json files: resolved, regressed, still open, new, unchanged.
    #[command(after_help = DIFF_EXIT_CODES)]
    Diff(DiffArgs),
    /// Combine reports from several scanning hosts into one (network results keep their vantage).
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// List, show and validate checks.
    #[command(subcommand)]
    Checks(ChecksCommand),
    /// Print the JSON Schema of report.json.
    Schema,
}

#[derive(Args)]
struct OutputArgs {
    /// Directory for the reports (created if missing).
    #[arg(long, short, value_name = "DIR", default_value = "readyscan-report")]
    out: PathBuf,
    /// Formats to write, comma-separated: html, json, md, csv (checklist.csv), junit (junit.xml).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "html,json,md"
    )]
    format: Vec<String>,
    /// Extra check files: adds checks, or replaces built-in ones with the same id.
    #[arg(long, value_name = "DIR")]
    checks: Option<PathBuf>,
    /// Onboarding scopes to judge (repeatable or comma-separated): core, intune, configmgr, federation.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    #[command(flatten)]
    rerun: RerunArgs,
}

#[derive(Args)]
struct RerunArgs {
    /// A report.json from an earlier run: every finding gets a change state against it.
    #[arg(long, value_name = "REPORT")]
    baseline: Option<PathBuf>,
    /// Accepted risks (TOML [[exception]] entries: check, subject glob, justification, approver,
    /// expires with a time zone); matched findings keep their status, excepted blockers stop blocking.
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,
    /// Exit 1 when a finding that passed in the baseline is open now.
    #[arg(long)]
    fail_on_regression: bool,
}

#[derive(Args)]
struct ScanArgs {
    /// Scan the built-in demo environment (no network traffic at all): the remediated state,
    /// compared with the shipped "before" state as baseline.
    #[arg(long, conflicts_with_all = ["config", "dcs", "domains", "targets", "mps", "bind_user"])]
    demo: bool,
    /// The built-in demo's "before" state alone, without a baseline.
    #[arg(long, conflicts_with_all = ["demo", "config", "dcs", "domains", "targets", "mps", "bind_user", "baseline"])]
    demo_before: bool,
    /// Scan settings as TOML; flags add to or override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A domain controller to query (repeatable).
    #[arg(long = "dc", value_name = "HOST")]
    dcs: Vec<String>,
    /// An Active Directory DNS domain (repeatable).
    #[arg(long = "domain", value_name = "NAME")]
    domains: Vec<String>,
    /// Map a host name to an address, e.g. for lab stand-ins (repeatable); with :PORT every
    /// port probed on HOST goes to that port.
    #[arg(long = "target", value_name = "HOST=ADDR[:PORT]")]
    targets: Vec<String>,
    /// DNS server to ask instead of the system resolver (repeatable).
    #[arg(long = "dns-server", value_name = "ADDR[:PORT]")]
    dns_servers: Vec<String>,
    /// A UPN suffix to check besides those the directory reports (repeatable).
    #[arg(long = "upn-suffix", value_name = "NAME")]
    upn_suffixes: Vec<String>,
    /// An AD FS service name (repeatable).
    #[arg(long = "adfs", value_name = "NAME")]
    adfs: Vec<String>,
    /// A Configuration Manager management point (repeatable); brings in the configmgr scope.
    #[arg(long = "mp", value_name = "HOST[:PORT]")]
    mps: Vec<String>,
    /// The ConfigMgr version as the admin knows it (5.00.NNNN.NNNN); reported as declared.
    #[arg(long, value_name = "VERSION")]
    configmgr_version: Option<String>,
    /// LDAP bind user (DN, UPN or DOMAIN\user); the password comes from READYSCAN_PASSWORD
    /// or --password-stdin, never from a flag.
    #[arg(long, value_name = "USER")]
    bind_user: Option<String>,
    /// Read the bind password from the first line of standard input.
    #[arg(long, requires = "bind_user")]
    password_stdin: bool,
    /// LDAP transport: auto (LDAPS, then StartTLS), ldaps, starttls or plain.
    #[arg(long, value_enum, value_name = "MODE")]
    ldap_security: Option<config::LdapSecurity>,
    /// A CA certificate (PEM) to trust for LDAPS and HTTPS (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_certs: Vec<PathBuf>,
    /// Do not verify TLS certificates; the report says so prominently.
    #[arg(long)]
    insecure_tls: bool,
    /// Probe Microsoft's public cloud endpoints (Intune, Entra ID) from this host; without it
    /// their checks are not assessed and nothing leaves for the Internet.
    #[arg(long)]
    cloud_endpoints: bool,
    /// Probes to the same host running at once.
    #[arg(long, value_name = "N")]
    per_host: Option<usize>,
    /// Per-probe timeout, e.g. 2s or 500ms.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Probes running at once.
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct EvaluateArgs {
    /// An observation set (fixtures/) or a report.json from an earlier scan.
    input: PathBuf,
    /// Judge dated requirements (support end dates) as of this day, YYYY-MM-DD; default: the scan date.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct DiffArgs {
    /// The earlier report.json.
    old: PathBuf,
    /// The later report.json.
    new: PathBuf,
    /// Output on standard output: text, md or json.
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    /// Exit 1 when a finding that passed in OLD is open in NEW.
    #[arg(long)]
    fail_on_regression: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    Text,
    Md,
    Json,
}

#[derive(Args)]
struct MergeArgs {
    /// report.json files (or observation sets) from scans on different hosts.
    #[arg(required = true, num_args = 2.., value_name = "REPORT")]
    inputs: Vec<PathBuf>,
    /// Judge dated requirements as of this day, YYYY-MM-DD; default: the latest scan date.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Subcommand)]
enum ChecksCommand {
    /// List the checks as a table (or JSON).
    List {
        #[arg(long)]
        json: bool,
        /// Extra check files, as for scan.
        #[arg(long, value_name = "DIR")]
        checks: Option<PathBuf>,
    },
    /// Show one check in full.
    Show {
        id: String,
        #[arg(long, value_name = "DIR")]
        checks: Option<PathBuf>,
    },
    /// Validate a directory of check files; errors name file, line and column.
    Validate { dir: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.verbose);
    match run(&cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("readyscan: error: {e:#}");
            ExitCode::from(Exit::BadInput as u8)
        }
    }
}

fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("READYSCAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn run(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Scan(args) => scan(args, cli.quiet),
        Command::Evaluate(args) => evaluate(args, cli.quiet),
        Command::Diff(args) => diff(args),
        Command::Merge(args) => merge(args, cli.quiet),
        Command::Checks(cmd) => checks(cmd),
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&report::json_schema())?);
            Ok(Exit::Ready)
        }
    }
}

fn load_catalog(dir: Option<&Path>) -> anyhow::Result<Catalog> {
    let catalog = match dir {
        Some(d) => Catalog::with_overrides(d),
        None => Catalog::builtin(),
    };
    catalog.context("the check catalog is invalid")
}

fn check_formats(formats: &[String]) -> anyhow::Result<()> {
    let known = render::format_names();
    for f in formats {
        if !known.contains(&f.as_str()) {
            bail!(
                "--format: unknown format \"{f}\", expected some of {}",
                known.join(",")
            );
        }
    }
    Ok(())
}

fn scan(args: &ScanArgs, quiet: bool) -> anyhow::Result<Exit> {
    check_formats(&args.output.format)?;
    let catalog = load_catalog(args.output.checks.as_deref())?;
    let today = OffsetDateTime::now_utc().date();
    // Every input is checked before the network is touched: a typo must not cost a scan.
    let scopes = if args.output.scopes.is_empty() {
        None
    } else {
        Some(scopes_flag(&args.output.scopes)?)
    };
    let demo_baseline = if args.demo && args.output.rerun.baseline.is_none() {
        Some(readyscan::demo::baseline(&catalog, today)?)
    } else {
        None
    };
    let rerun = Rerun::load(&args.output.rerun, &catalog, demo_baseline)?;
    let mut set = if args.demo_before {
        readyscan::demo::before().context("the built-in demo fixture")?
    } else if args.demo {
        readyscan::demo::after().context("the built-in demo fixture")?
    } else {
        let config = scan_config(args)?;
        let secrets = secrets(args)?;
        let progress = !quiet && std::io::stderr().is_terminal();
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(readyscan::scan_with_secrets(
            config, secrets, &catalog, progress,
        ))
    };
    if let Some(scopes) = scopes {
        set.scan.config.scopes = scopes;
    }
    finish(set, &catalog, today, &args.output, rerun, quiet)
}

fn scan_config(args: &ScanArgs) -> anyhow::Result<ScanConfig> {
    let mut config = ScanConfig::default();
    if let Some(path) = &args.config {
        ConfigFile::load(path)?.apply(&mut config, &path.display().to_string())?;
    }
    config.dcs.extend(args.dcs.iter().cloned());
    config.domains.extend(args.domains.iter().cloned());
    for server in &args.dns_servers {
        readyscan::probes::resolver::parse_dns_server(server)
            .map_err(|e| anyhow::anyhow!("--dns-server: {e}"))?;
        config.dns_servers.push(server.clone());
    }
    config
        .upn_suffixes
        .extend(args.upn_suffixes.iter().cloned());
    config.adfs.extend(args.adfs.iter().cloned());
    config.mps.extend(args.mps.iter().cloned());
    for ca in &args.ca_certs {
        if !ca.is_file() {
            bail!("--ca-cert: {} is not a readable file", ca.display());
        }
        config.ca_certs.push(ca.display().to_string());
    }
    if let Some(v) = &args.configmgr_version {
        if readyscan::probes::configmgr_build(v).is_none() {
            bail!("--configmgr-version: \"{v}\" is not a version like 5.00.9128.1000");
        }
        config.configmgr_version = Some(v.clone());
    }
    if args.bind_user.is_some() {
        config.bind_user = args.bind_user.clone();
    }
    if let Some(s) = args.ldap_security {
        config.ldap_security = s;
    }
    config.insecure_tls |= args.insecure_tls;
    config.cloud_endpoints |= args.cloud_endpoints;
    if let Some(n) = args.per_host {
        config.per_host =
            config::check_concurrency(n).map_err(|e| anyhow::anyhow!("--per-host: {e}"))?;
    }
    for t in &args.targets {
        let (host, ip, port) =
            config::parse_target(t).map_err(|e| anyhow::anyhow!("--target: {e}"))?;
        config.add_target(&host, ip, port);
    }
    if let Some(t) = &args.timeout {
        config.timeout = config::parse_timeout(t).map_err(|e| anyhow::anyhow!("--timeout: {e}"))?;
    }
    if let Some(n) = args.concurrency {
        config.concurrency =
            config::check_concurrency(n).map_err(|e| anyhow::anyhow!("--concurrency: {e}"))?;
    }
    // The probes plan from the scopes: --scope must reach them, not only the evaluation.
    if !args.output.scopes.is_empty() {
        config.scopes = scopes_flag(&args.output.scopes)?;
    }
    Ok(config)
}

/// The bind password: from standard input or READYSCAN_PASSWORD, never from a flag value, so it
/// stays out of the process list and shell history.
fn secrets(args: &ScanArgs) -> anyhow::Result<Secrets> {
    let bind_password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("--password-stdin: cannot read standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            bail!("--password-stdin: standard input had no password on its first line");
        }
        Some(password)
    } else {
        std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty())
    };
    if bind_password.is_some() && args.bind_user.is_none() {
        tracing::warn!("{PASSWORD_ENV} is set but --bind-user is not: no bind will be made");
    }
    Ok(Secrets { bind_password })
}

fn scopes_flag(scopes: &[String]) -> anyhow::Result<Vec<String>> {
    config::parse_scopes(scopes).map_err(|e| anyhow::anyhow!("--scope: {e}"))
}

fn evaluate(args: &EvaluateArgs, quiet: bool) -> anyhow::Result<Exit> {
    check_formats(&args.output.format)?;
    let catalog = load_catalog(args.output.checks.as_deref())?;
    let mut set = report::read_observations(&args.input)?;
    if !args.output.scopes.is_empty() {
        set.scan.config.scopes = scopes_flag(&args.output.scopes)?;
    }
    let today = match &args.as_of {
        Some(d) => parse_date(d).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        None => {
            parse_date(&set.scan.collected_at).unwrap_or_else(|_| OffsetDateTime::now_utc().date())
        }
    };
    set.scan.mode = "evaluate".into();
    let rerun = Rerun::load(&args.output.rerun, &catalog, None)?;
    finish(set, &catalog, today, &args.output, rerun, quiet)
}

fn diff(args: &DiffArgs) -> anyhow::Result<Exit> {
    let old = baseline::read(&args.old)?;
    let new = baseline::read(&args.new)?;
    let diff = baseline::Diff::of(&old, &new);
    match args.format {
        DiffFormat::Text => print!("{}", diff.to_text()),
        DiffFormat::Md => print!("{}", diff.to_markdown()),
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&diff)?),
    }
    if args.fail_on_regression && diff.count(ChangeState::Regressed) > 0 {
        return Ok(Exit::NotReady);
    }
    Ok(Exit::Ready)
}

fn merge(args: &MergeArgs, quiet: bool) -> anyhow::Result<Exit> {
    check_formats(&args.output.format)?;
    let catalog = load_catalog(args.output.checks.as_deref())?;
    let mut inputs = Vec::new();
    for path in &args.inputs {
        inputs.push((path.display().to_string(), report::read_observations(path)?));
    }
    let mut set = readyscan::merge::merge(inputs);
    if !args.output.scopes.is_empty() {
        set.scan.config.scopes = scopes_flag(&args.output.scopes)?;
    }
    let today = match &args.as_of {
        Some(d) => parse_date(d).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        None => {
            parse_date(&set.scan.collected_at).unwrap_or_else(|_| OffsetDateTime::now_utc().date())
        }
    };
    let rerun = Rerun::load(&args.output.rerun, &catalog, None)?;
    finish(set, &catalog, today, &args.output, rerun, quiet)
}

/// The baseline and exceptions a run is judged with, loaded before anything is written.
struct Rerun {
    baseline: Option<baseline::Snapshot>,
    exceptions: Option<readyscan::exceptions::Exceptions>,
    fail_on_regression: bool,
}

impl Rerun {
    fn load(
        args: &RerunArgs,
        catalog: &Catalog,
        default_baseline: Option<baseline::Snapshot>,
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
                readyscan::exceptions::Exceptions::load(p, catalog)
                    .map_err(|e| anyhow::anyhow!("--exceptions: {e}"))?,
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

fn parse_date(s: &str) -> Result<Date, String> {
    let day = s.get(..10).unwrap_or(s);
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("\"{s}\" is not a date like 2026-11-23"))
}

fn finish(
    set: ObservationSet,
    catalog: &Catalog,
    today: Date,
    out: &OutputArgs,
    rerun: Rerun,
    quiet: bool,
) -> anyhow::Result<Exit> {
    let now = OffsetDateTime::now_utc();
    let mut report = Report::build(set, catalog, today, now);
    if let Some(ex) = &rerun.exceptions {
        report.apply_exceptions(ex, now);
    }
    if let Some(b) = &rerun.baseline {
        report.compare_with(b, catalog);
    }
    let written = render::write_all(&report, &out.out, &out.format)?;
    if !quiet {
        let s = &report.summary;
        println!(
            "{}: {} failed, {} not assessed, {} warnings, {} passed ({} findings)",
            match report.verdict {
                Verdict::Ready => "Ready",
                Verdict::NotReady => "Not ready",
                Verdict::Incomplete => "Incomplete",
            },
            s.count(Status::Fail),
            s.count(Status::Error),
            s.count(Status::Warn),
            s.count(Status::Pass),
            report.findings.len(),
        );
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
                b.run.collected_at,
                counts.join(", "),
                b.dropped.len()
            );
        }
        if let Some(x) = &report.exceptions {
            let blockers = report
                .findings
                .iter()
                .filter(|f| f.is_excepted() && f.severity == readyscan::catalog::Severity::Blocker)
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
                .map(|s| format!("{} from {}", s.status, s.vantage))
                .collect();
            println!(
                "Conflict: {} on {}: {}",
                c.check_id,
                c.subject,
                sides.join(", ")
            );
        }
        for path in written {
            println!("  wrote {}", path.display());
        }
    }
    let regressed = report
        .baseline
        .as_ref()
        .and_then(|b| b.counts.get(&ChangeState::Regressed))
        .copied()
        .unwrap_or(0);
    if rerun.fail_on_regression && regressed > 0 {
        return Ok(Exit::NotReady);
    }
    Ok(report.verdict.into())
}

fn checks(cmd: &ChecksCommand) -> anyhow::Result<Exit> {
    match cmd {
        ChecksCommand::List { json, checks } => {
            let catalog = load_catalog(checks.as_deref())?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&catalog.checks)?);
            } else {
                print_table(&catalog.checks);
            }
        }
        ChecksCommand::Show { id, checks } => {
            let catalog = load_catalog(checks.as_deref())?;
            let Some(check) = catalog.get(id) else {
                bail!("no check with id \"{id}\"; `readyscan checks list` shows them");
            };
            print_check(check);
        }
        ChecksCommand::Validate { dir } => {
            let catalog = Catalog::from_dir(dir)
                .with_context(|| format!("{} is not a valid check directory", dir.display()))?;
            println!(
                "{}: {} checks, all valid",
                dir.display(),
                catalog.checks.len()
            );
        }
    }
    Ok(Exit::Ready)
}

fn print_table(checks: &[Check]) {
    let id_w = checks.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
    println!(
        "{:<id_w$}  {:<8}  {:<10}  {:<22}  TITLE",
        "ID", "SEVERITY", "AREA", "SCOPES"
    );
    for c in checks {
        println!(
            "{:<id_w$}  {:<8}  {:<10}  {:<22}  {}",
            c.id,
            c.severity.to_string(),
            c.area,
            c.scopes.join(","),
            c.title
        );
    }
}

fn print_check(c: &Check) {
    println!("{}  ({})", c.id, c.origin);
    println!("  title:       {}", c.title);
    println!("  area:        {}", c.area);
    println!("  scopes:      {}", c.scopes.join(", "));
    println!("  severity:    {}", c.severity);
    println!("  probe:       {} (field {})", c.probe, c.field);
    println!(
        "  requirement: {}",
        readyscan::catalog::describe(&c.requirement)
    );
    println!("  expected:    {}", c.expected);
    println!(
        "  source:      {}{}",
        c.source,
        if c.community { " (community)" } else { "" }
    );
    println!("  reference:   {}", c.reference);
    println!("  remediation:");
    for (i, step) in c.remediation.iter().enumerate() {
        println!("    {}. {}", i + 1, step);
    }
}
