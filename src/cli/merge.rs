//! `readyscan merge`: scans from several hosts in one report.

use std::path::PathBuf;

use clap::Args;

use super::output::{finish, judged_day, load_catalog, OutputArgs, Rerun};
use super::Exit;

#[derive(Args)]
pub struct MergeArgs {
    /// report.json files (or observation sets) from scans on different hosts.
    #[arg(required = true, num_args = 2.., value_name = "REPORT")]
    pub inputs: Vec<PathBuf>,
    /// Judge dated requirements as of this day, YYYY-MM-DD; default: the latest scan date.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &MergeArgs, quiet: bool) -> anyhow::Result<Exit> {
    args.output.formats()?;
    let catalog = load_catalog(args.output.checks.as_deref())?;
    let mut inputs = Vec::new();
    for path in &args.inputs {
        inputs.push((
            path.display().to_string(),
            readyscan::observation::read_observations(path)?,
        ));
    }
    let mut set = readyscan::observation::merge::merge(inputs);
    if let Some(scopes) = args.output.scopes()? {
        set.scan.config.scopes = scopes;
    }
    let today = judged_day(args.as_of.as_deref(), &set)?;
    let rerun = Rerun::load(&args.output.rerun, &catalog, None)?;
    finish(set, &catalog, today, &args.output, rerun, quiet)
}
