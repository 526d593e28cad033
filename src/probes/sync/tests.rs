//! Unit tests of the rule engine: each rule at its boundary, skips, duplicates, a streamed pass.

use super::*;

fn rules() -> Rules {
    Rules::shipped()
}

fn user(dn: &str, attrs: &[(&str, &[&str])]) -> Entry {
    Entry {
        dn: dn.to_string(),
        object_class: "user".into(),
        cn: dn
            .strip_prefix("CN=")
            .and_then(|r| r.split(',').next())
            .map(str::to_string),
        critical: false,
        attrs: attrs
            .iter()
            .map(|(n, v)| (n.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect(),
    }
}

fn problems(e: &Entry) -> Vec<Problem> {
    let forest = Forest {
        suffixes: vec!["corp.local".into(), "contoso.com".into()],
    };
    let mut out = Vec::new();
    judge(&rules(), &forest, e, &mut out);
    out
}

fn rule_ids(e: &Entry) -> Vec<String> {
    problems(e).into_iter().map(|p| p.rule).collect()
}

fn upn(v: &str) -> Entry {
    user("CN=a,DC=x", &[("userPrincipalName", &[v])])
}

#[test]
fn clean_user_has_no_problems() {
    let e = user(
        "CN=Ann,DC=x",
        &[
            ("userPrincipalName", &["ann.o'neil@contoso.com"]),
            (
                "proxyAddresses",
                &["SMTP:ann@contoso.com", "X500:/o=Org/cn=ann"],
            ),
            ("mail", &["ann@contoso.com"]),
            ("mailNickname", &["ann"]),
            ("sAMAccountName", &["ann"]),
            ("displayName", &["Ann O'Neil"]),
        ],
    );
    assert_eq!(rule_ids(&e), Vec::<String>::new());
}

#[test]
fn upn_length_boundaries_113_64_48() {
    let local64 = "a".repeat(64);
    let dom48 = format!("{}.com", "b".repeat(44));
    assert_eq!(
        rule_ids(&upn(&format!("{local64}@{dom48}"))),
        Vec::<String>::new()
    );
    let ids = rule_ids(&upn(&format!("{}@b.com", "a".repeat(65))));
    assert_eq!(ids, ["sync-upn-local-too-long"]);
    let ids = rule_ids(&upn(&format!("a@{}.com", "b".repeat(45))));
    assert_eq!(ids, ["sync-upn-domain-too-long"]);
    // 113 total passes the total limit; 114 fails it (and the local part then too).
    let ok = format!("{}@{}.com", "a".repeat(64), "b".repeat(44));
    assert_eq!(ok.chars().count(), 113);
    let long = format!("{}@{}.com", "a".repeat(65), "b".repeat(44));
    assert_eq!(long.chars().count(), 114);
    let ids = rule_ids(&upn(&long));
    assert!(ids.contains(&"sync-upn-too-long".to_string()), "{ids:?}");
    let p = &problems(&upn(&long))[0];
    assert!(!p.blocker, "length is a warning");
    assert_eq!(p.suggested.as_deref().map(|s| s.chars().count()), Some(113));
}

#[test]
fn sam_boundary_20_21() {
    let e = |n: usize| user("CN=a,DC=x", &[("sAMAccountName", &[&"s".repeat(n)])]);
    assert_eq!(rule_ids(&e(20)), Vec::<String>::new());
    assert_eq!(rule_ids(&e(21)), ["sync-samaccountname-too-long"]);
}

#[test]
fn proxy_and_display_boundary_256_257() {
    let proxy = |n: usize| format!("smtp:{}@contoso.com", "p".repeat(n - 17));
    assert_eq!(proxy(256).chars().count(), 256);
    let e = |v: &str| user("CN=a,DC=x", &[("proxyAddresses", &[v])]);
    let ids = rule_ids(&e(&proxy(256)));
    assert!(
        !ids.contains(&"sync-proxyaddresses-too-long".into()),
        "{ids:?}"
    );
    let ids = rule_ids(&e(&proxy(257)));
    assert!(
        ids.contains(&"sync-proxyaddresses-too-long".into()),
        "{ids:?}"
    );
    let d = |n: usize| user("CN=a,DC=x", &[("displayName", &[&"d".repeat(n)])]);
    assert_eq!(rule_ids(&d(256)), Vec::<String>::new());
    assert_eq!(rule_ids(&d(257)), ["sync-displayname-too-long"]);
}

#[test]
fn upn_characters_follow_microsoft_not_idfix() {
    assert_eq!(rule_ids(&upn("o'neil@contoso.com")), Vec::<String>::new());
    let p = problems(&upn("a b(c)@contoso.com"));
    assert_eq!(p[0].rule, "sync-upn-invalid-characters");
    assert!(p[0].blocker);
    assert_eq!(p[0].suggested.as_deref(), Some("abc@contoso.com"));
    let p = problems(&upn("jöhn@contoso.com"));
    assert_eq!(p[0].rule, "sync-upn-non-ascii");
    assert_eq!(p[0].suggested.as_deref(), Some("john@contoso.com"));
}

#[test]
fn upn_format_and_suffix() {
    assert_eq!(rule_ids(&upn("nobody")), ["sync-upn-format"]);
    assert_eq!(rule_ids(&upn("@contoso.com")), ["sync-upn-format"]);
    assert_eq!(rule_ids(&upn("ann.@contoso.com")), ["sync-upn-format"]);
    let p = problems(&upn("ann@corp.local"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].rule, "sync-upn-non-routable-suffix");
    assert_eq!(p[0].suggested.as_deref(), Some("ann@contoso.com"));
    assert_eq!(rule_ids(&upn("ann@corp")), ["sync-upn-format"]);
}

#[test]
fn proxy_rules_apply_after_the_smtp_delimiter_only() {
    let e = |v: &str| user("CN=a,DC=x", &[("proxyAddresses", &[v])]);
    assert_eq!(
        rule_ids(&e("SMTP:user:M@contoso.com")),
        ["sync-proxyaddresses-invalid-characters"]
    );
    assert_eq!(rule_ids(&e("X500:/o=a (b)/cn=c")), Vec::<String>::new());
    let p = problems(&e("smtp:a b@contoso.com"));
    assert_eq!(p[0].rule, "sync-proxyaddresses-invalid-characters");
    assert_eq!(p[0].suggested.as_deref(), Some("smtp:ab@contoso.com"));
}

#[test]
fn mailnickname_and_display_style() {
    let e = user("CN=a,DC=x", &[("mailNickname", &[".ann"])]);
    assert_eq!(rule_ids(&e), ["sync-mailnickname-leading-period"]);
    let e = user("CN=a,DC=x", &[("displayName", &[" Ann "])]);
    let p = problems(&e);
    assert_eq!(p[0].rule, "sync-displayname-whitespace");
    assert!(!p[0].blocker);
    assert_eq!(p[0].suggested.as_deref(), Some("Ann"));
    let e = user("CN=a,DC=x", &[("displayName", &["  "])]);
    assert_eq!(rule_ids(&e), ["sync-displayname-blank"]);
}

#[test]
fn skip_rules() {
    let r = rules();
    let skip = |e: &Entry| skip_rule(&r, e).map(str::to_string);
    assert_eq!(
        skip(&user("CN=krbtgt,DC=x", &[])).as_deref(),
        Some("well-known-name")
    );
    let hm = user("CN=HealthMailbox0a1b,DC=x", &[]);
    assert_eq!(skip(&hm).as_deref(), Some("well-known-name"));
    assert_eq!(
        skip(&user("CN=PC01$,DC=x", &[])).as_deref(),
        Some("machine-account")
    );
    let mut cnf = user("CN=ann\\0ACNF:1234,DC=x", &[]);
    cnf.cn = Some("ann".into());
    assert_eq!(skip(&cnf).as_deref(), Some("conflict-object"));
    let mut crit = user("CN=svc,DC=x", &[]);
    crit.critical = true;
    assert_eq!(skip(&crit).as_deref(), Some("critical-system-object"));
    assert_eq!(skip(&user("CN=Ann,DC=x", &[])), None);
}

fn run(entries: &[Entry]) -> Summary {
    let r = rules();
    let mut pass = Pass::new(&r, Forest::default(), 1000);
    for e in entries {
        pass.feed(e);
    }
    let wanted = pass.wanted();
    for (i, e) in entries.iter().enumerate() {
        if wanted.contains(&(i as u32)) {
            pass.resolve(i as u32, &e.dn);
        }
    }
    pass.finish()
}

#[test]
fn duplicates_list_every_member_and_ignore_prefix_case() {
    let a = user(
        "CN=A,DC=x",
        &[("proxyAddresses", &["SMTP:Dup@contoso.com"])],
    );
    let b = user(
        "CN=B,DC=x",
        &[("proxyAddresses", &["smtp:dup@CONTOSO.com"])],
    );
    let c = user(
        "CN=C,DC=x",
        &[("proxyAddresses", &["smtp:DUP@contoso.com"])],
    );
    // One object listing a value twice is not a forest duplicate.
    let d = user(
        "CN=D,DC=x",
        &[(
            "proxyAddresses",
            &["SMTP:d@contoso.com", "smtp:D@contoso.com"],
        )],
    );
    let s = run(&[a, b, c, d]);
    assert_eq!(s.duplicates.len(), 1);
    assert_eq!(
        s.duplicates[0].members(),
        ["CN=A,DC=x", "CN=B,DC=x", "CN=C,DC=x"]
    );
    let t = s
        .rules
        .iter()
        .find(|t| t.rule == "sync-proxyaddresses-duplicate")
        .unwrap();
    assert_eq!(t.objects, 3);
    assert!(t.blocker);
    assert_eq!(s.with_problems, 3);
    assert_eq!(s.blocker_objects, 3);
}

#[test]
fn sam_duplicates_only_without_upn() {
    let a = user(
        "CN=A,DC=x",
        &[
            ("sAMAccountName", &["same"]),
            ("userPrincipalName", &["a@contoso.com"]),
        ],
    );
    let b = user(
        "CN=B,DC=y",
        &[
            ("sAMAccountName", &["same"]),
            ("userPrincipalName", &["b@contoso.com"]),
        ],
    );
    assert!(run(&[a, b]).duplicates.is_empty());
    let a = user("CN=A,DC=x", &[("sAMAccountName", &["same"])]);
    let b = user("CN=B,DC=y", &[("sAMAccountName", &["SAME"])]);
    let s = run(&[a, b]);
    assert_eq!(s.duplicates.len(), 1);
    assert_eq!(s.duplicates[0].rule, "sync-samaccountname-duplicate");
}

#[test]
fn streamed_pass_over_80k_synthetic_entries() {
    // Generated one by one and dropped after feeding: the pass keeps no entries.
    let r = rules();
    let mut pass = Pass::new(&r, Forest::default(), 100_000);
    let n = 80_000u32;
    let (mut bad_chars, mut skipped, mut dups) = (0u64, 0u64, 0u64);
    for i in 0..n {
        let cn = if i % 1000 == 7 {
            format!("HealthMailbox{i}")
        } else {
            format!("u{i}")
        };
        let mut local = format!("user{i}");
        if i % 97 == 3 && i % 1000 != 7 {
            local.push('%');
            bad_chars += 1;
        }
        // Every 500th user repeats the previous user's proxy address in another case.
        let proxy = if i % 500 == 1 {
            dups += 1;
            format!("smtp:USER{}@contoso.com", i - 1)
        } else {
            format!("SMTP:user{i}@contoso.com")
        };
        if i % 1000 == 7 {
            skipped += 1;
        }
        let e = Entry {
            dn: format!("CN={cn},OU=Users,DC=contoso,DC=com"),
            object_class: "user".into(),
            cn: Some(cn.clone()),
            critical: false,
            attrs: vec![
                (
                    "userPrincipalName".into(),
                    vec![format!("{local}@contoso.com")],
                ),
                ("proxyAddresses".into(), vec![proxy]),
                ("sAMAccountName".into(), vec![format!("u{i}")]),
            ],
        };
        pass.feed(&e);
    }
    assert!(pass.indexed() <= 2 * n as usize);
    let wanted = pass.wanted();
    assert_eq!(wanted.len() as u64, dups);
    for i in wanted.clone() {
        pass.resolve(i, &format!("CN=u{i},OU=Users,DC=contoso,DC=com"));
    }
    let s = pass.finish();
    assert_eq!(s.read, u64::from(n));
    assert_eq!(s.skipped.get("well-known-name").copied(), Some(skipped));
    let t = |id: &str| s.rules.iter().find(|t| t.rule == id).map(|t| t.objects);
    assert_eq!(t("sync-upn-invalid-characters"), Some(bad_chars));
    assert_eq!(t("sync-proxyaddresses-duplicate"), Some(2 * dups));
    assert_eq!(s.duplicates.len() as u64, dups);
    assert!(s.duplicates.iter().all(|d| d.members().len() == 2));
    let tally = s
        .rules
        .iter()
        .find(|t| t.rule == "sync-upn-invalid-characters")
        .unwrap();
    assert_eq!(tally.examples.len(), EXAMPLES);
    assert_eq!(s.rows.len() as u64, bad_chars + 2 * dups);
}

#[test]
fn every_reported_rule_is_an_enumerated_rule() {
    let r = rules();
    let known: std::collections::BTreeSet<String> =
        r.rule_ids().into_iter().map(|(id, _, _)| id).collect();
    let long = "x".repeat(300);
    let bad_values = [
        "",
        " ",
        " a ",
        ".lead",
        "no-at",
        "a b(c)@x.local",
        "é@contoso.com",
        "a@-bad-.com",
        "SMTP:a:b@c.local",
        "smtp:é@x.internal",
        long.as_str(),
    ];
    let mut seen = std::collections::BTreeSet::new();
    let mut pass = Pass::new(&r, Forest::default(), 1000);
    for (i, v) in bad_values.iter().enumerate() {
        let attrs: Vec<(String, Vec<String>)> = r
            .attribute
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    vec![v.to_string(), format!("{}@{v}", "y".repeat(70))],
                )
            })
            .collect();
        for _ in 0..2 {
            let e = Entry {
                dn: format!("CN=e{i},DC=x"),
                object_class: "user".into(),
                cn: Some(format!("e{i}")),
                critical: false,
                attrs: attrs.clone(),
            };
            pass.feed(&e);
        }
    }
    for t in pass.finish().rules {
        assert!(known.contains(&t.rule), "{} is not enumerated", t.rule);
        seen.insert(t.rule);
    }
    assert!(
        seen.len() >= 20,
        "hostile values break most rules: {seen:?}"
    );
    assert!(known.contains("sync-upn-invalid-characters"));
    assert!(known.contains("sync-upn-non-routable-suffix"));
    assert!(known.contains("sync-proxyaddresses-duplicate"));
    assert!(known.contains("sync-samaccountname-duplicate"));
}
