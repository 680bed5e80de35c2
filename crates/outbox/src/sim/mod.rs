//! The network simulator: runs every algorithm at the same connection budget
//! over several simulated sessions of one synthetic network, feeding each its
//! own delivery history and relay health between sessions, and measures what
//! it actually retrieves.

mod network;
mod oracle;
mod sweep;

pub use network::{generate, Network, PersonTruth, RelayTruth};
pub use oracle::{ceiling, Ceiling};
pub use sweep::{sweep, Sweep, SweepRow};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Evidence, PlanInput, Policy, RelayHealth, Source};
use crate::planner::{plan_with, Algorithm};

/// Simulation settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Network seed.
    pub seed: u64,
    /// People in the network (a quarter are followed, at most 1,000).
    pub users: usize,
    /// Sessions run; figures are from the last one.
    pub sessions: usize,
    /// Connection budget for every algorithm.
    pub max_connections: usize,
    /// Relays per person.
    pub per_person: usize,
    /// The exposure cap every algorithm plans under (`None`: none).
    pub max_exposure: Option<f64>,
    /// Plan from NIP-65 lists alone: no kind-3, NIP-05, hint or seen-on
    /// evidence (to measure what the other sources are worth).
    pub lists_only: bool,
    /// Let ours probe connected relays about people they have no evidence
    /// for (`Policy::explore`).
    pub explore: bool,
    /// NIP-66 liveness: every planner knows from the first session which
    /// relays monitors report dead (the offline ones) and skips them.
    pub liveness: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            users: 2_000,
            sessions: 5,
            max_connections: 20,
            per_person: 2,
            max_exposure: None,
            lists_only: false,
            explore: true,
            liveness: false,
        }
    }
}

/// What one algorithm achieved in the last session.
#[derive(Debug, Clone, Serialize)]
pub struct AlgorithmResult {
    /// Algorithm name.
    pub algorithm: String,
    /// Share of follows assigned at least one relay.
    pub assignment_coverage: f64,
    /// Share of the last 7 days' events retrieved.
    pub recall_7d: f64,
    /// Share of the last year's events retrieved.
    pub recall_1y: f64,
    /// Relays connected to.
    pub connections: usize,
    /// Median over followed people of the share of their year's events retrieved.
    pub median_author_recall: f64,
    /// Largest share of the follow list revealed to one relay.
    pub max_exposure: f64,
    /// (relay, person) pairs asked in all, probes included: how widely the
    /// follow list is spread over relays.
    pub pairs_asked: usize,
    /// Connections tried to relays that are down, over all sessions.
    pub dead_connections: usize,
    /// Largest share of the follow list one relay was asked about over all
    /// sessions together (a relay remembers: this is what it learned).
    pub exposure_ever: f64,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// Seed.
    pub seed: u64,
    /// Followed people.
    pub follows: usize,
    /// Relays in the network.
    pub relays: usize,
    /// NIP-65 adoption in this network.
    pub adoption: f64,
    /// Share of listed person→relay pairs pointing at offline, paid or write-restricted relays.
    pub bad_pair_share: f64,
    /// Share of the distinct relays named in relay lists that are offline.
    pub dead_declared_share: f64,
    /// Sessions run.
    pub sessions: usize,
    /// One row per algorithm, ours first.
    pub results: Vec<AlgorithmResult>,
    /// What a planner that knew the truth would reach on the same budget.
    pub ceiling: Ceiling,
    /// Ours again with NIP-66 liveness, when the caller asked for it
    /// ([`ours_with_liveness`]): what knowing the dead relays up front is
    /// worth.
    pub with_liveness: Option<AlgorithmResult>,
}

/// Runs the simulation.
pub fn run(config: &SimConfig) -> SimReport {
    let net = generate(config.seed, config.users);
    let results = Algorithm::ALL
        .iter()
        .map(|&a| run_algorithm(&net, config, a))
        .collect();

    SimReport {
        seed: config.seed,
        follows: net.follows.len(),
        relays: net.relays.len(),
        adoption: net.adoption,
        bad_pair_share: net.bad_pair_share,
        dead_declared_share: net.dead_declared_share(),
        sessions: config.sessions,
        results,
        ceiling: ceiling(&net, config),
        with_liveness: None,
    }
}

/// Ours on `config`'s network with NIP-66 liveness known up front (what
/// `SimReport::with_liveness` holds when the table shows the gain).
pub fn ours_with_liveness(config: &SimConfig) -> AlgorithmResult {
    let net = generate(config.seed, config.users);
    let config = SimConfig {
        liveness: true,
        ..config.clone()
    };
    run_algorithm(&net, &config, Algorithm::Samizdat)
}

fn run_algorithm(net: &Network, config: &SimConfig, algorithm: Algorithm) -> AlgorithmResult {
    let (plan, input, dead_connections) = sessions(net, config, algorithm);
    let mut result = measure(net, &plan, algorithm);
    result.exposure_ever = exposure_ever(&input, net.follows.len());
    result.dead_connections = dead_connections;
    result
}

/// Runs `config.sessions` sessions of one algorithm on `net`, each learning
/// from what the previous ones retrieved, and returns the last plan with
/// everything learned through the last session (for diagnostics beyond the
/// table).
pub fn run_sessions(
    net: &Network,
    config: &SimConfig,
    algorithm: Algorithm,
) -> (crate::model::Plan, PlanInput) {
    let (plan, input, _) = sessions(net, config, algorithm);
    (plan, input)
}

/// [`run_sessions`], also counting connections tried to relays that are down.
fn sessions(
    net: &Network,
    config: &SimConfig,
    algorithm: Algorithm,
) -> (crate::model::Plan, PlanInput, usize) {
    let mut input = PlanInput {
        follows: net.follows.iter().map(|p| p.pubkey.clone()).collect(),
        relay_lists: net.relay_lists.clone(),
        evidence: if config.lists_only {
            BTreeMap::new()
        } else {
            net.evidence.clone()
        },
        relay_health: BTreeMap::new(),
        delivery: BTreeMap::new(),
        relay_depth: BTreeMap::new(),
        known: BTreeMap::new(),
        in_use: Vec::new(),
        policy: Policy {
            max_connections: config.max_connections,
            per_person: config.per_person,
            seed: config.seed,
            max_exposure: config.max_exposure,
            explore: config.explore,
            ..Policy::default()
        },
    };
    if config.liveness {
        // Monitors report the offline relays dead before any connection.
        for relay in net.relays.iter().filter(|r| !r.online) {
            input.relay_health.insert(
                relay.url.clone(),
                RelayHealth {
                    reachable: false,
                    success_rate: 0.0,
                },
            );
        }
    }
    let mut attempts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut dead_connections = 0;
    let mut last = None;
    for session in 0..config.sessions.max(1) {
        input.policy.seed = config.seed.wrapping_mul(31).wrapping_add(session as u64);
        let plan = plan_with(&input, algorithm);
        let asked = plan.asked();
        let by_person = invert(&asked);
        // Connect: relay health as a client would observe it.
        for url in asked.keys() {
            let online = net.relay_index(url).is_some_and(|i| net.relays[i].online);
            dead_connections += usize::from(!online);
            let e = attempts.entry(url.to_string()).or_insert((0, 0));
            e.0 += 1;
            e.1 += u32::from(online);
            input.relay_health.insert(
                url.to_string(),
                RelayHealth {
                    reachable: online,
                    success_rate: f64::from(e.1) / f64::from(e.0),
                },
            );
        }
        // Ask each relay for its people; learn who it delivered.
        for person in &net.follows {
            for url in by_person.get(person.pubkey.as_str()).into_iter().flatten() {
                let Some(r) = net.relay_index(url) else {
                    continue;
                };
                let served: Vec<f64> = person
                    .event_ages
                    .iter()
                    .copied()
                    .filter(|&age| net.serves(person, r, age))
                    .collect();
                let delivered = !served.is_empty();
                if let Some(oldest) = served.iter().copied().reduce(f64::max) {
                    let depth = input.relay_depth.entry(url.to_string()).or_insert(0.0);
                    *depth = depth.max(oldest);
                }
                let d = input
                    .delivery
                    .entry(url.to_string())
                    .or_default()
                    .entry(person.pubkey.clone())
                    .or_default();
                d.asked += 1;
                d.delivered += u32::from(delivered);
                d.events = served.len() as u32;
                if delivered && !config.lists_only {
                    let ev = input.evidence.entry(person.pubkey.clone()).or_default();
                    if !ev.iter().any(|e| e.url == *url && e.source == Source::Seen) {
                        ev.push(Evidence {
                            url: url.to_string(),
                            source: Source::Seen,
                            age_days: 0.0,
                        });
                    }
                }
            }
        }
        last = Some(plan);
    }
    (last.unwrap_or_default(), input, dead_connections)
}

/// The largest share of the follow list any one relay was asked about over
/// all sessions (what its ledger entry would say).
fn exposure_ever(input: &PlanInput, follows: usize) -> f64 {
    if follows == 0 {
        return 0.0;
    }
    input
        .delivery
        .values()
        .map(|people| people.values().filter(|d| d.asked > 0).count())
        .max()
        .unwrap_or(0) as f64
        / follows as f64
}

/// Person → the relays asked about them.
fn invert<'a>(asked: &BTreeMap<&'a str, Vec<&'a str>>) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (url, people) in asked {
        for p in people {
            out.entry(*p).or_default().push(*url);
        }
    }
    out
}

fn measure(net: &Network, plan: &crate::model::Plan, algorithm: Algorithm) -> AlgorithmResult {
    let asked = plan.asked();
    let by_person = invert(&asked);
    let (mut got7, mut all7, mut got365, mut all365) = (0usize, 0usize, 0usize, 0usize);
    let mut per_author = Vec::new();
    for person in &net.follows {
        let relays: Vec<usize> = by_person
            .get(person.pubkey.as_str())
            .into_iter()
            .flatten()
            .filter_map(|u| net.relay_index(u))
            .collect();
        let mut got = 0usize;
        for &age in &person.event_ages {
            let hit = relays.iter().any(|&r| net.serves(person, r, age));
            got += usize::from(hit);
            if age <= 7.0 {
                all7 += 1;
                got7 += usize::from(hit);
            }
        }
        all365 += person.event_ages.len();
        got365 += got;
        if !person.event_ages.is_empty() {
            per_author.push(got as f64 / person.event_ages.len() as f64);
        }
    }
    per_author.sort_by(f64::total_cmp);
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    AlgorithmResult {
        algorithm: algorithm.name().to_owned(),
        assignment_coverage: plan.coverage(net.follows.len()),
        recall_7d: ratio(got7, all7),
        recall_1y: ratio(got365, all365),
        connections: plan.connections,
        median_author_recall: per_author.get(per_author.len() / 2).copied().unwrap_or(0.0),
        max_exposure: plan.max_exposure(net.follows.len()),
        pairs_asked: plan.pairs_asked(),
        exposure_ever: 0.0,
        dead_connections: 0,
    }
}

impl SimReport {
    /// A plain-text table, ours first, with our margin over the best baseline.
    pub fn table(&self) -> String {
        let mut s = format!(
            "seed {}: {} follows, {} relays, NIP-65 adoption {:.0}%, bad person-relay pairs {:.0}%, declared relays dead {:.0}%, {} sessions\n",
            self.seed,
            self.follows,
            self.relays,
            self.adoption * 100.0,
            self.bad_pair_share * 100.0,
            self.dead_declared_share * 100.0,
            self.sessions
        );
        s.push_str(&format!(
            "{:<14}{:>10}{:>10}{:>10}{:>8}{:>14}{:>10}{:>7}{:>7}{:>6}\n",
            "algorithm",
            "coverage",
            "recall7d",
            "recall1y",
            "conns",
            "median-author",
            "exposure",
            "ever",
            "pairs",
            "dead"
        ));
        for r in &self.results {
            s.push_str(&format!(
                "{:<14}{:>9.1}%{:>9.1}%{:>9.1}%{:>8}{:>13.1}%{:>9.1}%{:>6.1}%{:>7}{:>6}\n",
                r.algorithm,
                r.assignment_coverage * 100.0,
                r.recall_7d * 100.0,
                r.recall_1y * 100.0,
                r.connections,
                r.median_author_recall * 100.0,
                r.max_exposure * 100.0,
                r.exposure_ever * 100.0,
                r.pairs_asked,
                r.dead_connections
            ));
        }
        s.push_str(&format!(
            "{:<14}{:>10}{:>9.1}%{:>9.1}%   (knows what every relay serves; same budget and cap)\n",
            "ceiling",
            "",
            self.ceiling.recall_7d * 100.0,
            self.ceiling.recall_1y * 100.0
        ));
        if let (Some(ours), Some(live)) = (self.results.first(), &self.with_liveness) {
            s.push_str(&format!(
                "with NIP-66 liveness (dead relays known up front), ours: recall7d {:.1}% → {:.1}%, recall1y {:.1}% → {:.1}%, connections to dead relays {} → {}\n",
                ours.recall_7d * 100.0,
                live.recall_7d * 100.0,
                ours.recall_1y * 100.0,
                live.recall_1y * 100.0,
                ours.dead_connections,
                live.dead_connections
            ));
        }
        if let Some((ours, rest)) = self.results.split_first() {
            let best = |f: fn(&AlgorithmResult) -> f64| rest.iter().map(f).fold(f64::MIN, f64::max);
            s.push_str(&format!(
                "margin over best baseline: coverage {:+.1} pts, recall7d {:+.1} pts, recall1y {:+.1} pts, median-author {:+.1} pts\n",
                (ours.assignment_coverage - best(|r| r.assignment_coverage)) * 100.0,
                (ours.recall_7d - best(|r| r.recall_7d)) * 100.0,
                (ours.recall_1y - best(|r| r.recall_1y)) * 100.0,
                (ours.median_author_recall - best(|r| r.median_author_recall)) * 100.0,
            ));
        }
        s
    }
}
