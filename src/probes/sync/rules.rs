//! The synchronization rules as data: checks/data/sync-rules.toml.

use serde::Deserialize;
use std::collections::BTreeMap;

const TABLE: &str = include_str!("../../../checks/data/sync-rules.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    pub id: String,
    #[serde(default)]
    pub max_length: Option<usize>,
    #[serde(default)]
    pub max_local: Option<usize>,
    #[serde(default)]
    pub max_domain: Option<usize>,
    #[serde(default)]
    pub invalid: String,
    #[serde(default)]
    pub ascii_only: bool,
    /// "address" (local@domain) or "smtp" (an address after a type prefix when it is SMTP).
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub unique_without_upn: bool,
    #[serde(default)]
    pub no_leading_period: bool,
    #[serde(default)]
    pub not_blank: bool,
    #[serde(default)]
    pub trim_warning: bool,
    #[serde(default)]
    pub community: bool,
    pub source: String,
    #[serde(default)]
    pub differs: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    pub id: String,
    pub what: String,
    #[serde(default)]
    pub cn_prefixes: Vec<String>,
    #[serde(default)]
    pub cn_suffix: Option<String>,
    #[serde(default)]
    pub dn_contains: Option<String>,
    #[serde(default)]
    pub critical: bool,
    #[serde(default)]
    pub community: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routable {
    pub source: String,
    pub non_routable_tlds: Vec<String>,
    #[serde(default)]
    pub community: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub source: BTreeMap<String, String>,
    /// Problem kind -> "blocker" | "warning".
    pub severity: BTreeMap<String, String>,
    pub attribute: Vec<Attribute>,
    pub routable: Routable,
    pub skip: Vec<Skip>,
}

impl Rules {
    /// The shipped table. A broken table is a build-time mistake caught by the tests.
    pub fn shipped() -> Rules {
        Rules::parse(TABLE).unwrap_or_else(|_| Rules::empty())
    }

    pub fn parse(text: &str) -> Result<Rules, toml::de::Error> {
        toml::from_str(text)
    }

    fn empty() -> Rules {
        Rules {
            source: BTreeMap::new(),
            severity: BTreeMap::new(),
            attribute: Vec::new(),
            routable: Routable {
                source: String::new(),
                non_routable_tlds: Vec::new(),
                community: false,
            },
            skip: Vec::new(),
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attribute
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// "blocker" unless the table says "warning"; an unknown kind is a blocker (safe side).
    pub fn is_blocker(&self, kind: &str) -> bool {
        self.severity.get(kind).map(String::as_str) != Some("warning")
    }

    /// Every rule id the judge and the duplicate index can report, in table order:
    /// (rule id, attribute name, problem kind). The per-rule checks of checks/sync.toml name
    /// exactly these (tests/catalog_facts.rs holds the two together).
    pub fn rule_ids(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for a in &self.attribute {
            let address = a.format.is_some();
            let kinds = [
                ("blank", a.not_blank),
                ("whitespace", a.trim_warning),
                ("too-long", a.max_length.is_some()),
                ("invalid-characters", !a.invalid.is_empty()),
                ("non-ascii", a.ascii_only),
                ("leading-period", a.no_leading_period),
                ("format", address),
                ("local-too-long", address && a.max_local.is_some()),
                ("domain-too-long", address && a.max_domain.is_some()),
                ("non-routable-suffix", address),
                ("duplicate", a.unique || a.unique_without_upn),
            ];
            for (kind, applies) in kinds {
                if applies {
                    out.push((
                        format!("sync-{}-{kind}", a.id),
                        a.name.clone(),
                        kind.to_string(),
                    ));
                }
            }
        }
        out
    }

    /// The attributes the pass reads: the rules' plus what skipping and reporting need.
    pub fn attributes_to_read(&self) -> Vec<String> {
        let mut out: Vec<String> = self.attribute.iter().map(|a| a.name.clone()).collect();
        for extra in [
            "objectClass",
            "isCriticalSystemObject",
            "msExchHideFromAddressLists",
            "cn",
            "distinguishedName",
        ] {
            out.push(extra.to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_with_sources() {
        let rules = Rules::parse(TABLE).expect("sync-rules.toml parses");
        assert!(rules.attribute.len() >= 8);
        for a in &rules.attribute {
            assert!(a.source.starts_with("https://"), "{} has a source", a.name);
        }
        let upn = rules.attribute("userprincipalname").expect("upn rule");
        assert_eq!(
            (upn.max_length, upn.max_local, upn.max_domain),
            (Some(113), Some(64), Some(48))
        );
        assert!(!upn.invalid.contains('\''), "Microsoft allows ' in UPNs");
        assert!(upn.differs.is_some());
        let sam = rules.attribute("sAMAccountName").expect("sam rule");
        assert_eq!(sam.max_length, Some(20));
        assert!(sam.unique_without_upn && !sam.unique);
        assert!(rules.is_blocker("duplicate"));
        assert!(!rules.is_blocker("too-long"));
        assert!(rules.skip.iter().all(|s| s.community));
    }
}
