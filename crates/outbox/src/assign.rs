//! The second half of planning: who is asked about at which chosen relay.
//!
//! Ours values each (person, relay) pair by what it is expected to return
//! (the chance the relay delivers them or, once volumes are known, the
//! share of their events it keeps, times how much they post). Without an
//! exposure cap everyone simply gets their best `per_person` relays. Under a
//! cap the places on the big relays are scarce: an auction shares them out
//! so they go where they are worth most (someone with a good second relay
//! gives way to someone without one), one relay per person per round, and
//! each later round values a relay by what it adds to the ones already
//! given. The baselines keep their published rule (strongest evidence
//! first, people with fewest options served first).

use std::collections::{BTreeMap, BTreeSet};

use crate::auction;
use crate::exposure::Exposure;
use crate::model::{Orphan, OrphanReason, Plan, PlanInput};
use crate::planner::{our_value, Algorithm, Candidates};
use crate::score;

/// A person's options: chosen relays with evidence for them, best first,
/// each with its value (ours: expected share returned; baselines: evidence
/// strength).
type Ranked<'a> = Vec<(&'a String, Vec<(&'a String, f64)>)>;

/// What the assignment step needs besides the candidates.
pub(crate) struct Setting<'a, 'v> {
    pub input: &'a PlanInput,
    pub volume: Option<&'v score::Volume<'a>>,
    pub chosen: &'a [String],
    pub per_person: usize,
    pub exposure: &'a Exposure<'a>,
    pub algorithm: Algorithm,
}

/// Assigns each person to up to `per_person` chosen relays with evidence
/// for them, under the exposure cap.
pub(crate) fn assign(setting: &Setting<'_, '_>, c: &Candidates) -> Plan {
    let Setting {
        input,
        volume,
        chosen,
        per_person: k,
        exposure,
        algorithm,
    } = *setting;
    let chosen_set: BTreeSet<&str> = chosen.iter().map(String::as_str).collect();
    let mut orphans = c.orphans.clone();
    let ours = algorithm == Algorithm::Samizdat;
    let weight = |p: &str| volume.map_or(1.0, |v| v.weight(p));
    let mut ranked: Ranked<'_> = Vec::new();
    for (person, relays) in &c.per_person {
        let mut options: Vec<(&String, f64)> = relays
            .iter()
            .filter(|(url, _)| chosen_set.contains(url.as_str()))
            .map(|(url, strength)| {
                let value = if ours {
                    our_value(input, volume, person, url, *strength)
                } else {
                    *strength
                };
                (url, value)
            })
            .collect();
        if options.is_empty() {
            orphans.push(Orphan {
                pubkey: person.clone(),
                reason: OrphanReason::OverConnectionCap,
            });
            continue;
        }
        options.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        ranked.push((person, options));
    }
    let placed = if !exposure.capped() {
        ranked
            .iter()
            .map(|(p, o)| (*p, o.iter().take(k).map(|(u, _)| *u).collect()))
            .collect()
    } else if ours {
        auction_rounds(&ranked, chosen, k, exposure, &weight)
    } else {
        fewest_options_first(ranked.clone(), &chosen_set, k, exposure)
    };
    let mut assignments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (person, _) in &ranked {
        match placed.get(person).filter(|p| !p.is_empty()) {
            Some(relays) => {
                for url in relays {
                    assignments
                        .entry((*url).clone())
                        .or_default()
                        .push((*person).clone());
                }
            }
            None => orphans.push(Orphan {
                pubkey: (*person).clone(),
                reason: OrphanReason::OverExposureCap,
            }),
        }
    }
    for people in assignments.values_mut() {
        people.sort();
    }
    let connections = chosen
        .iter()
        .filter(|u| assignments.contains_key(*u) || input.policy.always.contains(u))
        .count();
    orphans.sort_by(|a, b| a.pubkey.cmp(&b.pubkey));
    let probes = if ours {
        let expected = expected_values(&ranked, &placed);
        crate::explore::probes(
            input,
            &crate::explore::Decided {
                chosen,
                assignments: &assignments,
                candidates: &c.per_person,
                guessed: &c.guessed,
                expected,
                weight: &weight,
                exposure,
            },
        )
    } else {
        BTreeMap::new()
    };
    Plan {
        assignments,
        orphans,
        connections,
        stale_lists: Vec::new(),
        probes,
        unlisted: BTreeMap::new(),
    }
}

/// Per person, the value of each relay they were given.
fn expected_values<'a>(
    ranked: &Ranked<'a>,
    placed: &BTreeMap<&'a String, Vec<&'a String>>,
) -> BTreeMap<&'a str, Vec<f64>> {
    ranked
        .iter()
        .map(|(person, options)| {
            let mine = placed.get(person).map(Vec::as_slice).unwrap_or(&[]);
            let values = options
                .iter()
                .filter(|(url, _)| mine.contains(url))
                .map(|(_, v)| *v)
                .collect();
            (person.as_str(), values)
        })
        .collect()
}

/// Ours under a cap: `k` auctions, each giving everyone at most one more
/// relay, valued by what it adds to theirs so far, on the room left. Each
/// relay is two lots: places for people it already knows (as many as
/// wanted: asking again tells it nothing) and places for new people (the
/// room the cap leaves).
fn auction_rounds<'a>(
    ranked: &Ranked<'a>,
    chosen: &'a [String],
    k: usize,
    exposure: &Exposure<'_>,
    weight: &dyn Fn(&str) -> f64,
) -> BTreeMap<&'a String, Vec<&'a String>> {
    let index: BTreeMap<&str, usize> = chosen
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    let n = chosen.len();
    // Lots 0..n: new people; n..2n: people the relay knows.
    let mut room: Vec<usize> = chosen
        .iter()
        .map(|u| exposure.room(u))
        .chain(std::iter::repeat_n(ranked.len(), n))
        .collect();
    let mut placed: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    let mut miss: Vec<f64> = vec![1.0; ranked.len()];
    for _ in 0..k {
        let wants: Vec<auction::Options> = ranked
            .iter()
            .enumerate()
            .map(|(i, (person, options))| {
                let mine = placed.get(person);
                options
                    .iter()
                    .filter(|(url, _)| !mine.is_some_and(|m| m.contains(url)))
                    .filter_map(|(url, value)| {
                        let gain = weight(person) * miss[i] * value.clamp(0.0, 1.0);
                        let lot = |r: usize| {
                            if exposure.knows(url, person) {
                                n + r
                            } else {
                                r
                            }
                        };
                        index.get(url.as_str()).map(|&r| (lot(r), gain.max(1e-12)))
                    })
                    .collect()
            })
            .collect();
        let got = auction::allocate(&wants, &room);
        for (i, lot) in got.into_iter().enumerate() {
            let Some(lot) = lot else { continue };
            let (person, options) = &ranked[i];
            let url = &chosen[lot % n];
            room[lot] = room[lot].saturating_sub(1);
            let value = options
                .iter()
                .find(|(u, _)| *u == url)
                .map_or(0.0, |(_, v)| *v);
            miss[i] *= 1.0 - value.clamp(0.0, 1.0);
            placed.entry(*person).or_default().push(url);
        }
    }
    placed
}

/// The baselines under a cap: people with the fewest chosen relays first,
/// every person a first relay before anyone a second, strongest evidence
/// first.
fn fewest_options_first<'a>(
    mut ranked: Ranked<'a>,
    chosen_set: &BTreeSet<&str>,
    k: usize,
    exposure: &Exposure<'_>,
) -> BTreeMap<&'a String, Vec<&'a String>> {
    ranked.sort_by_key(|(person, options)| {
        (
            options
                .iter()
                .filter(|(u, _)| chosen_set.contains(u.as_str()))
                .count(),
            *person,
        )
    });
    let mut load: BTreeMap<&String, usize> = BTreeMap::new();
    let mut placed: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for _ in 0..k {
        for (person, options) in &ranked {
            let mine = placed.entry(*person).or_default();
            if mine.len() == k {
                continue;
            }
            // Someone the relay already knows costs no place.
            if let Some((url, _)) = options.iter().find(|(url, _)| {
                !mine.contains(url)
                    && (exposure.knows(url, person)
                        || load.get(url).copied().unwrap_or(0) < exposure.room(url))
            }) {
                if !exposure.knows(url, person) {
                    *load.entry(*url).or_insert(0) += 1;
                }
                mine.push(*url);
            }
        }
    }
    placed
}
