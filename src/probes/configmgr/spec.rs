//! The specs of the configmgr probes: their fields, stage and time budget, as checks see them.

use crate::probes::spec::{always, no_params, ProbeSpec};

/// `configmgr.ad_sites`: a bind, then several searches.
pub static AD_SITES: ProbeSpec = ProbeSpec {
    name: "configmgr.ad_sites",
    summary: "Configuration Manager sites and management points published in Active Directory",
    fields: &["container", "sites", "management_points", "adds_scopes"],
    needs: "give --dc HOST and --bind-user USER",
    stage: 1,
    reads: &[],
    budget: 6,
    check_params: no_params,
    applies: always,
};

/// `configmgr.mp_list`: MPs published in AD join the given ones.
pub static MP_LIST: ProbeSpec = ProbeSpec {
    name: "configmgr.mp_list",
    summary:
        "A management point's MPLIST over HTTP (build number), or the version the admin declared",
    fields: &[
        "build",
        "release",
        "support_end",
        "support_note",
        "community",
        "current_branch",
        "current_branch_support_end",
        "source",
        "site_code",
        "mp_fqdn",
        "answered_by",
        "published_in_ad",
        "ad_site_code",
        "vantage",
    ],
    needs: "give --mp HOST, or --configmgr-version 5.00.NNNN.NNNN, or a bind to discover MPs in AD",
    stage: 2,
    reads: &["configmgr.ad_sites"],
    budget: 2,
    check_params: no_params,
    applies: always,
};

/// `configmgr.site`: derived from the MP answers, no traffic.
pub static SITE: ProbeSpec = ProbeSpec {
    name: "configmgr.site",
    summary: "Per site: its build (the lowest of its MPs), whether the MPs agree, which AD entries are stale",
    fields: &[
        "site_code",
        "mps",
        "compared_mps",
        "published_mps",
        "builds",
        "build_mismatch",
        "stale_mps",
        "failures",
        "build",
        "release",
        "support_end",
        "support_note",
        "community",
        "current_branch",
        "current_branch_support_end",
        "source",
    ],
    needs: "needs at least one management point answer (--mp HOST or AD discovery)",
    stage: 3,
    reads: &["configmgr.mp_list"],
    budget: 1,
    check_params: no_params,
    applies: always,
};
