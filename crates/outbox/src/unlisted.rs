//! People with no evidence of where they write, read from the relays the
//! client uses anyway.
//!
//! Many real accounts publish no relay list (older clients never wrote
//! one), and a person nobody hinted at and never seen has no candidate
//! relay at all: exploration cannot reach them, since it only probes
//! relays someone has evidence for. Yet their notes often sit on the big
//! relays the user reads from or on the discovery relays the client
//! connects to for relay lists. So they are asked about there: in the same
//! REQ the relay gets anyway, no new connection, within the exposure cap.
//! A relay that delivers becomes `Seen` evidence, and from then on the
//! planner reads them like anyone else. It is exploration of a kind (relays
//! asked about people they have no evidence for), so `Policy::explore`
//! turns it off too.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Plan, PlanInput};
use crate::score;

/// The weakest guess: a relay in use that no followed person is known to
/// write to is still worth asking about someone who left no trace.
const MIN_GUESS: f64 = 0.1;

/// The relays in use (`PlanInput::in_use`) the planner may read from:
/// allowed, not known to be down, each once, in the order given.
pub(crate) fn in_use(input: &PlanInput) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    input
        .in_use
        .iter()
        .map(String::as_str)
        .filter(|u| seen.insert(*u))
        .filter(|u| !input.policy.denied.contains(*u))
        .filter(|u| score::health(input, u) > 0.1)
        .collect()
}

/// For someone with no evidence, how likely they write to each relay in
/// use: the share of followed people with evidence known to write there
/// (a guess from the crowd, at least [`MIN_GUESS`]), as evidence strength.
pub(crate) fn guesses(
    in_use: &[&str],
    with_evidence: &BTreeMap<String, BTreeMap<String, f64>>,
) -> BTreeMap<String, f64> {
    let n = with_evidence.len().max(1) as f64;
    in_use
        .iter()
        .map(|url| {
            let writers = with_evidence
                .values()
                .filter(|relays| relays.contains_key(*url))
                .count();
            ((*url).to_owned(), (writers as f64 / n).max(MIN_GUESS))
        })
        .collect()
}

/// Moves the guessed people's places from `assignments` to `unlisted`:
/// they are asked there like anyone else, but what the plan says of them
/// is "read from your relays (no relay list)".
pub(crate) fn split(plan: &mut Plan, guessed: &BTreeSet<String>) {
    if guessed.is_empty() {
        return;
    }
    let mut unlisted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (url, people) in plan.assignments.iter_mut() {
        let (guesses, known): (Vec<String>, Vec<String>) =
            people.drain(..).partition(|p| guessed.contains(p));
        *people = known;
        if !guesses.is_empty() {
            unlisted.insert(url.clone(), guesses);
        }
    }
    plan.assignments.retain(|_, people| !people.is_empty());
    plan.unlisted = unlisted;
}

#[cfg(test)]
mod tests {
    use crate::model::{PlanInput, RelayList};
    use crate::planner::plan;

    fn follows(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i:02}")).collect()
    }

    #[test]
    fn people_without_evidence_are_read_from_relays_in_use_not_orphaned() {
        let mut input = PlanInput {
            follows: follows(3),
            in_use: vec!["wss://mine".into(), "wss://index".into()],
            ..PlanInput::default()
        };
        input.relay_lists.insert(
            "p00".into(),
            RelayList {
                write: vec!["wss://theirs".into()],
                read: vec![],
            },
        );
        let plan = plan(&input);
        assert!(plan.orphans.is_empty(), "{:?}", plan.orphans);
        assert_eq!(plan.unlisted["wss://mine"], vec!["p01", "p02"]);
        assert_eq!(plan.unlisted["wss://index"], vec!["p01", "p02"]);
        assert_eq!(plan.assignments["wss://theirs"], vec!["p00"]);
        // No new connection counted: the relays are open anyway.
        assert_eq!(plan.connections, 1);
        assert!(!plan.asked()["wss://mine"].contains(&"p00"));
    }

    #[test]
    fn the_cap_holds_on_relays_in_use() {
        let mut input = PlanInput {
            follows: follows(40),
            in_use: vec!["wss://mine".into()],
            ..PlanInput::default()
        };
        input.policy.max_exposure = Some(0.25);
        input.policy.cap_floor = 1;
        let plan = plan(&input);
        assert!(plan.max_exposure(40) <= 0.25, "{:?}", plan.unlisted);
        let asked = plan.unlisted["wss://mine"].len();
        assert!(asked > 0);
        assert_eq!(plan.orphans.len(), 40 - asked);
        assert!(plan
            .orphans
            .iter()
            .all(|o| o.reason == crate::model::OrphanReason::NoRelayList));
    }

    #[test]
    fn with_exploration_off_they_stay_orphans() {
        let mut input = PlanInput {
            follows: follows(2),
            in_use: vec!["wss://mine".into()],
            ..PlanInput::default()
        };
        input.policy.explore = false;
        let plan = plan(&input);
        assert!(plan.unlisted.is_empty());
        assert_eq!(plan.orphans.len(), 2);
    }

    #[test]
    fn without_relays_in_use_nothing_changes() {
        let input = PlanInput {
            follows: follows(2),
            ..PlanInput::default()
        };
        let plan = plan(&input);
        assert!(plan.unlisted.is_empty());
        assert_eq!(plan.orphans.len(), 2);
    }
}
