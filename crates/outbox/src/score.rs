//! How strongly the evidence ties a person to a relay, and how likely the
//! relay is to deliver their events, learned from delivery history.

use std::collections::BTreeMap;

use crate::model::{Delivery, PlanInput, RelayHealth};

/// The chance a relay with the strongest evidence delivers, before any history.
const BASE_DELIVERY_RATE: f64 = 0.6;

/// Evidence older than this many days counts half as much.
const EVIDENCE_HALF_LIFE_DAYS: f64 = 60.0;

/// Strength in (0, 1] of the evidence that `person` writes to each relay: 1
/// for their NIP-65 write list, less for older or weaker sources. Only relays
/// with some evidence appear.
pub fn evidence(input: &PlanInput, person: &str) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    let mut put = |url: &str, s: f64| {
        let e = out.entry(url.to_owned()).or_insert(0.0);
        // Independent pieces of evidence reinforce each other.
        *e = 1.0 - (1.0 - *e) * (1.0 - s.clamp(0.0, 1.0));
    };
    if let Some(list) = input.relay_lists.get(person) {
        for url in &list.write {
            put(url, 1.0);
        }
    }
    for ev in input.evidence.get(person).into_iter().flatten() {
        let age = ev.age_days.max(0.0);
        put(
            &ev.url,
            ev.source.weight() * 0.5f64.powf(age / EVIDENCE_HALF_LIFE_DAYS),
        );
    }
    out
}

/// 0 to 1: how usable a relay is now.
pub fn health(input: &PlanInput, url: &str) -> f64 {
    let h = input
        .relay_health
        .get(url)
        .cloned()
        .unwrap_or(RelayHealth::default());
    if !h.reachable {
        return 0.0;
    }
    0.1 + 0.9 * h.success_rate.clamp(0.0, 1.0)
}

/// Delivery history of `relay` for `person`.
pub fn delivery(input: &PlanInput, relay: &str, person: &str) -> Delivery {
    input
        .delivery
        .get(relay)
        .and_then(|m| m.get(person))
        .copied()
        .unwrap_or_default()
}

/// Probability that asking `relay` for `person` returns their events: a Beta
/// posterior whose prior is the evidence strength (worth two observations),
/// updated with what the relay actually delivered, times relay health, plus
/// an optimism bonus that shrinks with observations so untried pairs get
/// tried (upper confidence bound).
pub fn delivery_probability(strength: f64, health: f64, history: Delivery) -> f64 {
    let prior = 2.0;
    // Even a fresh NIP-65 entry is no certainty: in the field about 45% of
    // listed person→relay pairs point at relays that are offline, paid or
    // write-restricted, so the prior never promises more than this.
    let base = BASE_DELIVERY_RATE * strength.clamp(0.0, 1.0);
    let alpha = prior * base + f64::from(history.delivered);
    let beta = prior * (1.0 - base) + f64::from(history.asked.saturating_sub(history.delivered));
    let n = alpha + beta;
    let mean = alpha / n;
    let bonus = 0.5 * (mean * (1.0 - mean) / (n + 1.0)).sqrt();
    ((mean + bonus) * health).clamp(0.0, 1.0)
}

/// Share of the people a relay was asked about that it delivered, over all
/// of them (a Beta posterior with an optimistic prior): a relay that answers
/// but serves nothing (paid, write-restricted, pruned) fades for everyone,
/// including people it was never asked about.
pub fn relay_delivery_rate(input: &PlanInput, url: &str) -> f64 {
    let (asked, delivered) = input.delivery.get(url).map_or((0u64, 0u64), |m| {
        m.values().fold((0, 0), |(a, d), x| {
            (a + u64::from(x.asked), d + u64::from(x.delivered))
        })
    });
    (delivered as f64 + 2.0) / (asked as f64 + 2.5)
}

/// How much of each person's history the relays hold, learned from how many
/// events each relay returned: people who post more weigh more (recall is
/// counted in events), and a relay that returned fewer of someone's events
/// than another is expected to keep less of them.
pub struct Volume<'a> {
    /// Per person, the most events any relay returned for them.
    activity: BTreeMap<&'a str, f64>,
    /// The median of `activity`: the weight of someone never read yet.
    typical: f64,
}

/// The share of a year a relay is assumed to keep before it was seen.
const PRIOR_DEPTH_SHARE: f64 = 0.6;

impl<'a> Volume<'a> {
    /// Learns from the input's delivery history; `None` when no relay ever
    /// said how many events it returned (then people weigh the same).
    pub fn learn(input: &'a PlanInput) -> Option<Self> {
        let mut activity: BTreeMap<&str, f64> = BTreeMap::new();
        for per_person in input.delivery.values() {
            for (person, d) in per_person {
                if d.events > 0 {
                    let a = activity.entry(person.as_str()).or_insert(0.0);
                    *a = a.max(f64::from(d.events));
                }
            }
        }
        if activity.is_empty() {
            return None;
        }
        let mut all: Vec<f64> = activity.values().copied().collect();
        all.sort_by(f64::total_cmp);
        let typical = all[all.len() / 2].max(1.0);
        Some(Self { activity, typical })
    }

    /// How much reaching `person` is worth (their events, as far as known).
    pub fn weight(&self, person: &str) -> f64 {
        self.activity.get(person).copied().unwrap_or(self.typical)
    }

    /// The share of `person`'s events `relay` is expected to return, given
    /// `p`, the chance it delivers them at all.
    pub fn share(&self, input: &PlanInput, person: &str, relay: &str, p: f64) -> f64 {
        let d = delivery(input, relay, person);
        match self.activity.get(person) {
            // It was asked: what it returned against the best relay's count,
            // discounted by how reliably it answers.
            Some(a) if d.asked > 0 => {
                (f64::from(d.events) / a).clamp(0.0, 1.0) * p.clamp(0.05, 1.0).sqrt()
            }
            _ => {
                let depth = input
                    .relay_depth
                    .get(relay)
                    .map_or(PRIOR_DEPTH_SHARE, |d| (d / 365.0).clamp(0.05, 1.0));
                p * depth
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_history_moves_the_estimate() {
        let fresh = delivery_probability(1.0, 1.0, Delivery::default());
        let failed = delivery_probability(
            1.0,
            1.0,
            Delivery {
                asked: 5,
                delivered: 0,
                ..Delivery::default()
            },
        );
        let good = delivery_probability(
            0.3,
            1.0,
            Delivery {
                asked: 5,
                delivered: 5,
                ..Delivery::default()
            },
        );
        assert!(
            failed < 0.4 && fresh > 0.5 && fresh < 0.9,
            "{failed} {fresh}"
        );
        assert!(good > 0.8, "{good}");
        assert_eq!(delivery_probability(1.0, 0.0, Delivery::default()), 0.0);
    }
}
