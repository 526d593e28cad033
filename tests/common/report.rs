//! Helpers every test crate used to copy: running the binary, reading report.json, finding a
//! finding, and the inline check TOML of port tests.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The readyscan binary of this build.
/// Hermetic: a scan given no target does not find this machine's domain, and no Kerberos
/// ticket of the machine's user is used.
pub fn readyscan() -> Command {
    let mut cmd = Command::cargo_bin("readyscan").unwrap();
    hermetic(&mut cmd);
    cmd
}

/// Keeps a readyscan child away from this machine's resolv.conf, host name, krb5.conf and
/// ticket cache (see src/config/discover.rs).
pub fn hermetic(cmd: &mut Command) -> &mut Command {
    cmd.env("READYSCAN_RESOLV_CONF", "")
        .env("READYSCAN_HOST_FQDN", "")
        .env("KRB5_CONFIG", "/nonexistent/readyscan-test-krb5.conf")
        .env("KRB5CCNAME", "FILE:/nonexistent/readyscan-test-ccache")
        .env_remove("USERDNSDOMAIN")
}

/// A JSON file (report.json, an observation set), parsed.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The finding of check `id` on `subject`; panics naming both when there is none.
pub fn finding<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == id && f["subject"] == subject)
        .unwrap_or_else(|| panic!("no finding {id} on {subject}"))
}

/// The first finding of check `id`, whatever its subject.
pub fn first_finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == id)
        .unwrap_or_else(|| panic!("no finding of {id}"))
}

/// A `tcp.connect` blocker check for `role` with `params` (a TOML inline table).
pub fn port_check(id: &str, role: &str, params: &str) -> String {
    format!(
        r#"[[check]]
id = "{id}"
title = "ports"
area = "network"
scopes = ["core"]
severity = "blocker"
probe = "tcp.connect"
filter = {{ roles = "{role}" }}
params = {params}
field = "state"
requirement = {{ equals = "open" }}
expected = "open"
remediation = ["Open it."]
reference = "https://learn.microsoft.com/x"
source = "kb"
"#
    )
}
