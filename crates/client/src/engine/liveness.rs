//! NIP-66 relay liveness: what the monitors the user trusts say of a relay,
//! before this client ever tries it.
//!
//! In the public outbox study 40–66% of the relays people declare are dead;
//! trying each costs a connection attempt, a time-out and a slower feed.
//! Monitors publish a kind-30166 report (`d`: the relay's URL) each time
//! they find a relay up, and a kind-10166 announcement with how often they
//! check. A relay whose newest report from every trusted monitor that knows
//! it is older than [`STALE_CHECKS`] rounds of checks (and at least
//! [`MIN_STALE_SECS`]) is reported dead, and the planner skips it; a relay
//! no trusted monitor reports on is unknown, never dead (NIP-66: absent
//! data must not stop a connection). What this client learned from its own
//! connections always wins: a relay it reached is tried whatever monitors
//! say. Only monitors the user lists are read (a monitor can lie).
//!
//! The reports are fetched from the discovery relays with the relay lists,
//! all of them (no `#d` filter: asking for the relays one cares about would
//! tell the discovery relay where the follow list writes), and only those
//! newer than what the store already holds.

use std::collections::{BTreeMap, HashMap};

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use serde::Serialize;

use crate::engine::{Engine, EngineError};

/// A relay not reported for this many of its monitor's check periods is dead.
pub const STALE_CHECKS: u64 = 3;

/// Never call a relay dead on reports younger than this (seconds): a monitor
/// that checks every minute should not condemn a relay for a short outage.
pub const MIN_STALE_SECS: u64 = 6 * 3600;

/// A monitor that announces no frequency is taken to check hourly.
const DEFAULT_FREQUENCY_SECS: u64 = 3600;

/// Most reports read back from the store at once (one per relay and
/// monitor).
const MAX_REPORTS: usize = 50_000;

/// How far back reports are fetched the first time (seconds).
const FIRST_FETCH_SECS: u64 = 30 * 86_400;

/// What the trusted monitors say of a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reported {
    /// A trusted monitor found it up recently.
    Alive,
    /// Every trusted monitor that knows it stopped finding it up.
    Dead,
}

/// One relay's liveness as the monitors report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitorReport {
    /// Alive or dead.
    pub state: Reported,
    /// Unix time of the newest report from a trusted monitor.
    pub last_seen_up: u64,
    /// How many trusted monitors report on it.
    pub monitors: usize,
}

impl Engine {
    /// Fetches the trusted monitors' announcements and reports from the
    /// discovery relays into the store (only reports newer than the newest
    /// already held). Nothing to do without monitors or discovery relays.
    pub(crate) async fn fetch_liveness(&self) -> Result<(), EngineError> {
        let monitors = &self.config.monitors;
        if monitors.is_empty() || self.config.discovery.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now().as_secs();
        let newest = self
            .store
            .query(&[Filter::new()
                .authors(monitors.iter().copied())
                .kind(Kind::Custom(30166))
                .limit(1)])?
            .first()
            .map(|e| e.created_at.as_secs().saturating_sub(3600));
        let since = newest.unwrap_or(now.saturating_sub(FIRST_FETCH_SECS));
        let filters = vec![
            Filter::new()
                .authors(monitors.iter().copied())
                .kind(Kind::Custom(10166))
                .limit(monitors.len()),
            Filter::new()
                .authors(monitors.iter().copied())
                .kind(Kind::Custom(30166))
                .since(Timestamp::from_secs(since))
                .limit(MAX_REPORTS),
        ];
        self.fetch("liveness", &self.config.discovery, filters)
            .await?;
        Ok(())
    }

    /// What the trusted monitors say of each of `urls` (normalised) they
    /// report on, from the store (no network). Only these relays' reports
    /// are read (an indexed `d` lookup, each URL with and without the
    /// trailing slash monitors may write), so a plan pays for its own
    /// candidates, not for every relay the monitors know.
    pub fn liveness(
        &self,
        urls: &[String],
    ) -> Result<BTreeMap<String, MonitorReport>, EngineError> {
        let monitors = &self.config.monitors;
        if monitors.is_empty() || urls.is_empty() {
            return Ok(BTreeMap::new());
        }
        let spellings: Vec<String> = urls
            .iter()
            .flat_map(|u| [u.clone(), format!("{u}/")])
            .collect();
        let announcements = self.store.query(&[Filter::new()
            .authors(monitors.iter().copied())
            .kind(Kind::Custom(10166))
            .limit(monitors.len())])?;
        let frequency: HashMap<PublicKey, u64> = announcements
            .iter()
            .map(|e| (e.pubkey, announced_frequency(e)))
            .collect();
        let reports = self.store.query(&[Filter::new()
            .authors(monitors.iter().copied())
            .kind(Kind::Custom(30166))
            .identifiers(spellings)
            .limit(MAX_REPORTS)])?;
        Ok(judge(&reports, &frequency, Timestamp::now().as_secs()))
    }

    /// Relays the evidence names for `follows` that the trusted monitors
    /// report dead and this client never tried: the ones the planner skips
    /// on the monitors' word alone (URL and report), by URL.
    pub fn skipped_as_dead(
        &self,
        follows: &[PublicKey],
        own_read: &[RelayUrl],
    ) -> Result<Vec<(String, MonitorReport)>, EngineError> {
        let input = self.plan_input(follows, own_read)?;
        let mut unreachable = Vec::new();
        for (url, health) in &input.relay_health {
            let tried = self.store.relay_stats(url)?.is_some_and(|s| s.attempts > 0);
            if !health.reachable && !tried {
                unreachable.push(url.clone());
            }
        }
        // Unreachable without a try of our own: the monitors said so.
        Ok(self
            .liveness(&unreachable)?
            .into_iter()
            .filter(|(_, r)| r.state == Reported::Dead)
            .collect())
    }
}

/// The check period a kind-10166 announcement gives, in seconds.
fn announced_frequency(event: &Event) -> u64 {
    event
        .tags
        .iter()
        .map(Tag::as_slice)
        .find(|t| t.first().is_some_and(|n| n == "frequency"))
        .and_then(|t| t.get(1))
        .and_then(|f| f.parse::<u64>().ok())
        .filter(|f| *f > 0)
        .unwrap_or(DEFAULT_FREQUENCY_SECS)
}

/// Per relay: alive if any monitor's newest report is fresh, dead if every
/// monitor's is stale. Reports naming no valid relay URL are ignored.
fn judge(
    reports: &[Event],
    frequency: &HashMap<PublicKey, u64>,
    now: u64,
) -> BTreeMap<String, MonitorReport> {
    // (relay, monitor) → newest report time.
    let mut newest: BTreeMap<(String, PublicKey), u64> = BTreeMap::new();
    for event in reports {
        let Some(url) = event
            .tags
            .identifier()
            .and_then(|d| RelayUrl::parse(&d).ok())
        else {
            continue;
        };
        let at = event.created_at.as_secs();
        let slot = newest.entry((url.to_string(), event.pubkey)).or_insert(0);
        *slot = (*slot).max(at);
    }
    let mut out: BTreeMap<String, MonitorReport> = BTreeMap::new();
    for ((url, monitor), at) in newest {
        let period = frequency
            .get(&monitor)
            .copied()
            .unwrap_or(DEFAULT_FREQUENCY_SECS);
        let stale_after = (period.saturating_mul(STALE_CHECKS)).max(MIN_STALE_SECS);
        let fresh = now.saturating_sub(at) <= stale_after;
        let entry = out.entry(url).or_insert(MonitorReport {
            state: Reported::Dead,
            last_seen_up: 0,
            monitors: 0,
        });
        entry.monitors += 1;
        entry.last_seen_up = entry.last_seen_up.max(at);
        if fresh {
            entry.state = Reported::Alive;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(monitor: &Keys, relay: &str, at: u64) -> Event {
        EventBuilder::new(Kind::Custom(30166), "")
            .tag(Tag::identifier(relay))
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(monitor)
            .unwrap()
    }

    #[test]
    fn stale_reports_mean_dead_fresh_ones_alive_and_silence_unknown() {
        let (a, b) = (Keys::generate(), Keys::generate());
        let now = 10_000_000;
        let reports = vec![
            report(&a, "wss://up.example/", now - 600),
            report(&a, "wss://gone.example", now - 2 * 86_400),
            // One monitor stale, another fresh: alive.
            report(&a, "wss://split.example", now - 2 * 86_400),
            report(&b, "wss://split.example", now - 60),
            report(&b, "not a url", now),
        ];
        let judged = judge(&reports, &HashMap::new(), now);
        assert_eq!(judged["wss://up.example"].state, Reported::Alive);
        assert_eq!(judged["wss://gone.example"].state, Reported::Dead);
        assert_eq!(judged["wss://split.example"].state, Reported::Alive);
        assert_eq!(judged["wss://split.example"].monitors, 2);
        assert!(!judged.contains_key("wss://never.example"));
        assert_eq!(judged.len(), 3);
    }

    #[test]
    fn the_announced_frequency_sets_when_a_report_goes_stale() {
        let monitor = Keys::generate();
        let now = 10_000_000;
        let reports = vec![report(&monitor, "wss://r.example", now - 10 * 3600)];
        let daily = HashMap::from([(monitor.public_key(), 86_400)]);
        assert_eq!(
            judge(&reports, &daily, now)["wss://r.example"].state,
            Reported::Alive
        );
        let hourly = HashMap::from([(monitor.public_key(), 3600)]);
        assert_eq!(
            judge(&reports, &hourly, now)["wss://r.example"].state,
            Reported::Dead
        );
        let announcement = EventBuilder::new(Kind::Custom(10166), "")
            .tag(Tag::parse(["frequency", "900"]).unwrap())
            .finalize(&monitor)
            .unwrap();
        assert_eq!(announced_frequency(&announcement), 900);
        let bad = EventBuilder::new(Kind::Custom(10166), "")
            .tag(Tag::parse(["frequency", "soon"]).unwrap())
            .finalize(&monitor)
            .unwrap();
        assert_eq!(announced_frequency(&bad), DEFAULT_FREQUENCY_SECS);
    }
}
