//! One entry judged against the rules: which skip rule applies, which values break which rule.

use serde::{Deserialize, Serialize};

use super::normalise::{fold_ascii, split_type};
use super::rules::{Attribute, Rules};

/// One directory object as the pass reads it (only the attributes the rules need).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub dn: String,
    /// The most specific objectClass (user, group, contact).
    pub object_class: String,
    pub cn: Option<String>,
    pub critical: bool,
    /// Attribute name -> values, as read.
    pub attrs: Vec<(String, Vec<String>)>,
}

impl Entry {
    pub fn values(&self, name: &str) -> &[String] {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
}

/// One broken rule on one value of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub rule: String,
    pub blocker: bool,
    pub dn: String,
    pub object_class: String,
    pub attribute: String,
    pub value: String,
    pub what: String,
    pub suggested: Option<String>,
}

/// The skip rule this entry falls under, if any (IdFix's order: cn, conflict, critical).
pub fn skip_rule<'r>(rules: &'r Rules, entry: &Entry) -> Option<&'r str> {
    let cn = entry.cn.as_deref().unwrap_or("");
    let cn_upper = cn.to_uppercase();
    let dn_upper = entry.dn.to_uppercase();
    let hit = rules.skip.iter().find(|s| {
        s.cn_suffix.as_deref().is_some_and(|suf| cn.ends_with(suf))
            || s.cn_prefixes
                .iter()
                .any(|p| cn_upper.starts_with(&p.to_uppercase()))
            || s.dn_contains
                .as_deref()
                .is_some_and(|d| dn_upper.contains(&d.to_uppercase()))
            || (s.critical && entry.critical)
    });
    hit.map(|s| s.id.as_str())
}

/// What the judge knows about the forest: its routable UPN suffixes, for suggestions.
#[derive(Debug, Clone, Default)]
pub struct Forest {
    pub suffixes: Vec<String>,
}

struct Ctx<'a> {
    rules: &'a Rules,
    attr: &'a Attribute,
    entry: &'a Entry,
    value: &'a str,
    out: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    fn push(&mut self, kind: &str, what: String, suggested: Option<String>) {
        self.out.push(Problem {
            rule: format!("sync-{}-{}", self.attr.id, kind),
            blocker: self.rules.is_blocker(kind),
            dn: self.entry.dn.clone(),
            object_class: self.entry.object_class.clone(),
            attribute: self.attr.name.clone(),
            value: self.value.to_string(),
            what,
            suggested: suggested.filter(|s| !s.is_empty() && s != self.value),
        });
    }
}

/// Every problem of this (not skipped) entry, in rule-table order.
pub fn judge(rules: &Rules, forest: &Forest, entry: &Entry, out: &mut Vec<Problem>) {
    for attr in &rules.attribute {
        for value in entry.values(&attr.name) {
            let mut ctx = Ctx {
                rules,
                attr,
                entry,
                value,
                out,
            };
            judge_value(&mut ctx, forest);
        }
    }
}

fn judge_value(ctx: &mut Ctx, forest: &Forest) {
    let attr = ctx.attr;
    let value = ctx.value;
    if attr.not_blank && value.trim().is_empty() {
        ctx.push("blank", "the value is blank".into(), None);
        return;
    }
    if attr.trim_warning && value.trim() != value {
        let what = "leading or trailing spaces".into();
        ctx.push("whitespace", what, Some(value.trim().to_string()));
    }
    let chars = value.chars().count();
    if let Some(max) = attr.max_length.filter(|m| chars > *m) {
        let cut: String = value.chars().take(max).collect();
        let what = format!("{chars} characters, more than {max}");
        ctx.push("too-long", what, Some(cut));
    }
    // For typed attributes (proxyAddresses, targetAddress) only SMTP addresses have the
    // character and format rules; the characters count after the "SMTP:" delimiter.
    let (prefix, body) = match attr.format.as_deref() {
        Some("smtp") => match split_type(value) {
            Some((kind, rest)) if kind.eq_ignore_ascii_case("smtp") => (format!("{kind}:"), rest),
            Some(_) => return,
            None => (String::new(), value),
        },
        _ => (String::new(), value),
    };
    let bad: String = body.chars().filter(|c| attr.invalid.contains(*c)).collect();
    if !bad.is_empty() {
        let mut shown: Vec<char> = bad.chars().collect();
        shown.dedup();
        let shown: String = shown
            .iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        let fixed: String = body
            .chars()
            .filter(|c| !attr.invalid.contains(*c))
            .collect();
        let what = format!("invalid characters {shown}");
        ctx.push("invalid-characters", what, Some(format!("{prefix}{fixed}")));
    }
    if attr.ascii_only && !body.is_ascii() {
        let what = "non-ASCII characters (letters with diacritical marks do not sync)".into();
        ctx.push(
            "non-ascii",
            what,
            Some(format!("{prefix}{}", fold_ascii(body))),
        );
    }
    if attr.no_leading_period && body.starts_with('.') {
        let fixed = body.trim_start_matches('.').to_string();
        ctx.push("leading-period", "begins with a period".into(), Some(fixed));
    }
    if attr.format.is_some() {
        judge_address(ctx, forest, &prefix, body);
    }
}

fn judge_address(ctx: &mut Ctx, forest: &Forest, prefix: &str, body: &str) {
    let attr = ctx.attr;
    let Some((local, domain)) = body.rsplit_once('@') else {
        ctx.push("format", "no @ (must be name@domain)".into(), None);
        return;
    };
    if local.is_empty() || local.contains('@') || local.ends_with(['.', '&', ' ']) {
        let what = "the name before the @ is empty, holds an @ or ends with . & or a space";
        ctx.push("format", what.into(), None);
    }
    if let Some(max) = attr.max_local.filter(|m| local.chars().count() > *m) {
        let what = format!(
            "{} characters before the @, more than {max}",
            local.chars().count()
        );
        ctx.push("local-too-long", what, None);
    }
    if let Some(max) = attr.max_domain.filter(|m| domain.chars().count() > *m) {
        let what = format!(
            "{} characters after the @, more than {max}",
            domain.chars().count()
        );
        ctx.push("domain-too-long", what, None);
    }
    let domain = domain.trim_end_matches('.');
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld = labels.last().copied().unwrap_or("");
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        ctx.push("format", format!("{domain:?} is not a domain name"), None);
        return;
    }
    let tld = tld.to_lowercase();
    let listed = ctx.rules.routable.non_routable_tlds.contains(&tld);
    if listed || tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        let routable = forest.suffixes.iter().find(|s| routable(ctx.rules, s));
        let suggested = routable.map(|s| format!("{prefix}{local}@{s}"));
        let what =
            format!("the suffix {domain:?} is not routable (cannot be verified in a tenant)");
        ctx.push("non-routable-suffix", what, suggested);
    }
}

/// Whether a suffix ends in a top-level domain a tenant can verify.
pub fn routable(rules: &Rules, suffix: &str) -> bool {
    let tld = suffix
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .unwrap_or("");
    let tld = tld.to_lowercase();
    suffix.contains('.')
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && !rules.routable.non_routable_tlds.contains(&tld)
}
