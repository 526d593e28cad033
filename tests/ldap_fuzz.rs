//! A bounded fuzz harness (proptest, a fixed number of cases) for the LDAP decoding path:
//! mutated LDAP answers, deep nesting and huge lengths go through lber's parser (the function
//! ldap3's codec calls on every read) and through ldap3's own codec and connection driver over
//! a Unix socket pair (no network). No case may overflow the stack (that would abort this test
//! process), panic outside ldap3's contained tasks, or leave a read waiting once the bytes are
//! all sent. `PROPTEST_CASES=N` runs N cases instead of 256.
// Unix sockets and wait4: these run where CI runs (Linux).
#![cfg(unix)]

mod common;

use std::sync::Once;
use std::time::Duration;

use common::ldap::{bind_response, constructed, message, nested, octets, root_dse, search_done};
use common::ldap::{search_entry, seq, tlv};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, StdStream};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CASES: u32 = 256;
/// A case that is still reading after this long has hung: the bytes were all sent and closed.
const CASE_LIMIT: Duration = Duration::from_secs(10);

/// Real answers, encoded as a server sends them (message id 1, the first request's).
fn seeds() -> Vec<Vec<u8>> {
    let many: Vec<String> = (0..40).map(|i| format!("value {i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    vec![
        root_dse(1),
        [root_dse(1), search_done(1, 0)].concat(),
        bind_response(1, 0),
        bind_response(1, 49),
        search_done(1, 32),
        search_entry(1, "CN=dc1,OU=Domain Controllers,DC=x", &[("member", &many)]),
        // A search result with a paged-results control (cookie "abc").
        seq(&[
            tlv(0x02, &[1]),
            constructed(0x65, &[tlv(0x0a, &[0]), octets(b""), octets(b"")]),
            constructed(
                0xa0,
                &[seq(&[
                    octets(b"1.2.840.113556.1.4.319"),
                    octets(&seq(&[tlv(0x02, &[0]), octets(b"abc")])),
                ])],
            ),
        ]),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
    /// A long-form length at `at`: 0x80 | n, then n bytes of `value`.
    Length(usize, u8, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), 0u8..8).prop_map(|(i, bit)| Mutation::Flip(i, 1 << bit)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        (any::<usize>(), 1u8..10, any::<u64>()).prop_map(|(i, n, v)| Mutation::Length(i, n, v)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Set(i, b) if !bytes.is_empty() => bytes[i % len] = *b,
            Mutation::Flip(i, bit) if !bytes.is_empty() => bytes[i % len] ^= bit,
            Mutation::Insert(i, b) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Delete(i, n) if !bytes.is_empty() => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Duplicate(i, n) if !bytes.is_empty() => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
            Mutation::Length(i, n, v) if !bytes.is_empty() => {
                let at = (i % len).min(bytes.len() - 1);
                let mut length = vec![0x80 | n];
                length.extend(v.to_be_bytes().iter().rev().take(*n as usize).rev());
                bytes.splice(at..=at, length);
            }
            _ => {}
        }
    }
    bytes
}

/// Mutated seeds, deep nesting inside a real entry, and headers announcing huge lengths.
fn answer() -> impl Strategy<Value = Vec<u8>> {
    let count = seeds().len();
    prop_oneof![
        6 => (0..count, prop::collection::vec(mutation(), 1..8))
            .prop_map(|(seed, ms)| apply(seeds()[seed].clone(), &ms)),
        1 => (1usize..150_000).prop_map(|depth| {
            message(1, constructed(0x64, &[octets(b""), nested(depth)]))
        }),
        1 => (any::<u64>(), 1u8..9, prop::collection::vec(any::<u8>(), 0..64)).prop_map(
            |(len, n, tail)| {
                let mut out = vec![0x30, 0x80 | n];
                out.extend(len.to_be_bytes().iter().rev().take(n as usize).rev());
                out.extend(tail);
                out
            }
        ),
    ]
}

/// The top-level header of `bytes`: (header length, content length), when it is all there.
fn header(bytes: &[u8]) -> Option<(usize, u64)> {
    let first = *bytes.get(1)?;
    if first < 0x80 {
        return Some((2, first as u64));
    }
    let n = (first & 0x7f) as usize;
    if n > 8 || bytes.len() < 2 + n {
        return None;
    }
    let len = bytes[2..2 + n]
        .iter()
        .fold(0u64, |l, b| (l << 8) | *b as u64);
    Some((2 + n, len))
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok());
    Config {
        cases: cases.unwrap_or(CASES),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// ldap3 panics on some malformed answers inside its own tasks; keep those off the test output
/// the way readyscan's binary does, and leave every other panic to the default hook.
fn quiet_ldap_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = info
                .location()
                .is_some_and(|at| readyscan::probes::ldap::in_ldap_client(at.file()));
            if !ours {
                default(info);
            }
        }));
    });
}

#[test]
fn the_ber_parser_fails_cleanly_on_hostile_bytes() {
    TestRunner::new(config())
        .run(&answer(), |bytes| {
            // What ldap3's codec calls on its buffer each time bytes arrive.
            let parsed = lber::Parser::new().parse(&bytes);
            if let Some((head, len)) = header(&bytes) {
                if len > lber::parse::MAX_MESSAGE_LEN as u64 {
                    // Refused from the header: not buffered while the bytes arrive.
                    prop_assert!(matches!(parsed, Err(lber::Err::Failure(_))));
                } else if head as u64 + len <= bytes.len() as u64 {
                    // All there: a verdict now, never "wait for more bytes".
                    prop_assert!(!matches!(parsed, Err(lber::Err::Incomplete(_))));
                }
            }
            Ok(())
        })
        .unwrap();
}

/// One answer through ldap3's codec and driver: a base search over a Unix socket pair whose
/// server end reads the request, writes `answer`, and closes. Entries are built in a task of
/// their own, as readyscan does, since SearchEntry::construct panics on malformed ones.
async fn through_ldap3(answer: Vec<u8>) -> Result<(), String> {
    let (client, server) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
    server.set_nonblocking(true).map_err(|e| e.to_string())?;
    let mut server = tokio::net::UnixStream::from_std(server).map_err(|e| e.to_string())?;
    let serve = tokio::spawn(async move {
        let mut request = [0u8; 512];
        let _ = server.read(&mut request).await;
        let _ = server.write_all(&answer).await;
        let _ = server.shutdown().await;
        let mut rest = Vec::new();
        let _ = server.read_to_end(&mut rest).await;
    });
    let settings = LdapConnSettings::new().set_std_stream(StdStream::Unix(client));
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, "ldapi://fuzz")
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn.drive());
    if let Ok(mut stream) = ldap
        .streaming_search("", Scope::Base, "(objectClass=*)", vec!["*"])
        .await
    {
        while let Ok(Some(item)) = stream.next().await {
            let _ = tokio::spawn(async move { SearchEntry::construct(item) }).await;
        }
        let _ = stream.finish().await;
    }
    drop(ldap);
    // The driver ends (an error, a contained panic, or the closed socket), and so does the server.
    let _ = driver.await;
    let _ = serve.await;
    Ok(())
}

#[test]
fn ldap3_reads_hostile_answers_to_an_end() {
    quiet_ldap_panics();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    TestRunner::new(config())
        .run(&answer(), |bytes| {
            let ended = runtime
                .block_on(async { tokio::time::timeout(CASE_LIMIT, through_ldap3(bytes)).await });
            prop_assert!(
                ended.is_ok(),
                "still reading {CASE_LIMIT:?} after the answer"
            );
            prop_assert!(ended.unwrap().is_ok());
            Ok(())
        })
        .unwrap();
}

/// `answer` is sent and the socket left open: the search must fail on its own, not wait for
/// bytes that would complete the message.
async fn fails_without_more_bytes(answer: Vec<u8>) {
    let (client, server) = std::os::unix::net::UnixStream::pair().unwrap();
    server.set_nonblocking(true).unwrap();
    let mut server = tokio::net::UnixStream::from_std(server).unwrap();
    let settings = LdapConnSettings::new().set_std_stream(StdStream::Unix(client));
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, "ldapi://fuzz")
        .await
        .unwrap();
    let driver = tokio::spawn(conn.drive());
    let mut stream = ldap
        .streaming_search("", Scope::Base, "(objectClass=*)", vec!["*"])
        .await
        .unwrap();
    let mut request = [0u8; 512];
    let _ = server.read(&mut request).await.unwrap();
    server.write_all(&answer).await.unwrap();
    let next = tokio::time::timeout(CASE_LIMIT, stream.next()).await;
    assert!(next.is_ok(), "the search waited for more bytes");
    assert!(next.unwrap().is_err());
    let ended = driver.await.unwrap();
    assert!(ended.is_err(), "the driver reports the decoding error");
    drop(server);
}

#[tokio::test]
async fn a_huge_length_fails_from_the_header() {
    let mut answer = vec![0x30, 0x84];
    answer.extend_from_slice(&(1u32 << 30).to_be_bytes());
    answer.extend_from_slice(&[0x02, 0x01, 0x01]);
    fails_without_more_bytes(answer).await;
}

#[tokio::test]
async fn an_inner_element_longer_than_its_message_fails() {
    // The entry's DN claims 100 bytes inside a message that holds 3.
    let answer = message(1, tlv(0x64, &[0x04, 0x64, b'x']));
    fails_without_more_bytes(answer).await;
}

#[tokio::test]
async fn deep_nesting_fails() {
    let answer = message(1, constructed(0x64, &[octets(b""), nested(100_000)]));
    fails_without_more_bytes(answer).await;
}
