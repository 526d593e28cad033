//! `readyscan checks list|show|validate`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;

use super::output::load_catalog;
use super::Exit;
use readyscan::catalog::{Catalog, Check};

#[derive(Subcommand)]
pub enum ChecksCommand {
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

pub fn run(cmd: &ChecksCommand) -> anyhow::Result<Exit> {
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
