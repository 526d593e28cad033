//! `readyscan evaluate`: judge saved observations again, offline.

use std::path::PathBuf;

use clap::Args;

use super::output::{finish, judged_day, load_catalog, OutputArgs, Rerun};
use super::Exit;

#[derive(Args)]
pub struct EvaluateArgs {
    /// An observation set (fixtures/) or a report.json from an earlier scan.
    pub input: PathBuf,
    /// Judge dated requirements (support end dates) as of this day, YYYY-MM-DD; default: the scan date.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &EvaluateArgs, quiet: bool) -> anyhow::Result<Exit> {
    args.output.formats()?;
    let catalog = load_catalog(args.output.checks.as_deref())?;
    let mut set = readyscan::observation::read_observations(&args.input)?;
    if let Some(scopes) = args.output.scopes()? {
        set.scan.config.scopes = scopes;
    }
    let today = judged_day(args.as_of.as_deref(), &set)?;
    set.scan.mode = "evaluate".into();
    let rerun = Rerun::load(&args.output.rerun, &catalog, None)?;
    finish(set, &catalog, today, &args.output, rerun, quiet)
}
