//! `ldap.sync_objects` when the DC stops mid-stream (a fake DC on loopback): the finding is an
//! `error` saying how many objects were read, the report is written, nothing panics.
#![cfg(unix)]

mod common;

use std::io::Write;

use common::ldap::{
    bind_response, root_dse, run_measured, search_done, search_entry, FakeLdap, Request,
};
use common::{finding, read_json};

#[test]
fn dc_stopping_mid_stream_is_an_error_with_the_count() {
    let server = FakeLdap::start(|req: &Request, conn| match (req.op, req.scope) {
        (0x60, _) => conn.write_all(&bind_response(req.id, 0)),
        (0x63, 0) if req.base.is_empty() => {
            conn.write_all(&[root_dse(req.id), search_done(req.id, 0)].concat())
        }
        (0x63, 0) => conn.write_all(&search_done(req.id, 32)),
        // No crossRef: a forest of one domain, read over the domain's port.
        (0x63, _) if req.base.starts_with("CN=Partitions") => {
            conn.write_all(&search_done(req.id, 0))
        }
        (0x63, _) => {
            // 300 users, then the connection drops without a searchResultDone.
            for n in 0..300 {
                let dn = format!("CN=u{n},DC=hostile,DC=test");
                let upn = format!("u{n}@contoso.com");
                let cn = format!("u{n}");
                let attrs: [(&str, &[&str]); 3] = [
                    ("objectClass", &["top", "person", "user"]),
                    ("userPrincipalName", &[&upn]),
                    ("cn", &[&cn]),
                ];
                conn.write_all(&search_entry(req.id, &dn, &attrs))?;
            }
            conn.flush()?;
            Err(std::io::Error::other("the DC stops"))
        }
        _ => Err(std::io::Error::other("unexpected request")),
    });
    let out = tempfile::tempdir().unwrap();
    let target = format!("dc.hostile.test=127.0.0.1:{}", server.port());
    let args = [
        "scan",
        "--timeout",
        "3s",
        "--scope",
        "core",
        "--format",
        "json",
        "--dc",
        "dc.hostile.test",
        "--target",
        &target,
        "--bind-user",
        "CN=reader,DC=hostile,DC=test",
        "--ldap-security",
        "plain",
    ];
    let run = run_measured(&args, &[("READYSCAN_PASSWORD", "pw")], out.path());
    assert!(
        matches!(run.code, Some(c) if c != 2 && c != 101),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked at"), "{}", run.stderr);
    let report = read_json(&out.path().join("report.json"));
    let f = finding(
        &report,
        "sync-upn-invalid-characters",
        "dc.hostile.test: sync-upn-invalid-characters",
    );
    assert_eq!(f["status"], "error", "{f}");
    let reason = f["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("stopped after 300 objects"), "{reason}");
}
