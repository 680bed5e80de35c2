//! Asking relays: one-off fetches and live subscriptions, waiting for each
//! relay's EOSE, and the background spread (during background work each
//! relay's REQ waits a random delay of its own, so relays comparing logs do
//! not see all of the user's connections asked in the same second).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use nostr::prelude::*;
use samizdat_net::{PoolEvent, RelayUrl};
use tokio::sync::broadcast;

use crate::engine::{Engine, EngineError, RelayOutcome};

impl Engine {
    /// Opens `filters` as a one-off subscription on `relays`, waits for EOSE
    /// (or failure, or the phase timeout), then closes it. Events land in the
    /// store on the way.
    pub(crate) async fn fetch(
        &self,
        prefix: &str,
        relays: &[RelayUrl],
        filters: Vec<Filter>,
    ) -> Result<BTreeMap<String, RelayOutcome>, EngineError> {
        let sub = self.unique_sub(prefix);
        let people = crate::engine::ledger::people_in(&filters);
        let rx = self.listen();
        for relay in relays {
            self.send_req(relay, &sub, filters.clone())?;
        }
        let mut outcomes = BTreeMap::new();
        self.wait_for_eose(rx, relays, &sub, &mut outcomes, &HashMap::new(), &|_| {})
            .await;
        for relay in relays {
            self.pool.unsubscribe(relay, &sub)?;
        }
        self.learned_asked(relays, &outcomes, &people)?;
        Ok(outcomes)
    }

    /// Fetches from each relay in `asks` about its own people, the filter
    /// made by `filter` from them; relays in parallel.
    pub(crate) async fn fetch_each(
        &self,
        prefix: &str,
        asks: &BTreeMap<RelayUrl, BTreeSet<PublicKey>>,
        filter: impl Fn(&BTreeSet<PublicKey>) -> Filter,
    ) -> Result<(), EngineError> {
        let fetches = asks
            .iter()
            .filter(|(_, who)| !who.is_empty())
            .map(|(relay, who)| self.fetch(prefix, std::slice::from_ref(relay), vec![filter(who)]));
        for result in futures_util::future::join_all(fetches).await {
            result?;
        }
        Ok(())
    }

    /// Runs `work` as background work: the REQs it sends are spread (see
    /// `EngineConfig::background_spread`).
    pub async fn in_background<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        struct Running<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.background
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _running = Running(&self.background);
        work.await
    }

    /// How long REQs may wait now: the spread during background work, else
    /// nothing.
    pub(crate) fn spread(&self) -> Duration {
        if self.background.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            self.config.background_spread
        } else {
            Duration::ZERO
        }
    }

    /// Sends `filters` as `sub` to `relay`: at once, or during background
    /// work after a random delay within the spread, drawn for this relay.
    pub(crate) fn send_req(
        &self,
        relay: &RelayUrl,
        sub: &str,
        filters: Vec<Filter>,
    ) -> Result<(), EngineError> {
        let spread = self.spread();
        let delay = if spread.is_zero() {
            Duration::ZERO
        } else {
            spread.mul_f64(rand::random::<f64>())
        };
        Ok(self.pool.subscribe_after(relay, sub, filters, delay)?)
    }

    /// Opens `filters` as the live subscription `sub` on `relays` (replacing
    /// an earlier one of that name), waits for what is stored (EOSE, failure
    /// or the phase timeout) and leaves it open for new events.
    pub async fn live(
        &self,
        sub: &str,
        relays: &[RelayUrl],
        filters: Vec<Filter>,
    ) -> Result<(), EngineError> {
        let people = crate::engine::ledger::people_in(&filters);
        let rx = self.listen();
        for relay in relays {
            self.send_req(relay, sub, filters.clone())?;
        }
        let mut outcomes = BTreeMap::new();
        self.wait_for_eose(rx, relays, sub, &mut outcomes, &HashMap::new(), &|_| {})
            .await;
        self.learned_asked(relays, &outcomes, &people)?;
        Ok(())
    }

    /// Waits until every relay in `relays` has answered `sub` (EOSE), failed
    /// or been denied, or the phase timeout passed. Counts events and the
    /// people they came from per relay into `outcomes`.
    pub(crate) async fn wait_for_eose(
        &self,
        mut rx: broadcast::Receiver<PoolEvent>,
        relays: &[RelayUrl],
        sub: &str,
        outcomes: &mut BTreeMap<String, RelayOutcome>,
        assigned: &HashMap<String, BTreeSet<PublicKey>>,
        progress: &(dyn Fn(&str) + Sync),
    ) {
        let mut waiting: BTreeSet<String> = relays.iter().map(|r| r.to_string()).collect();
        let mut delivered: HashMap<String, BTreeSet<PublicKey>> = HashMap::new();
        let deadline = tokio::time::Instant::now() + self.config.phase_timeout + self.spread();
        while !waiting.is_empty() {
            let event = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => break,
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    tracing::debug!(skipped = n, "an operation fell behind the pool's events");
                    continue;
                }
                Ok(Ok(event)) => event,
            };
            match event {
                PoolEvent::Events {
                    relay,
                    sub: s,
                    events,
                } if s == sub => {
                    let o = outcomes.entry(relay.to_string()).or_default();
                    o.events += events.len();
                    let d = delivered.entry(relay.to_string()).or_default();
                    d.extend(events.iter().map(|e| e.pubkey));
                }
                PoolEvent::Eose {
                    relay,
                    sub: s,
                    timed_out,
                } if s == sub => {
                    let key = relay.to_string();
                    outcomes.entry(key.clone()).or_default().finished = !timed_out;
                    if waiting.remove(&key) {
                        progress(&format!("{key} done"));
                    }
                }
                PoolEvent::Closed {
                    relay,
                    sub: s,
                    reason,
                } if s == sub => {
                    outcomes.entry(relay.to_string()).or_default().error =
                        Some(format!("closed: {reason}"));
                    waiting.remove(&relay.to_string());
                }
                PoolEvent::Disconnected { relay, error, .. } => {
                    let key = relay.to_string();
                    if waiting.contains(&key) {
                        outcomes.entry(key.clone()).or_default().error = Some(error);
                    }
                    // An unreachable relay keeps retrying in the background;
                    // this operation does not wait for it.
                    if waiting.remove(&key) {
                        progress(&format!("{key} unreachable"));
                    }
                }
                PoolEvent::NotStored {
                    relay,
                    events,
                    error,
                } => {
                    let o = outcomes.entry(relay.to_string()).or_default();
                    let before = o.not_stored.as_ref().map_or(0, |(n, _)| *n);
                    o.not_stored = Some((before + events, error));
                }
                PoolEvent::Denied { relay } => {
                    let key = relay.to_string();
                    if waiting.remove(&key) {
                        outcomes.entry(key).or_default().error = Some("denied by policy".into());
                    }
                }
                _ => {}
            }
        }
        for (relay, people) in delivered {
            let count = assigned
                .get(&relay)
                .map_or(people.len(), |a| people.intersection(a).count());
            outcomes.entry(relay).or_default().delivered_for += count;
        }
    }
}
