//! The specs of the dns probes: their fields, stage and time budget, as checks see them.

use crate::probes::spec::{always, no_params, ProbeSpec};

/// Probes whose UPN suffixes, naming contexts and DC names the DNS probes use when present.
const LDAP_PROBES: &[&str] = &["ldap.root_dse", "ldap.directory"];

/// `dns.srv`: after the LDAP probes, whose naming contexts and DC names it uses.
pub static SRV: ProbeSpec = ProbeSpec {
    name: "dns.srv",
    summary: "Active Directory SRV records of a domain: targets, whether they resolve and answer",
    fields: &[
        "name",
        "domain",
        "purpose",
        "forest_root",
        "outcome",
        "detail",
        "targets",
        "unresolved_targets",
        "stale_targets",
        "expected_dcs",
        "missing_dcs",
    ],
    needs: "give --domain NAME",
    stage: 2,
    reads: LDAP_PROBES,
    budget: 5,
    check_params: no_params,
    applies: always,
};

/// `dns.cname`: a chain of aliases in the zone takes a query per hop.
pub static CNAME: ProbeSpec = ProbeSpec {
    name: "dns.cname",
    summary: "CNAME records Intune needs per UPN suffix, aliases in the suffix's zone followed",
    fields: &[
        "name", "suffix", "purpose", "outcome", "target", "chain", "detail",
    ],
    needs: "give --domain NAME or --upn-suffix NAME",
    stage: 2,
    reads: LDAP_PROBES,
    budget: 4,
    check_params: no_params,
    applies: always,
};

/// `dns.m365`.
pub static M365: ProbeSpec = ProbeSpec {
    name: "dns.m365",
    summary: "Microsoft 365 records of a domain: MS=ms verification TXT, MX, autodiscover, SPF",
    fields: &[
        "suffix",
        "txt_outcome",
        "ms_verification",
        "mx_hosts",
        "autodiscover_target",
        "autodiscover_outcome",
        "spf_records",
        "spf_count",
    ],
    needs: "give --domain NAME or --upn-suffix NAME",
    stage: 2,
    reads: LDAP_PROBES,
    budget: 2,
    check_params: no_params,
    applies: always,
};

/// `dns.adfs_name`.
pub static ADFS_NAME: ProbeSpec = ProbeSpec {
    name: "dns.adfs_name",
    summary: "Record type of an AD FS service name (A, AAAA or CNAME)",
    fields: &[
        "name",
        "outcome",
        "record_type",
        "cname_target",
        "addresses",
    ],
    needs: "give --adfs NAME",
    stage: 2,
    reads: &[],
    budget: 4,
    check_params: no_params,
    applies: always,
};
