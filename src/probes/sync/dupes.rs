//! Duplicates across the forest in one pass: a map of fixed-size hashes of the normalised values
//! to the first holder's ordinal; DNs are kept only for values seen twice.

use serde::{Deserialize, Serialize};
use std::collections::hash_map::{DefaultHasher, Entry as Slot};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// The keys are already 64-bit hashes: the maps use them as they are instead of hashing again
/// (the index holds one entry per distinct value, millions in a large forest).
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// Every holder of one duplicated value. `first_dn` is filled by a second, bounded lookup
/// (the pass keeps only the first holder's ordinal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DupSet {
    pub rule: String,
    pub attribute: String,
    /// The value as the second holder has it (the first may differ in case or prefix case).
    pub value: String,
    pub first: u32,
    pub first_dn: Option<String>,
    pub others: Vec<String>,
}

impl DupSet {
    /// Every known holder, first one first.
    pub fn members(&self) -> Vec<&str> {
        self.first_dn
            .iter()
            .chain(self.others.iter())
            .map(String::as_str)
            .collect()
    }
}

#[derive(Debug, Default)]
pub struct DupIndex {
    first: KeyMap<u32>,
    sets: KeyMap<DupSet>,
}

pub fn key(attribute_id: &str, normalised: &str) -> u64 {
    let mut h = DefaultHasher::new();
    attribute_id.hash(&mut h);
    normalised.hash(&mut h);
    h.finish()
}

impl DupIndex {
    /// Records one value of object `ordinal`; true when an earlier object holds it.
    pub fn observe(
        &mut self,
        ordinal: u32,
        dn: &str,
        (rule, attribute): (&str, &str),
        key: u64,
        value: &str,
    ) -> bool {
        match self.first.entry(key) {
            Slot::Vacant(slot) => {
                slot.insert(ordinal);
                false
            }
            // The same object listing a value twice is not a forest duplicate.
            Slot::Occupied(slot) if *slot.get() == ordinal => false,
            Slot::Occupied(slot) => {
                let first = *slot.get();
                let set = self.sets.entry(key).or_insert_with(|| DupSet {
                    rule: rule.to_string(),
                    attribute: attribute.to_string(),
                    value: value.to_string(),
                    first,
                    first_dn: None,
                    others: Vec::new(),
                });
                if set.others.last().map(String::as_str) != Some(dn) {
                    set.others.push(dn.to_string());
                }
                true
            }
        }
    }

    /// Values held more than once.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Number of distinct values indexed (for the memory figure).
    pub fn distinct(&self) -> usize {
        self.first.len()
    }

    /// Ordinals whose DN a second lookup must supply.
    pub fn wanted(&self) -> std::collections::HashSet<u32> {
        self.sets.values().map(|s| s.first).collect()
    }

    /// The second lookup found the DN of object `ordinal`.
    pub fn resolve(&mut self, ordinal: u32, dn: &str) {
        for set in self.sets.values_mut().filter(|s| s.first == ordinal) {
            set.first_dn = Some(dn.to_string());
        }
    }

    /// (first ordinal, attribute, value, other holders) of the sets without a first DN.
    pub fn pending(&self) -> Vec<(u32, String, String, Vec<String>)> {
        let mut out: Vec<_> = self
            .sets
            .values()
            .filter(|s| s.first_dn.is_none())
            .map(|s| {
                (
                    s.first,
                    s.attribute.clone(),
                    s.value.clone(),
                    s.others.clone(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The sets, in a stable order (rule, value).
    pub fn into_sets(self) -> Vec<DupSet> {
        let mut sets: Vec<DupSet> = self.sets.into_values().collect();
        sets.sort_by(|a, b| (&a.rule, &a.value).cmp(&(&b.rule, &b.value)));
        sets
    }
}
