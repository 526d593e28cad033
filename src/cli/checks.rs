//! `readyscan checks list|show|validate`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;

use super::output::load_catalog;
use super::Exit;
use readyscan::catalog::{Catalog, Check};
use std::fmt::Write;

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
    let mut out = String::new();
    let id_w = checks.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
    let _ = writeln!(
        out,
        "{:<id_w$}  {:<8}  {:<10}  {:<22}  TITLE",
        "ID", "SEVERITY", "AREA", "SCOPES"
    );
    for c in checks {
        let _ = writeln!(
            out,
            "{:<id_w$}  {:<8}  {:<10}  {:<22}  {}",
            c.id,
            c.severity.to_string(),
            c.area,
            c.scopes.join(","),
            c.title
        );
    }
    print_shown(&out);
}

fn print_check(c: &Check) {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({})", c.id, c.origin);
    let _ = writeln!(out, "  title:       {}", c.title);
    let _ = writeln!(out, "  area:        {}", c.area);
    let _ = writeln!(out, "  scopes:      {}", c.scopes.join(", "));
    let _ = writeln!(out, "  severity:    {}", c.severity);
    let _ = writeln!(out, "  probe:       {} (field {})", c.probe, c.field);
    if let Some(label) = &c.label_field {
        let _ = writeln!(out, "  label:       field {label}");
    }
    if !c.filter.is_empty() {
        let filter: Vec<String> = c
            .filter
            .iter()
            .map(|(k, v)| format!("{k} = {}", readyscan::observation::display(v)))
            .collect();
        let _ = writeln!(out, "  filter:      {}", filter.join(", "));
    }
    for (key, value) in c.params.as_object().into_iter().flatten() {
        let shown = match (key.as_str(), value) {
            // Ports in numeric order, ranges as written.
            ("ports", serde_json::Value::Array(ports)) => {
                let mut ports: Vec<u64> = ports.iter().filter_map(|p| p.as_u64()).collect();
                ports.sort_unstable();
                ports
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            _ => readyscan::observation::display(value),
        };
        let _ = writeln!(out, "  {:<12} {shown}", format!("{key}:"));
    }
    if let Some(a) = &c.applies_when {
        let _ = writeln!(
            out,
            "  applies:     when field {} has a value (otherwise not applicable: {})",
            a.field, a.reason
        );
    }
    if !c.depends_on.is_empty() {
        let _ = writeln!(out, "  depends on:  {}", c.depends_on.join(", "));
    }
    let _ = writeln!(
        out,
        "  requirement: {}",
        readyscan::catalog::describe(&c.requirement)
    );
    let _ = writeln!(out, "  expected:    {}", c.expected);
    let _ = writeln!(
        out,
        "  source:      {}{}",
        c.source,
        if c.community { " (community)" } else { "" }
    );
    let _ = writeln!(out, "  reference:   {}", c.reference);
    let _ = writeln!(out, "  remediation:");
    for (i, step) in c.remediation.iter().enumerate() {
        let _ = writeln!(out, "    {}. {}", i + 1, step);
    }
    print_shown(&out);
}

/// Check files are input too: their strings are shown, never obeyed, by the terminal.
fn print_shown(text: &str) {
    for line in text.lines() {
        println!("{}", readyscan::text::terminal(line));
    }
}
