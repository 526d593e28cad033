//! The typed requirement a check compares an observed value with.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::observation::display;

/// One comparison. In TOML: `requirement = { at_least = 3 }` or `requirement = "present"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Requirement {
    /// Number >= value.
    AtLeast(f64),
    /// Number <= value.
    AtMost(f64),
    /// Equal, strings compared without case and trailing dot (DNS names, states).
    Equals(Value),
    /// Equal to one of the values (same comparison as `equals`).
    OneOf(Vec<Value>),
    /// String matches the regular expression; a list passes when every item matches.
    Matches(String),
    /// The field exists and is not null, "" or [].
    Present,
    /// The field is missing, null, "" or [].
    Absent,
    /// Dotted numeric version >= value (5.00.7958 >= 5.00.7804.1000 compares 7958 with 7804).
    VersionAtLeast(String),
    /// A date (YYYY-MM-DD...) on or after the evaluation date.
    DateNotPast,
}

/// Whether an observed value meets the requirement. A missing value (no record, no attribute)
/// does not meet it. `Err` when the value has the wrong type: that is a finding the check could
/// not assess, not a failure of the environment.
pub fn meets(req: &Requirement, value: Option<&Value>, today: Date) -> Result<bool, String> {
    let value = value.filter(|v| !v.is_null());
    match req {
        Requirement::Present => Ok(!is_empty(value)),
        Requirement::Absent => Ok(is_empty(value)),
        _ => {
            let Some(v) = value else { return Ok(false) };
            match req {
                Requirement::AtLeast(min) => Ok(number(v)? >= *min),
                Requirement::AtMost(max) => Ok(number(v)? <= *max),
                Requirement::Equals(want) => Ok(same(v, want)),
                Requirement::OneOf(wants) => Ok(wants.iter().any(|w| same(v, w))),
                Requirement::Matches(pattern) => {
                    let re = regex::Regex::new(pattern).map_err(|e| e.to_string())?;
                    match v {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| Ok(re.is_match(text(i)?)))
                            .try_fold(true, |all, m: Result<bool, String>| Ok(all && m?)),
                        other => Ok(re.is_match(text(other)?)),
                    }
                }
                Requirement::VersionAtLeast(min) => {
                    let have = version(&scalar_text(v)?)?;
                    let want = version(min)?;
                    Ok(compare_versions(&have, &want) != std::cmp::Ordering::Less)
                }
                Requirement::DateNotPast => Ok(date(text(v)?)? >= today),
                Requirement::Present | Requirement::Absent => unreachable!("handled above"),
            }
        }
    }
}

/// Checks a requirement's own arguments, at catalog load time.
pub fn validate(req: &Requirement) -> Result<(), String> {
    match req {
        Requirement::Matches(p) => regex::Regex::new(p)
            .map(|_| ())
            .map_err(|e| format!("invalid regular expression: {e}")),
        Requirement::VersionAtLeast(v) => version(v).map(|_| ()),
        Requirement::OneOf(items) if items.is_empty() => {
            Err("one_of needs at least one value".into())
        }
        Requirement::AtLeast(n) | Requirement::AtMost(n) if !n.is_finite() => {
            Err("the bound must be a finite number".into())
        }
        _ => Ok(()),
    }
}

/// Human wording of the requirement, used when a check gives no `expected` of its own.
pub fn describe(req: &Requirement) -> String {
    match req {
        Requirement::AtLeast(n) => format!(">= {n}"),
        Requirement::AtMost(n) => format!("<= {n}"),
        Requirement::Equals(v) => format!("= {}", display(v)),
        Requirement::OneOf(vs) => {
            let items: Vec<String> = vs.iter().map(display).collect();
            format!("one of {}", items.join(", "))
        }
        Requirement::Matches(p) => format!("matches /{p}/"),
        Requirement::Present => "present".into(),
        Requirement::Absent => "absent".into(),
        Requirement::VersionAtLeast(v) => format!("version >= {v}"),
        Requirement::DateNotPast => "a date not in the past".into(),
    }
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{n} is not a usable number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("expected a number, found \"{s}\"")),
        other => Err(format!("expected a number, found {other}")),
    }
}

fn text(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("expected text, found {v}"))
}

fn scalar_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a version, found {other}")),
    }
}

/// Strings compare as DNS names and states do: case-insensitive, trailing dot ignored.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => norm(x) == norm(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(items), want) if !want.is_array() => {
            !items.is_empty() && items.iter().all(|i| same(i, want))
        }
        _ => a == b,
    }
}

fn norm(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn version(s: &str) -> Result<Vec<u64>, String> {
    s.trim()
        .split('.')
        .map(|p| p.parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("\"{s}\" is not a dotted numeric version"))
}

fn compare_versions(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

fn date(s: &str) -> Result<Date, String> {
    let day = s.get(..10).unwrap_or(s);
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("\"{s}\" is not a date (YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn ok(req: Requirement, v: Value) -> bool {
        meets(&req, Some(&v), TODAY).unwrap()
    }

    #[test]
    fn at_least_boundary() {
        assert!(!ok(Requirement::AtLeast(3.0), json!(2)));
        assert!(ok(Requirement::AtLeast(3.0), json!(3)));
        assert!(ok(Requirement::AtLeast(3.0), json!("4")));
    }

    #[test]
    fn at_most_boundary() {
        assert!(ok(Requirement::AtMost(5.0), json!(5)));
        assert!(!ok(Requirement::AtMost(5.0), json!(6)));
    }

    #[test]
    fn equals_ignores_case_and_trailing_dot() {
        let want = json!("EnterpriseEnrollment-s.manage.microsoft.com");
        assert!(ok(
            Requirement::Equals(want.clone()),
            json!("enterpriseenrollment-s.manage.microsoft.com.")
        ));
        assert!(!ok(
            Requirement::Equals(want),
            json!("enterpriseenrollment.manage.microsoft.com")
        ));
        assert!(ok(Requirement::Equals(json!(true)), json!(true)));
        assert!(!ok(Requirement::Equals(json!(true)), json!(false)));
    }

    #[test]
    fn one_of_boundary() {
        let req = Requirement::OneOf(vec![json!("open"), json!("closed")]);
        assert!(ok(req.clone(), json!("OPEN")));
        assert!(!ok(req, json!("filtered")));
    }

    #[test]
    fn matches_scalar_and_list() {
        let req = Requirement::Matches(r"^MS=ms\d+$".into());
        assert!(ok(req.clone(), json!("MS=ms12345678")));
        assert!(!ok(req.clone(), json!("ms=12")));
        assert!(ok(req.clone(), json!(["MS=ms1", "MS=ms2"])));
        assert!(!ok(req, json!(["MS=ms1", "v=spf1"])));
    }

    #[test]
    fn present_and_absent() {
        assert!(meets(&Requirement::Present, Some(&json!(["a"])), TODAY).unwrap());
        assert!(!meets(&Requirement::Present, Some(&json!([])), TODAY).unwrap());
        assert!(!meets(&Requirement::Present, None, TODAY).unwrap());
        assert!(meets(&Requirement::Absent, None, TODAY).unwrap());
        assert!(meets(&Requirement::Absent, Some(&json!(null)), TODAY).unwrap());
        assert!(!meets(&Requirement::Absent, Some(&json!(["corp.local"])), TODAY).unwrap());
    }

    #[test]
    fn version_at_least_boundary() {
        let req = Requirement::VersionAtLeast("5.00.7958".into());
        assert!(!ok(req.clone(), json!("5.00.7804.1000")));
        assert!(ok(req.clone(), json!("5.00.7958.1000")));
        assert!(ok(req.clone(), json!("5.00.7958")));
        assert!(ok(Requirement::VersionAtLeast("7958".into()), json!(7958)));
        assert!(!ok(Requirement::VersionAtLeast("7958".into()), json!(7957)));
        assert!(meets(&req, Some(&json!("5.x")), TODAY).is_err());
    }

    #[test]
    fn date_not_past_boundary() {
        assert!(ok(Requirement::DateNotPast, json!("2026-11-23")));
        assert!(!ok(Requirement::DateNotPast, json!("2026-11-22")));
        assert!(ok(Requirement::DateNotPast, json!("2027-05-01T00:00:00Z")));
    }

    #[test]
    fn wrong_type_is_an_error_not_a_failure() {
        assert!(meets(&Requirement::AtLeast(3.0), Some(&json!("high")), TODAY).is_err());
        assert!(meets(&Requirement::DateNotPast, Some(&json!(5)), TODAY).is_err());
    }

    #[test]
    fn missing_value_does_not_meet() {
        assert!(!meets(&Requirement::AtLeast(3.0), None, TODAY).unwrap());
        let cname = Requirement::OneOf(vec![json!("a.example")]);
        assert!(!meets(&cname, Some(&json!(null)), TODAY).unwrap());
    }

    #[test]
    fn validation_rejects_bad_arguments() {
        assert!(validate(&Requirement::Matches("(".into())).is_err());
        assert!(validate(&Requirement::VersionAtLeast("2012 R2".into())).is_err());
        assert!(validate(&Requirement::OneOf(vec![])).is_err());
        assert!(validate(&Requirement::AtLeast(3.0)).is_ok());
    }
}
