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

use crate::assign::{self, Setting};
use crate::exposure::{Exposure, OURS_PACE};
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
    /// applesauce's `selectOptimalRelays` (noStrudel): greedy cover over
    /// NIP-65 lists, each person asked at every picked relay they list.
    Applesauce,
    /// Coracle's router (`@welshman/router`): weighted-random relays per
    /// chunk of 30 authors over NIP-65 lists.
    Coracle,
}

impl Algorithm {
    /// All of them, ours first.
    pub const ALL: [Algorithm; 6] = [
        Self::Samizdat,
        Self::GreedyCover,
        Self::TopN,
        Self::Stochastic,
        Self::Applesauce,
        Self::Coracle,
    ];

    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Samizdat => "samizdat",
            Self::GreedyCover => "greedy-cover",
            Self::TopN => "top-n",
            Self::Stochastic => "stochastic",
            Self::Applesauce => "applesauce",
            Self::Coracle => "coracle",
        }
    }
}

/// Usable relays per person with evidence strength, and the people left out.
pub(crate) struct Candidates {
    pub per_person: BTreeMap<String, BTreeMap<String, f64>>,
    pub orphans: Vec<Orphan>,
    /// People with no evidence whose candidates are guesses: the relays in
    /// use (`unlisted.rs`).
    pub guessed: BTreeSet<String>,
    /// The relays in use, which cost no connection.
    pub free: Vec<String>,
}

/// Each person's candidates; with `guess`, people with no evidence at all
/// get the relays in use as guesses instead of being orphaned.
pub(crate) fn candidates(input: &PlanInput, guess: bool) -> Candidates {
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
    let mut guessed = BTreeSet::new();
    let mut free = Vec::new();
    if guess {
        let in_use = crate::unlisted::in_use(input);
        free = in_use.iter().map(|u| (*u).to_owned()).collect();
        let guesses = crate::unlisted::guesses(&in_use, &per_person);
        if !guesses.is_empty() {
            orphans.retain(|o| {
                if o.reason != OrphanReason::NoRelayList {
                    return true;
                }
                per_person.insert(o.pubkey.clone(), guesses.clone());
                guessed.insert(o.pubkey.clone());
                false
            });
        }
    }
    Candidates {
        per_person,
        orphans,
        guessed,
        free,
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
    let field = match algorithm {
        Algorithm::Applesauce => Some(crate::field::applesauce(input)),
        Algorithm::Coracle => Some(crate::field::coracle(input)),
        _ => None,
    };
    if let Some(mut plan) = field {
        plan.stale_lists = stale_lists(input);
        return plan;
    }
    let ours = algorithm == Algorithm::Samizdat;
    // Reading people with no evidence from the relays in use is asking
    // relays about people they have no evidence for: exploration's switch.
    let c = candidates(input, ours && input.policy.explore);
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
    // What each relay already knows; ours spends its room at a pace.
    let pace = if algorithm == Algorithm::Samizdat {
        OURS_PACE
    } else {
        1.0
    };
    let exposure = Exposure::of(input, pace);
    let chosen = match algorithm {
        Algorithm::Samizdat => {
            let free: Vec<String> = c
                .free
                .iter()
                .filter(|u| !always.contains(u))
                .cloned()
                .collect();
            let always: Vec<String> = always.iter().chain(&free).cloned().collect();
            choose_probabilistic(
                input,
                volume.as_ref(),
                &exposure,
                &c,
                &always,
                cap + free.len(),
                k,
            )
        }
        Algorithm::GreedyCover => choose_greedy(&c, &always, cap, k),
        Algorithm::TopN => choose_top_n(&c, &always, cap, k),
        Algorithm::Stochastic => choose_stochastic(input, &c, &always, cap, k),
        Algorithm::Applesauce | Algorithm::Coracle => Vec::new(),
    };
    let setting = Setting {
        input,
        volume: volume.as_ref(),
        chosen: &chosen,
        per_person: k,
        exposure: &exposure,
        algorithm,
    };
    let mut plan = assign::assign(&setting, &c);
    if ours {
        crate::unlisted::split(&mut plan, &c.guessed);
        for orphan in &mut plan.orphans {
            if c.guessed.contains(&orphan.pubkey) {
                orphan.reason = OrphanReason::NoRelayList;
            }
        }
        // The relays in use were open anyway: only the others are connections.
        plan.connections = chosen
            .iter()
            .filter(|u| !c.free.contains(u))
            .filter(|u| plan.assignments.contains_key(*u) || input.policy.always.contains(u))
            .count();
    }
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

/// What asking `url` about `person` is expected to return, as ours values
/// it: the chance it delivers them or, once volumes are known, the share of
/// their events it keeps.
pub(crate) fn our_value(
    input: &PlanInput,
    volume: Option<&score::Volume<'_>>,
    person: &str,
    url: &str,
    strength: f64,
) -> f64 {
    let p = p_deliver(input, person, url, strength);
    volume.map_or(p, |v| v.share(input, person, url, p))
}

fn p_deliver(input: &PlanInput, person: &str, url: &str, strength: f64) -> f64 {
    let history = score::delivery(input, url, person);
    let p = score::delivery_probability(strength, score::health(input, url), history);
    // The relay's record with everyone else speaks too: a relay that
    // delivered no one (paid, write-restricted) is not worth its optimism
    // bonus for anyone, asked or not.
    p * score::relay_delivery_rate(input, url)
}

fn choose_probabilistic<'a>(
    input: &'a PlanInput,
    volume: Option<&score::Volume<'_>>,
    exposure: &Exposure<'_>,
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
            let p = our_value(input, volume, person, url, *strength);
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
    // With an exposure cap a relay may learn of only so many new people:
    // its gain counts everyone it already knows plus its best contributions
    // among the rest, up to the room left, and only those people are taken
    // as covered by it.
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
    let best_served = |url: &str,
                       people: &[(&'a str, f64)],
                       miss: &BTreeMap<&'a str, f64>,
                       count: &BTreeMap<&'a str, usize>|
     -> (f64, Vec<(&'a str, f64)>) {
        let (mut known, mut gains): (Vec<_>, Vec<_>) = people
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
            .partition(|(_, (person, _))| exposure.knows(url, person));
        let room = exposure.room(url);
        if gains.len() > room {
            gains.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1 .0.cmp(b.1 .0)));
            gains.truncate(room);
        }
        gains.append(&mut known);
        let gain = gains.iter().map(|(g, _)| g).sum();
        (gain, gains.into_iter().map(|(_, who)| who).collect())
    };
    for url in always {
        let people = by_relay.get(url.as_str()).cloned().unwrap_or_default();
        let (_, served) = best_served(url, &people, &miss, &count);
        take(&served, &mut miss, &mut count);
        chosen.push(url.clone());
    }
    while chosen.len() < cap {
        let mut best: Option<(&str, f64, Served)> = None;
        for (url, people) in &by_relay {
            if chosen.iter().any(|c| c == url) {
                continue;
            }
            let (gain, served) = best_served(url, people, &miss, &count);
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
