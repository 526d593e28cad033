//! `readyscan scan`: the live scan, or the built-in demo.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use time::OffsetDateTime;

use super::output::{finish, load_catalog, OutputArgs, Rerun};
use super::Exit;
use readyscan::config::{self, discover, Given, ScanConfig, Settings};
use readyscan::probes::Secrets;

/// Environment variable holding the LDAP bind password.
const PASSWORD_ENV: &str = "READYSCAN_PASSWORD";

#[derive(Args)]
pub struct ScanArgs {
    /// Scan the built-in demo environment (no network traffic at all): the remediated state,
    /// compared with the shipped "before" state as baseline.
    #[arg(long, conflicts_with_all = ["config", "dcs", "domains", "targets", "mps", "bind_user"])]
    pub demo: bool,
    /// The built-in demo's "before" state alone, without a baseline.
    #[arg(long, conflicts_with_all = ["demo", "config", "dcs", "domains", "targets", "mps", "bind_user", "baseline"])]
    pub demo_before: bool,
    /// Scan settings as TOML; flags add to or override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A domain controller to query (repeatable).
    #[arg(long = "dc", value_name = "HOST")]
    pub dcs: Vec<String>,
    /// An Active Directory DNS domain (repeatable).
    #[arg(long = "domain", value_name = "NAME")]
    pub domains: Vec<String>,
    /// Map a host name to an address, e.g. for lab stand-ins (repeatable); with :PORT every
    /// port probed on HOST goes to that port.
    #[arg(long = "target", value_name = "HOST=ADDR[:PORT]")]
    pub targets: Vec<String>,
    /// DNS server to ask instead of the system resolver (repeatable).
    #[arg(long = "dns-server", value_name = "ADDR[:PORT]")]
    pub dns_servers: Vec<String>,
    /// A UPN suffix to check besides those the directory reports (repeatable).
    #[arg(long = "upn-suffix", value_name = "NAME")]
    pub upn_suffixes: Vec<String>,
    /// An AD FS service name (repeatable).
    #[arg(long = "adfs", value_name = "NAME")]
    pub adfs: Vec<String>,
    /// An AD FS server (host name) whose OS to judge from its computer object (repeatable);
    /// those a gMSA names are found without it.
    #[arg(long = "adfs-server", value_name = "HOST")]
    pub adfs_servers: Vec<String>,
    /// A Configuration Manager management point (repeatable); brings in the configmgr scope.
    #[arg(long = "mp", value_name = "HOST[:PORT]")]
    pub mps: Vec<String>,
    /// The ConfigMgr version as the admin knows it (5.00.NNNN.NNNN); reported as declared.
    #[arg(long, value_name = "VERSION")]
    pub configmgr_version: Option<String>,
    /// LDAP bind user (DN, UPN or DOMAIN\user); the password comes from READYSCAN_PASSWORD
    /// or --password-stdin, never from a flag.
    #[arg(long, value_name = "USER")]
    pub bind_user: Option<String>,
    /// How to bind: auto (Kerberos when a ticket or Windows sign-in is there, else simple
    /// with --bind-user, else anonymous), kerberos, simple or anonymous.
    #[arg(long, value_enum, value_name = "METHOD")]
    pub bind: Option<config::BindMethod>,
    /// Read the bind password from the first line of standard input.
    #[arg(long, requires = "bind_user")]
    pub password_stdin: bool,
    /// LDAP transport: auto (LDAPS, then StartTLS), ldaps, starttls or plain.
    #[arg(long, value_enum, value_name = "MODE")]
    pub ldap_security: Option<config::LdapSecurity>,
    /// A CA certificate (PEM) to trust for LDAPS and HTTPS (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_certs: Vec<PathBuf>,
    /// Do not verify TLS certificates; the report says so prominently.
    #[arg(long)]
    pub insecure_tls: bool,
    /// Probe Microsoft's public cloud endpoints (Intune, Entra ID) from this host; without it
    /// their checks are not assessed and nothing leaves for the Internet.
    #[arg(long)]
    pub cloud_endpoints: bool,
    /// Probes to the same host running at once.
    #[arg(long, value_name = "N")]
    pub per_host: Option<usize>,
    /// Per-probe timeout, e.g. 2s or 500ms.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Probes running at once.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Entries per page of the directory-synchronization pass (paged results; default 1000).
    #[arg(long, value_name = "N")]
    pub sync_page_size: Option<u32>,
    /// Judge only the checks of this probe and of the probes derived from it (repeatable), e.g.
    /// `--probe ldap.sync_objects` for the synchronization pass alone (benchmarks).
    #[arg(long = "probe", value_name = "NAME")]
    pub probes: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &ScanArgs, quiet: bool) -> anyhow::Result<Exit> {
    // Every input is checked before the network is touched: a typo must not cost a scan.
    args.output.formats()?;
    let mut catalog = load_catalog(args.output.checks.as_deref())?;
    only_probes(&mut catalog, &args.probes)?;
    let today = OffsetDateTime::now_utc().date();
    let scopes = args.output.scopes()?;
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
        let mut config = scan_config(args)?;
        if discover::names_nothing(&config) {
            let Some(found) = discover::domain(&discover::Sources::of_this_host()) else {
                bail!(discover::NOTHING_FOUND);
            };
            eprintln!(
                "readyscan: no --domain or --dc given: scanning {}, from {}",
                readyscan::text::terminal(&found.domain),
                readyscan::text::terminal(&found.from)
            );
            config.domains.push(found.domain);
        }
        let secrets = secrets(args, config.bind_user.as_deref())?;
        if !quiet {
            let plan = readyscan::probes::kerberos::BindPlan::decide(&config);
            eprintln!("readyscan: bind: {}", readyscan::text::terminal(&plan.said));
        }
        let progress = !quiet && std::io::stderr().is_terminal();
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(readyscan::scan_with_secrets(
            config, secrets, &catalog, progress,
        ))?
    };
    if let Some(scopes) = scopes {
        set.scan.config.scopes = scopes;
    }
    finish(set, &catalog, today, &args.output, rerun, quiet)
}

/// `--probe NAME`: keep the checks of those probes and of the probes that read them.
fn only_probes(catalog: &mut readyscan::catalog::Catalog, names: &[String]) -> anyhow::Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    for n in names {
        if readyscan::probes::index::spec(n).is_none() {
            anyhow::bail!(
                "--probe {n}: no such probe (readyscan checks list names each check's probe)"
            );
        }
    }
    let wanted = |probe: &str| {
        names.iter().any(|n| n == probe)
            || readyscan::probes::index::spec(probe)
                .is_some_and(|s| s.reads.iter().any(|r| names.iter().any(|n| n == r)))
    };
    catalog.checks.retain(|c| wanted(&c.probe));
    let kept: Vec<String> = catalog.checks.iter().map(|c| c.id.clone()).collect();
    for c in &mut catalog.checks {
        c.depends_on.retain(|d| kept.contains(d));
    }
    Ok(())
}

/// The config file, then the flags over it, validated once.
fn scan_config(args: &ScanArgs) -> anyhow::Result<ScanConfig> {
    let file = match &args.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = readyscan::files::read_text(path)?;
            Settings::from_toml(&text, &name)?
        }
        None => Settings::default(),
    };
    Ok(file.then(flag_settings(args)).into_config()?)
}

fn flag_settings(args: &ScanArgs) -> Settings {
    let each = |flag: &'static str, values: &[String]| -> Vec<Given<String>> {
        values
            .iter()
            .map(|v| Given::flag(flag, v.clone()))
            .collect()
    };
    let paths: Vec<String> = args
        .ca_certs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    Settings {
        // The probes plan from the scopes: --scope must reach them, not only the evaluation.
        scopes: (!args.output.scopes.is_empty())
            .then(|| Given::flag("--scope", args.output.scopes.clone())),
        timeout: args.timeout.clone().map(|t| Given::flag("--timeout", t)),
        concurrency: args.concurrency.map(|n| Given::flag("--concurrency", n)),
        per_host: args.per_host.map(|n| Given::flag("--per-host", n)),
        sync_page_size: args
            .sync_page_size
            .map(|n| Given::flag("--sync-page-size", n)),
        domains: each("--domain", &args.domains),
        dcs: each("--dc", &args.dcs),
        dns_servers: each("--dns-server", &args.dns_servers),
        upn_suffixes: each("--upn-suffix", &args.upn_suffixes),
        adfs: each("--adfs", &args.adfs),
        adfs_servers: each("--adfs-server", &args.adfs_servers),
        mps: each("--mp", &args.mps),
        configmgr_version: args
            .configmgr_version
            .clone()
            .map(|v| Given::flag("--configmgr-version", v)),
        bind_user: args
            .bind_user
            .clone()
            .map(|u| Given::flag("--bind-user", u)),
        bind: args.bind.map(|b| Given::flag("--bind", b)),
        ldap_security: args.ldap_security,
        ca_certs: each("--ca-cert", &paths),
        insecure_tls: args.insecure_tls.then_some(true),
        cloud_endpoints: args.cloud_endpoints.then_some(true),
        targets: each("--target", &args.targets),
        resolve: Vec::new(),
    }
}

/// The bind password: from standard input, READYSCAN_PASSWORD, or a no-echo prompt on a
/// terminal; never from a flag value, so it stays out of the process list and shell history.
fn secrets(args: &ScanArgs, bind_user: Option<&str>) -> anyhow::Result<Secrets> {
    let from_env = || std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty());
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
    } else if let Some(p) = from_env() {
        Some(p)
    } else if let Some(user) = bind_user {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            bail!(
                "--bind-user {}: no password: set {PASSWORD_ENV}, pipe it with --password-stdin, \
                 or run on a terminal to be asked",
                readyscan::text::terminal(user)
            );
        }
        let password = rpassword::prompt_password(format!(
            "Password for {}: ",
            readyscan::text::terminal(user)
        ))
        .context("cannot read the password from the terminal")?;
        if password.is_empty() {
            bail!("--bind-user: an empty password was typed");
        }
        Some(password)
    } else {
        None
    };
    if bind_password.is_some() && bind_user.is_none() {
        tracing::warn!("{PASSWORD_ENV} is set but --bind-user is not: no bind will be made");
    }
    if let Some(user) = bind_user.filter(|u| !u.contains(['@', '\\', '='])) {
        tracing::warn!(
            "--bind-user {}: a bare user name may not bind; use user@domain or DOMAIN\\user",
            readyscan::text::terminal(user)
        );
    }
    Ok(Secrets { bind_password })
}
