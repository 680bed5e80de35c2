//! A synthetic Nostr network, deterministic for a seed, calibrated to public
//! measurements of the real one: Zipf-like relay popularity with a long tail;
//! NIP-65 adoption between 50% and 90%; about 45% of person→relay pairs
//! pointing at relays that are offline, paid or write-restricted, most of
//! them offline (40–66% of the distinct relays people declare are dead in
//! the public outbox study; here 37–58% over seeds 1–10, `dead_declared_share`); relays that
//! prune old events after different horizons; relay lists that went stale;
//! power-law posting rates.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::{Evidence, RelayList, Source};

/// What a relay really does (the planner never sees this).
#[derive(Debug, Clone)]
pub struct RelayTruth {
    /// Its URL.
    pub url: String,
    /// Answers at all.
    pub online: bool,
    /// Serves reads only to paying members (so not to us).
    pub paid: bool,
    /// Accepts writes only from members (so people's events never land).
    pub write_restricted: bool,
    /// Events older than this many days are pruned.
    pub retention_days: f64,
}

impl RelayTruth {
    /// True when the relay is offline, paid or write-restricted.
    pub fn is_bad(&self) -> bool {
        !self.online || self.paid || self.write_restricted
    }
}

/// A person as the network really is.
#[derive(Debug, Clone)]
pub struct PersonTruth {
    /// Hex-like id.
    pub pubkey: String,
    /// Relays they write to now.
    pub writes_now: Vec<usize>,
    /// Relays they wrote to before `moved_days_ago` (equal to `writes_now` when they never moved).
    pub writes_before: Vec<usize>,
    /// When they changed relays (days ago; infinite when never).
    pub moved_days_ago: f64,
    /// Ages in days of their events over the last year.
    pub event_ages: Vec<f64>,
}

impl PersonTruth {
    /// The relays their event of this age was sent to.
    pub fn relays_at(&self, age_days: f64) -> &[usize] {
        if age_days > self.moved_days_ago {
            &self.writes_before
        } else {
            &self.writes_now
        }
    }
}

/// The whole synthetic network plus what a client could know of it.
#[derive(Debug, Clone)]
pub struct Network {
    /// Relays, most popular first.
    pub relays: Vec<RelayTruth>,
    /// People followed by the simulated user.
    pub follows: Vec<PersonTruth>,
    /// Published NIP-65 lists (stale where people moved).
    pub relay_lists: BTreeMap<String, RelayList>,
    /// Other evidence (kind 3, NIP-05, hints).
    pub evidence: BTreeMap<String, Vec<Evidence>>,
    /// NIP-65 adoption used for this network.
    pub adoption: f64,
    /// Share of listed person→relay pairs that point at bad relays.
    pub bad_pair_share: f64,
}

fn sample_weighted(rng: &mut StdRng, cdf: &[f64]) -> usize {
    let x: f64 = rng.random::<f64>() * cdf.last().copied().unwrap_or(1.0);
    cdf.partition_point(|&c| c < x)
        .min(cdf.len().saturating_sub(1))
}

fn pick_distinct(rng: &mut StdRng, cdf: &[f64], n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut tries = 0;
    while out.len() < n && tries < 100 {
        let r = sample_weighted(rng, cdf);
        if !out.contains(&r) {
            out.push(r);
        }
        tries += 1;
    }
    out
}

/// Builds a network of `users` people (a quarter of them, at most 1,000,
/// followed by the simulated user).
pub fn generate(seed: u64, users: usize) -> Network {
    let mut rng = StdRng::seed_from_u64(seed);
    let n_relays = (users / 6).max(60);
    let mut cdf = Vec::with_capacity(n_relays);
    let mut acc = 0.0;
    for i in 0..n_relays {
        acc += 1.0 / ((i + 1) as f64).powf(1.4);
        cdf.push(acc);
    }
    let relays: Vec<RelayTruth> = (0..n_relays)
        .map(|i| {
            let rank = i as f64 / n_relays as f64;
            // Popular relays are mostly healthy; the long tail mostly is not.
            let bad = rng.random::<f64>() < 0.3 + 0.6 * rank.sqrt();
            // Of the bad ones, 80% are offline, 12% paid, 8% write-restricted.
            let kind = rng.random::<f64>();
            let retention_days = if rng.random::<f64>() < 0.3 {
                f64::INFINITY
            } else {
                rng.random_range(14.0..240.0)
            };
            RelayTruth {
                url: format!("wss://relay{i}.sim"),
                online: !(bad && kind < 0.8),
                paid: bad && (0.8..0.92).contains(&kind),
                write_restricted: bad && kind >= 0.92,
                retention_days,
            }
        })
        .collect();
    let adoption =
        StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)).random_range(0.5..0.9);
    let n_follows = (users / 4).clamp(10, 1_000);
    let mut follows = Vec::with_capacity(n_follows);
    let mut relay_lists = BTreeMap::new();
    let mut evidence: BTreeMap<String, Vec<Evidence>> = BTreeMap::new();
    let (mut listed_pairs, mut bad_pairs) = (0usize, 0usize);
    for u in 0..n_follows {
        let pubkey = format!("{:064x}", (seed << 32) ^ (u as u64 + 1));
        let n_write = match rng.random::<f64>() {
            x if x < 0.2 => 1,
            x if x < 0.55 => 2,
            x if x < 0.85 => 3,
            _ => 4,
        };
        let listed = pick_distinct(&mut rng, &cdf, n_write);
        let moved = rng.random::<f64>() < 0.25;
        let (writes_before, writes_now, moved_days_ago) = if moved {
            let mut now = listed.clone();
            let new = sample_weighted(&mut rng, &cdf);
            let slot = rng.random_range(0..now.len());
            now[slot] = new;
            now.dedup();
            (listed.clone(), now, rng.random_range(0.0..365.0))
        } else {
            (listed.clone(), listed.clone(), f64::INFINITY)
        };
        // Power-law posting rate, events per day.
        let rate = (0.05 * (1.0 / rng.random_range(0.001f64..1.0)).powf(1.0 / 1.2)).min(20.0);
        let count = ((rate * 365.0) * rng.random_range(0.8..1.2)).round() as usize;
        let event_ages: Vec<f64> = (0..count.min(3_000))
            .map(|_| rng.random_range(0.0..365.0))
            .collect();

        let mut ev = Vec::new();
        if rng.random::<f64>() < adoption {
            relay_lists.insert(
                pubkey.clone(),
                RelayList {
                    write: listed.iter().map(|&r| relays[r].url.clone()).collect(),
                    read: listed.iter().map(|&r| relays[r].url.clone()).collect(),
                },
            );
            listed_pairs += listed.len();
            bad_pairs += listed.iter().filter(|&&r| relays[r].is_bad()).count();
        } else {
            if rng.random::<f64>() < 0.5 {
                // Legacy kind-3 relays: half of them stale.
                for &r in &listed {
                    let url = if rng.random::<f64>() < 0.5 {
                        r
                    } else {
                        sample_weighted(&mut rng, &cdf)
                    };
                    ev.push(Evidence {
                        url: relays[url].url.clone(),
                        source: Source::Kind3,
                        age_days: rng.random_range(30.0..700.0),
                    });
                }
            }
            if rng.random::<f64>() < 0.25 {
                ev.push(Evidence {
                    url: relays[listed[0]].url.clone(),
                    source: Source::Nip05,
                    age_days: rng.random_range(0.0..90.0),
                });
            }
        }
        if rng.random::<f64>() < 0.5 {
            let r = writes_now[rng.random_range(0..writes_now.len())];
            ev.push(Evidence {
                url: relays[r].url.clone(),
                source: Source::Hint,
                age_days: rng.random_range(0.0..60.0),
            });
        }
        if !ev.is_empty() {
            evidence.insert(pubkey.clone(), ev);
        }
        follows.push(PersonTruth {
            pubkey,
            writes_now,
            writes_before,
            moved_days_ago,
            event_ages,
        });
    }
    Network {
        relays,
        follows,
        relay_lists,
        evidence,
        adoption,
        bad_pair_share: if listed_pairs == 0 {
            0.0
        } else {
            bad_pairs as f64 / listed_pairs as f64
        },
    }
}

impl Network {
    /// Whether `relay` serves the event of `person` of this age.
    pub fn serves(&self, person: &PersonTruth, relay: usize, age_days: f64) -> bool {
        let r = &self.relays[relay];
        r.online
            && !r.paid
            && !r.write_restricted
            && age_days <= r.retention_days
            && person.relays_at(age_days).contains(&relay)
    }

    /// Share of the distinct relays named in published relay lists that
    /// are offline (the public outbox study measured 40–66% in the field).
    pub fn dead_declared_share(&self) -> f64 {
        let declared: std::collections::BTreeSet<usize> = self
            .relay_lists
            .values()
            .flat_map(|l| &l.write)
            .filter_map(|u| self.relay_index(u))
            .collect();
        if declared.is_empty() {
            return 0.0;
        }
        let dead = declared.iter().filter(|&&r| !self.relays[r].online).count();
        dead as f64 / declared.len() as f64
    }

    /// Index of a relay by URL.
    pub fn relay_index(&self, url: &str) -> Option<usize> {
        url.strip_prefix("wss://relay")?
            .strip_suffix(".sim")?
            .parse()
            .ok()
    }
}
