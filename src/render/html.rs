//! report.html: one self-contained file, readable without JavaScript, printable.

use base64::Engine;
use handlebars::{handlebars_helper, Handlebars};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Format, RenderError, View};

const TEMPLATE: &str = include_str!("../../templates/report.html.hbs");
const STYLE: &str = include_str!("../../templates/report.css");
const SCRIPT: &str = include_str!("../../templates/report.js");
const RERUN: &str = include_str!("../../templates/rerun.html.hbs");
const BADGES: &str = include_str!("../../templates/badges.html.hbs");

pub struct Html;

handlebars_helper!(eq: |a: Value, b: Value| a == b);
handlebars_helper!(gt: |a: u64, b: u64| a > b);

pub fn register_helpers(hb: &mut Handlebars<'_>) {
    hb.register_helper("eq", Box::new(eq));
    hb.register_helper("gt", Box::new(gt));
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

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, view: &View<'_>) -> Result<String, RenderError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        register_helpers(&mut hb);
        super::register_partials(&mut hb, &[("rerun", RERUN), ("badges", BADGES)])?;
        let mut ctx = view.context();
        if let Some(obj) = ctx.as_object_mut() {
            // Our own static assets, not environment data: the template inserts them raw.
            obj.insert("style".into(), Value::from(STYLE));
            obj.insert("script".into(), Value::from(SCRIPT));
            obj.insert("csp".into(), Value::from(content_security_policy()));
        }
        hb.render_template(TEMPLATE, &ctx)
            .map_err(|e| RenderError::Template {
                name: "report.html.hbs".into(),
                message: e.to_string(),
            })
    }
}
