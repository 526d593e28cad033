//! report.html: one self-contained file, readable without JavaScript, printable.

use std::sync::OnceLock;

use base64::Engine;
use handlebars::{handlebars_helper, Handlebars};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Context, Format, FormatName, RenderError, View};

const TEMPLATE: &str = include_str!("../../templates/report.html.hbs");
const STYLE: &str = include_str!("../../templates/report.css");
const SCRIPT: &str = include_str!("../../templates/report.js");
const RERUN: &str = include_str!("../../templates/rerun.html.hbs");
const BADGES: &str = include_str!("../../templates/badges.html.hbs");
const INVENTORY: &str = include_str!("../../templates/inventory.html.hbs");
const SYNC: &str = include_str!("../../templates/sync.html.hbs");

pub struct Html;

handlebars_helper!(eq: |a: Value, b: Value| a == b);
handlebars_helper!(gt: |a: u64, b: u64| a > b);
// "1 item", "3 items".
handlebars_helper!(plural: |n: u64, noun: str| crate::vocab::plural(n as usize, noun));
// "2 November 2026, 09:15 UTC" for 2026-11-02T09:15:00Z (the ISO value goes in a title).
handlebars_helper!(date: |s: str| crate::dates::readable(s));

/// HTML escaping of environment strings, invisible controls and bidi overrides dropped first.
fn escape_html(s: &str) -> String {
    handlebars::html_escape(&crate::text::visible(s, &['\n', '\t']))
}

pub fn register_helpers(hb: &mut Handlebars<'_>) {
    hb.register_helper("eq", Box::new(eq));
    hb.register_helper("gt", Box::new(gt));
    hb.register_helper("plural", Box::new(plural));
    hb.register_helper("date", Box::new(date));
}

/// The page may load nothing from anywhere; only this exact style sheet and script apply.
fn content_security_policy() -> String {
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; \
         form-action 'none'; base-uri 'none'",
        hash(STYLE),
        hash(SCRIPT)
    )
}

/// The layout's context plus our own static assets (not environment data: inserted raw).
#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    context: Context<'a>,
    style: &'static str,
    script: &'static str,
    csp: String,
}

fn compiled() -> &'static Result<Handlebars<'static>, String> {
    static COMPILED: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        super::compile(
            &[
                ("main", TEMPLATE),
                ("rerun", RERUN),
                ("badges", BADGES),
                ("inventory", INVENTORY),
                ("sync", SYNC),
            ],
            |hb| {
                hb.register_escape_fn(escape_html);
                register_helpers(hb);
            },
        )
    })
}

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn kind(&self) -> FormatName {
        FormatName::Html
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write(&self, view: &View<'_>, out: &mut dyn std::io::Write) -> Result<(), RenderError> {
        let page = Page {
            context: view.context(),
            style: STYLE,
            script: SCRIPT,
            csp: content_security_policy(),
        };
        super::render_with(compiled(), "report.html.hbs", &page, out)
    }
}
