//! tcp.connect in a network namespace this test creates: open (a listener), closed (nothing
//! listens), filtered (iptables DROP), unreachable (REJECT with icmp-host-unreachable). Root
//! only: under CI=true a lab that cannot start fails the test; elsewhere it says why and skips.
//! The lab's /24 has a host-side blackhole route from before the veth exists until after it is
//! gone, so a scan that outlives the veth is dropped instead of leaving by the default route.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use readyscan::catalog::Catalog;
use readyscan::config::ScanConfig;
use readyscan::observation::ObservationSet;

mod common;

const OPEN: u16 = 8080;
const CLOSED: u16 = 8081;
const UNREACHABLE: u16 = 9100;
const FILTERED: std::ops::RangeInclusive<u16> = 9000..=9049;
/// The blackhole route's metric: the veth's connected route (metric 0) wins while it exists.
const BLACKHOLE_METRIC: &str = "4000";

struct Lab {
    ns: String,
    veth: String,
    /// The lab's 10.231.N.0/24, blackholed on the host side.
    net: String,
    host_ip: String,
    lab_ip: String,
    listener: Option<Child>,
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Lab {
    fn start() -> Result<Lab, String> {
        let pid = std::process::id();
        let octet = 200 + pid % 50;
        let mut lab = Lab {
            ns: format!("rs-net-{pid}"),
            veth: format!("rsn{}h", pid % 100_000),
            net: format!("10.231.{octet}.0/24"),
            host_ip: format!("10.231.{octet}.1"),
            lab_ip: format!("10.231.{octet}.2"),
            listener: None,
        };
        let peer = format!("rsn{}n", pid % 100_000);
        // A namespace left by a killed run with the same pid goes first.
        let _ = run(&["ip", "netns", "del", &lab.ns]);
        let _ = run(&["ip", "link", "del", &lab.veth]);
        let ns = lab.ns.clone();
        let in_ns = |args: &[&str]| {
            let mut full = vec!["ip", "netns", "exec", ns.as_str()];
            full.extend_from_slice(args);
            run(&full)
        };
        // Before the veth exists (replace: a killed run may have left it); Drop removes it last.
        run(&[
            "ip",
            "route",
            "replace",
            "blackhole",
            &lab.net,
            "metric",
            BLACKHOLE_METRIC,
        ])?;
        run(&["ip", "netns", "add", &lab.ns])?;
        run(&[
            "ip", "link", "add", &lab.veth, "type", "veth", "peer", "name", &peer,
        ])?;
        run(&["ip", "link", "set", &peer, "netns", &lab.ns])?;
        run(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", lab.host_ip),
            "dev",
            &lab.veth,
        ])?;
        run(&["ip", "link", "set", &lab.veth, "up"])?;
        in_ns(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", lab.lab_ip),
            "dev",
            &peer,
        ])?;
        in_ns(&["ip", "link", "set", &peer, "up"])?;
        in_ns(&["ip", "link", "set", "lo", "up"])?;
        let range = format!("{}:{}", FILTERED.start(), FILTERED.end());
        in_ns(&[
            "iptables", "-A", "INPUT", "-p", "tcp", "--dport", &range, "-j", "DROP",
        ])?;
        in_ns(&[
            "iptables",
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            &UNREACHABLE.to_string(),
            "-j",
            "REJECT",
            "--reject-with",
            "icmp-host-unreachable",
        ])?;
        // The listener lives in the namespace; it is killed when the lab is dropped.
        let script = format!(
            "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.bind(('{}',{OPEN}))\ns.listen(128)\ntime.sleep(120)\n",
            lab.lab_ip
        );
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns, "python3", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3 listener: {e}"))?;
        lab.listener = Some(child);
        let addr: SocketAddr = format!("{}:{OPEN}", lab.lab_ip).parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err("the lab listener did not come up within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(lab)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.listener.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // The veth first (deleting it removes both ends at once; after `ip netns del` the
        // kernel removes the namespace's devices in the background), the blackhole route last.
        let _ = run(&["ip", "link", "del", &self.veth]);
        let _ = run(&["ip", "netns", "del", &self.ns]);
        let _ = run(&[
            "ip",
            "route",
            "del",
            "blackhole",
            &self.net,
            "metric",
            BLACKHOLE_METRIC,
        ]);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The lab, or None (with the reason printed) on a developer machine that cannot build it.
fn lab_or_skip() -> Option<Lab> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let problem = if !is_root() {
        "needs root to create a network namespace".to_string()
    } else {
        match Lab::start() {
            Ok(lab) => return Some(lab),
            Err(e) => format!("the namespace lab did not start: {e} (needs ip, iptables, python3)"),
        }
    };
    if ci {
        panic!("CI=true: {problem}");
    }
    eprintln!("SKIPPED net_lab: {problem}");
    None
}

fn catalog(ports: &str) -> Catalog {
    let text = common::port_check("net-lab-ports", "dc", ports);
    Catalog::from_sources(vec![("lab.toml".into(), text)]).unwrap()
}

fn config(lab: &Lab, timeout: Duration, per_host: usize) -> ScanConfig {
    ScanConfig {
        scopes: vec!["core".into()],
        dcs: vec!["dc.lab.test".into()],
        resolve: [("dc.lab.test".to_string(), lab.lab_ip.parse().unwrap())].into(),
        timeout,
        per_host,
        concurrency: 256,
        ..ScanConfig::default()
    }
}

/// The scan's tcp.connect observations (DC discovery probes may run too: they ask the lab DC).
fn scan(catalog: &Catalog, config: ScanConfig) -> (ObservationSet, Duration) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let mut set = rt
        .block_on(readyscan::scan(config, catalog, false))
        .expect("the scan starts");
    let took = started.elapsed();
    set.observations.retain(|o| o.probe == "tcp.connect");
    (set, took)
}

#[test]
fn classifications_and_filtered_ports_overlap() {
    let Some(lab) = lab_or_skip() else { return };
    let timeout = Duration::from_secs(1);

    let ports = format!(
        "{{ ports = [{OPEN}, {CLOSED}, {UNREACHABLE}], ranges = [\"{}-{}\"] }}",
        FILTERED.start(),
        FILTERED.end()
    );
    let (set, took) = scan(&catalog(&ports), config(&lab, timeout, 64));
    assert_eq!(set.observations.len(), 53, "{:#?}", set.observations);
    let field = |port: u16, name: &str| {
        let o = set
            .observations
            .iter()
            .find(|o| o.subject == format!("dc.lab.test:{port}"))
            .unwrap_or_else(|| panic!("no observation for {port}"));
        o.fields[name].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(field(OPEN, "state"), "open");
    assert_eq!(field(OPEN, "reason"), "connected");
    assert_eq!(field(CLOSED, "state"), "closed");
    assert_eq!(field(CLOSED, "reason"), "connection refused");
    assert_eq!(field(UNREACHABLE, "state"), "unreachable");
    for p in FILTERED {
        assert_eq!(field(p, "state"), "filtered", "port {p}");
    }
    assert_eq!(field(9000, "reason"), "no answer within 1s");
    // The vantage: which host, from which source address.
    for p in [OPEN, CLOSED, 9000] {
        assert_eq!(field(p, "source"), lab.host_ip, "port {p}");
        assert_eq!(field(p, "vantage"), readyscan::host_name());
    }
    // 50 filtered ports cost about one timeout, not fifty.
    assert!(took >= timeout, "filtered ports waited: {took:?}");
    assert!(
        took <= timeout * 2 + Duration::from_millis(500),
        "50 filtered ports took {took:?}, more than about 2 x {timeout:?}"
    );

    // Unanswered connects give their host slot back after a tenth of the timeout (100 ms at
    // least), so --per-host caps answered connects only: 8 filtered ports at --per-host 4
    // end in one wave, not two (before: two timeouts).
    let short = Duration::from_millis(400);
    let (set, took) = scan(
        &catalog(&format!("{{ ranges = [\"{}-{}\"] }}", 9000, 9007)),
        config(&lab, short, 4),
    );
    assert_eq!(set.observations.len(), 8);
    for o in &set.observations {
        assert_eq!(o.fields["state"], "filtered", "{}", o.subject);
    }
    assert!(
        took < short * 2,
        "8 filtered ports at --per-host 4 waited in two waves: {took:?}"
    );
    drop(lab);
}
