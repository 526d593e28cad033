//! Directory-synchronization readiness: the attribute rules of checks/data/sync-rules.toml judged
//! on entries as they stream, with duplicates found in one pass. Pure: no traffic here.

pub mod dupes;
pub mod judge;
pub mod normalise;
pub mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

pub use dupes::{DupIndex, DupSet};
pub use judge::{judge, skip_rule, Entry, Forest, Problem};
pub use rules::Rules;

/// Examples kept per rule.
pub const EXAMPLES: usize = 20;

/// One rule's findings: how many objects break it and the first examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTally {
    pub rule: String,
    pub attribute: String,
    pub blocker: bool,
    pub objects: u64,
    pub examples: Vec<Problem>,
}

/// What one pass found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub read: u64,
    /// Skip rule id -> objects skipped by it.
    pub skipped: BTreeMap<String, u64>,
    pub with_problems: u64,
    /// Objects with at least one problem that stops them from syncing.
    pub blocker_objects: u64,
    pub rules: Vec<RuleTally>,
    pub duplicates: Vec<DupSet>,
    /// Every problem (the fix list), up to the pass's row limit.
    pub rows: Vec<Problem>,
    pub rows_dropped: u64,
}

/// A streaming pass: feed entries one by one; memory holds the duplicate index, the examples and
/// the fix-list rows, never the entries.
pub struct Pass<'r> {
    rules: &'r Rules,
    forest: Forest,
    read: u32,
    skipped: BTreeMap<String, u64>,
    flagged: Vec<u64>,
    blocked: Vec<u64>,
    tallies: BTreeMap<String, (RuleTally, u32)>,
    dupes: DupIndex,
    /// Objects counted per duplicate rule (first holders are counted at the end).
    dup_holders: BTreeMap<String, HashSet<u32>>,
    rows: Vec<Problem>,
    row_limit: usize,
    rows_dropped: u64,
    scratch: Vec<Problem>,
    /// `sync-<id>-duplicate` per attribute of the table, made once (not per entry).
    dup_rules: Vec<String>,
}

impl<'r> Pass<'r> {
    pub fn new(rules: &'r Rules, forest: Forest, row_limit: usize) -> Pass<'r> {
        Pass {
            rules,
            forest,
            read: 0,
            skipped: BTreeMap::new(),
            flagged: Vec::new(),
            blocked: Vec::new(),
            tallies: BTreeMap::new(),
            dupes: DupIndex::default(),
            dup_holders: BTreeMap::new(),
            rows: Vec::new(),
            row_limit,
            rows_dropped: 0,
            scratch: Vec::new(),
            dup_rules: rules
                .attribute
                .iter()
                .map(|a| format!("sync-{}-duplicate", a.id))
                .collect(),
        }
    }

    pub fn read(&self) -> u64 {
        u64::from(self.read)
    }

    pub fn feed(&mut self, entry: &Entry) {
        let ordinal = self.read;
        self.read = self.read.saturating_add(1);
        if let Some(id) = skip_rule(self.rules, entry) {
            *self.skipped.entry(id.to_string()).or_default() += 1;
            return;
        }
        let mut found = std::mem::take(&mut self.scratch);
        found.clear();
        judge(self.rules, &self.forest, entry, &mut found);
        self.index(ordinal, entry, &mut found);
        for p in found.drain(..) {
            self.record(ordinal, p);
        }
        self.scratch = found;
    }

    fn index(&mut self, ordinal: u32, entry: &Entry, found: &mut Vec<Problem>) {
        let no_upn = entry.values("userPrincipalName").is_empty();
        for (attr, rule) in self.rules.attribute.iter().zip(&self.dup_rules) {
            if !(attr.unique || (attr.unique_without_upn && no_upn)) {
                continue;
            }
            let typed = attr.format.as_deref() == Some("smtp");
            for value in entry.values(&attr.name) {
                let norm = normalise::normalise(value, typed);
                if norm.is_empty() {
                    continue;
                }
                let key = dupes::key(&attr.id, &norm);
                let named = (rule.as_str(), attr.name.as_str());
                if self.dupes.observe(ordinal, &entry.dn, named, key, value) {
                    found.push(Problem {
                        rule: rule.clone(),
                        blocker: self.rules.is_blocker("duplicate"),
                        dn: entry.dn.clone(),
                        object_class: entry.object_class.clone(),
                        attribute: attr.name.clone(),
                        value: value.clone(),
                        what: "an earlier object holds the same value".into(),
                        suggested: None,
                    });
                }
            }
        }
    }

    fn record(&mut self, ordinal: u32, p: Problem) {
        set_bit(&mut self.flagged, ordinal);
        if p.blocker {
            set_bit(&mut self.blocked, ordinal);
        }
        let (tally, last) = self.tallies.entry(p.rule.clone()).or_insert_with(|| {
            let t = RuleTally {
                rule: p.rule.clone(),
                attribute: p.attribute.clone(),
                blocker: p.blocker,
                objects: 0,
                examples: Vec::new(),
            };
            (t, u32::MAX)
        });
        let new = if p.rule.ends_with("-duplicate") {
            let seen = self.dup_holders.entry(p.rule.clone()).or_default();
            seen.insert(ordinal)
        } else {
            *last != ordinal
        };
        if new {
            tally.objects += 1;
            *last = ordinal;
        }
        if tally.examples.len() < EXAMPLES {
            tally.examples.push(p.clone());
        }
        if self.rows.len() < self.row_limit {
            self.rows.push(p);
        } else {
            self.rows_dropped += 1;
        }
    }

    /// First holder, attribute and value of every duplicate set whose first DN is unknown.
    pub fn pending(&self) -> Vec<(u32, String, String, Vec<String>)> {
        self.dupes.pending()
    }

    /// Ordinals of first holders of duplicated values: a second lookup supplies their DNs.
    pub fn wanted(&self) -> HashSet<u32> {
        self.dupes.wanted()
    }

    pub fn resolve(&mut self, ordinal: u32, dn: &str) {
        self.dupes.resolve(ordinal, dn);
    }

    /// Distinct values in the duplicate index.
    pub fn indexed(&self) -> usize {
        self.dupes.distinct()
    }

    pub fn finish(mut self) -> Summary {
        let dupes = std::mem::take(&mut self.dupes);
        let sets = dupes.into_sets();
        for set in &sets {
            let Some(dn) = set.first_dn.clone() else {
                continue;
            };
            let p = Problem {
                rule: set.rule.clone(),
                blocker: self.rules.is_blocker("duplicate"),
                dn,
                object_class: String::new(),
                attribute: set.attribute.clone(),
                value: set.value.clone(),
                what: format!("{} later object(s) hold the same value", set.others.len()),
                suggested: None,
            };
            self.record(set.first, p);
        }
        let with_problems = ones(&self.flagged);
        let blocker_objects = ones(&self.blocked);
        let mut rules: Vec<RuleTally> = self.tallies.into_values().map(|(t, _)| t).collect();
        rules.sort_by(|a, b| b.blocker.cmp(&a.blocker).then(a.rule.cmp(&b.rule)));
        Summary {
            read: u64::from(self.read),
            skipped: self.skipped,
            with_problems,
            blocker_objects,
            rules,
            duplicates: sets,
            rows: self.rows,
            rows_dropped: self.rows_dropped,
        }
    }
}

fn set_bit(bits: &mut Vec<u64>, ordinal: u32) {
    let word = ordinal as usize / 64;
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    bits[word] |= 1 << (ordinal % 64);
}

fn ones(bits: &[u64]) -> u64 {
    bits.iter().map(|w| u64::from(w.count_ones())).sum()
}
