//! The exposure cap over time: what each relay has already learned.
//!
//! A relay remembers whom it was asked about. A cap that only limited each
//! plan would let a relay asked about a different quarter of the follow
//! list every session learn all of it within a week (the simulator showed
//! a 25% cap reaching 35–55% in three sessions). So the cap counts people a
//! relay was ever asked about (the delivery history, which is what the
//! privacy ledger records): asking again about someone it already knows
//! tells it nothing new and is free; someone new takes one of the places
//! left. What a relay learned outside the reads (`PlanInput::known`: a
//! discovery relay asked for relay lists) counts too.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::PlanInput;

/// The share of a relay's remaining room ours spends in one plan. The
/// room is spent for good, and a planner knows least at first: placing
/// everyone on the big relays in the first session locks in its guesses,
/// while keeping 40% back lets later plans put there the people they
/// learned need it most (`samizdat sim --sweep`: 7-day recall under a 25%
/// cap 63.3% → 66.2% at 3 sessions, seeds 1–10; 0.45 and 0.8 did worse).
pub(crate) const OURS_PACE: f64 = 0.6;

/// Per relay, the followed people it already knows about, and the cap.
pub(crate) struct Exposure<'a> {
    known: BTreeMap<&'a str, BTreeSet<&'a str>>,
    capacity: usize,
    pace: f64,
}

impl<'a> Exposure<'a> {
    /// From the input's delivery history and policy; one plan spends at most
    /// `pace` (0–1] of each relay's remaining room.
    pub(crate) fn of(input: &'a PlanInput, pace: f64) -> Self {
        let follows: BTreeSet<&str> = input.follows.iter().map(String::as_str).collect();
        let capacity = input.policy.relay_capacity(follows.len());
        let mut known: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (url, people) in &input.delivery {
            let asked = people
                .iter()
                .filter(|(p, d)| d.asked > 0 && follows.contains(p.as_str()))
                .map(|(p, _)| p.as_str());
            known.entry(url.as_str()).or_default().extend(asked);
        }
        for (url, people) in &input.known {
            let learned = people
                .iter()
                .map(String::as_str)
                .filter(|p| follows.contains(p));
            known.entry(url.as_str()).or_default().extend(learned);
        }
        known.retain(|_, people| !people.is_empty());
        Self {
            known,
            capacity,
            pace: pace.clamp(0.01, 1.0),
        }
    }

    /// Whether a cap is set at all.
    pub(crate) fn capped(&self) -> bool {
        self.capacity != usize::MAX
    }

    /// Whether `url` was already asked about `person`.
    pub(crate) fn knows(&self, url: &str, person: &str) -> bool {
        self.known.get(url).is_some_and(|k| k.contains(person))
    }

    /// How many people `url` may be asked about for the first time in this
    /// plan: the paced part of the room the cap leaves (at least one place
    /// while any is left).
    pub(crate) fn room(&self, url: &str) -> usize {
        if !self.capped() {
            return usize::MAX;
        }
        let left = self
            .capacity
            .saturating_sub(self.known.get(url).map_or(0, BTreeSet::len));
        ((left as f64) * self.pace).ceil() as usize
    }
}
