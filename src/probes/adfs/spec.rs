//! The specs of the AD FS probes: federation metadata and the service certificate's names.

use serde_json::Value;

use crate::observation::Observation;
use crate::probes::spec::{always, no_params, Ask, ProbeSpec};

/// `adfs.metadata`. Budget: a name lookup, then two exchanges (metadata, OpenID configuration).
pub static METADATA: ProbeSpec = ProbeSpec {
    name: "adfs.metadata",
    summary: "AD FS federation metadata: entityID, token-signing and encryption certificates, \
              endpoint hosts, the service certificate's names, the OpenID configuration hint",
    fields: &[
        "host",
        "port",
        "roles",
        "http_status",
        "entity_id",
        "signing_certificates",
        "signing_days_left",
        "signing_not_after",
        "signing_subject",
        "encryption_days_left",
        "encryption_not_after",
        "endpoint_hosts",
        "foreign_endpoint_hosts",
        "service_subject",
        "service_sans",
        "service_not_after",
        "openid_configuration",
    ],
    needs: "give --adfs NAME (the federation service name), or a bind that finds it",
    stage: 3,
    reads: &["ldap.services"],
    budget: 5,
    check_params: no_params,
    applies: always,
};

/// `adfs.san`: one observation per name the service certificate must carry (no traffic: it
/// reads `adfs.metadata` and the UPN suffixes of `ldap.directory` and `--upn-suffix`).
pub static SAN: ProbeSpec = ProbeSpec {
    name: "adfs.san",
    summary: "whether the AD FS service certificate names the federation service, \
              enterpriseregistration.<UPN suffix> and certauth.<service>",
    fields: &[
        "host",
        "name",
        "kind",
        "in_certificate",
        "certificate_names",
    ],
    needs: "give --adfs NAME; UPN suffixes come from a bind or --upn-suffix",
    stage: 4,
    reads: &["adfs.metadata", "ldap.directory"],
    budget: 1,
    check_params: no_params,
    applies,
};

fn applies(_: &Ask<'_>, obs: &Observation) -> bool {
    obs.fields.get("name").and_then(Value::as_str).is_some()
}
