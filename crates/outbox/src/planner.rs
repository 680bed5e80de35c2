//! Relay selection: ours and the baselines it is measured against, over the
//! same candidates.
//!
//! *Ours* maximises the expected number of followed people whose events
//! arrive: each relay adds, for every person it has evidence for, the chance
//! it delivers them times the chance none of the relays already picked does
//! (probabilistic coverage, a submodular objective, so greedy is near
//! optimal). The chances come from evidence strength, relay health and the
//! delivery history (a Beta posterior), so relays that do not deliver for a
//! person fade and relays that do gain, across sessions. A person stops
//! counting once they have `per_person` relays, which keeps diversity without
//! revealing the follow list to more relays than needed.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::{Orphan, OrphanReason, Plan, PlanInput};
use crate::score;

/// The people a relay would serve, with each one's delivery chance.
type Served<'a> = Vec<(&'a str, f64)>;

/// Weight of covering a person for the first time, relative to adding a
/// second relay for someone already covered.
const FIRST_RELAY_BONUS: f64 = 1.5;

/// The relay-selection algorithms the simulator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    /// Ours: probabilistic coverage with learned delivery.
    Samizdat,
    /// Greedy set cover with `per_person` relays per person (Gossip-style).
    GreedyCover,
    /// Each person's top `per_person` relays ("filter decomposition").
    TopN,
    /// Relays drawn per person, weighted by popularity.
    Stochastic,
}

impl Algorithm {
    /// All of them, ours first.
    pub const ALL: [Algorithm; 4] = [
        Self::Samizdat,
        Self::GreedyCover,
        Self::TopN,
        Self::Stochastic,
    ];

    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Samizdat => "samizdat",
            Self::GreedyCover => "greedy-cover",
            Self::TopN => "top-n",
            Self::Stochastic => "stochastic",
        }
    }
}

/// Usable relays per person with evidence strength, and the people left out.
pub(crate) struct Candidates {
    pub per_person: BTreeMap<String, BTreeMap<String, f64>>,
    pub orphans: Vec<Orphan>,
}

pub(crate) fn candidates(input: &PlanInput) -> Candidates {
    let mut per_person = BTreeMap::new();
    let mut orphans = Vec::new();
    let mut seen = BTreeSet::new();
    for person in &input.follows {
        if !seen.insert(person.clone()) {
            continue;
        }
        match usable_relays(input, person) {
            Ok(relays) => {
                per_person.insert(person.clone(), relays);
            }
            Err(reason) => orphans.push(Orphan {
                pubkey: person.clone(),
                reason,
            }),
        }
    }
    Candidates {
        per_person,
        orphans,
    }
}

/// The relays a person can be read from, with evidence strength, or why none.
fn usable_relays(input: &PlanInput, person: &str) -> Result<BTreeMap<String, f64>, OrphanReason> {
    let evidence = score::evidence(input, person);
    if evidence.is_empty() {
        return Err(OrphanReason::NoRelayList);
    }
    let allowed: BTreeMap<String, f64> = evidence
        .into_iter()
        .filter(|(url, _)| !input.policy.denied.contains(url))
        .collect();
    if allowed.is_empty() {
        return Err(OrphanReason::DeniedByPolicy);
    }
    let usable: BTreeMap<String, f64> = allowed
        .into_iter()
        .filter(|(url, _)| score::health(input, url) > 0.1)
        .collect();
    if usable.is_empty() {
        return Err(OrphanReason::AllRelaysUnusable);
    }
    Ok(usable)
}

/// Plans with the given algorithm.
pub fn plan_with(input: &PlanInput, algorithm: Algorithm) -> Plan {
    let c = candidates(input);
    // Learned once: how many events each relay returned per person.
    let volume = score::Volume::learn(input);
    let cap = input.policy.max_connections;
    let k = input.policy.per_person.max(1);
    let always: Vec<String> = input
        .policy
        .always
        .iter()
        .filter(|u| !input.policy.denied.contains(*u))
        .take(cap)
        .cloned()
        .collect();
    let chosen = match algorithm {
        Algorithm::Samizdat => choose_probabilistic(input, volume.as_ref(), &c, &always, cap, k),
        Algorithm::GreedyCover => choose_greedy(&c, &always, cap, k),
        Algorithm::TopN => choose_top_n(&c, &always, cap, k),
        Algorithm::Stochastic => choose_stochastic(input, &c, &always, cap, k),
    };
    let mut plan = assign(input, volume.as_ref(), c, &chosen, k, algorithm);
    plan.stale_lists = stale_lists(input);
    plan
}

/// Followed people whose relay list names no usable write relay.
pub fn stale_lists(input: &PlanInput) -> Vec<String> {
    let usable =
        |url: &String| !input.policy.denied.contains(url) && score::health(input, url) > 0.1;
    let mut out: Vec<String> = input
        .follows
        .iter()
        .filter(|p| {
            input
                .relay_lists
                .get(*p)
                .is_some_and(|list| !list.write.iter().any(usable))
        })
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Plans with our algorithm.
pub fn plan(input: &PlanInput) -> Plan {
    plan_with(input, Algorithm::Samizdat)
}

fn p_deliver(input: &PlanInput, person: &str, url: &str, strength: f64) -> f64 {
    let history = score::delivery(input, url, person);
    let p = score::delivery_probability(strength, score::health(input, url), history);
    if history.asked == 0 {
        // Never asked about this person: let the relay's record with everyone else speak.
        p * score::relay_delivery_rate(input, url)
    } else {
        p
    }
}

fn choose_probabilistic<'a>(
    input: &'a PlanInput,
    volume: Option<&score::Volume<'_>>,
    c: &'a Candidates,
    always: &[String],
    cap: usize,
    k: usize,
) -> Vec<String> {
    // relay -> [(person, value)]: the chance it delivers them or, once
    // relays have said how many events they returned, the expected share
    // of their events; people weigh by how much they post.
    let weight: BTreeMap<&str, f64> = c
        .per_person
        .keys()
        .map(|p| (p.as_str(), volume.as_ref().map_or(1.0, |v| v.weight(p))))
        .collect();
    let mut by_relay: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    for (person, relays) in &c.per_person {
        for (url, strength) in relays {
            let p = p_deliver(input, person, url, *strength);
            let p = match &volume {
                Some(v) => v.share(input, person, url, p),
                None => p,
            };
            if p > 0.0 {
                by_relay
                    .entry(url.as_str())
                    .or_default()
                    .push((person.as_str(), p));
            }
        }
    }
    let mut miss: BTreeMap<&str, f64> = c.per_person.keys().map(|p| (p.as_str(), 1.0)).collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut chosen: Vec<String> = Vec::new();
    // With an exposure cap a relay serves at most `capacity` people: its
    // gain counts its best `capacity` contributions, and only those people
    // are taken as covered by it.
    let capacity = input.policy.relay_capacity(c.per_person.len());
    fn take<'a>(
        people: &[(&'a str, f64)],
        miss: &mut BTreeMap<&'a str, f64>,
        count: &mut BTreeMap<&'a str, usize>,
    ) {
        for (person, p) in people {
            if let Some(m) = miss.get_mut(person) {
                *m *= 1.0 - p;
            }
            *count.entry(person).or_insert(0) += 1;
        }
    }
    let best_served = |people: &[(&'a str, f64)],
                       miss: &BTreeMap<&'a str, f64>,
                       count: &BTreeMap<&'a str, usize>|
     -> (f64, Vec<(&'a str, f64)>) {
        let mut gains: Vec<(f64, (&'a str, f64))> = people
            .iter()
            .filter(|(person, _)| count.get(person).copied().unwrap_or(0) < k)
            .map(|(person, p)| {
                // Reaching someone not yet covered at all is worth more
                // than a second path to someone already reachable.
                let first = if count.get(person).copied().unwrap_or(0) == 0 {
                    FIRST_RELAY_BONUS
                } else {
                    1.0
                };
                (miss[person] * p * first * weight[person], (*person, *p))
            })
            .collect();
        if gains.len() > capacity {
            gains.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1 .0.cmp(b.1 .0)));
            gains.truncate(capacity);
        }
        let gain = gains.iter().map(|(g, _)| g).sum();
        (gain, gains.into_iter().map(|(_, who)| who).collect())
    };
    for url in always {
        let people = by_relay.get(url.as_str()).cloned().unwrap_or_default();
        let (_, served) = best_served(&people, &miss, &count);
        take(&served, &mut miss, &mut count);
        chosen.push(url.clone());
    }
    while chosen.len() < cap {
        let mut best: Option<(&str, f64, Served)> = None;
        for (url, people) in &by_relay {
            if chosen.iter().any(|c| c == url) {
                continue;
            }
            let (gain, served) = best_served(people, &miss, &count);
            if gain > best.as_ref().map_or(1e-9, |b| b.1) {
                best = Some((url, gain, served));
            }
        }
        let Some((url, _, served)) = best else { break };
        take(&served, &mut miss, &mut count);
        chosen.push(url.to_owned());
    }
    chosen
}

fn choose_greedy(c: &Candidates, always: &[String], cap: usize, k: usize) -> Vec<String> {
    let mut by_relay: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (person, relays) in &c.per_person {
        for url in relays.keys() {
            by_relay
                .entry(url.as_str())
                .or_default()
                .push(person.as_str());
        }
    }
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut chosen: Vec<String> = always.to_vec();
    for url in always {
        for person in by_relay.get(url.as_str()).into_iter().flatten() {
            *count.entry(person).or_insert(0) += 1;
        }
    }
    while chosen.len() < cap {
        let best = by_relay
            .iter()
            .filter(|(url, _)| !chosen.iter().any(|c| c == *url))
            .map(|(url, people)| {
                (
                    *url,
                    people
                        .iter()
                        .filter(|p| count.get(*p).copied().unwrap_or(0) < k)
                        .count(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
        let Some((url, _)) = best else { break };
        for person in &by_relay[url] {
            *count.entry(person).or_insert(0) += 1;
        }
        chosen.push(url.to_owned());
    }
    chosen
}

fn popularity(c: &Candidates) -> BTreeMap<&str, usize> {
    let mut pop: BTreeMap<&str, usize> = BTreeMap::new();
    for relays in c.per_person.values() {
        for url in relays.keys() {
            *pop.entry(url.as_str()).or_insert(0) += 1;
        }
    }
    pop
}

/// Keeps the relays most wanted by `wanted` (relay -> people wanting it), up to the cap.
fn cap_by_demand(wanted: BTreeMap<&str, usize>, always: &[String], cap: usize) -> Vec<String> {
    let mut chosen: Vec<String> = always.to_vec();
    let mut ranked: Vec<(&str, usize)> = wanted.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (url, _) in ranked {
        if chosen.len() >= cap {
            break;
        }
        if !chosen.iter().any(|c| c == url) {
            chosen.push(url.to_owned());
        }
    }
    chosen
}

fn choose_top_n(c: &Candidates, always: &[String], cap: usize, k: usize) -> Vec<String> {
    let mut wanted: BTreeMap<&str, usize> = BTreeMap::new();
    for relays in c.per_person.values() {
        let mut ranked: Vec<(&String, &f64)> = relays.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
        for (url, _) in ranked.into_iter().take(k) {
            *wanted.entry(url.as_str()).or_insert(0) += 1;
        }
    }
    cap_by_demand(wanted, always, cap)
}

fn choose_stochastic(
    input: &PlanInput,
    c: &Candidates,
    always: &[String],
    cap: usize,
    k: usize,
) -> Vec<String> {
    let pop = popularity(c);
    let mut rng = StdRng::seed_from_u64(input.policy.seed ^ 0x5eed);
    let mut wanted: BTreeMap<&str, usize> = BTreeMap::new();
    for relays in c.per_person.values() {
        let mut pool: Vec<(&str, f64)> = relays
            .keys()
            .map(|u| (u.as_str(), pop[u.as_str()] as f64))
            .collect();
        for _ in 0..k.min(pool.len()) {
            let total: f64 = pool.iter().map(|(_, w)| w).sum();
            let mut x = rng.random::<f64>() * total;
            let mut pick = pool.len() - 1;
            for (i, (_, w)) in pool.iter().enumerate() {
                if x < *w {
                    pick = i;
                    break;
                }
                x -= w;
            }
            let (url, _) = pool.remove(pick);
            *wanted.entry(url).or_insert(0) += 1;
        }
    }
    cap_by_demand(wanted, always, cap)
}

/// One relay per person, at most `capacity` people per relay, as many
/// people as possible: each takes their best relay with room, else frees a
/// place by moving someone to another of their relays (augmenting paths).
/// `ranked` holds each person's relays, best first, in the order people
/// are served.
fn match_first_relays<'a>(
    ranked: &[(&'a String, Vec<&'a String>)],
    capacity: usize,
) -> Vec<(&'a String, &'a String)> {
    let options: BTreeMap<&String, &Vec<&String>> = ranked.iter().map(|(p, o)| (*p, o)).collect();
    let mut holders: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    fn place<'a>(
        person: &'a String,
        options: &BTreeMap<&'a String, &Vec<&'a String>>,
        holders: &mut BTreeMap<&'a String, Vec<&'a String>>,
        capacity: usize,
        seen: &mut BTreeSet<&'a String>,
    ) -> bool {
        let Some(mine) = options.get(person) else {
            return false;
        };
        for url in mine.iter() {
            if holders.get(url).map_or(0, Vec::len) < capacity {
                holders.entry(url).or_default().push(person);
                return true;
            }
        }
        for url in mine.iter() {
            if !seen.insert(url) {
                continue;
            }
            let current: Vec<&String> = holders.get(url).cloned().unwrap_or_default();
            for (i, other) in current.iter().enumerate() {
                if place(other, options, holders, capacity, seen) {
                    // `other` moved elsewhere: take their place here.
                    if let Some(h) = holders.get_mut(url) {
                        h[i] = person;
                    }
                    return true;
                }
            }
        }
        false
    }
    for (person, _) in ranked {
        let mut seen = BTreeSet::new();
        place(person, &options, &mut holders, capacity, &mut seen);
    }
    let mut out = Vec::new();
    for (url, people) in holders {
        for person in people {
            out.push((person, url));
        }
    }
    out
}

/// Assigns each person to up to `k` chosen relays with evidence for them
/// (ours: the most likely to deliver; baselines: the strongest evidence).
fn assign(
    input: &PlanInput,
    volume: Option<&score::Volume<'_>>,
    c: Candidates,
    chosen: &[String],
    k: usize,
    algorithm: Algorithm,
) -> Plan {
    let chosen_set: BTreeSet<&str> = chosen.iter().map(String::as_str).collect();
    let mut assignments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut orphans = c.orphans;
    let capacity = input.policy.relay_capacity(c.per_person.len());
    let mut load: BTreeMap<String, usize> = BTreeMap::new();
    // With a cap, people with the fewest chosen relays go first, so the
    // capacity goes to those who have no other way in.
    let mut people: Vec<(&String, &BTreeMap<String, f64>)> = c.per_person.iter().collect();
    if capacity != usize::MAX {
        people.sort_by_key(|(person, relays)| {
            (
                relays
                    .keys()
                    .filter(|u| chosen_set.contains(u.as_str()))
                    .count(),
                (*person).clone(),
            )
        });
    }
    // Each person's relays, best first; with a cap, every person gets a first
    // relay before anyone gets a second, so capacity goes to coverage first.
    let mut ranked: Vec<(&String, Vec<&String>)> = Vec::new();
    // With volume known, the heaviest posters (by what their best relay
    // returns) are served first: a full relay's room goes to most events.
    let mut value_of: BTreeMap<&String, f64> = BTreeMap::new();
    for (person, relays) in people {
        let mut options: Vec<(&String, f64)> = relays
            .iter()
            .filter(|(url, _)| chosen_set.contains(url.as_str()))
            .map(|(url, strength)| {
                let rank = match (algorithm, &volume) {
                    (Algorithm::Samizdat, Some(v)) => {
                        v.share(input, person, url, p_deliver(input, person, url, *strength))
                    }
                    (Algorithm::Samizdat, None) => p_deliver(input, person, url, *strength),
                    _ => *strength,
                };
                (url, rank)
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
        if let (Algorithm::Samizdat, Some(v)) = (algorithm, &volume) {
            value_of.insert(person, v.weight(person) * options[0].1);
        }
        ranked.push((person, options.into_iter().map(|(u, _)| u).collect()));
    }
    if capacity != usize::MAX && !value_of.is_empty() {
        ranked.sort_by(|a, b| value_of[b.0].total_cmp(&value_of[a.0]).then(a.0.cmp(b.0)));
    }
    let passes = if capacity == usize::MAX { 1 } else { k };
    let per_pass = if passes == 1 { k } else { 1 };
    let mut placed: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    let mut remaining = passes;
    if capacity != usize::MAX && algorithm == Algorithm::Samizdat && value_of.is_empty() {
        // Under an exposure cap, first relays are a matching: someone whose
        // only way in is a full relay may move a person who has another.
        let firsts = match_first_relays(&ranked, capacity);
        for (person, url) in firsts {
            *load.entry(url.clone()).or_insert(0) += 1;
            placed.entry(person).or_default().push(url);
        }
        remaining -= 1;
    }
    for _ in 0..remaining {
        for (person, options) in &ranked {
            let mine = placed.entry(person).or_default();
            let mut added = 0;
            for url in options {
                if added == per_pass || mine.len() == k {
                    break;
                }
                if mine.contains(url) {
                    continue;
                }
                let l = load.entry((*url).clone()).or_insert(0);
                if *l >= capacity {
                    continue;
                }
                *l += 1;
                added += 1;
                mine.push(url);
            }
        }
    }
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
    Plan {
        assignments,
        orphans,
        connections,
        stale_lists: Vec::new(),
    }
}
