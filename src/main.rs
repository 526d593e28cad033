//! The `readyscan` command: parses flags, runs the subcommand, maps the result to an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.verbose);
    quiet_ldap_panics();
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
    // -v: readyscan's own steps; -vv: their protocol detail; -vvv: every library too. ldap3
    // warns about its connection's state ("socket receive error", "unmatched id"), and a hostile
    // server can make it do so without end; what it means reaches the finding.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,ldap3=error",
        (false, 1) => "warn,ldap3=error,readyscan=info",
        (false, 2) => "warn,ldap3=error,readyscan=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("READYSCAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
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

/// ldap3 panics on some malformed answers; each LDAP attempt runs in a task of its own that
/// turns the panic into that attempt's failure (named in the finding). So a panic whose location
/// is in ldap3's or lber's source is logged at debug level instead of printed with a backtrace;
/// every other panic is a bug and goes to the default hook.
fn quiet_ldap_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| match info.location() {
        Some(at) if readyscan::probes::ldap::in_ldap_client(at.file()) => {
            let payload = info.payload();
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("?");
            tracing::debug!("the LDAP client gave up on a server's answer ({what}) at {at}");
        }
        _ => default(info),
    }));
}
