//! The words checks, reports and flags share: onboarding scopes, and the areas a report groups
//! findings by, each with its title and the team that owns its fixes, in fix order.

/// Onboarding scopes a check can belong to.
pub const SCOPES: &[&str] = &["core", "intune", "configmgr", "federation", "pki"];
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
    Area {
        id: "pki",
        title: "Certificates and PKI",
        team: "PKI",
    },
    Area {
        id: "exchange",
        title: "Exchange on-premises",
        team: "Messaging",
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

/// Subject order as a reader expects it: runs of digits compare as numbers, so
/// `dc1:389` < `dc1:445` < `dc1:3268` and `dc2` < `dc10`; the rest compares as text.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(rb.iter()) {
        let order = match (x, y) {
            ((true, m), (true, n)) => {
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                m.len().cmp(&n.len()).then_with(|| m.cmp(n))
            }
            ((_, m), (_, n)) => m.cmp(n),
        };
        if order.is_ne() {
            return order;
        }
    }
    ra.len().cmp(&rb.len()).then_with(|| a.cmp(b))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_sort_with_numbers_as_numbers() {
        let mut s = vec![
            "dc1.corp.test:3268",
            "dc1.corp.test:389",
            "dc10.corp.test:53",
            "dc1.corp.test:445",
            "dc2.corp.test:53",
            "dc1.corp.test:49152",
        ];
        s.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            s,
            [
                "dc1.corp.test:389",
                "dc1.corp.test:445",
                "dc1.corp.test:3268",
                "dc1.corp.test:49152",
                "dc2.corp.test:53",
                "dc10.corp.test:53"
            ]
        );
        assert_eq!(plural(1, "warning"), "1 warning");
        assert_eq!(plural(0, "warning"), "0 warnings");
    }
}
