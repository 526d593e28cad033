//! What a probe reports and needs, as data: the catalog validates checks against it and the
//! runner schedules by it. Each probe family keeps its specs beside its code
//! (`probes/<family>/spec.rs`); [`crate::probes::index`] lists them all.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::observation::Observation;

pub struct ProbeSpec {
    pub name: &'static str,
    pub summary: &'static str,
    /// Fields an observation of this probe may carry.
    pub fields: &'static [&'static str],
    /// Told to the admin when a check of this probe has nothing to look at.
    pub needs: &'static str,
    /// Earlier stages run first so later probes can use what they found.
    pub stage: u8,
    /// Probes whose observations this one plans from; they run when this one is needed.
    pub reads: &'static [&'static str],
    /// Timeouts one request may take: probes that make several round trips (bind, then
    /// searches) get more than one.
    pub budget: u32,
    /// Validates a check's `params` for this probe.
    pub check_params: fn(&Value) -> Result<(), String>,
    /// Whether an observation (already matching the check's filter) is one the check asked
    /// for through its params, e.g. a port in its port set.
    pub applies: fn(&Ask<'_>, &Observation) -> bool,
}

impl ProbeSpec {
    /// How long the runner lets one request take.
    pub fn time_budget(&self, timeout: Duration) -> Duration {
        timeout.saturating_mul(self.budget.max(1))
    }
}

/// What a check asks of a probe: the probe-facing part of a catalog check.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub check_id: &'a str,
    /// Probe-specific inputs, such as the ports of a role.
    pub params: &'a Value,
    /// Observation fields that must hold these values for the check to apply.
    pub filter: &'a BTreeMap<String, Value>,
}

impl Ask<'_> {
    /// The host role a check names (`filter = { roles = "dc" }`).
    pub fn role(&self) -> Option<&str> {
        self.filter.get("roles").and_then(Value::as_str)
    }
}

/// Whether an observation is the "cloud endpoints not tested" placeholder that network probes
/// record for their cloud checks without `--cloud-endpoints`.
pub fn is_not_tested(obs: &Observation) -> bool {
    obs.fields.get("not_tested") == Some(&Value::Bool(true))
}

pub fn always(_: &Ask<'_>, _: &Observation) -> bool {
    true
}

pub fn no_params(p: &Value) -> Result<(), String> {
    match p {
        Value::Null => Ok(()),
        _ => Err("this probe takes no params".into()),
    }
}
