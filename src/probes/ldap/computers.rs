//! `ldap.computers`: a streamed, paged read of every computer object, grouped by OS release as
//! it arrives (nothing is kept but counts and the first names of each group), and
//! `ldap.os_release`: one observation per release group, derived without traffic.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use time::Date;

use super::clients::{self, Judged};
use super::{connect_bound, first, read_bound, spec, ReadError, ReadOnlyLdap};
use crate::observation::{Observation, ObservationStatus};
use crate::probes::{fields, PlanInput, Probe, ProbeContext, ProbeError, ProbeSpec, Request};

/// How many names each group lists.
pub const NAMES_PER_GROUP: usize = 20;
/// A computer whose lastLogonTimestamp is older than this is counted as stale, apart.
pub const STALE_DAYS: i64 = 90;
const ACCOUNTDISABLE: i64 = 0x2;
const PAGE: i32 = 500;
const ATTRS: &[&str] = &[
    "cn",
    "dNSHostName",
    "operatingSystem",
    "operatingSystemVersion",
    "lastLogonTimestamp",
    "userAccountControl",
];

/// One computer object as read.
#[derive(Debug, Clone, Default)]
pub struct Computer {
    pub name: String,
    pub os: String,
    pub version: String,
    /// FILETIME (100 ns since 1601-01-01), as AD stores lastLogonTimestamp.
    pub last_logon: Option<i64>,
    pub uac: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub judged: Judged,
    pub count: u64,
    pub stale: u64,
    pub names: Vec<String>,
}

/// The running totals of a read.
#[derive(Debug)]
pub struct Inventory {
    today: Date,
    pub read: u64,
    pub disabled: u64,
    pub stale: u64,
    pub groups: BTreeMap<String, Group>,
    /// One judgement per distinct (operatingSystem, operatingSystemVersion).
    cache: HashMap<(String, String), Judged>,
}

/// Days since 1601-01-01 of 1970-01-01.
const EPOCH_DAYS_1601: i64 = 134_774;

/// The day a FILETIME falls on.
pub fn filetime_day(ft: i64) -> Option<Date> {
    let days = ft / 864_000_000_000 - EPOCH_DAYS_1601;
    let jd = Date::from_calendar_date(1970, time::Month::January, 1)
        .ok()?
        .to_julian_day();
    Date::from_julian_day(jd.checked_add(i32::try_from(days).ok()?)?).ok()
}

impl Inventory {
    pub fn new(today: Date) -> Self {
        Self {
            today,
            read: 0,
            disabled: 0,
            stale: 0,
            groups: BTreeMap::new(),
            cache: HashMap::new(),
        }
    }

    #[cfg(test)]
    pub fn distinct_systems(&self) -> usize {
        self.cache.len()
    }

    fn is_stale(&self, last_logon: Option<i64>) -> bool {
        match last_logon.and_then(filetime_day) {
            Some(day) => (self.today - day).whole_days() > STALE_DAYS,
            None => true,
        }
    }

    pub fn add(&mut self, c: Computer) {
        self.read += 1;
        if c.uac.is_some_and(|u| u & ACCOUNTDISABLE != 0) {
            self.disabled += 1;
            return;
        }
        let stale = self.is_stale(c.last_logon);
        let key = (c.os, c.version);
        let today = self.today;
        let judged = self
            .cache
            .entry(key)
            .or_insert_with_key(|(os, v)| clients::judge(os, v, today))
            .clone();
        let group = self
            .groups
            .entry(judged.release.clone())
            .or_insert_with(|| Group {
                judged,
                count: 0,
                stale: 0,
                names: Vec::new(),
            });
        if stale {
            self.stale += 1;
            group.stale += 1;
            return;
        }
        group.count += 1;
        if group.names.len() < NAMES_PER_GROUP {
            group.names.push(c.name);
        }
    }

    /// The fields of `ldap.computers`.
    pub fn into_fields(self) -> Map<String, Value> {
        let active = self.read - self.disabled - self.stale;
        let groups: Vec<Value> = self
            .groups
            .into_values()
            .map(|g| {
                json!({
                    "release": g.judged.release,
                    "kind": g.judged.kind,
                    "count": g.count,
                    "stale": g.stale,
                    "names": g.names,
                    "support_end": g.judged.end,
                    "support_note": g.judged.note,
                    "community": g.judged.community,
                })
            })
            .collect();
        fields(json!({
            "computers_read": self.read,
            "active": active,
            "disabled_skipped": self.disabled,
            "stale": self.stale,
            "stale_days": STALE_DAYS,
            "releases": groups,
        }))
    }
}

fn computer_of(e: &ldap3::SearchEntry) -> Computer {
    let name = first(e, "dNSHostName")
        .or_else(|| first(e, "cn"))
        .unwrap_or_else(|| e.dn.clone());
    Computer {
        name: name.to_ascii_lowercase(),
        os: first(e, "operatingSystem").unwrap_or_default(),
        version: first(e, "operatingSystemVersion").unwrap_or_default(),
        last_logon: first(e, "lastLogonTimestamp").and_then(|v| v.trim().parse().ok()),
        uac: first(e, "userAccountControl").and_then(|v| v.trim().parse().ok()),
    }
}

async fn read_computers(
    ldap: &mut ReadOnlyLdap,
    today: Date,
) -> Result<Map<String, Value>, ReadError> {
    let dse = ldap
        .read_entry("", &["defaultNamingContext"])
        .await?
        .ok_or("the rootDSE is empty")?;
    let base =
        first(&dse, "defaultNamingContext").ok_or("the rootDSE has no defaultNamingContext")?;
    let mut inv = Inventory::new(today);
    let totals = ldap
        .search_each(&base, "(objectClass=computer)", ATTRS, PAGE, |e| {
            inv.add(computer_of(&e));
            Ok(())
        })
        .await?;
    let mut out = inv.into_fields();
    out.insert("naming_context".into(), json!(base));
    out.insert("pages".into(), json!(totals.pages));
    Ok(out)
}

pub struct Computers;

#[async_trait]
impl Probe for Computers {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::COMPUTERS
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        super::plan(input.config)
    }

    async fn observe(
        &self,
        req: &Request,
        ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        let (ldap, transport) = connect_bound(req, ctx).await?;
        let dc = ldap.dc.clone();
        let today = time::OffsetDateTime::now_utc().date();
        let mut out = read_bound(ldap, move |ldap| {
            Box::pin(async move { read_computers(ldap, today).await })
        })
        .await?;
        out.insert("answered_by".into(), json!(dc));
        out.insert("transport".into(), json!(transport.to_string()));
        Ok(out)
    }
}

pub struct OsRelease;

#[async_trait]
impl Probe for OsRelease {
    fn spec(&self) -> &'static ProbeSpec {
        &spec::OS_RELEASE
    }

    fn plan(&self, input: &PlanInput<'_>) -> Vec<Request> {
        release_plan(input.prior)
    }

    async fn observe(
        &self,
        req: &Request,
        _ctx: &ProbeContext,
    ) -> Result<Map<String, Value>, ProbeError> {
        super::carried(req, "computers", "the read of the computer objects failed")
    }
}

/// One request per release group of each computer read; a failed read passes its reason on.
pub fn release_plan(prior: &[Observation]) -> Vec<Request> {
    let mut out = Vec::new();
    for obs in prior.iter().filter(|o| o.probe == "ldap.computers") {
        match obs.status {
            ObservationStatus::Observed => {
                let groups = obs.fields.get("releases").and_then(Value::as_array);
                for g in groups.into_iter().flatten() {
                    let Some(mut f) = g.as_object().cloned() else {
                        continue;
                    };
                    let release = f.get("release").and_then(Value::as_str).unwrap_or("?");
                    let subject = format!("{}: {release}", obs.subject);
                    f.insert("domain".into(), json!(obs.subject));
                    out.push(Request { subject, fields: f });
                }
            }
            ObservationStatus::Failed => out.push(Request {
                subject: obs.subject.clone(),
                fields: fields(json!({
                    "domain": obs.subject,
                    "computers_error": obs.reason,
                    "computers_kind": obs.kind,
                })),
            }),
            ObservationStatus::NotApplicable => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 02);

    fn filetime(d: Date) -> i64 {
        let jd70 = date!(1970 - 01 - 01).to_julian_day();
        (i64::from(d.to_julian_day() - jd70) + EPOCH_DAYS_1601) * 864_000_000_000
    }

    fn pc(name: &str, os: &str, v: &str, seen: Date, uac: i64) -> Computer {
        Computer {
            name: name.into(),
            os: os.into(),
            version: v.into(),
            last_logon: Some(filetime(seen)),
            uac: Some(uac),
        }
    }

    #[test]
    fn filetimes() {
        assert_eq!(filetime_day(filetime(TODAY)), Some(TODAY));
        // 2020-01-01 00:00 UTC as AD writes it.
        assert_eq!(
            filetime_day(132_223_104_000_000_000),
            Some(date!(2020 - 01 - 01))
        );
    }

    #[test]
    fn disabled_skipped_stale_apart() {
        let mut inv = Inventory::new(TODAY);
        let recent = date!(2026 - 11 - 30);
        inv.add(pc("a", "Windows 10 Pro", "10.0 (19045)", recent, 4096));
        inv.add(pc("b", "Windows 10 Pro", "10.0 (19045)", recent, 4098));
        inv.add(pc(
            "c",
            "Windows 10 Pro",
            "10.0 (19045)",
            date!(2026 - 09 - 02),
            4096,
        ));
        inv.add(pc(
            "d",
            "Windows 10 Pro",
            "10.0 (19045)",
            date!(2026 - 09 - 03),
            4096,
        ));
        let f = inv.into_fields();
        assert_eq!(f["computers_read"], 4);
        assert_eq!(f["disabled_skipped"], 1);
        assert_eq!(f["stale"], 1, "91 days is stale, 90 is not");
        let g = &f["releases"][0];
        assert_eq!(g["release"], "Windows 10 22H2 (all editions)");
        assert_eq!(
            (g["count"].as_u64(), g["stale"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(g["names"], json!(["a", "d"]));
    }

    /// 50,000 computers arrive one at a time: the inventory keeps counts, one judgement per
    /// distinct OS and at most NAMES_PER_GROUP names per group, never the entries.
    #[test]
    fn fifty_thousand_streamed() {
        let systems = [
            ("Windows 11 Enterprise", "10.0 (22631)"),
            ("Windows 11 Enterprise", "10.0 (26100)"),
            ("Windows 10 Pro", "10.0 (19045)"),
            ("Windows Server 2022 Datacenter", "10.0 (20348)"),
            ("Windows 7 Professional", "6.1 (7601)"),
        ];
        let mut inv = Inventory::new(TODAY);
        let recent = date!(2026 - 11 - 20);
        for i in 0..50_000u32 {
            let (os, v) = systems[(i % 5) as usize];
            let uac = if i % 100 == 0 { 4098 } else { 4096 };
            let seen = if i % 10 == 1 {
                date!(2025 - 01 - 01)
            } else {
                recent
            };
            inv.add(pc(&format!("pc{i:05}"), os, v, seen, uac));
        }
        assert_eq!(inv.distinct_systems(), 5);
        assert_eq!(inv.groups.len(), 5);
        assert!(inv
            .groups
            .values()
            .all(|g| g.names.len() == NAMES_PER_GROUP));
        let f = inv.into_fields();
        assert_eq!(f["computers_read"], 50_000);
        assert_eq!(f["disabled_skipped"], 500);
        assert_eq!(f["stale"], 5_000);
        assert_eq!(f["active"], 44_500);
        let groups = f["releases"].as_array().unwrap();
        let w11 = groups
            .iter()
            .find(|g| g["release"] == "Windows 11 23H2 (Enterprise/Education)")
            .unwrap();
        // i % 5 == 0: 10,000, of which every i % 100 == 0 (500) is disabled; none is stale.
        assert_eq!(w11["count"], 9_500);
        assert_eq!(w11["names"][0], "pc00005");
    }

    #[test]
    fn groups_become_requests() {
        let mut inv = Inventory::new(TODAY);
        inv.add(pc(
            "srv1",
            "Windows Server 2012 R2 Standard",
            "6.3 (9600)",
            TODAY,
            4096,
        ));
        let obs = Observation {
            probe: "ldap.computers".into(),
            subject: "corp.test".into(),
            status: ObservationStatus::Observed,
            reason: None,
            kind: None,
            fields: inv.into_fields(),
        };
        let reqs = release_plan(&[obs]);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].subject, "corp.test: Windows Server 2012 R2");
        assert_eq!(reqs[0].fields["support_end"], "2023-10-10");
        assert_eq!(reqs[0].fields["kind"], "server");
    }
}
