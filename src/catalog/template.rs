//! Remediation steps as templates: `{field}` names a field of the check's probe and is filled
//! with the finding's value at evaluation time, so a step says the record to create with the
//! real suffix, the host and port to open, the forest to raise. `{{` and `}}` are literal
//! braces. A list value is written comma-separated; `{*field}` instead makes one step per item
//! (one `Get-ADUser` per suffix). A value the observation does not have stays visible as
//! `<field>`.

use serde_json::{Map, Value};

use crate::observation::display;

/// One piece of a template: literal text or a placeholder.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(String),
    Field(&'a str),
    /// `{*field}`: one step per item of a list.
    Each(&'a str),
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            text.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!(
                "a lone '}}' in \"{template}\" (write '}}}}' for a brace)"
            ));
        }
        let end = tail.find('}').ok_or_else(|| {
            format!("'{{' without '}}' in \"{template}\" (write '{{{{' for a brace)")
        })?;
        let inner = &tail[1..end];
        let (each, name) = match inner.strip_prefix('*') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("\"{{{inner}}}\" is not a field name"));
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(if each {
            Piece::Each(name)
        } else {
            Piece::Field(name)
        });
        rest = &tail[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The fields a template names, for validation against the probe's fields.
pub fn placeholders(template: &str) -> Result<Vec<String>, String> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Field(f) | Piece::Each(f) => Some(f.to_string()),
            Piece::Text(_) => None,
        })
        .collect())
}

fn shown(v: Option<&Value>, name: &str) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(other) => Some(display(other)),
    }
    .or_else(|| Some(format!("<{name}>")))
}

/// The steps filled with the observation's fields. A template that does not parse (the
/// catalog rejects those) is kept as written.
pub fn fill(steps: &[String], fields: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for step in steps {
        let Ok(pieces) = parse(step) else {
            out.push(step.clone());
            continue;
        };
        // The first `{*field}` whose value is a list of several items gives one step each.
        let list = pieces.iter().find_map(|p| match p {
            Piece::Each(f) => match fields.get(*f) {
                Some(Value::Array(items)) if items.len() > 1 => Some((*f, items.clone())),
                _ => None,
            },
            Piece::Text(_) | Piece::Field(_) => None,
        });
        let variants: Vec<Option<Value>> = match &list {
            Some((_, items)) => items.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        for item in variants {
            let mut text = String::new();
            for p in &pieces {
                match p {
                    Piece::Text(t) => text.push_str(t),
                    Piece::Field(f) | Piece::Each(f) => {
                        let value = match (&list, &item) {
                            (Some((name, _)), Some(v)) if name == f => Some(v),
                            _ => fields.get(*f),
                        };
                        text.push_str(&shown(value, f).unwrap_or_default());
                    }
                }
            }
            out.push(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn placeholders_and_braces() {
        assert_eq!(
            placeholders("create {label}.{suffix}. and {{literal}}").unwrap(),
            ["label", "suffix"]
        );
        assert!(placeholders("a { b").is_err());
        assert!(placeholders("a } b").is_err());
        assert!(placeholders("{not a field}").is_err());
        assert_eq!(
            fill(&["{{x}} {a}".into()], &fields(json!({"a": 1}))),
            ["{x} 1"]
        );
    }

    #[test]
    fn filled_from_the_finding() {
        let f = fields(json!({"suffix": "contoso.com", "port": 636, "s": ["a.local", "b.local"]}));
        assert_eq!(
            fill(&["EnterpriseEnrollment.{suffix}. on {port}".into()], &f),
            ["EnterpriseEnrollment.contoso.com. on 636"]
        );
        assert_eq!(
            fill(&["users of {*s} ({*s})".into()], &f),
            ["users of a.local (a.local)", "users of b.local (b.local)"]
        );
        assert_eq!(fill(&["in {s}".into()], &f), ["in a.local, b.local"]);
        assert_eq!(fill(&["for {missing}".into()], &f), ["for <missing>"]);
    }
}
