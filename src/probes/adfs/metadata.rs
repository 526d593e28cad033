//! Reads AD FS federation metadata (WS-Federation/SAML 2.0 `EntityDescriptor`) with a real XML
//! parser: the entityID, the signing and encryption certificates and the endpoint host names.
//! No DTD or entity is expanded (quick-xml does not), so a hostile document cannot grow.

use base64::Engine;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Elements nested deeper than this are refused: real metadata is about 10 levels deep.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Default, PartialEq)]
pub struct Metadata {
    pub entity_id: Option<String>,
    /// DER certificates from `KeyDescriptor use="signing"` (or with no `use`).
    pub signing: Vec<Vec<u8>>,
    pub encryption: Vec<Vec<u8>>,
    /// Host names of every `Location` attribute and `Address` element, lower case, unique.
    pub endpoint_hosts: Vec<String>,
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The host of an absolute http(s) URL, lower case; None for anything else.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .trim()
        .strip_prefix("https://")
        .or_else(|| url.trim().strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

pub fn parse(xml: &[u8]) -> Result<Metadata, String> {
    let mut reader = Reader::from_reader(xml);
    let mut md = Metadata::default();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    // The `use` of the KeyDescriptor we are inside, and the certificate text being read.
    let mut key_use: Option<String> = None;
    let mut text = String::new();
    let mut buf = Vec::new();
    let mut seen_root = false;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not well-formed XML at byte {at}: {e}"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local(e.name().as_ref()).to_vec();
                if !seen_root {
                    if name != b"EntityDescriptor" {
                        return Err(format!(
                            "the root element is <{}>, not <EntityDescriptor>",
                            String::from_utf8_lossy(&name)
                                .chars()
                                .take(60)
                                .collect::<String>()
                        ));
                    }
                    seen_root = true;
                }
                for attr in e.attributes() {
                    let attr = attr.map_err(|e| format!("bad attribute at byte {at}: {e}"))?;
                    let key = local(attr.key.as_ref()).to_vec();
                    let value = attr
                        .unescape_value()
                        .map_err(|e| format!("bad attribute value at byte {at}: {e}"))?
                        .to_string();
                    match (name.as_slice(), key.as_slice()) {
                        (b"EntityDescriptor", b"entityID") if md.entity_id.is_none() => {
                            md.entity_id = Some(value)
                        }
                        (b"KeyDescriptor", b"use") => key_use = Some(value),
                        (_, b"Location") => push_host(&mut md, &value),
                        _ => {}
                    }
                }
                if matches!(event, Event::Start(_)) {
                    if stack.len() >= MAX_DEPTH {
                        return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                    }
                    stack.push(name);
                    text.clear();
                }
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| format!("bad text at byte {at}: {e}"))?;
                text.push_str(&s);
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                match name.as_slice() {
                    b"X509Certificate" if stack.iter().any(|n| n == b"KeyDescriptor") => {
                        let der = base64::engine::general_purpose::STANDARD
                            .decode(text.split_whitespace().collect::<String>())
                            .map_err(|e| format!("an X509Certificate is not base64: {e}"))?;
                        match key_use.as_deref() {
                            Some("encryption") => push_unique(&mut md.encryption, der),
                            Some("signing") | None => push_unique(&mut md.signing, der),
                            Some(_) => {}
                        }
                    }
                    b"Address" => push_host(&mut md, &text.clone()),
                    b"KeyDescriptor" => key_use = None,
                    _ => {}
                }
                text.clear();
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted in metadata".into()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err("no <EntityDescriptor> element".into());
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    Ok(md)
}

fn push_host(md: &mut Metadata, url: &str) {
    if let Some(h) = url_host(url) {
        if !md.endpoint_hosts.contains(&h) {
            md.endpoint_hosts.push(h);
        }
    }
}

fn push_unique(list: &mut Vec<Vec<u8>>, der: Vec<u8>) {
    if !list.contains(&der) {
        list.push(der);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entity_certificates_and_hosts() {
        let cert = base64::engine::general_purpose::STANDARD.encode(b"DER1");
        let xml = format!(
            r#"<?xml version="1.0"?><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://fs.contoso.com/adfs/services/trust">
            <RoleDescriptor><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>
            {cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
            <fed:PassiveRequestorEndpoint xmlns:fed="x"><wsa:EndpointReference xmlns:wsa="y"><wsa:Address>https://FS.contoso.com/adfs/ls/</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor>
            <IDPSSODescriptor><KeyDescriptor use="encryption"><KeyInfo><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
            <SingleSignOnService Binding="b" Location="https://other.example:443/adfs/ls/"/></IDPSSODescriptor></EntityDescriptor>"#
        );
        let md = parse(xml.as_bytes()).unwrap();
        assert_eq!(
            md.entity_id.as_deref(),
            Some("http://fs.contoso.com/adfs/services/trust")
        );
        assert_eq!(md.signing, vec![b"DER1".to_vec()]);
        assert_eq!(md.encryption, vec![b"DER1".to_vec()]);
        assert_eq!(md.endpoint_hosts, vec!["fs.contoso.com", "other.example"]);
    }

    #[test]
    fn refuses_broken_documents() {
        assert!(parse(b"<EntityDescriptor><a></b></EntityDescriptor>").is_err());
        assert!(parse(b"<html></html>")
            .unwrap_err()
            .contains("root element"));
        assert!(parse(b"").is_err());
        assert!(parse(b"<EntityDescriptor><a>").is_err());
        assert!(parse(b"<!DOCTYPE x [<!ENTITY a \"b\">]><EntityDescriptor/>").is_err());
        let deep = format!("<EntityDescriptor>{}", "<a>".repeat(100));
        assert!(parse(deep.as_bytes()).unwrap_err().contains("deeper"));
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(url_host("https://u@H.x:8443/p").as_deref(), Some("h.x"));
        assert_eq!(url_host("https://[::1]:1/").as_deref(), Some("::1"));
        assert_eq!(url_host("urn:x"), None);
    }
}
