//! The "Directory synchronization" section: the `ldap.sync_objects` observations as the layouts
//! print them (totals, then each rule with its count and examples). Every string is the
//! environment's: the templates print it with `{{ }}` (escaped), never `{{{ }}}`.

use serde::Serialize;
use serde_json::Value;

use crate::report::Report;

#[derive(Serialize)]
pub struct SyncView {
    pub subject: String,
    pub objects_read: u64,
    pub objects_skipped: u64,
    pub with_problems: u64,
    pub blocker_objects: u64,
    pub rows_dropped: u64,
    pub rules: Vec<RuleView>,
    pub skip_rules: Vec<SkipView>,
}

#[derive(Serialize)]
pub struct RuleView {
    pub rule: String,
    pub attribute: String,
    pub severity: &'static str,
    pub objects: u64,
    pub examples: Vec<ExampleView>,
}

#[derive(Serialize)]
pub struct ExampleView {
    pub dn: String,
    pub value: String,
    pub what: String,
    pub suggested: String,
}

#[derive(Serialize)]
pub struct SkipView {
    pub id: String,
    pub what: String,
    pub objects: u64,
}

fn text(v: &Value, k: &str) -> String {
    let s = v.get(k).and_then(Value::as_str).unwrap_or("");
    crate::text::visible(s, &[]).into_owned()
}

fn num(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn list<'v>(v: &'v Value, k: &str) -> impl Iterator<Item = &'v Value> {
    v.get(k).and_then(Value::as_array).into_iter().flatten()
}

pub fn sync_views(report: &Report) -> Vec<SyncView> {
    let observed = report
        .observations
        .iter()
        .filter(|o| o.probe == "ldap.sync_objects" && !o.fields.is_empty());
    observed
        .filter_map(|o| {
            let f = Value::Object(o.fields.clone());
            f.get("objects_read")?;
            let rules = list(&f, "rules")
                .map(|r| RuleView {
                    rule: text(r, "rule"),
                    attribute: text(r, "attribute"),
                    severity: if r.get("blocker").and_then(Value::as_bool) == Some(false) {
                        "warning"
                    } else {
                        "blocker"
                    },
                    objects: num(r, "objects"),
                    examples: list(r, "examples")
                        .map(|e| ExampleView {
                            dn: text(e, "dn"),
                            value: text(e, "value"),
                            what: text(e, "what"),
                            suggested: text(e, "suggested"),
                        })
                        .collect(),
                })
                .collect();
            let skip_rules = list(&f, "skip_rules")
                .map(|s| SkipView {
                    id: text(s, "id"),
                    what: text(s, "what"),
                    objects: num(s, "objects"),
                })
                .collect();
            Some(SyncView {
                subject: crate::text::visible(&o.subject, &[]).into_owned(),
                objects_read: num(&f, "objects_read"),
                objects_skipped: num(&f, "objects_skipped"),
                with_problems: num(&f, "objects_with_problems"),
                blocker_objects: num(&f, "blocker_objects"),
                rows_dropped: num(&f, "rows_dropped"),
                rules,
                skip_rules,
            })
        })
        .collect()
}
