//! report.md: the checklist in Markdown, for tickets and wikis.

use handlebars::Handlebars;

use super::{Format, RenderError, View};

const TEMPLATE: &str = include_str!("../../templates/report.md.hbs");
const RERUN: &str = include_str!("../../templates/rerun.md.hbs");
const BADGES: &str = include_str!("../../templates/badges.md.hbs");

pub struct Markdown;

impl Format for Markdown {
    fn name(&self) -> &'static str {
        "md"
    }

    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, view: &View<'_>) -> Result<String, RenderError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(escape_md);
        super::html::register_helpers(&mut hb);
        super::register_partials(&mut hb, &[("rerun", RERUN), ("badges", BADGES)])?;
        hb.render_template(TEMPLATE, &view.context())
            .map_err(|e| RenderError::Template {
                name: "report.md.hbs".into(),
                message: e.to_string(),
            })
    }
}

/// Keeps environment strings from becoming Markdown or HTML structure (tables, links, tags).
pub fn escape_md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
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
            super::escape_md("<script>a|b</script> [x](y)"),
            "&lt;script&gt;a\\|b&lt;/script&gt; \\[x\\](y)"
        );
    }
}
