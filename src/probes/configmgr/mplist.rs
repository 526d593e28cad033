//! A management point's anonymous MPLIST over HTTP, and the XML it and AD carry.

use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::probes::ProbeError;

/// An MPLIST is a few hundred bytes per MP; anything this big is not one.
pub const MAX_BODY: usize = 256 * 1024;

/// One `<MP>` of an MPLIST.
#[derive(Debug, Clone, PartialEq)]
pub struct MpEntry {
    pub name: String,
    pub fqdn: String,
    pub site_code: String,
    pub build: Option<u32>,
    /// The `<Version>` text as sent, so an unparseable one can be told from a missing one.
    pub version_text: Option<String>,
}

/// The base URL of an MP given as HOST, HOST:PORT or a URL.
pub fn base_url(mp: &str) -> String {
    let mp = mp.trim().trim_end_matches('/');
    if mp.contains("://") {
        mp.to_string()
    } else {
        format!("http://{mp}")
    }
}

/// The host part of an MP as given (for matching the MPLIST's FQDN).
pub fn host_of(mp: &str) -> String {
    let rest = mp.split_once("://").map(|(_, r)| r).unwrap_or(mp);
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host = match host_port.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    host.trim_matches(['[', ']']).to_ascii_lowercase()
}

/// GET with a cap on the body; returns the status and the body as text.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let mut response = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", describe(&e)))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("GET {url}: {}", describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!(
                "GET {url}: the answer is larger than {} KiB, which is not an MPLIST",
                MAX_BODY / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// reqwest's top-level message hides the cause (refused, timed out, certificate).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Parses `<MPList><MP Name FQDN SiteCode><Version>BUILD</Version>...</MP></MPList>`.
pub fn parse_mplist(xml: &str) -> Result<Vec<MpEntry>, String> {
    let mut reader = Reader::from_str(xml);
    let mut entries = Vec::new();
    let mut current: Option<MpEntry> = None;
    let mut in_version = false;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "malformed MPLIST XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match &event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"MP" => {
                let mut mp = MpEntry {
                    name: String::new(),
                    fqdn: String::new(),
                    site_code: String::new(),
                    build: None,
                    version_text: None,
                };
                for attr in e.attributes().flatten() {
                    let value = attr
                        .unescape_value()
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    match attr.key.as_ref() {
                        b"Name" => mp.name = value,
                        b"FQDN" => mp.fqdn = value,
                        b"SiteCode" => mp.site_code = value,
                        _ => {}
                    }
                }
                if let Some(done) = current.replace(mp) {
                    entries.push(done);
                }
            }
            Event::Start(e) if e.name().as_ref() == b"Version" => in_version = true,
            Event::End(e) if e.name().as_ref() == b"Version" => in_version = false,
            Event::Text(t) if in_version => {
                if let Some(mp) = current.as_mut() {
                    let text = t
                        .decode()
                        .map_err(|e| format!("malformed MPLIST XML: {e}"))?;
                    mp.build = super::releases::build_of(&text);
                    mp.version_text = Some(text.trim().to_string());
                }
            }
            Event::End(e) if e.name().as_ref() == b"MP" => {
                if let Some(done) = current.take() {
                    entries.push(done);
                }
            }
            Event::Eof if depth > 0 => {
                return Err("malformed MPLIST XML: the answer ends inside an element".into())
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(done) = current.take() {
        entries.push(done);
    }
    if entries.is_empty() {
        return Err("the answer has no <MP> entry: not an MPLIST".into());
    }
    if let Some(bad) = entries.iter().find(|e| e.site_code.trim().is_empty()) {
        return Err(format!(
            "malformed MPLIST: the entry for \"{}\" has no SiteCode",
            bad.fqdn
        ));
    }
    Ok(entries)
}

/// The `<Version>` inside mSSMSCapabilities. That XML may carry a bare `&`, which is not XML:
/// escape it before parsing.
pub fn capabilities_version(xml: &str) -> Option<String> {
    let sanitised = escape_bare_ampersands(xml);
    let mut reader = Reader::from_str(&sanitised);
    let mut in_version = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.name().as_ref() == b"Version" => in_version = true,
            Event::Text(t) if in_version => return t.decode().ok().map(|v| v.trim().to_string()),
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn escape_bare_ampersands(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == '&' {
            let rest = &s[i + 1..];
            let entity = rest.find(';').map(|end| &rest[..end]).is_some_and(|name| {
                !name.is_empty()
                    && name.len() <= 8
                    && (name.starts_with('#') || name.chars().all(|c| c.is_ascii_alphanumeric()))
            });
            out.push_str(if entity { "&" } else { "&amp;" });
        } else {
            out.push(c);
        }
    }
    out
}

/// The MPLIST entry of the MP asked, by FQDN or name. An MP asked by address may only be the
/// list's single entry; another MP's build is never attributed to it.
pub fn pick_entry<'a>(entries: &'a [MpEntry], host: &str) -> Result<&'a MpEntry, ProbeError> {
    if let Some(e) = entries
        .iter()
        .find(|e| e.fqdn.eq_ignore_ascii_case(host) || e.name.eq_ignore_ascii_case(host))
    {
        return Ok(e);
    }
    if host.parse::<std::net::IpAddr>().is_ok() && entries.len() == 1 {
        return Ok(&entries[0]);
    }
    let listed: Vec<&str> = entries.iter().map(|e| e.fqdn.as_str()).collect();
    Err(ProbeError::Failed(format!(
        "the MPLIST that {host} answered does not list {host} (it lists {}): its build is not known",
        listed.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mplist_that_does_not_list_the_mp_asked_is_its_own_error() {
        let entries =
            parse_mplist(r#"<MPList><MP Name="CM02" FQDN="cm02.corp.example" SiteCode="P01"><Version>9122</Version></MP></MPList>"#)
                .unwrap();
        let e = pick_entry(&entries, "cm01.corp.example")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not list cm01.corp.example (it lists cm02.corp.example)"),
            "{e}"
        );
        assert!(pick_entry(&entries, "cm02.corp.example").is_ok());
        assert!(
            pick_entry(&entries, "10.0.0.5").is_ok(),
            "asked by address, one entry"
        );
        let odd = parse_mplist(r#"<MPList><MP Name="CM01" FQDN="cm01" SiteCode="P01"><Version>v-next</Version></MP></MPList>"#).unwrap();
        assert_eq!(odd[0].build, None);
        assert_eq!(odd[0].version_text.as_deref(), Some("v-next"));
    }

    #[test]
    fn parses_an_mplist() {
        let xml = r#"<MPList><MP Name="CM01" FQDN="cm01.corp.example" SiteCode="P01"><Version>9128</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP><MP Name="CM02" FQDN="cm02.corp.example" SiteCode="P01"><Version>9122</Version></MP></MPList>"#;
        let mps = parse_mplist(xml).unwrap();
        assert_eq!(mps.len(), 2);
        assert_eq!(mps[0].fqdn, "cm01.corp.example");
        assert_eq!(mps[0].build, Some(9128));
        assert_eq!(mps[1].site_code, "P01");
    }

    #[test]
    fn malformed_and_empty_answers_are_errors() {
        assert!(parse_mplist("<MPList><MP Name=\"x\"><Version>9128</Vers></MP>").is_err());
        assert!(parse_mplist("<html><body>It works!</body></html>")
            .unwrap_err()
            .contains("no <MP>"));
        assert!(parse_mplist("").is_err());
        assert!(
            parse_mplist("<MPList><MP Name=\"X\" SiteCode=\"P01\"><Version>91")
                .unwrap_err()
                .contains("ends inside")
        );
        assert!(
            parse_mplist("<MPList><MP Name=\"X\"><Version>9</Version></MP></MPList>")
                .unwrap_err()
                .contains("SiteCode")
        );
    }

    #[test]
    fn capabilities_with_a_bare_ampersand() {
        let xml = "<ClientOperationalSettings><Version>5.00.8790.1000</Version><Note>R&D &amp; ops</Note></ClientOperationalSettings>";
        assert_eq!(capabilities_version(xml).as_deref(), Some("5.00.8790.1000"));
    }

    #[test]
    fn mp_names() {
        assert_eq!(base_url("cm01.corp.example"), "http://cm01.corp.example");
        assert_eq!(base_url("https://cm01:8443/"), "https://cm01:8443");
        assert_eq!(host_of("CM01.corp.example:8080"), "cm01.corp.example");
        assert_eq!(host_of("https://cm01.corp.example/x"), "cm01.corp.example");
    }
}
