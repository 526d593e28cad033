//! How much one LDAP probe reads: entries per search, pages per search, bytes per probe. Past a
//! limit the probe ends with an error of kind `limit` that names it. Nesting depth, message size
//! and elements per message are bounded earlier, in the BER parser (vendor/lber); this module
//! turns its verdict into words.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ldap3::asn1::{StructureTag, PL};

use crate::probes::ProbeError;

/// Entries (and referrals) one subtree search may return. The searches readyscan makes (trusts,
/// domains of the forest, DCs, ConfigMgr sites and MPs) return dozens, a few thousand at most.
pub const ENTRIES_PER_SEARCH: usize = 10_000;
/// Entries a base-object read may return: the protocol allows one.
pub const ENTRIES_PER_READ: usize = 1;
/// Result pages one paged search may take; 10,000 entries at 500 a page are 20.
pub const PAGES_PER_SEARCH: usize = 100;
/// Result pages one streamed search ([`super::conn::ReadOnlyLdap::search_each`]) may take:
/// 100,000 pages of 1,000 are 100 million objects, more than any forest holds.
pub const PAGES_PER_STREAM: usize = 100_000;
/// The largest entry a streamed search accepts; user and computer objects with the attributes
/// readyscan asks for take a few KB.
pub const BYTES_PER_STREAMED_ENTRY: usize = 1 << 20;
/// Bytes of entries (DN, attribute names and values) one probe may read over all its searches
/// and connections. Its reads keep a few hundred KB in the largest directories.
pub const BYTES_PER_PROBE: usize = 16 << 20;

/// Why an LDAP read stopped: a limit (kind `limit`) or anything else (kind `failed`).
#[derive(Debug)]
pub enum ReadError {
    Limit(String),
    Failed(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Limit(m) | ReadError::Failed(m) => f.write_str(m),
        }
    }
}

impl From<String> for ReadError {
    fn from(m: String) -> Self {
        ReadError::Failed(m)
    }
}

impl From<&str> for ReadError {
    fn from(m: &str) -> Self {
        ReadError::Failed(m.to_string())
    }
}

impl From<ReadError> for ProbeError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Limit(m) => ProbeError::Limit(m),
            ReadError::Failed(m) => ProbeError::Failed(m),
        }
    }
}

/// The bytes one probe has read, shared by its connections.
#[derive(Debug, Clone, Default)]
pub struct ReadBudget(Arc<AtomicUsize>);

impl ReadBudget {
    /// Counts an entry of `bytes`; past [`BYTES_PER_PROBE`] the error names the limit.
    pub fn take(&self, dc: &str, bytes: usize) -> Result<(), ReadError> {
        let before = self.0.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > BYTES_PER_PROBE {
            return Err(ReadError::Limit(format!(
                "{dc}: the server sent more than {} of entries, readyscan's limit per probe; \
                 reading stopped",
                mib(BYTES_PER_PROBE)
            )));
        }
        Ok(())
    }
}

/// What one decoded element costs besides its bytes (the tag and, once built, the `String`).
const ELEMENT_COST: usize = 32;

/// The size of an entry as readyscan counts it, close to what it takes decoded: the bytes of
/// every primitive element (DN, attribute names and values, referral URLs) plus
/// [`ELEMENT_COST`] for each element, so thousands of tiny values weigh what they take in memory.
/// lber's depth limit bounds the recursion.
pub fn entry_size(tag: &StructureTag) -> usize {
    ELEMENT_COST
        + match &tag.payload {
            PL::P(bytes) => bytes.len(),
            PL::C(inner) => inner.iter().map(entry_size).sum(),
        }
}

/// The error for a search that returned more than `max` entries.
pub fn too_many_entries(dc: &str, what: &str, max: usize) -> ReadError {
    let limit = if max == ENTRIES_PER_READ {
        "more than one entry for a base-object read (the protocol allows one)".to_string()
    } else {
        format!(
            "more than {} entries, readyscan's limit per search",
            thousands(max)
        )
    };
    ReadError::Limit(format!("{dc}: {what}: {limit}; reading stopped"))
}

/// The error for a paged search that asked for more than [`PAGES_PER_SEARCH`] pages.
pub fn too_many_pages(dc: &str, what: &str) -> ReadError {
    ReadError::Limit(format!(
        "{dc}: {what}: more than {PAGES_PER_SEARCH} result pages, readyscan's limit per search; \
         reading stopped"
    ))
}

/// The error for a streamed search whose pages never end.
pub fn too_many_pages_streamed(dc: &str, what: &str) -> ReadError {
    ReadError::Limit(format!(
        "{dc}: {what}: more than {} result pages, readyscan's limit per streamed search; reading \
         stopped",
        thousands(PAGES_PER_STREAM)
    ))
}

/// The error for one entry over [`BYTES_PER_STREAMED_ENTRY`] in a streamed search.
pub fn entry_too_large(dc: &str, what: &str) -> ReadError {
    ReadError::Limit(format!(
        "{dc}: {what}: an entry over {}, readyscan's limit per entry of a streamed search; \
         reading stopped",
        mib(BYTES_PER_STREAMED_ENTRY)
    ))
}

/// What the BER parser's limit means, in words.
pub fn parser_limit(dc: &str, limit: lber::parse::Limit) -> ReadError {
    use lber::parse::{Limit, MAX_DEPTH, MAX_ELEMENTS, MAX_MESSAGE_LEN};
    let what = match limit {
        Limit::Depth => format!("nests deeper than {MAX_DEPTH} levels"),
        Limit::MessageLen => format!("announces a message over {}", mib(MAX_MESSAGE_LEN)),
        Limit::Elements => format!(
            "holds more than {} elements in one message",
            thousands(MAX_ELEMENTS)
        ),
    };
    ReadError::Limit(format!(
        "{dc}: the server's answer {what}, past readyscan's limit for an LDAP message; the \
         connection was closed"
    ))
}

/// An answer ldap3 could not decode, when which limit (if any) is not known.
pub fn undecodable(dc: &str) -> ReadError {
    use lber::parse::{MAX_DEPTH, MAX_MESSAGE_LEN};
    ReadError::Failed(format!(
        "{dc}: the server's answer could not be decoded (malformed LDAP message, or past \
         readyscan's limits of {MAX_DEPTH} nesting levels and {} per message)",
        mib(MAX_MESSAGE_LEN)
    ))
}

fn mib(bytes: usize) -> String {
    format!("{} MiB", bytes >> 20)
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::asn1::TagClass;

    fn prim(bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id: 4,
            payload: PL::P(bytes.to_vec()),
        }
    }

    #[test]
    fn entry_size_counts_primitive_bytes() {
        let entry = StructureTag {
            class: TagClass::Application,
            id: 4,
            payload: PL::C(vec![prim(b"cn=x"), prim(b"abc")]),
        };
        assert_eq!(entry_size(&entry), 7 + 3 * ELEMENT_COST);
    }

    #[test]
    fn budget_is_shared_and_named() {
        let budget = ReadBudget::default();
        let other = budget.clone();
        budget.take("dc1", BYTES_PER_PROBE - 1).unwrap();
        other.take("dc1", 1).unwrap();
        let err = budget.take("dc1", 1).unwrap_err();
        assert!(matches!(err, ReadError::Limit(_)));
        assert!(err.to_string().contains("16 MiB"), "{err}");
    }

    #[test]
    fn limits_are_named() {
        let e = too_many_entries("dc1", "search under DC=x", ENTRIES_PER_SEARCH);
        assert!(e.to_string().contains("more than 10,000 entries"), "{e}");
        let e = too_many_entries("dc1", "read of the rootDSE", ENTRIES_PER_READ);
        assert!(e.to_string().contains("base-object read"), "{e}");
        let e = parser_limit("dc1", lber::parse::Limit::Depth);
        assert!(e.to_string().contains("deeper than 64 levels"), "{e}");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
    }
}
