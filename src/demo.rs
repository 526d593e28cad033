//! The built-in demo environment: observations of a forest that has not been remediated yet.
//! Shipped in fixtures/demo/ and embedded, so `scan --demo` sends no traffic at all.

use crate::observation::ObservationSet;
use crate::report::{parse_observations, InputError};

pub const BEFORE: &str = include_str!("../fixtures/demo/before.json");

pub fn before() -> Result<ObservationSet, InputError> {
    parse_observations(BEFORE, "fixtures/demo/before.json")
}
