//! LDAP answers encoded by hand (BER, definite lengths), a fake LDAP server on loopback that
//! answers each request with what the test says, and a run of the binary that measures its
//! peak memory.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Tag, length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(length(content.len()));
    out.extend_from_slice(content);
    out
}

fn length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = (len as u64)
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

pub fn constructed(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    constructed(0x30, parts)
}

pub fn int(n: i64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let mut start = 0;
    while start < 7
        && ((bytes[start] == 0 && bytes[start + 1] < 0x80)
            || (bytes[start] == 0xff && bytes[start + 1] >= 0x80))
    {
        start += 1;
    }
    tlv(0x02, &bytes[start..])
}

pub fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}

fn enumerated(n: u8) -> Vec<u8> {
    tlv(0x0a, &[n])
}

/// LDAPMessage: message id and protocol op.
pub fn message(id: i64, op: Vec<u8>) -> Vec<u8> {
    seq(&[int(id), op])
}

fn result(tag: u8, id: i64, rc: u8) -> Vec<u8> {
    message(
        id,
        constructed(tag, &[enumerated(rc), octets(b""), octets(b"")]),
    )
}

pub fn bind_response(id: i64, rc: u8) -> Vec<u8> {
    result(0x61, id, rc)
}

pub fn search_done(id: i64, rc: u8) -> Vec<u8> {
    result(0x65, id, rc)
}

pub fn search_entry(id: i64, dn: &str, attrs: &[(&str, &[&str])]) -> Vec<u8> {
    let attrs: Vec<Vec<u8>> = attrs
        .iter()
        .map(|(name, values)| {
            let values: Vec<Vec<u8>> = values.iter().map(|v| octets(v.as_bytes())).collect();
            seq(&[octets(name.as_bytes()), constructed(0x31, &values)])
        })
        .collect();
    message(id, constructed(0x64, &[octets(dn.as_bytes()), seq(&attrs)]))
}

/// A rootDSE entry of a forest at level 7 (Windows Server 2016).
pub fn root_dse(id: i64) -> Vec<u8> {
    search_entry(
        id,
        "",
        &[
            ("forestFunctionality", &["7"]),
            ("domainFunctionality", &["7"]),
            ("domainControllerFunctionality", &["7"]),
            ("dnsHostName", &["dc.hostile.test"]),
            ("defaultNamingContext", &["DC=hostile,DC=test"]),
            (
                "configurationNamingContext",
                &["CN=Configuration,DC=hostile,DC=test"],
            ),
        ],
    )
}

/// `depth` SEQUENCEs, each holding the next: 6 bytes a level.
pub fn nested(depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(depth * 6);
    for level in 0..depth {
        out.extend_from_slice(&[0x30, 0x84]);
        out.extend_from_slice(&(((depth - level - 1) * 6) as u32).to_be_bytes());
    }
    out
}

/// One request as the fake server reads it.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: i64,
    /// The protocol op's tag: 0x60 bind, 0x63 search, 0x42 unbind, 0x77 extended.
    pub op: u8,
    /// A search's base DN.
    pub base: String,
    /// A search's scope: 0 base, 2 subtree.
    pub scope: u8,
}

fn read_len(s: &mut impl Read) -> io::Result<usize> {
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    if b[0] < 0x80 {
        return Ok(b[0] as usize);
    }
    let n = (b[0] & 0x7f) as usize;
    if n > 4 {
        return Err(io::Error::other("length too long"));
    }
    let mut len = [0u8; 4];
    s.read_exact(&mut len[4 - n..])?;
    Ok(u32::from_be_bytes(len) as usize)
}

/// The next request, `None` at the end of the connection or on bytes that are not LDAP (a TLS
/// ClientHello).
fn read_request(s: &mut impl Read) -> io::Result<Option<Request>> {
    let mut tag = [0u8; 1];
    if s.read(&mut tag)? == 0 || tag[0] != 0x30 {
        return Ok(None);
    }
    let len = read_len(s)?;
    if len > 1 << 20 {
        return Ok(None);
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    let mut r = &body[..];
    let field = |r: &mut &[u8]| -> io::Result<(u8, Vec<u8>)> {
        let mut t = [0u8; 1];
        r.read_exact(&mut t)?;
        let l = read_len(r)?;
        let mut v = vec![0u8; l];
        r.read_exact(&mut v)?;
        Ok((t[0], v))
    };
    let (_, id) = field(&mut r)?;
    let id = id.iter().fold(0i64, |n, b| (n << 8) | *b as i64);
    let (op, content) = field(&mut r)?;
    let (mut base, mut scope) = (String::new(), 0);
    if op == 0x63 {
        let mut c = &content[..];
        base = String::from_utf8_lossy(&field(&mut c)?.1).into_owned();
        scope = field(&mut c)?.1.first().copied().unwrap_or(0);
    }
    Ok(Some(Request {
        id,
        op,
        base,
        scope,
    }))
}

/// What the test's handler answers a request with.
pub type Handler = dyn Fn(&Request, &mut TcpStream) -> io::Result<()> + Send + Sync;

/// A fake LDAP server on 127.0.0.1: each connection in a thread, each request answered by the
/// handler; stopped when dropped.
pub struct FakeLdap {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    not_ldap: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeLdap {
    pub fn start(
        handler: impl Fn(&Request, &mut TcpStream) -> io::Result<()> + Send + Sync + 'static,
    ) -> FakeLdap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let not_ldap = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let (connections, not_ldap, stop) =
                (connections.clone(), not_ldap.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut conn) = conn else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (handler, not_ldap) = (handler.clone(), not_ldap.clone());
                    std::thread::spawn(move || {
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                        let _ = conn.set_write_timeout(Some(Duration::from_secs(30)));
                        let mut first = [0u8; 1];
                        match conn.peek(&mut first) {
                            Ok(1) if first[0] != 0x30 => {
                                not_ldap.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                            Ok(1) => {}
                            _ => return,
                        }
                        while let Ok(Some(req)) = read_request(&mut conn) {
                            if req.op == 0x42 || handler(&req, &mut conn).is_err() {
                                break;
                            }
                        }
                    });
                }
            })
        };
        FakeLdap {
            addr,
            connections,
            not_ldap,
            stop,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far (port probes that only connect count too).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections whose first bytes were not LDAP (an LDAPS attempt's TLS ClientHello).
    pub fn not_ldap(&self) -> usize {
        self.not_ldap.load(Ordering::SeqCst)
    }
}

impl Drop for FakeLdap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// A DNS server on 127.0.0.1 that answers every query REFUSED at once, so a scan's DNS probes
/// end quickly and on loopback; stopped when dropped.
pub struct RefusingDns {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RefusingDns {
    pub fn start() -> RefusingDns {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if n < 12 {
                        continue;
                    }
                    // The query back, as a response (QR) with RCODE 5 (REFUSED).
                    let mut answer = buf[..n].to_vec();
                    answer[2] |= 0x80;
                    answer[3] = (answer[3] & 0xf0) | 5;
                    let _ = socket.send_to(&answer, from);
                }
            })
        };
        RefusingDns {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`, for `--dns-server`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for RefusingDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes `entry(n)` for n = 0, 1, ... until the client stops reading, for at most `max_bytes`
/// or 60 seconds.
pub fn stream_endlessly(
    conn: &mut TcpStream,
    max_bytes: usize,
    entry: impl Fn(usize) -> Vec<u8>,
) -> io::Result<()> {
    let started = Instant::now();
    let mut sent = 0;
    for n in 0.. {
        if sent > max_bytes || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        let bytes = entry(n);
        sent += bytes.len();
        conn.write_all(&bytes)?;
    }
    Err(io::Error::other("the stream ended"))
}

/// How a run of the binary ended.
pub struct Run {
    pub code: Option<i32>,
    pub stderr: String,
    /// The child's peak resident set, from wait4's rusage.
    pub peak_rss_kib: u64,
}

/// Runs readyscan with `args` (and `env`), reaping it with wait4 to read its peak memory.
pub fn run_measured(args: &[&str], env: &[(&str, &str)], out: &Path) -> Run {
    let stderr_file = out.join("stderr.txt");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("readyscan"));
    cmd.args(args)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_file).unwrap());
    for var in ["READYSCAN_LOG", "RUST_BACKTRACE", "READYSCAN_PASSWORD"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Reaped by wait4 below, which std's Child::wait cannot do with the rusage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    // A hang is the very regression these tests guard against: kill the child after a minute
    // so the test ends by itself, and say so below.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = {
        let (done, killed) = (done.clone(), killed.clone());
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while std::time::Instant::now() < deadline {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            killed.store(true, std::sync::atomic::Ordering::SeqCst);
            // SAFETY: pid is our child, not yet reaped (done is false), so it is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        })
    };
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our child, reaped here once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = watchdog.join();
    assert_eq!(reaped, pid, "wait4: {}", io::Error::last_os_error());
    assert!(
        !killed.load(std::sync::atomic::Ordering::SeqCst),
        "readyscan hung for 60 s and was killed"
    );
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        stderr: std::fs::read_to_string(&stderr_file).unwrap_or_default(),
        peak_rss_kib: usage.ru_maxrss as u64,
    }
}
