//! Two relay-selection algorithms real clients ship, written from their
//! published descriptions, as baselines ours is measured against.
//!
//! Both read only what those clients read: each person's NIP-65 write
//! relays (kind 10002), minus relays the user denies and relays known to be
//! down (noStrudel drops relays its liveness tracker marks dead; Coracle
//! gives a relay with recent errors quality 0). Neither uses kind 3, NIP-05,
//! hints or where events were seen, and neither learns per person.
//!
//! - **Greedy cover, every listed relay** (applesauce's `selectOptimalRelays`,
//!   used by noStrudel): pick the relay listed by most people still in the
//!   pool; a person leaves the pool once `per_person` of their relays are
//!   picked; stop at the connection budget. Then each person is asked at
//!   *every* picked relay they list, not just `per_person` of them.
//! - **Weighted random per chunk** (Coracle's router, `@welshman/router`):
//!   the follow list in chunks of 30 authors; in each, a relay's weight is
//!   how many of the chunk's authors list it, its score `quality × (1 +
//!   ln weight) × random()`, and the top `per_person` relays take the whole
//!   chunk's filter (every author of the chunk is asked there, whether they
//!   list it or not). Coracle has no global connection cap; here, once the
//!   budget is full, a chunk picks among relays already connected.
//!
//! Under an exposure cap (which neither client has) each relay is filled up
//! to its room, people who list it first, in follow-list order.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::exposure::Exposure;
use crate::model::{Orphan, OrphanReason, Plan, PlanInput};
use crate::score;

/// Authors per chunk in Coracle's feed loader.
const CORACLE_CHUNK: usize = 30;

/// Per followed person (in follow-list order, once each), the write relays
/// of their NIP-65 list that are allowed and not known to be down.
fn listed(input: &PlanInput) -> (Vec<(&str, Vec<&str>)>, Vec<Orphan>) {
    let mut seen = BTreeSet::new();
    let mut people = Vec::new();
    let mut orphans = Vec::new();
    for person in &input.follows {
        if !seen.insert(person.as_str()) {
            continue;
        }
        let Some(list) = input.relay_lists.get(person) else {
            orphans.push(Orphan {
                pubkey: person.clone(),
                reason: OrphanReason::NoRelayList,
            });
            continue;
        };
        let mut relays: Vec<&str> = list
            .write
            .iter()
            .filter(|u| !input.policy.denied.contains(*u))
            .filter(|u| score::health(input, u) > 0.1)
            .map(String::as_str)
            .collect();
        relays.dedup();
        if relays.is_empty() {
            let reason = if list.write.is_empty() {
                OrphanReason::NoRelayList
            } else {
                OrphanReason::AllRelaysUnusable
            };
            orphans.push(Orphan {
                pubkey: person.clone(),
                reason,
            });
            continue;
        }
        people.push((person.as_str(), relays));
    }
    (people, orphans)
}

/// Applesauce's greedy cover: relays by how many people still in the pool
/// list them; everyone asked at every picked relay they list.
pub(crate) fn applesauce(input: &PlanInput) -> Plan {
    let (people, orphans) = listed(input);
    let cap = input.policy.max_connections;
    let k = input.policy.per_person.max(1);
    let mut picked: Vec<&str> = Vec::new();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pool: Vec<&(&str, Vec<&str>)> = people.iter().collect();
    while !pool.is_empty() && picked.len() < cap {
        let mut coverage: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, relays) in &pool {
            for url in relays.iter().filter(|u| !picked.contains(u)) {
                *coverage.entry(url).or_insert(0) += 1;
            }
        }
        let Some((url, _)) = coverage
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        else {
            break;
        };
        picked.push(url);
        pool.retain(|(person, relays)| {
            if !relays.contains(&url) {
                return true;
            }
            let c = count.entry(person).or_insert(0);
            *c += 1;
            *c < k
        });
    }
    let wanted: Vec<(&str, Vec<&str>)> = people
        .iter()
        .map(|(person, relays)| {
            let mine = relays
                .iter()
                .copied()
                .filter(|u| picked.contains(u))
                .collect();
            (*person, mine)
        })
        .collect();
    finish(input, &picked, wanted, orphans)
}

/// Coracle's router: per chunk of 30 authors, the top relays by a
/// weighted random score take the chunk.
pub(crate) fn coracle(input: &PlanInput) -> Plan {
    let (people, orphans) = listed(input);
    let cap = input.policy.max_connections;
    let limit = input.policy.per_person.max(1);
    let mut rng = StdRng::seed_from_u64(input.policy.seed ^ 0x0c04_ac1e);
    let mut picked: Vec<&str> = Vec::new();
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for chunk in people.chunks(CORACLE_CHUNK) {
        let mut weight: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, relays) in chunk {
            for url in relays {
                *weight.entry(url).or_insert(0) += 1;
            }
        }
        let full = picked.len() >= cap;
        let mut scored: Vec<(&str, f64)> = weight
            .into_iter()
            .filter(|(url, _)| !full || picked.contains(url))
            .map(|(url, w)| {
                let quality = score::health(input, url);
                let s = quality * (1.0 + (w as f64).ln()) * rng.random::<f64>();
                (url, s)
            })
            .filter(|(_, s)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let mut taken = 0;
        for (url, _) in scored {
            if taken == limit {
                break;
            }
            if !picked.contains(&url) {
                if picked.len() >= cap {
                    continue;
                }
                picked.push(url);
            }
            taken += 1;
            for (person, _) in chunk {
                wanted.entry(person).or_default().push(url);
            }
        }
    }
    let wanted = people
        .iter()
        .map(|(p, _)| (*p, wanted.remove(p).unwrap_or_default()))
        .collect();
    finish(input, &picked, wanted, orphans)
}

/// Turns each person's wanted relays into a plan, under the exposure cap
/// when there is one: a relay takes people who list it before people it
/// only receives with their chunk, each group in follow-list order.
fn finish(
    input: &PlanInput,
    picked: &[&str],
    wanted: Vec<(&str, Vec<&str>)>,
    mut orphans: Vec<Orphan>,
) -> Plan {
    let exposure = Exposure::of(input, 1.0);
    let lists = |person: &str, url: &str| {
        input
            .relay_lists
            .get(person)
            .is_some_and(|l| l.write.iter().any(|w| w == url))
    };
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    let mut assignments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    for listing in [true, false] {
        for (person, relays) in &wanted {
            for url in relays.iter().filter(|u| lists(person, u) == listing) {
                let known = exposure.knows(url, person);
                let used = load.entry(url).or_insert(0);
                if !known && *used >= exposure.room(url) {
                    continue;
                }
                if !known {
                    *used += 1;
                }
                placed.insert(person);
                assignments
                    .entry((*url).to_owned())
                    .or_default()
                    .push((*person).to_owned());
            }
        }
    }
    for (person, relays) in &wanted {
        if !placed.contains(person) {
            let reason = if relays.is_empty() {
                OrphanReason::OverConnectionCap
            } else {
                OrphanReason::OverExposureCap
            };
            orphans.push(Orphan {
                pubkey: (*person).to_owned(),
                reason,
            });
        }
    }
    for people in assignments.values_mut() {
        people.sort();
        people.dedup();
    }
    orphans.sort_by(|a, b| a.pubkey.cmp(&b.pubkey));
    let connections = picked
        .iter()
        .filter(|u| assignments.contains_key(**u))
        .count();
    Plan {
        assignments,
        orphans,
        connections,
        stale_lists: Vec::new(),
        probes: BTreeMap::new(),
        unlisted: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RelayList;

    fn input(lists: &[(&str, &[&str])]) -> PlanInput {
        let mut input = PlanInput::default();
        for (person, write) in lists {
            input.follows.push((*person).to_owned());
            if !write.is_empty() {
                input.relay_lists.insert(
                    (*person).to_owned(),
                    RelayList {
                        write: write.iter().map(|s| (*s).to_owned()).collect(),
                        read: Vec::new(),
                    },
                );
            }
        }
        input
    }

    /// `n` people `p00`, `p01`, … whose lists `relays_of` gives.
    fn numbered(n: usize, relays_of: impl Fn(usize) -> Vec<&'static str>) -> PlanInput {
        let people: Vec<(String, Vec<&str>)> =
            (0..n).map(|i| (format!("p{i:02}"), relays_of(i))).collect();
        let lists: Vec<(&str, &[&str])> = people
            .iter()
            .map(|(p, r)| (p.as_str(), r.as_slice()))
            .collect();
        input(&lists)
    }

    #[test]
    fn applesauce_asks_everyone_at_every_picked_relay_they_list() {
        let mut input = input(&[
            ("a", &["wss://big", "wss://x", "wss://y"]),
            ("b", &["wss://big", "wss://x"]),
            ("c", &["wss://big"]),
            ("d", &[]),
        ]);
        input.policy.per_person = 1;
        input.policy.max_connections = 2;
        let plan = applesauce(&input);
        // `big` covers the pool in one pick (everyone leaves it at one relay).
        assert_eq!(plan.connections, 1);
        assert_eq!(plan.assignments["wss://big"], vec!["a", "b", "c"]);
        assert_eq!(plan.orphans.len(), 1);
        assert_eq!(plan.orphans[0].reason, OrphanReason::NoRelayList);
        input.policy.per_person = 2;
        let plan = applesauce(&input);
        // A second pick for those still in the pool, and `a` and `b` are
        // asked at both picked relays they list.
        assert_eq!(plan.connections, 2);
        assert_eq!(plan.assignments["wss://x"], vec!["a", "b"]);
    }

    #[test]
    fn coracle_sends_the_whole_chunk_to_its_relays_within_the_budget() {
        let mut input = numbered(45, |i| {
            let own = if i % 2 == 0 {
                "wss://even"
            } else {
                "wss://odd"
            };
            vec!["wss://all", own]
        });
        input.policy.per_person = 1;
        input.policy.max_connections = 1;
        let plan = coracle(&input);
        assert_eq!(plan.connections, 1);
        let (url, asked) = plan.assignments.iter().next().expect("one relay");
        // Two chunks (30 + 15), both sent to the one relay the budget allows,
        // everyone in them asked there whether they list it or not.
        assert_eq!(asked.len(), 45, "{url}");
        let same = coracle(&input);
        assert_eq!(plan, same, "same seed, same plan");
    }

    #[test]
    fn under_a_cap_listers_come_first() {
        let mut input = numbered(40, |i| {
            if i < 10 {
                vec!["wss://r"]
            } else {
                vec!["wss://r", "wss://s"]
            }
        });
        input.policy.max_exposure = Some(0.25);
        let plan = applesauce(&input);
        assert!(plan.max_exposure(40) <= 0.25 + 1e-9, "{plan:?}");
        let plan = coracle(&input);
        assert!(plan.max_exposure(40) <= 0.25 + 1e-9, "{plan:?}");
    }
}
