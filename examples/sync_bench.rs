//! The sync rule engine over N synthetic entries from memory (no LDAP): run by scripts/bench-sync
//! under /usr/bin/time for wall time and peak RSS. Usage: sync_bench N
use readyscan::probes::sync::{Entry, Forest, Pass, Rules};
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rules = Rules::shipped();
    let mut pass = Pass::new(&rules, Forest::default(), 50_000);
    let start = Instant::now();
    for i in 0..n {
        // Planted: 1% invalid characters, 0.2% duplicate proxy addresses (other case), 1% .local.
        let suffix = if i % 100 == 5 {
            "corp.local"
        } else {
            "contoso.com"
        };
        let bad = if i % 100 == 3 { "%" } else { "" };
        let proxy = if i % 500 == 1 {
            format!("smtp:USER{}@contoso.com", i - 1)
        } else {
            format!("SMTP:user{i}@contoso.com")
        };
        let e = Entry {
            dn: format!("CN=user{i},OU=Users,DC=contoso,DC=com"),
            object_class: "user".into(),
            cn: Some(format!("user{i}")),
            critical: false,
            attrs: vec![
                (
                    "userPrincipalName".into(),
                    vec![format!("user{i}{bad}@{suffix}")],
                ),
                ("proxyAddresses".into(), vec![proxy]),
                ("mail".into(), vec![format!("user{i}@contoso.com")]),
                ("sAMAccountName".into(), vec![format!("u{i}")]),
                ("displayName".into(), vec![format!("User {i}")]),
            ],
        };
        pass.feed(&e);
    }
    let indexed = pass.indexed();
    let s = pass.finish();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "entries={n} seconds={secs:.3} per_second={:.0} indexed_values={indexed} duplicate_sets={} objects_with_problems={} rows={}",
        f64::from(n) / secs,
        s.duplicates.len(),
        s.with_problems,
        s.rows.len()
    );
}
