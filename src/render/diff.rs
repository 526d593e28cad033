//! `readyscan diff` on a terminal or in Markdown.

use super::markdown::escape_md;
use crate::evaluate::Status;
use crate::postprocess::baseline::{Change, ChangeState, Diff, DiffItem};

/// Plain text for a terminal: counts, then what moved.
pub fn to_text(d: &Diff) -> String {
    let mut out = format!(
        "Progress since {} ({}, report {}):\n  {}\n",
        one_line(&d.old.collected_at),
        one_line(&d.old.host),
        short(&d.old.id),
        count_line(d),
    );
    for state in [
        ChangeState::Resolved,
        ChangeState::Regressed,
        ChangeState::StillOpen,
        ChangeState::New,
    ] {
        let items: Vec<&DiffItem> = d
            .with(state)
            .filter(|i| state != ChangeState::New || i.finding.status.is_open())
            .collect();
        if items.is_empty() {
            continue;
        }
        let heading = match state {
            ChangeState::New => "New open items",
            s => s.label(),
        };
        out.push_str(&format!("{heading}:\n"));
        for i in items {
            out.push_str(&format!(
                "  {:<14} {}  {}{}\n",
                transition(&i.change, i.finding.status),
                one_line(&i.finding.check_id),
                one_line(&i.finding.subject),
                if i.finding.title.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", one_line(&i.finding.title))
                }
            ));
        }
    }
    if !d.dropped.is_empty() {
        out.push_str("No longer reported:\n");
        for x in &d.dropped {
            out.push_str(&format!(
                "  {:<14} {}  {}  ({})\n",
                format!("was {}", x.finding.status),
                one_line(&x.finding.check_id),
                one_line(&x.finding.subject),
                x.reason
            ));
        }
    }
    out
}

/// Markdown, with environment strings escaped like report.md.
pub fn to_markdown(d: &Diff) -> String {
    let e = escape_md;
    let mut out = format!(
        "# Progress since {}\n\nBaseline: report {} from {} ({}); compared with report {} from {} ({}).\n\n",
        e(&d.old.collected_at),
        short(&d.old.id),
        e(&d.old.collected_at),
        e(&d.old.host),
        short(&d.new.id),
        e(&d.new.collected_at),
        e(&d.new.host),
    );
    out.push_str(&format!("{}\n\n", count_line(d)));
    out.push_str("| Change | Was | Now | Check | Subject |\n|---|---|---|---|---|\n");
    for state in ChangeState::ALL {
        if state == ChangeState::Unchanged {
            continue;
        }
        for i in d.with(state) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                state.label(),
                i.change.was.map(|s| s.as_str()).unwrap_or("-"),
                i.finding.status,
                e(&i.finding.check_id),
                e(&i.finding.subject)
            ));
        }
    }
    for x in &d.dropped {
        out.push_str(&format!(
            "| No longer reported | {} | - | {} | {} |\n",
            x.finding.status,
            e(&x.finding.check_id),
            e(&x.finding.subject)
        ));
    }
    out
}

fn count_line(d: &Diff) -> String {
    let mut parts: Vec<String> = ChangeState::ALL
        .iter()
        .map(|s| format!("{} {}", s.label().to_lowercase(), d.count(*s)))
        .collect();
    parts.push(format!("no longer reported {}", d.dropped.len()));
    parts.join(" · ")
}

fn transition(c: &Change, now: Status) -> String {
    match c.was {
        Some(was) => format!("{was} -> {now}"),
        None => format!("new {now}"),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Environment strings on one terminal line, escape sequences shown, not obeyed.
fn one_line(s: &str) -> String {
    crate::text::terminal(s).into_owned()
}
