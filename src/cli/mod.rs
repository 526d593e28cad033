//! The `readyscan` command line: one module per subcommand. Each parses its flags into
//! library inputs, calls the library and says which [`Exit`] the process ends with.

mod checks;
mod diff;
mod evaluate;
mod merge;
mod output;
mod scan;

use clap::{Parser, Subcommand};

use readyscan::evaluate::Verdict;

pub const EXIT_CODES: &str = "Exit codes:
  0  ready: no blocker in scope failed or went unassessed
  1  not ready: a blocker failed
  2  bad input: a flag, the config file, a check file or an input file is wrong
     (or the report could not be written)
  3  incomplete: no blocker failed, but some could not be assessed
With --fail-on-regression, a finding that passed in the baseline and is open now exits 1.
Excepted blockers (--exceptions, not expired) do not count against the verdict.";

pub const DIFF_EXIT_CODES: &str = "Exit codes:
  0  compared (regressions are listed, not fatal)
  1  --fail-on-regression and at least one finding regressed
  2  bad input: a file cannot be read or is not a readyscan report.json";

/// What the process tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
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
pub struct Cli {
    /// Only errors on stderr; no progress bar, no summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Scan the environment (or the built-in demo) and write the reports.
    #[command(after_help = EXIT_CODES)]
    Scan(Box<scan::ScanArgs>),
    /// Judge saved observations (an observation set or a report.json) again, without the network.
    #[command(after_help = EXIT_CODES)]
    Evaluate(evaluate::EvaluateArgs),
    /// Compare two saved report.json files: resolved, regressed, still open, new, unchanged.
    #[command(after_help = DIFF_EXIT_CODES)]
    Diff(diff::DiffArgs),
    /// Combine reports from several scanning hosts into one (network results keep their vantage).
    #[command(after_help = EXIT_CODES)]
    Merge(merge::MergeArgs),
    /// List, show and validate checks.
    #[command(subcommand)]
    Checks(checks::ChecksCommand),
    /// Print the JSON Schema of report.json.
    Schema,
}

/// Runs the parsed command; an `Err` is bad input (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Scan(args) => scan::run(args, cli.quiet),
        Command::Evaluate(args) => evaluate::run(args, cli.quiet),
        Command::Diff(args) => diff::run(args),
        Command::Merge(args) => merge::run(args, cli.quiet),
        Command::Checks(cmd) => checks::run(cmd),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&readyscan::report::json_schema())?
            );
            Ok(Exit::Ready)
        }
    }
}
