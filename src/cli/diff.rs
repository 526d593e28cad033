//! `readyscan diff`: two saved reports compared without judging them again.

use std::path::PathBuf;

use clap::Args;

use super::Exit;
use readyscan::postprocess::baseline::{self, ChangeState};
use readyscan::render::diff;

#[derive(Args)]
pub struct DiffArgs {
    /// The earlier report.json.
    pub old: PathBuf,
    /// The later report.json.
    pub new: PathBuf,
    /// Output on standard output: text, md or json.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Exit 1 when a finding that passed in OLD is open in NEW.
    #[arg(long)]
    pub fail_on_regression: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Md,
    Json,
}

pub fn run(args: &DiffArgs) -> anyhow::Result<Exit> {
    let old = baseline::read(&args.old)?;
    let new = baseline::read(&args.new)?;
    let d = baseline::Diff::of(&old, &new);
    match args.format {
        DiffFormat::Text => print!("{}", diff::to_text(&d)),
        DiffFormat::Md => print!("{}", diff::to_markdown(&d)),
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&d)?),
    }
    if args.fail_on_regression && d.count(ChangeState::Regressed) > 0 {
        return Ok(Exit::NotReady);
    }
    Ok(Exit::Ready)
}
