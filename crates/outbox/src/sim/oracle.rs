//! The ceiling: what relay selection could retrieve if it knew the truth.
//!
//! Greedy on what each relay really serves each followed person, under the
//! same connection budget, relays per person and exposure cap as the
//! algorithms: a measure of how much of the gap to 100% is knowledge (what
//! no planner can know before asking) and how much is the planner.

use serde::Serialize;

use super::network::Network;
use super::SimConfig;

/// Recall an omniscient greedy planner reaches.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Ceiling {
    /// Share of the last 7 days' events (planned for those events).
    pub recall_7d: f64,
    /// Share of the last year's events (planned for those events).
    pub recall_1y: f64,
}

/// Runs the omniscient greedy planner for both windows.
pub fn ceiling(net: &Network, config: &SimConfig) -> Ceiling {
    Ceiling {
        recall_7d: greedy_on_truth(net, config, 7.0),
        recall_1y: greedy_on_truth(net, config, 365.0),
    }
}

/// Events of each person within the window that each relay serves.
struct Served {
    /// Per person: (relay, which of their events it serves).
    by_person: Vec<Vec<(usize, Vec<bool>)>>,
    total: usize,
}

fn served(net: &Network, window_days: f64) -> Served {
    let mut total = 0;
    let by_person = net
        .follows
        .iter()
        .map(|p| {
            let ages: Vec<f64> = p
                .event_ages
                .iter()
                .copied()
                .filter(|a| *a <= window_days)
                .collect();
            total += ages.len();
            let mut relays: Vec<usize> = p
                .writes_now
                .iter()
                .chain(&p.writes_before)
                .copied()
                .collect();
            relays.sort_unstable();
            relays.dedup();
            relays
                .into_iter()
                .filter_map(|r| {
                    let hits: Vec<bool> = ages.iter().map(|&a| net.serves(p, r, a)).collect();
                    hits.iter().any(|h| *h).then_some((r, hits))
                })
                .collect()
        })
        .collect();
    Served { by_person, total }
}

fn greedy_on_truth(net: &Network, config: &SimConfig, window_days: f64) -> f64 {
    let served = served(net, window_days);
    if served.total == 0 {
        return 0.0;
    }
    let n = net.follows.len();
    let capacity = crate::model::Policy {
        max_exposure: config.max_exposure,
        ..crate::model::Policy::default()
    }
    .relay_capacity(n);
    let k = config.per_person.max(1);
    let mut got: Vec<Vec<bool>> = served
        .by_person
        .iter()
        .map(|relays| vec![false; relays.first().map_or(0, |(_, h)| h.len())])
        .collect();
    let mut assigned = vec![0usize; n];
    let mut chosen: Vec<usize> = Vec::new();
    for _ in 0..config.max_connections {
        let mut best: Option<(usize, usize, Vec<usize>)> = None;
        for r in 0..net.relays.len() {
            if chosen.contains(&r) {
                continue;
            }
            let mut gains: Vec<(usize, usize)> = served
                .by_person
                .iter()
                .enumerate()
                .filter(|(i, _)| assigned[*i] < k)
                .filter_map(|(i, relays)| {
                    let (_, hits) = relays.iter().find(|(x, _)| *x == r)?;
                    let gain = hits
                        .iter()
                        .zip(&got[i])
                        .filter(|(h, g)| **h && !**g)
                        .count();
                    (gain > 0).then_some((gain, i))
                })
                .collect();
            gains.sort_unstable_by(|a, b| b.cmp(a));
            gains.truncate(capacity);
            let total: usize = gains.iter().map(|g| g.0).sum();
            if total > best.as_ref().map_or(0, |b| b.1) {
                best = Some((r, total, gains.into_iter().map(|g| g.1).collect()));
            }
        }
        let Some((r, _, people)) = best else { break };
        chosen.push(r);
        for i in people {
            assigned[i] += 1;
            if let Some((_, hits)) = served.by_person[i].iter().find(|(x, _)| *x == r) {
                for (g, h) in got[i].iter_mut().zip(hits) {
                    *g |= *h;
                }
            }
        }
    }
    let hit: usize = got.iter().map(|g| g.iter().filter(|x| **x).count()).sum();
    hit as f64 / served.total as f64
}
