//! report.md: the checklist in Markdown, for tickets and wikis.

use std::sync::OnceLock;

use handlebars::Handlebars;

use super::{Format, FormatName, RenderError, View};

const TEMPLATE: &str = include_str!("../../templates/report.md.hbs");
const RERUN: &str = include_str!("../../templates/rerun.md.hbs");
const BADGES: &str = include_str!("../../templates/badges.md.hbs");
const SYNC: &str = include_str!("../../templates/sync.md.hbs");

pub struct Markdown;

fn compiled() -> &'static Result<Handlebars<'static>, String> {
    static COMPILED: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        super::compile(
            &[
                ("main", TEMPLATE),
                ("rerun", RERUN),
                ("badges", BADGES),
                ("sync", SYNC),
            ],
            |hb| {
                hb.register_escape_fn(escape_md);
                super::html::register_helpers(hb);
            },
        )
    })
}

impl Format for Markdown {
    fn name(&self) -> &'static str {
        "md"
    }

    fn kind(&self) -> FormatName {
        FormatName::Md
    }

    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn write(&self, view: &View<'_>, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
        super::render_with(compiled(), "report.md.hbs", &view.context(), out)
    }
}

/// Keeps environment strings from becoming Markdown or HTML structure (tables, links, tags).
/// Backslash escapes (CommonMark) keep `<`, `>` and `&` readable in the raw file and shown as
/// text when rendered: `\<script\>`, never a tag, never `&lt;`.
pub fn escape_md(s: &str) -> String {
    let s = crate::text::visible(s, &['\n', '\r']);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '<' | '>' | '&' | '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_structure() {
        assert_eq!(
            super::escape_md("<script>a|b</script> [x](y) a&b"),
            "\\<script\\>a\\|b\\</script\\> \\[x\\](y) a\\&b"
        );
    }
}
