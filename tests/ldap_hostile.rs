//! Hostile LDAP servers on loopback (tests/common/ldap.rs): deeply nested BER, endless entry
//! streams and answers that make ldap3 panic end in an `error` finding with the report written,
//! in bounded memory, with nothing but the finding to show for it.
// Unix sockets and wait4: these run where CI runs (Linux).
#![cfg(unix)]

mod common;

use std::io::Write;
use std::path::Path;

use common::ldap::{
    bind_response, constructed, message, nested, octets, root_dse, run_measured, search_done,
    search_entry, seq, stream_endlessly, FakeLdap, RefusingDns, Request, Run,
};
use common::{finding, read_json};
use serde_json::Value;

/// Peak memory a scan may use against a hostile server.
const PEAK_KIB: u64 = 100 * 1024;

/// A core scan of `dcs` (each `(name, port)` on 127.0.0.1), with `extra` flags.
fn scan(dcs: &[(&str, u16)], extra: &[&str], env: &[(&str, &str)], out: &Path) -> Run {
    let mut args: Vec<String> = ["scan", "--timeout", "3s", "--scope", "core"]
        .into_iter()
        .chain(["--format", "json"])
        .map(String::from)
        .collect();
    for (name, port) in dcs {
        args.extend(["--dc".into(), name.to_string()]);
        args.extend(["--target".into(), format!("{name}=127.0.0.1:{port}")]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_measured(&args, env, out);
    assert!(
        matches!(run.code, Some(c) if c != 2 && c != 101),
        "exit {:?}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked at"), "{}", run.stderr);
    assert!(!run.stderr.contains("RUST_BACKTRACE"), "{}", run.stderr);
    assert!(
        run.peak_rss_kib < PEAK_KIB,
        "peak memory {} KiB; stderr: {}",
        run.peak_rss_kib,
        run.stderr
    );
    run
}

fn report_of(out: &Path) -> Value {
    read_json(&out.join("report.json"))
}

/// The finding of `check` on `subject` is `error` with `code`, and its reason contains `says`.
fn assert_error(report: &Value, check: &str, subject: &str, code: &str, says: &str) {
    let f = finding(report, check, subject);
    assert_eq!(f["status"], "error", "{f}");
    assert_eq!(f["code"], code, "{f}");
    let reason = f["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(says), "{reason}");
}

#[test]
fn deeply_nested_answer_is_a_limit_finding() {
    // 100,000 nested SEQUENCEs (600 KB) as the attributes of the rootDSE entry.
    let server = FakeLdap::start(|req: &Request, conn| {
        let entry = constructed(0x64, &[octets(b""), nested(100_000)]);
        conn.write_all(&message(req.id, entry))
    });
    let out = tempfile::tempdir().unwrap();
    scan(&[("dc.hostile.test", server.port())], &[], &[], out.path());
    assert_error(
        &report_of(out.path()),
        "ad-forest-functional-level",
        "dc.hostile.test",
        "limit",
        "nests deeper than 64 levels",
    );
}

#[test]
fn endless_root_dse_stream_is_a_limit_finding() {
    let server = FakeLdap::start(|req: &Request, conn| {
        let pad = "x".repeat(1000);
        stream_endlessly(conn, 4 << 30, |_| {
            search_entry(
                req.id,
                "",
                &[("forestFunctionality", &["7"]), ("pad", &[&pad])],
            )
        })
    });
    let out = tempfile::tempdir().unwrap();
    scan(&[("dc.hostile.test", server.port())], &[], &[], out.path());
    assert_error(
        &report_of(out.path()),
        "ad-forest-functional-level",
        "dc.hostile.test",
        "limit",
        "more than one entry for a base-object read",
    );
}

/// Builds entry `n` of a stream with message id `id`.
type Entry = fn(i64, usize) -> Vec<u8>;

/// A DC that accepts the bind, answers the rootDSE and every other base read with
/// noSuchObject, and streams `entry` without end for a subtree search.
fn endless_subtree(entry: Entry) -> FakeLdap {
    FakeLdap::start(move |req: &Request, conn| match (req.op, req.scope) {
        (0x60, _) => conn.write_all(&bind_response(req.id, 0)),
        (0x63, 0) if req.base.is_empty() => {
            conn.write_all(&[root_dse(req.id), search_done(req.id, 0)].concat())
        }
        (0x63, 0) => conn.write_all(&search_done(req.id, 32)),
        (0x63, _) => stream_endlessly(conn, 4 << 30, |n| entry(req.id, n)),
        _ => Err(std::io::Error::other("unexpected request")),
    })
}

#[test]
fn endless_subtree_streams_stop_at_the_limits() {
    fn big(id: i64, n: usize) -> Vec<u8> {
        let value = "v".repeat((4 << 20) - 200);
        search_entry(
            id,
            &format!("CN=t{n},CN=System,DC=hostile,DC=test"),
            &[("trustPartner", &[&value])],
        )
    }
    fn wide(id: i64, n: usize) -> Vec<u8> {
        let values: Vec<String> = (0..16_000).map(|i| format!("{i:0250}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        search_entry(
            id,
            &format!("CN=t{n},CN=System,DC=hostile,DC=test"),
            &[("trustPartner", &values)],
        )
    }
    fn small(id: i64, n: usize) -> Vec<u8> {
        search_entry(id, &format!("CN=t{n},CN=System,DC=hostile,DC=test"), &[])
    }
    // Entries just under lber's message size and element limits, and tiny ones.
    let cases: [(Entry, &str); 3] = [
        (big, "more than 16 MiB of entries"),
        (wide, "more than 16 MiB of entries"),
        (small, "more than 10,000 entries"),
    ];
    for (entry, says) in cases {
        let server = endless_subtree(entry);
        let out = tempfile::tempdir().unwrap();
        let bind = [
            "--bind-user",
            "CN=reader,DC=hostile,DC=test",
            "--ldap-security",
            "plain",
        ];
        let run = scan(
            &[("dc.hostile.test", server.port())],
            &bind,
            &[("READYSCAN_PASSWORD", "pw")],
            out.path(),
        );
        let report = report_of(out.path());
        assert_error(
            &report,
            "ad-schema-version",
            "dc.hostile.test",
            "limit",
            says,
        );
        // The anonymous rootDSE read of the same server still passes.
        let level = finding(&report, "ad-forest-functional-level", "dc.hostile.test");
        assert_eq!(level["status"], "pass", "{level} {}", run.stderr);
    }
}

#[test]
fn a_panic_in_ldap3_fails_one_attempt_and_the_next_is_tried() {
    // ldap3 panics in its connection driver on an empty LDAPMessage ...
    let driver_panic = FakeLdap::start(|_: &Request, conn| conn.write_all(&seq(&[])));
    // ... and in SearchEntry::construct on an entry without its attribute list.
    let entry_panic = FakeLdap::start(|req: &Request, conn| {
        conn.write_all(&message(req.id, constructed(0x64, &[octets(b"")])))
    });
    let good = FakeLdap::start(|req: &Request, conn| match req.op {
        0x63 => conn.write_all(&[root_dse(req.id), search_done(req.id, 0)].concat()),
        _ => Err(std::io::Error::other("unexpected request")),
    });
    // The domain's DNS probes ask a loopback server that refuses at once.
    let dns = RefusingDns::start();

    let out = tempfile::tempdir().unwrap();
    let dcs = [
        ("a.hostile.test", driver_panic.port()),
        ("c.hostile.test", entry_panic.port()),
        ("b.hostile.test", good.port()),
    ];
    let domain = ["--domain", "hostile.test", "--dns-server", &dns.addr()];
    scan(&dcs, &domain, &[], out.path());
    let report = report_of(out.path());
    let level = finding(&report, "ad-forest-functional-level", "hostile.test");
    assert_eq!(level["status"], "pass", "{level}");
    let dse = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.root_dse")
        .unwrap();
    assert_eq!(dse["fields"]["answered_by"], "b.hostile.test", "{dse}");
    // After each panic on plain LDAP, the LDAPS attempt still went out (a TLS ClientHello).
    assert_eq!(driver_panic.not_ldap(), 1);
    assert_eq!(entry_panic.not_ldap(), 1);

    // Alone, the panicking DC's finding says why, per attempt.
    let out = tempfile::tempdir().unwrap();
    scan(&dcs[..1], &[], &[], out.path());
    assert_error(
        &report_of(out.path()),
        "ad-forest-functional-level",
        "a.hostile.test",
        "failed",
        "a.hostile.test: the server's answer could not be decoded (malformed LDAP message); \
         a.hostile.test:636 (LDAPS): ",
    );
}

#[test]
fn a_panic_in_ldap3_during_starttls_fails_the_attempt() {
    // ldap3 reads the StartTLS answer in a task of its own, and panics on an empty LDAPMessage.
    let server = FakeLdap::start(|req: &Request, conn| match req.op {
        0x77 => conn.write_all(&seq(&[])),
        _ => Err(std::io::Error::other("unexpected request")),
    });
    let out = tempfile::tempdir().unwrap();
    let bind = ["--bind-user", "CN=reader,DC=hostile,DC=test"];
    let flags = [&bind[..], &["--ldap-security", "starttls"]].concat();
    scan(
        &[("dc.hostile.test", server.port())],
        &flags,
        &[("READYSCAN_PASSWORD", "pw")],
        out.path(),
    );
    assert_error(
        &report_of(out.path()),
        "ad-schema-version",
        "dc.hostile.test",
        "failed",
        "dc.hostile.test:389 (StartTLS): the server's answer could not be decoded (malformed LDAP \
         message)",
    );
}
