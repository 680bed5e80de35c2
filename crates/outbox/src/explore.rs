//! Exploration: asking relays already connected about people they have no
//! evidence for, to learn where those people really write.
//!
//! Evidence is thin in the field: a quarter to half of the people one
//! follows publish no relay list, and lists go stale when people move. The
//! planner can only choose among relays it has evidence for, so without
//! exploration the people it cannot place stay unread for ever. A probe
//! costs no connection (the relay is open for the assignments anyway) and
//! stays under the exposure cap; what the relay delivers becomes `Seen`
//! evidence and delivery history, and the next plan uses it.

use std::collections::{BTreeMap, BTreeSet};

use crate::exposure::Exposure;
use crate::model::PlanInput;
use crate::score;

/// Probes per person per plan: each session learns one more relay for the
/// people who need it, so the follow list spreads slowly.
const PROBES_PER_PERSON: usize = 1;

/// A person is probed while the chance of missing their events from the
/// relays assigned to them is at least this.
const NEED_THRESHOLD: f64 = 0.3;

/// What the planner decided, which exploration works around.
pub(crate) struct Decided<'a> {
    /// Relays connected.
    pub chosen: &'a [String],
    /// Relay → people assigned.
    pub assignments: &'a BTreeMap<String, Vec<String>>,
    /// Per person, the usable relays the evidence names (the planner's
    /// candidates, computed once per plan).
    pub candidates: &'a BTreeMap<String, BTreeMap<String, f64>>,
    /// People whose candidates are only guesses (no evidence anywhere):
    /// they say nothing of where others write.
    pub guessed: &'a BTreeSet<String>,
    /// Per person, the chance each assigned relay delivers their events.
    pub expected: BTreeMap<&'a str, Vec<f64>>,
    /// Per person, how much reaching them is worth.
    pub weight: &'a dyn Fn(&str) -> f64,
    /// What each relay already knows, and the room the cap leaves.
    pub exposure: &'a Exposure<'a>,
}

/// Relay → people to probe there.
pub(crate) fn probes(input: &PlanInput, decided: &Decided<'_>) -> BTreeMap<String, Vec<String>> {
    let follows: BTreeSet<&str> = input.follows.iter().map(String::as_str).collect();
    if !input.policy.explore || follows.is_empty() || decided.chosen.is_empty() {
        return BTreeMap::new();
    }
    // New people each relay is already asked about in this plan (probes
    // are always new people: a pair asked before is never probed).
    let mut load: BTreeMap<&str, usize> = decided
        .assignments
        .iter()
        .map(|(url, people)| {
            let new = people
                .iter()
                .filter(|p| !decided.exposure.knows(url, p))
                .count();
            (url.as_str(), new)
        })
        .collect();
    let mut assigned: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (url, people) in decided.assignments {
        for p in people {
            assigned.entry(p.as_str()).or_default().insert(url.as_str());
        }
    }
    let prior = writer_share(decided.candidates, decided.guessed, follows.len());
    // How much a relay is worth asking about someone it knows nothing of:
    // the chance they write there, that it serves what it has, and how far
    // back it keeps.
    // Only relays the plan connects to anyway: a probe never opens a connection.
    let mut relays: Vec<(&str, f64)> = decided
        .chosen
        .iter()
        .filter(|url| decided.assignments.contains_key(*url) || input.policy.always.contains(url))
        .map(|url| {
            let depth = input
                .relay_depth
                .get(url)
                .map_or(0.6, |d| (d / 365.0).clamp(0.05, 1.0));
            let worth = prior.get(url.as_str()).copied().unwrap_or(0.0)
                * score::relay_delivery_rate(input, url)
                * score::health(input, url)
                * depth;
            (url.as_str(), worth)
        })
        .filter(|(_, worth)| *worth > 0.0)
        .collect();
    // Ties (common before any history) go to the relay read for more
    // people, then by URL.
    let read_for = |url: &str| decided.assignments.get(url).map_or(0, Vec::len);
    relays.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(read_for(b.0).cmp(&read_for(a.0)))
            .then(a.0.cmp(b.0))
    });
    // Neediest first: the chance of missing them times what they are worth.
    let mut people: Vec<(&str, f64)> = follows
        .iter()
        .map(|p| {
            let miss: f64 = decided
                .expected
                .get(p)
                .into_iter()
                .flatten()
                .map(|e| 1.0 - e.clamp(0.0, 1.0))
                .product();
            (*p, miss)
        })
        .filter(|(_, miss)| *miss >= NEED_THRESHOLD)
        .map(|(p, miss)| (p, miss * (decided.weight)(p)))
        .collect();
    people.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (person, _) in people {
        let mut added = 0;
        for (url, _) in &relays {
            if added == PROBES_PER_PERSON {
                break;
            }
            let mine = assigned.get(person);
            if mine.is_some_and(|m| m.contains(url))
                || score::delivery(input, url, person).asked > 0
            {
                continue;
            }
            let l = load.entry(url).or_insert(0);
            if *l >= decided.exposure.room(url) {
                continue;
            }
            *l += 1;
            added += 1;
            out.entry((*url).to_owned())
                .or_default()
                .push(person.to_owned());
        }
    }
    for people in out.values_mut() {
        people.sort();
    }
    out
}

/// Per relay, the share of followed people known to write there (from any
/// evidence, including what it delivered): the prior that someone whose
/// relays are unknown writes there too.
fn writer_share<'a>(
    candidates: &'a BTreeMap<String, BTreeMap<String, f64>>,
    guessed: &BTreeSet<String>,
    follows: usize,
) -> BTreeMap<&'a str, f64> {
    let mut writers: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, relays) in candidates.iter().filter(|(p, _)| !guessed.contains(*p)) {
        for url in relays.keys() {
            *writers.entry(url.as_str()).or_insert(0) += 1;
        }
    }
    let n = follows.max(1) as f64;
    writers
        .into_iter()
        .map(|(url, w)| (url, w as f64 / n))
        .collect()
}
