//! Steps after evaluation. Each reads the findings and returns annotations for them (or a
//! summary) instead of changing them; the report puts findings and annotations together.
//! The steps do not import each other.
//!
//! To add a step: a module here with a function from `&[Finding]` to its annotations, and a
//! call in `report::Report::build`.

pub mod baseline;
pub mod conflicts;
pub mod exceptions;
