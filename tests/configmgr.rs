//! Configuration Manager management points served by a small HTTP server on loopback.

use std::collections::BTreeMap;
use std::time::Duration;

use readyscan::catalog::Catalog;
use readyscan::config::ScanConfig;
use readyscan::evaluate::{evaluate, Finding, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What one fake management point answers.
#[derive(Clone)]
enum Mp {
    /// MPLIST with this site code and build.
    Build(&'static str, u32),
    /// MPLIST 500, MPCERT 200: the site database is down.
    DatabaseDown,
    Malformed,
    Oversized,
}

fn mplist(host: &str, site: &str, build: u32) -> String {
    format!(
        r#"<MPList><MP Name="{}" FQDN="{host}" SiteCode="{site}"><Version>{build}</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP></MPList>"#,
        host.split('.').next().unwrap().to_uppercase()
    )
}

/// Serves one MP on 127.0.0.1; returns its port. The task ends with the test's runtime.
async fn serve(host: &'static str, mp: Mp) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mp = mp.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = match (&mp, path.ends_with("?MPCERT")) {
                    (Mp::DatabaseDown, true) => (200, "<MPCERT/>".to_string()),
                    (Mp::DatabaseDown, false) => (500, "Internal Server Error".to_string()),
                    (Mp::Build(site, build), _) => (200, mplist(host, site, *build)),
                    (Mp::Malformed, _) => (200, "<MPList><MP Name=\"X\"><Version>91".to_string()),
                    (Mp::Oversized, _) => {
                        (200, format!("<MPList>{}</MPList>", " ".repeat(300 * 1024)))
                    }
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    port
}

async fn scan_mps(mps: &[(&'static str, Mp)], declared: Option<&str>) -> Vec<Finding> {
    let mut config = ScanConfig {
        scopes: vec!["intune".into()],
        timeout: Duration::from_secs(3),
        configmgr_version: declared.map(String::from),
        ..ScanConfig::default()
    };
    for (host, mp) in mps {
        let port = serve(host, mp.clone()).await;
        config.mps.push(format!("{host}:{port}"));
        config
            .resolve
            .insert(host.to_string(), "127.0.0.1".parse().unwrap());
    }
    let catalog = Catalog::builtin().unwrap();
    let set = readyscan::scan(config, &catalog, false)
        .await
        .expect("the scan starts");
    assert!(
        set.scan.config.scopes.contains(&"configmgr".to_string()),
        "--mp brings in the configmgr scope"
    );
    let today = time::OffsetDateTime::now_utc().date();
    evaluate(&catalog, &set.observations, &set.scan.config.scopes, today)
        .into_iter()
        .filter(|f| f.area == "configmgr" && f.check_id != "cm-ad-sites")
        .collect()
}

/// (check id, subject) -> (status, observed, reason)
type ById = BTreeMap<(String, String), (Status, Option<String>, Option<String>)>;

fn by(findings: &[Finding]) -> ById {
    findings
        .iter()
        .map(|f| {
            (
                (f.check_id.clone(), f.subject.clone()),
                (f.status, f.observed.clone(), f.reason.clone()),
            )
        })
        .collect()
}

fn get<'a>(m: &'a ById, id: &str, subject: &str) -> &'a (Status, Option<String>, Option<String>) {
    m.get(&(id.to_string(), subject.to_string()))
        .unwrap_or_else(|| panic!("no finding {id} on {subject}: {:#?}", m.keys()))
}

#[tokio::test]
async fn builds_are_judged_per_site() {
    let findings = scan_mps(
        &[
            ("cm01.lab.test", Mp::Build("P01", 7804)),
            ("cm02.lab.test", Mp::Build("P02", 7958)),
            ("cm03.lab.test", Mp::Build("P03", 9146)),
            ("cm04.lab.test", Mp::Build("P04", 9128)),
            ("cm05.lab.test", Mp::Build("P04", 9132)),
        ],
        None,
    )
    .await;
    let m = by(&findings);
    let sv = |site| get(&m, "cm-site-version", site);
    assert_eq!(sv("P01").0, Status::Fail);
    assert_eq!(sv("P01").1.as_deref(), Some("7804 (2012 SP1)"));
    assert_eq!(sv("P02").0, Status::Pass);
    assert_eq!(
        get(&m, "cm-support", "P02").0,
        Status::Warn,
        "2012 R2 is out of support"
    );
    assert!(get(&m, "cm-support", "P02")
        .1
        .as_deref()
        .unwrap()
        .contains("oldest release supported on"));
    assert_eq!(get(&m, "cm-co-management", "P02").0, Status::Warn);
    assert_eq!(sv("P03").0, Status::Pass);
    assert_eq!(
        get(&m, "cm-support", "P03").0,
        Status::Pass,
        "2603 is supported until about 2027-11"
    );
    // One MP: nothing to compare, so no "agree" pass.
    assert_eq!(
        get(&m, "cm-mp-builds-agree", "P03").0,
        Status::NotApplicable
    );
    // Two MPs of P04 disagree; the site is judged by the lower build.
    let mismatch = get(&m, "cm-mp-builds-agree", "P04");
    assert_eq!(mismatch.0, Status::Warn);
    assert!(
        mismatch
            .1
            .as_deref()
            .unwrap()
            .contains("cm05.lab.test: 9132"),
        "{mismatch:?}"
    );
    assert_eq!(sv("P04").1.as_deref(), Some("9128 (2403)"));
}

#[tokio::test]
async fn broken_management_points_are_errors_not_crashes() {
    let findings = scan_mps(
        &[
            ("cm06.lab.test", Mp::DatabaseDown),
            ("cm07.lab.test", Mp::Malformed),
            ("cm08.lab.test", Mp::Oversized),
        ],
        None,
    )
    .await;
    let m = by(&findings);
    let reason = |host| {
        let f = get(&m, "cm-site-version", host);
        assert_eq!(f.0, Status::Error, "{host}: {f:?}");
        f.2.clone().unwrap()
    };
    assert!(
        reason("cm06.lab.test").contains("site database is"),
        "{}",
        reason("cm06.lab.test")
    );
    assert!(
        reason("cm07.lab.test").contains("malformed MPLIST XML"),
        "{}",
        reason("cm07.lab.test")
    );
    assert!(
        reason("cm08.lab.test").contains("larger than 256 KiB"),
        "{}",
        reason("cm08.lab.test")
    );
}

#[tokio::test]
async fn a_declared_version_is_shown_as_declared() {
    let findings = scan_mps(&[], Some("5.00.7958.1000")).await;
    let m = by(&findings);
    let f = get(&m, "cm-site-version", "declared by the admin");
    assert_eq!(f.0, Status::Pass);
    assert!(
        f.1.as_deref()
            .unwrap()
            .contains("declared by the admin, not observed"),
        "{f:?}"
    );
}

#[tokio::test]
async fn an_mp_that_does_not_listen_is_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ScanConfig {
        scopes: vec!["configmgr".into()],
        timeout: Duration::from_secs(2),
        mps: vec![format!("127.0.0.1:{closed}")],
        ..ScanConfig::default()
    };
    let catalog = Catalog::builtin().unwrap();
    let set = readyscan::scan(config, &catalog, false)
        .await
        .expect("the scan starts");
    let today = time::OffsetDateTime::now_utc().date();
    let findings = evaluate(&catalog, &set.observations, &set.scan.config.scopes, today);
    let f = findings
        .iter()
        .find(|f| f.check_id == "cm-site-version")
        .unwrap();
    assert_eq!(f.status, Status::Error);
    assert!(
        f.reason
            .as_deref()
            .unwrap()
            .contains("no management point of 127.0.0.1 answered"),
        "{f:?}"
    );
}
