//! Subjects name what was looked at; in a merged report, network subjects carry the vantage
//! they were seen from: `dc1.corp.example:445 @ branch-ws02`.

/// Joins a subject and the vantage it was seen from.
pub const SEPARATOR: &str = " @ ";

/// Splits `subject @ vantage`.
pub fn split(subject: &str) -> Option<(&str, &str)> {
    subject.rsplit_once(SEPARATOR)
}

/// `subject @ vantage`.
pub fn with_vantage(subject: &str, vantage: &str) -> String {
    format!("{subject}{SEPARATOR}{vantage}")
}

/// The subject without its vantage.
pub fn base(subject: &str) -> &str {
    split(subject).map(|(b, _)| b).unwrap_or(subject)
}
