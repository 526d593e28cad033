//! Validation of one raw check against the vocabulary and the probe specs.

use serde_json::Value;

use super::{requirement, RawCheck};
use crate::probes::index as probes;
use crate::vocab::{area_ids, SCOPES};

pub(crate) fn validate(
    raw: &RawCheck,
    report: &mut impl FnMut(std::ops::Range<usize>, &'static str, String),
) {
    let id = raw.id.get_ref();
    let kebab = regex::Regex::new("^[a-z0-9]+(-[a-z0-9]+)*$").expect("static pattern");
    if !kebab.is_match(id) {
        report(
            raw.id.span(),
            "id-not-kebab-case",
            format!("check id \"{id}\" is not kebab-case (a-z, 0-9 and single hyphens)"),
        );
    }
    let areas = area_ids();
    if !areas.contains(&raw.area.get_ref().as_str()) {
        report(
            raw.area.span(),
            "unknown-area",
            format!(
                "unknown area \"{}\", expected one of {}",
                raw.area.get_ref(),
                areas.join(", ")
            ),
        );
    }
    if raw.scopes.get_ref().is_empty() {
        report(
            raw.scopes.span(),
            "no-scope",
            "scopes must name at least one scope".into(),
        );
    }
    for s in raw
        .scopes
        .get_ref()
        .iter()
        .filter(|s| !SCOPES.contains(&s.as_str()))
    {
        report(
            raw.scopes.span(),
            "unknown-scope",
            format!(
                "unknown scope \"{s}\", expected one of {}",
                SCOPES.join(", ")
            ),
        );
    }
    let steps = raw.remediation.get_ref();
    let placeholders: Vec<String> = steps
        .iter()
        .filter_map(|s| match super::template::placeholders(s) {
            Ok(p) => Some(p),
            Err(e) => {
                report(
                    raw.remediation.span(),
                    "bad-placeholder",
                    format!("remediation: {e}"),
                );
                None
            }
        })
        .flatten()
        .collect();
    if raw
        .remediation
        .get_ref()
        .iter()
        .all(|s| s.trim().is_empty())
    {
        report(
            raw.remediation.span(),
            "no-remediation",
            "remediation needs at least one step".into(),
        );
    }
    if !raw.reference.get_ref().starts_with("https://") {
        report(
            raw.reference.span(),
            "reference-not-https",
            "reference must be an https:// URL of the source".into(),
        );
    }
    if let Some(a) = raw
        .applies_when
        .as_ref()
        .filter(|a| a.get_ref().reason.trim().is_empty())
    {
        report(
            a.span(),
            "no-applies-reason",
            "applies_when needs a reason (shown when the check has nothing to judge)".into(),
        );
    }
    if let Err(e) = requirement::validate(raw.requirement.get_ref()) {
        report(
            raw.requirement.span(),
            "bad-requirement",
            format!("bad requirement: {e}"),
        );
    }
    let Some(spec) = probes::spec(raw.probe.get_ref()) else {
        report(
            raw.probe.span(),
            "unknown-probe",
            format!(
                "unknown probe \"{}\", known probes: {}",
                raw.probe.get_ref(),
                probes::names().join(", ")
            ),
        );
        return;
    };
    let mut field_known = |name: &str, span: std::ops::Range<usize>| {
        if !spec.fields.contains(&name) {
            report(
                span,
                "unknown-field",
                format!(
                    "probe {} has no field \"{name}\", its fields: {}",
                    spec.name,
                    spec.fields.join(", ")
                ),
            );
        }
    };
    field_known(raw.field.get_ref(), raw.field.span());
    if let Some(label) = &raw.label_field {
        field_known(label.get_ref(), label.span());
    }
    if let Some(filter) = &raw.filter {
        for key in filter.get_ref().keys() {
            field_known(key, filter.span());
        }
    }
    if let Some(a) = &raw.applies_when {
        field_known(&a.get_ref().field, a.span());
    }
    for name in &placeholders {
        if !spec.fields.contains(&name.as_str()) {
            report(
                raw.remediation.span(),
                "unknown-placeholder",
                format!(
                    "remediation names {{{name}}}, but probe {} has no field \"{name}\"; its fields: {}",
                    spec.name,
                    spec.fields.join(", ")
                ),
            );
        }
    }
    let params = raw
        .params
        .as_ref()
        .map(|p| p.get_ref().clone())
        .unwrap_or(Value::Null);
    if let Err(e) = (spec.check_params)(&params) {
        let span = raw
            .params
            .as_ref()
            .map(|p| p.span())
            .unwrap_or(raw.probe.span());
        report(
            span,
            "bad-params",
            format!("bad params for probe {}: {e}", spec.name),
        );
    }
}
