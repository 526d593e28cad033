//! One HTTPS GET with a bounded answer: the scan's TLS client (trust enforced unless
//! `--insecure-tls`), `--target` mappings, no proxy, no redirects followed.

use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::probes::net::resolve;
use crate::probes::{ProbeContext, ProbeError};

pub struct Answer {
    pub status: u16,
    /// `Location` of a redirect (not followed).
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// The server's leaf certificate (DER).
    pub leaf: Option<Vec<u8>>,
}

pub async fn get(
    host: &str,
    port: u16,
    path: &str,
    cap: usize,
    ctx: &ProbeContext,
) -> Result<Answer, ProbeError> {
    let addr = resolve(host, port, ctx).await.map_err(ProbeError::Failed)?;
    let deadline = Instant::now() + ctx.timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let timeout = ProbeError::Timeout(ctx.timeout);
    let tcp = tokio::time::timeout(left(), TcpStream::connect(addr))
        .await
        .map_err(|_| ProbeError::Timeout(ctx.timeout))?
        .map_err(|e| ProbeError::Failed(format!("TCP connect to {addr}: {e}")))?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ProbeError::Failed(format!("\"{host}\" is not a valid TLS server name")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&ctx.services.tls));
    let mut tls = tokio::time::timeout(left(), connector.connect(name, tcp))
        .await
        .map_err(|_| ProbeError::Timeout(ctx.timeout))?
        .map_err(|e| ProbeError::Failed(format!("TLS handshake with {host}:{port}: {e}")))?;
    let leaf = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: readyscan\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let read = async {
        tls.write_all(request.as_bytes())
            .await
            .map_err(|e| ProbeError::Failed(format!("sending the request: {e}")))?;
        // Head (16 KiB at most) plus the cap: one byte more tells an oversized answer.
        let limit = cap + 16 * 1024 + 1;
        let mut raw = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = match tls.read(&mut chunk).await {
                Ok(n) => n,
                // Servers that close without close_notify: what arrived is the answer.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(ProbeError::Failed(format!("reading the answer: {e}"))),
            };
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&chunk[..n]);
            if raw.len() >= limit {
                break;
            }
        }
        Ok(raw)
    };
    let raw = tokio::time::timeout(left(), read)
        .await
        .map_err(|_| timeout)??;
    let mut answer = parse_answer(&raw, cap)?;
    answer.leaf = leaf;
    Ok(answer)
}

/// Splits an HTTP/1.1 answer into status, Location and body (de-chunked); bodies over `cap`
/// bytes are a `Limit` error.
pub fn parse_answer(raw: &[u8], cap: usize) -> Result<Answer, ProbeError> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| ProbeError::Failed("the answer has no complete HTTP head".into()))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let status = match (
        parts.next(),
        parts.next().and_then(|c| c.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code,
        _ => {
            return Err(ProbeError::Failed(format!(
                "not an HTTP answer: {:?}",
                status_line.chars().take(60).collect::<String>()
            )))
        }
    };
    let mut location = None;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "location" => location = Some(v.to_string()),
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            "content-length" => length = v.parse::<usize>().ok(),
            _ => {}
        }
    }
    let too_big = || ProbeError::Limit(format!("the answer's body is larger than {cap} bytes"));
    if length.is_some_and(|l| l > cap) {
        return Err(too_big());
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        dechunk(rest, cap)?
    } else {
        rest.to_vec()
    };
    if body.len() > cap {
        return Err(too_big());
    }
    let body = match length {
        Some(l) if !chunked => body[..l.min(body.len())].to_vec(),
        _ => body,
    };
    Ok(Answer {
        status,
        location,
        body,
        leaf: None,
    })
}

fn dechunk(mut rest: &[u8], cap: usize) -> Result<Vec<u8>, ProbeError> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Err(ProbeError::Failed("a chunked body ends early".into()));
        };
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| ProbeError::Failed("a chunk size is not hexadecimal".into()))?;
        if size == 0 {
            return Ok(out);
        }
        if out.len() + size > cap {
            return Err(ProbeError::Limit(format!(
                "the answer's body is larger than {cap} bytes"
            )));
        }
        rest = &rest[eol + 2..];
        if rest.len() < size {
            return Err(ProbeError::Failed("a chunked body ends early".into()));
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let a = parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef", 10).unwrap();
        assert_eq!((a.status, a.body.as_slice()), (200, &b"abc"[..]));
        let a = parse_answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            10,
        )
        .unwrap();
        assert_eq!(a.body, b"abcde");
        let a = parse_answer(b"HTTP/1.1 302 F\r\nLocation: https://x/\r\n\r\n", 10).unwrap();
        assert_eq!(a.location.as_deref(), Some("https://x/"));
        assert!(matches!(
            parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 10),
            Err(ProbeError::Limit(_))
        ));
        assert!(matches!(
            parse_answer(b"HTTP/1.1 200 OK\r\n\r\n0123456789abc", 10),
            Err(ProbeError::Limit(_))
        ));
        assert!(parse_answer(b"SSH-2.0\r\n\r\n", 10).is_err());
        assert!(parse_answer(b"HTTP/1.1 200", 10).is_err());
    }
}
