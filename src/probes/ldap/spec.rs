//! The specs of the ldap probes: their fields, stage and time budget, as checks see them.

use crate::probes::spec::{always, no_params, ProbeSpec};

/// `ldap.root_dse`: read anonymously.
pub static ROOT_DSE: ProbeSpec = ProbeSpec {
    name: "ldap.root_dse",
    summary: "Anonymous rootDSE read of a domain controller: functional levels and naming contexts",
    fields: &[
        "forest_functionality",
        "forest_level_name",
        "domain_functionality",
        "domain_level_name",
        "domain_controller_functionality",
        "dns_host_name",
        "default_naming_context",
        "root_domain_naming_context",
        "configuration_naming_context",
        "schema_naming_context",
        "domain_dns_name",
        "forest_dns_name",
        "answered_by",
        "dc_found_by",
        "transport",
    ],
    needs: "give --dc HOST or --domain NAME",
    stage: 1,
    reads: &[],
    budget: 4,
    check_params: no_params,
    applies: always,
};

/// `ldap.directory`: bound reads.
pub static DIRECTORY: ProbeSpec = ProbeSpec {
    name: "ldap.directory",
    summary:
        "Bound LDAP reads: schema version, trusts, UPN suffixes, domain controllers, containers",
    fields: &[
        "forest_functionality",
        "forest_level_name",
        "domain_functionality",
        "domain_level_name",
        "domain_controller_functionality",
        "dns_host_name",
        "default_naming_context",
        "root_domain_naming_context",
        "configuration_naming_context",
        "schema_naming_context",
        "domain_dns_name",
        "forest_dns_name",
        "schema_version",
        "schema_version_name",
        "trusts",
        "forest_trusts",
        "trusts_read",
        "trusts_read_from",
        "topology",
        "upn_suffixes",
        "non_routable_upn_suffixes",
        "domain_controllers",
        "dcs",
        "dc_operating_systems",
        "adfs_container",
        "system_management_container",
        "recycle_bin_enabled",
        "answered_by",
        "transport",
    ],
    needs:
        "give --dc HOST and --bind-user USER (password in READYSCAN_PASSWORD or --password-stdin)",
    stage: 1,
    reads: &[],
    budget: 8,
    check_params: no_params,
    applies: always,
};

/// `ldap.dc`: one observation per domain controller, derived from `ldap.directory`, no traffic.
pub static DC: ProbeSpec = ProbeSpec {
    name: "ldap.dc",
    summary: "Per domain controller: its operating system, Windows Server release and support end",
    fields: &[
        "host",
        "domain",
        "operating_system",
        "operating_system_version",
        "os_family",
        "build",
        "release",
        "support_end",
        "support_note",
        "community",
    ],
    needs: "give --dc HOST and --bind-user USER: the domain controllers come from the bound \
            directory read (ldap.directory)",
    stage: 2,
    reads: &["ldap.directory"],
    budget: 1,
    check_params: no_params,
    applies: always,
};

/// `ldap.sync_objects`: the synchronization rules over every user, group and contact.
pub static SYNC_OBJECTS: ProbeSpec = ProbeSpec {
    name: "ldap.sync_objects",
    summary: "Bound streamed read of every user, group and contact, judged against the \
              directory-synchronization attribute rules (checks/data/sync-rules.toml)",
    fields: &[
        "objects_read",
        "objects_skipped",
        "objects_with_problems",
        "blocker_objects",
        "warning_objects",
        "blocker_rules",
        "warning_rules",
        "skip_rules",
        "rules",
        "duplicates",
        "rows",
        "rows_dropped",
        "rules_source",
        "base",
        "page_size",
        "answered_by",
        "transport",
    ],
    needs:
        "give --dc HOST and --bind-user USER (password in READYSCAN_PASSWORD or --password-stdin)",
    // After the other directory reads: one long stream at a time against a DC.
    stage: 2,
    reads: &[],
    // 4 x --timeout for the whole pass: a DC streaming without end is cut off in bounded
    // time; a large forest needs a larger --timeout (see the README).
    budget: 4,
    check_params: no_params,
    applies: always,
};
