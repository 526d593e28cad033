//! DNS name rules shared by probes.

/// Top-level labels that the public DNS will never delegate, so a UPN suffix ending in one
/// cannot be verified in Microsoft Entra ID. Special-use names (RFC 6761, RFC 2606) and the
/// private-use labels seen in corporate forests.
const NON_ROUTABLE_TLDS: &[&str] = &[
    "local",
    "lan",
    "internal",
    "intranet",
    "corp",
    "home",
    "localdomain",
    "private",
    "localhost",
    "invalid",
    "test",
    "example",
    "arpa",
];

/// Lower case, no trailing dot: how names are compared.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Why a suffix cannot be used in the cloud, or `None` when it can.
pub fn non_routable(suffix: &str) -> Option<String> {
    let name = normalise(suffix);
    let Some((_, tld)) = name.rsplit_once('.') else {
        return Some(format!(
            "\"{name}\" is a single-label name, not a public DNS domain"
        ));
    };
    NON_ROUTABLE_TLDS
        .contains(&tld)
        .then(|| format!("\"{name}\" ends in .{tld}, which is not a routable public DNS domain"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routable_and_not() {
        assert!(non_routable("contoso.com").is_none());
        assert!(non_routable("Contoso.COM.").is_none());
        assert!(non_routable("corp.local").unwrap().contains(".local"));
        assert!(non_routable("CONTOSO").unwrap().contains("single-label"));
        assert!(non_routable("lab.readyscan.test").is_some());
    }
}
