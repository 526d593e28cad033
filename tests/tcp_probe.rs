//! tcp.connect against real sockets on loopback: open, closed, one query per host:port.

use readyscan::catalog::Catalog;
use readyscan::config::ScanConfig;
use readyscan::evaluate::Status;
use readyscan::observation::ObservationStatus;

mod common;

/// A port check of `role` for `ports`.
fn port_check(id: &str, role: &str, ports: &[u16]) -> String {
    common::port_check(id, role, &format!("{{ ports = {ports:?} }}"))
}

#[tokio::test]
async fn open_and_closed_ports_on_loopback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    // Bind then drop: nothing listens there any more, so the kernel refuses.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = format!(
        "{}\n{}",
        port_check("net-a", "dc", &[open, closed]),
        port_check("net-b", "dc", &[open])
    );
    let catalog = Catalog::from_sources(vec![("t.toml".into(), text)]).unwrap();
    let config = ScanConfig {
        dcs: vec!["dc1.lab.test".into()],
        resolve: [("dc1.lab.test".to_string(), "127.0.0.1".parse().unwrap())].into(),
        timeout: std::time::Duration::from_secs(2),
        ..ScanConfig::default()
    };
    let set = readyscan::scan(config, &catalog, false)
        .await
        .expect("the scan starts");

    // Two checks want port `open`: it was probed once.
    assert_eq!(set.observations.len(), 2, "{:#?}", set.observations);
    let state = |port: u16| {
        let o = set
            .observations
            .iter()
            .find(|o| o.subject == format!("dc1.lab.test:{port}"))
            .unwrap();
        assert_eq!(o.status, ObservationStatus::Observed);
        assert_eq!(o.fields["address"], format!("127.0.0.1:{port}"));
        o.fields["state"].as_str().unwrap().to_string()
    };
    assert_eq!(state(open), "open");
    assert_eq!(state(closed), "closed");

    let findings = readyscan::evaluate::evaluate(
        &catalog,
        &set.observations,
        &set.scan.config.scopes,
        time::OffsetDateTime::now_utc().date(),
    );
    let status = |id: &str, port: u16| {
        findings
            .iter()
            .find(|f| f.check_id == id && f.subject == format!("dc1.lab.test:{port}"))
            .map(|f| f.status)
    };
    assert_eq!(status("net-a", open), Some(Status::Pass));
    assert_eq!(status("net-a", closed), Some(Status::Fail));
    assert_eq!(status("net-b", open), Some(Status::Pass));
    assert_eq!(
        status("net-b", closed),
        None,
        "net-b did not ask for that port"
    );
    drop(listener);
}
