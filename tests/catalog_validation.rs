//! Catalog validation, cargo-deny style: check files as TOML strings, errors with file:line:col.

use readyscan::catalog::{Catalog, CatalogError};

/// A valid check; tests replace one line to break it.
const GOOD: &str = r#"[[check]]
id = "ad-forest-functional-level"
title = "Forest level"
area = "identity"
scopes = ["core"]
severity = "blocker"
probe = "ldap.root_dse"
field = "forest_functionality"
requirement = { at_least = 3 }
expected = "3 or higher"
remediation = ["Raise it."]
reference = "https://learn.microsoft.com/x"
source = "seed"
"#;

fn errors(text: &str) -> Vec<String> {
    match Catalog::from_sources(vec![("checks/t.toml".into(), text.into())]) {
        Ok(c) => panic!("expected errors, got {} checks", c.checks.len()),
        Err(CatalogError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn with(old: &str, new: &str) -> String {
    assert!(GOOD.contains(old), "test bug: {old} not in GOOD");
    GOOD.replacen(old, new, 1)
}

#[test]
fn the_good_check_loads() {
    let c = Catalog::from_sources(vec![("checks/t.toml".into(), GOOD.into())]).unwrap();
    assert_eq!(c.checks.len(), 1);
    assert_eq!(c.checks[0].origin, "checks/t.toml:1");
}

#[test]
fn the_builtin_catalog_is_valid_and_keeps_its_ids() {
    let c = Catalog::builtin().unwrap();
    for id in [
        "ad-forest-functional-level",
        "dns-intune-enrollment-cname",
        "dns-intune-registration-cname",
        "dns-dc-srv",
        "net-dc-ports",
        "cm-site-version",
    ] {
        let check = c.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(
            check.reference.starts_with("https://"),
            "{id} has no source URL"
        );
        assert!(!check.source.is_empty() && !check.remediation.is_empty());
    }
    let forest = c.get("ad-forest-functional-level").unwrap();
    assert_eq!(forest.severity, readyscan::catalog::Severity::Blocker);
    assert_eq!(forest.scopes, vec!["core"]);
    assert_eq!(c.get("cm-site-version").unwrap().scopes, vec!["configmgr"]);
}

#[test]
fn unknown_field() {
    let e = errors(&with(
        "source = \"seed\"",
        "source = \"seed\"\nsevrity = \"x\"",
    ));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("checks/t.toml:14:1: unknown field `sevrity`"),
        "{}",
        e[0]
    );
}

#[test]
fn duplicate_id() {
    let text = format!("{GOOD}\n{GOOD}");
    let e = errors(&text);
    assert_eq!(
        e,
        vec!["checks/t.toml:16:6: duplicate check id \"ad-forest-functional-level\" (first defined at checks/t.toml:1)"]
    );
}

#[test]
fn unknown_probe() {
    let e = errors(&with(
        "probe = \"ldap.root_dse\"",
        "probe = \"ldap.rootdse\"",
    ));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "checks/t.toml:7:9: unknown probe \"ldap.rootdse\", known probes: ldap.root_dse"
        ),
        "{}",
        e[0]
    );
}

#[test]
fn unknown_field_of_the_probe() {
    let e = errors(&with(
        "field = \"forest_functionality\"",
        "field = \"forest_level\"",
    ));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("checks/t.toml:8:9: probe ldap.root_dse has no field \"forest_level\""),
        "{}",
        e[0]
    );
}

#[test]
fn bad_requirement_type() {
    let e = errors(&with(
        "requirement = { at_least = 3 }",
        "requirement = { greater = 3 }",
    ));
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("checks/t.toml:9:"), "{}", e[0]);
    assert!(e[0].contains("unknown variant `greater`"), "{}", e[0]);
    assert!(
        e[0].contains("at_least"),
        "names the known operators: {}",
        e[0]
    );
}

#[test]
fn bad_requirement_value() {
    let e = errors(&with(
        "requirement = { at_least = 3 }",
        "requirement = { at_least = \"three\" }",
    ));
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("checks/t.toml:9:"), "{}", e[0]);
}

#[test]
fn bad_regex() {
    let e = errors(&with(
        "field = \"forest_functionality\"\nrequirement = { at_least = 3 }",
        "field = \"dns_host_name\"\nrequirement = { matches = \"(\" }",
    ));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("checks/t.toml:9:15: bad requirement: invalid regular expression"),
        "{}",
        e[0]
    );
}

#[test]
fn id_not_kebab_case() {
    let e = errors(&with(
        "id = \"ad-forest-functional-level\"",
        "id = \"AD_Forest\"",
    ));
    assert_eq!(
        e,
        vec!["checks/t.toml:2:6: check id \"AD_Forest\" is not kebab-case (a-z, 0-9 and single hyphens)"]
    );
}

#[test]
fn unknown_area_and_scope() {
    let e = errors(&with(
        "area = \"identity\"\nscopes = [\"core\"]",
        "area = \"cloud\"\nscopes = [\"everything\"]",
    ));
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("checks/t.toml:4:8: unknown area \"cloud\""),
        "{}",
        e[0]
    );
    assert!(
        e[1].starts_with("checks/t.toml:5:10: unknown scope \"everything\""),
        "{}",
        e[1]
    );
}

#[test]
fn reference_must_be_a_url() {
    let e = errors(&with(
        "reference = \"https://learn.microsoft.com/x\"",
        "reference = \"a blog\"",
    ));
    assert_eq!(
        e,
        vec!["checks/t.toml:12:13: reference must be an https:// URL of the source"]
    );
}

#[test]
fn missing_field() {
    let e = errors(&with("source = \"seed\"\n", ""));
    assert_eq!(e.len(), 1);
    assert!(e[0].contains("missing field `source`"), "{}", e[0]);
}

#[test]
fn bad_port_params() {
    let tcp = r#"[[check]]
id = "net-x"
title = "x"
area = "network"
scopes = ["core"]
severity = "blocker"
probe = "tcp.connect"
filter = { roles = "dc" }
params = { ports = [53, 70000] }
field = "state"
requirement = { equals = "open" }
expected = "open"
remediation = ["Open it."]
reference = "https://learn.microsoft.com/x"
source = "kb"
"#;
    let e = errors(tcp);
    assert_eq!(
        e,
        vec!["checks/t.toml:9:10: bad params for probe tcp.connect: port 70000 is outside 1-65535"]
    );
    let e = errors(&tcp.replace("[53, 70000]", "[]"));
    assert_eq!(
        e,
        vec!["checks/t.toml:9:10: bad params for probe tcp.connect: the port set is empty"]
    );
    let e = errors(&tcp.replace("ports = [53, 70000]", "ranges = [\"49670-49660\"]"));
    assert_eq!(
        e,
        vec!["checks/t.toml:9:10: bad params for probe tcp.connect: range \"49670-49660\" is not \"FROM-TO\" within 1-65535"]
    );
    let e = errors(&tcp.replace("ports = [53, 70000]", "ports = [53], prots = [1]"));
    assert_eq!(
        e,
        vec!["checks/t.toml:9:10: bad params for probe tcp.connect: unknown param \"prots\" (expected ports, ranges, hosts)"]
    );
    let https = tcp
        .replace("tcp.connect", "https.endpoint")
        .replace("ports = [53, 70000]", "port = 0")
        .replace("\"state\"", "\"tls\"");
    let e = errors(&https);
    assert_eq!(
        e,
        vec!["checks/t.toml:9:10: bad params for probe https.endpoint: port 0 is outside 1-65535"]
    );
    let e = errors(&https.replace("port = 0", "public_issuers = []"));
    assert_eq!(
        e,
        vec!["checks/t.toml:9:10: bad params for probe https.endpoint: public_issuers must be a non-empty list of names"]
    );
}

#[test]
fn unknown_dependency() {
    let e = errors(&with(
        "source = \"seed\"",
        "source = \"seed\"\ndepends_on = [\"no-such-check\"]",
    ));
    assert_eq!(
        e,
        vec!["checks/t.toml:1:1: depends_on names unknown check \"no-such-check\""]
    );
}

#[test]
fn toml_syntax_error() {
    let e = errors("[[check]\nid = 1");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("checks/t.toml:1:"), "{}", e[0]);
}

#[test]
fn several_errors_are_all_reported() {
    let text = format!(
        "{}\n{}",
        with("probe = \"ldap.root_dse\"", "probe = \"nope\""),
        with("id = \"ad-forest-functional-level\"", "id = \"second\"")
            .replace("area = \"identity\"", "area = \"x\"")
    );
    assert_eq!(errors(&text).len(), 2);
}

#[test]
fn user_checks_override_builtin_by_id() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        with(
            "title = \"Forest level\"",
            "title = \"Our stricter forest level\"",
        )
        .replace("at_least = 3", "at_least = 7"),
    )
    .unwrap();
    let c = Catalog::with_overrides(dir.path()).unwrap();
    let builtin = Catalog::builtin().unwrap();
    assert_eq!(c.checks.len(), builtin.checks.len());
    let forest = c.get("ad-forest-functional-level").unwrap();
    assert_eq!(&*forest.title, "Our stricter forest level");
    assert_ne!(c.version, builtin.version);
}
