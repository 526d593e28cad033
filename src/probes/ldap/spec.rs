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
        "unresolved_dcs",
        "unresolved_detail",
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
        "bound_as",
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
            directory read (ldap.directory) and, for the other domains, the forest read \
            (ldap.forest)",
    // After ldap.forest (stage 4), whose DCs of every domain it judges too.
    stage: 5,
    reads: &["ldap.directory", "ldap.forest"],
    budget: 1,
    check_params: no_params,
    applies: always,
};

/// `ldap.services`: bound reads of AD FS accounts, enterprise CAs and Exchange servers.
pub static SERVICES: ProbeSpec = ProbeSpec {
    name: "ldap.services",
    summary: "Bound LDAP reads: AD FS service accounts/gMSAs (host/<fs> SPN), DKM container, \
              AD FS servers, enterprise CAs (pKIEnrollmentService), Exchange servers",
    fields: &[
        "domain_naming_context",
        "configuration_naming_context",
        "adfs_accounts",
        "adfs_names",
        "adfs_servers",
        "dkm_container",
        "enterprise_cas",
        "enterprise_ca_count",
        "exchange_servers",
        "exchange_server_names",
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

/// `ldap.service_host`: one observation per CA, Exchange server and AD FS server, no traffic.
pub static SERVICE_HOST: ProbeSpec = ProbeSpec {
    name: "ldap.service_host",
    summary: "Per enterprise CA, AD FS server and Exchange server: OS, release, support end, \
              CA certificate expiry and key size",
    fields: &[
        "kind",
        "name",
        "host",
        "domain",
        "computer_found",
        "operating_system",
        "operating_system_version",
        "os_family",
        "build",
        "release",
        "support_end",
        "support_note",
        "community",
        "templates",
        "ca_subject",
        "ca_not_after",
        "ca_days_left",
        "key_bits",
        "ca_error",
        "serial_number",
        "exch_version",
        "exchange_release",
    ],
    needs: "give --dc HOST and --bind-user USER: the hosts come from ldap.services",
    stage: 2,
    reads: &["ldap.services"],
    budget: 1,
    check_params: no_params,
    applies: always,
};

/// `ldap.computers`: a streamed read of every computer object of the domain, grouped by release.
pub static COMPUTERS: ProbeSpec = ProbeSpec {
    name: "ldap.computers",
    summary: "Bound, paged and streamed read of the computer objects: counts per OS release",
    fields: &[
        "computers_read",
        "active",
        "disabled_skipped",
        "stale",
        "stale_days",
        "releases",
        "naming_context",
        "pages",
        "answered_by",
        "transport",
    ],
    needs:
        "give --dc HOST and --bind-user USER (password in READYSCAN_PASSWORD or --password-stdin)",
    stage: 6,
    reads: &[],
    budget: 60,
    check_params: no_params,
    applies: always,
};

/// `ldap.os_release`: one observation per OS release group of `ldap.computers`, no traffic.
pub static OS_RELEASE: ProbeSpec = ProbeSpec {
    name: "ldap.os_release",
    summary: "Per OS release of the domain's computers: count, first names, end of servicing",
    fields: &[
        "domain",
        "release",
        "kind",
        "count",
        "stale",
        "names",
        "support_end",
        "support_note",
        "community",
    ],
    needs: "give --dc HOST and --bind-user USER: the groups come from ldap.computers",
    stage: 7,
    reads: &["ldap.computers"],
    budget: 1,
    check_params: no_params,
    applies: always,
};

/// `ldap.forest`: the domains (crossRef) and DCs (nTDSDSA) of the configuration NC. Its own
/// stage (as ldap.computers): bound reads one after another keep the peak memory of one.
pub static FOREST: ProbeSpec = ProbeSpec {
    name: "ldap.forest",
    summary: "Bound read of CN=Partitions and CN=Sites: every domain and every DC of the forest",
    fields: &[
        "configuration_naming_context",
        "domains",
        "forest_dcs",
        "answered_by",
        "transport",
    ],
    needs:
        "give --dc HOST and --bind-user USER (password in READYSCAN_PASSWORD or --password-stdin)",
    stage: 4,
    reads: &[],
    budget: 15,
    check_params: no_params,
    applies: always,
};

/// `ldap.domain`: one observation per domain of `ldap.forest`, no traffic.
pub static DOMAIN: ProbeSpec = ProbeSpec {
    name: "ldap.domain",
    summary: "Per domain of the forest: NetBIOS name, domain level, writable DCs, DCs per site",
    fields: &[
        "dns_root",
        "netbios",
        "netbios_has_period",
        "naming_context",
        "domain_functionality",
        "domain_level_name",
        "writable_dcs",
        "rodcs",
        "dc_hosts",
        "dcs_per_site",
    ],
    needs: "give --dc HOST and --bind-user USER: the domains come from ldap.forest",
    stage: 5,
    reads: &["ldap.forest"],
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
        "domains_in_forest",
        "global_catalog",
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

/// `ldap.sync_rule`: one observation per synchronization rule of checks/data/sync-rules.toml
/// for each `ldap.sync_objects` pass (zero counts included), no traffic: what the per-rule
/// checks of checks/sync.toml judge.
pub static SYNC_RULE: ProbeSpec = ProbeSpec {
    name: "ldap.sync_rule",
    summary: "Per directory-synchronization rule of one ldap.sync_objects pass: objects \
              breaking it and the first examples",
    fields: &[
        "base",
        "rule",
        "attribute",
        "kind",
        "blocker",
        "objects",
        "objects_read",
        "share",
        "examples",
        "first_objects",
    ],
    needs: "give --dc HOST and --bind-user USER: the rules are judged by ldap.sync_objects",
    stage: 7,
    reads: &["ldap.sync_objects"],
    budget: 1,
    check_params: no_params,
    applies: always,
};
