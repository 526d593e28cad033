//! The words checks, reports and flags share: onboarding scopes, and the areas a report groups
//! findings by, each with its title and the team that owns its fixes, in fix order.

/// Onboarding scopes a check can belong to.
pub const SCOPES: &[&str] = &["core", "intune", "configmgr", "federation"];
/// What a scan judges unless told otherwise.
pub const DEFAULT_SCOPES: &[&str] = &["core", "intune"];
/// The scope a Configuration Manager site (given or found in AD) brings in.
pub const CONFIGMGR_SCOPE: &str = "configmgr";

pub struct Area {
    pub id: &'static str,
    pub title: &'static str,
    /// The team that owns fixes in this area.
    pub team: &'static str,
}

/// Areas in fix order: the network first, then DNS, then the directory that needs both.
pub const AREAS: &[Area] = &[
    Area {
        id: "network",
        title: "Network and firewall",
        team: "Network",
    },
    Area {
        id: "dns",
        title: "DNS",
        team: "DNS",
    },
    Area {
        id: "identity",
        title: "Active Directory",
        team: "Active Directory",
    },
    Area {
        id: "federation",
        title: "Identity federation",
        team: "Identity and federation",
    },
    Area {
        id: "configmgr",
        title: "Configuration Manager",
        team: "Configuration Manager",
    },
];

pub fn area(id: &str) -> Option<&'static Area> {
    AREAS.iter().find(|a| a.id == id)
}

/// Position in fix order; unknown areas go last.
pub fn area_rank(id: &str) -> usize {
    AREAS.iter().position(|a| a.id == id).unwrap_or(AREAS.len())
}

pub fn area_title(id: &str) -> &str {
    area(id).map(|a| a.title).unwrap_or(id)
}

pub fn area_team(id: &str) -> &str {
    area(id).map(|a| a.team).unwrap_or(id)
}

/// "1 warning", "2 warnings": a count with its noun, singular for one.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn area_ids() -> Vec<&'static str> {
    AREAS.iter().map(|a| a.id).collect()
}
