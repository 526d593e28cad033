//! The `readyscan` command: parses flags, runs the subcommand, maps the result to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.verbose);
    match cli::run(&cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            // Messages quote file contents and flags: shown, never obeyed by the terminal.
            for line in format!("{e:#}").lines() {
                eprintln!("readyscan: error: {}", readyscan::text::terminal(line));
            }
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
        .with_writer(|| Visible(std::io::stderr()))
        .with_ansi(false)
        .with_target(false)
        .init();
}

/// Log output with control bytes other than line breaks removed: logs quote subjects and
/// server answers, and a terminal must not obey escape sequences found in them.
struct Visible<W>(W);

impl<W: std::io::Write> std::io::Write for Visible<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let shown = readyscan::text::visible(&text, &['\n', '\t']);
        self.0.write_all(shown.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
