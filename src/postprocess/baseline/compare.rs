//! Pairing the findings of two runs by check id and subject.

use std::collections::{HashMap, VecDeque};

use super::{Change, ChangeState, SnapshotFinding, WHOLE_CHECK};
use crate::evaluate::Status;

/// Pairs current findings with baseline findings by check id + subject. Duplicated keys pair up
/// in order. Returns one change per current finding and the baseline findings left over.
pub fn compare(
    base: &[SnapshotFinding],
    current: &[SnapshotFinding],
) -> (Vec<Change>, Vec<SnapshotFinding>) {
    let mut by_key: HashMap<(&str, &str), VecDeque<usize>> = HashMap::new();
    for (i, f) in base.iter().enumerate() {
        by_key
            .entry((f.check_id.as_str(), f.subject.as_str()))
            .or_default()
            .push_back(i);
    }
    let mut used = vec![false; base.len()];
    let mut was: Vec<Option<Status>> = current
        .iter()
        .map(|f| {
            by_key
                .get_mut(&(f.check_id.as_str(), f.subject.as_str()))
                .and_then(VecDeque::pop_front)
                .map(|i| {
                    used[i] = true;
                    base[i].status
                })
        })
        .collect();
    let mut was_subject: Vec<Option<String>> = vec![None; current.len()];
    // A check one run could not collect at all (subject "-") pairs with every unpaired
    // finding of that check in the other run, so "not assessed" then "pass" reads as resolved.
    for (c, f) in current.iter().enumerate() {
        if was[c].is_some() {
            continue;
        }
        let unpaired_base = |i: &usize| !used[*i] && base[*i].check_id == f.check_id;
        if f.subject == WHOLE_CHECK {
            let others: Vec<usize> = (0..base.len())
                .filter(|i| unpaired_base(i) && base[*i].subject != WHOLE_CHECK)
                .collect();
            if others.is_empty() {
                continue;
            }
            // Any subject that passed before and cannot be assessed now is a regression.
            let statuses: Vec<Status> = others.iter().map(|i| base[*i].status).collect();
            was[c] = statuses
                .iter()
                .find(|s| **s == Status::Pass)
                .or_else(|| statuses.iter().find(|s| s.is_open()))
                .or(statuses.first())
                .copied();
            was_subject[c] = Some(format!("{} subjects", others.len()));
            for i in others {
                used[i] = true;
            }
        } else if let Some(i) =
            (0..base.len()).find(|i| unpaired_base(i) && base[*i].subject == WHOLE_CHECK)
        {
            was[c] = Some(base[i].status);
            was_subject[c] = Some(WHOLE_CHECK.to_string());
        }
    }
    // Placeholders paired above are accounted for, not dropped.
    for (i, b) in base.iter().enumerate() {
        if b.subject == WHOLE_CHECK
            && current
                .iter()
                .zip(&was_subject)
                .any(|(f, ws)| f.check_id == b.check_id && ws.as_deref() == Some(WHOLE_CHECK))
        {
            used[i] = true;
        }
    }
    let changes = was
        .into_iter()
        .zip(was_subject)
        .zip(current)
        .map(|((was, was_subject), f)| Change {
            state: ChangeState::of(was, f.status),
            was,
            was_subject,
        })
        .collect();
    let left = base
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(f, _)| f.clone())
        .collect();
    (changes, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, subject: &str, status: Status) -> SnapshotFinding {
        SnapshotFinding {
            check_id: id.into(),
            subject: subject.into(),
            status,
            title: String::new(),
            area: String::new(),
        }
    }

    #[test]
    fn every_change_state() {
        let base = vec![
            f("a", "x", Status::Fail),
            f("b", "x", Status::Error),
            f("c", "x", Status::Pass),
            f("d", "x", Status::Warn),
            f("e", "x", Status::Pass),
            f("gone", "x", Status::Fail),
        ];
        let now = vec![
            f("a", "x", Status::Pass),
            f("b", "x", Status::Fail),
            f("c", "x", Status::Fail),
            f("d", "x", Status::NotApplicable),
            f("e", "x", Status::Pass),
            f("n", "x", Status::Fail),
        ];
        let (changes, left) = compare(&base, &now);
        let states: Vec<ChangeState> = changes.iter().map(|c| c.state).collect();
        assert_eq!(
            states,
            vec![
                ChangeState::Resolved,
                ChangeState::StillOpen,
                ChangeState::Regressed,
                ChangeState::Unchanged,
                ChangeState::Unchanged,
                ChangeState::New,
            ]
        );
        assert_eq!(changes[1].was, Some(Status::Error));
        assert_eq!(changes[5].was, None);
        assert_eq!(left, vec![f("gone", "x", Status::Fail)]);
    }

    #[test]
    fn pass_to_not_assessed_is_a_regression() {
        let (c, _) = compare(&[f("a", "x", Status::Pass)], &[f("a", "x", Status::Error)]);
        assert_eq!(c[0].state, ChangeState::Regressed);
    }

    #[test]
    fn a_check_not_collected_pairs_with_every_subject() {
        // First run could not collect the ports; the second could.
        let base = vec![f("p", "-", Status::Error), f("q", "x", Status::Pass)];
        let now = vec![
            f("p", "dc1:53", Status::Pass),
            f("p", "dc1:445", Status::Fail),
            f("q", "x", Status::Pass),
        ];
        let (c, left) = compare(&base, &now);
        assert_eq!(c[0].state, ChangeState::Resolved);
        assert_eq!(c[0].was_subject.as_deref(), Some("-"));
        assert_eq!(c[1].state, ChangeState::StillOpen);
        assert_eq!(c[2].was_subject, None);
        assert!(left.is_empty(), "{left:?}");
        // And the other way round: the ports passed, now they cannot be assessed.
        let (c, left) = compare(&now, &base);
        assert_eq!(c[0].state, ChangeState::Regressed);
        assert_eq!(c[0].was, Some(Status::Pass));
        assert_eq!(c[0].was_subject.as_deref(), Some("2 subjects"));
        assert!(left.is_empty());
    }

    #[test]
    fn duplicated_keys_pair_in_order() {
        let base = vec![f("a", "x", Status::Fail), f("a", "x", Status::Pass)];
        let now = vec![f("a", "x", Status::Pass), f("a", "x", Status::Pass)];
        let (c, left) = compare(&base, &now);
        assert_eq!(c[0].state, ChangeState::Resolved);
        assert_eq!(c[1].state, ChangeState::Unchanged);
        assert!(left.is_empty());
    }
}
