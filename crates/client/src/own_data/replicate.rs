//! Own data everywhere: which of the user's events each of their relays
//! still holds, and the repair of what is missing.
//!
//! Each outbox relay is checked for the user's own events and each DM relay
//! for the gift wraps addressed to the user: by NIP-77 negentropy where the
//! relay speaks it (a few kilobytes of fingerprints), else by asking for the
//! ids (the relay sends back what it holds). What a relay lacks goes back
//! into the durable publishing queue — except what that relay refused
//! before, which is reported rather than retried forever — and is delivered
//! at once. What a relay holds that the store lacks (written from another
//! device) is fetched. A relay found missing events run after run raises
//! [`Alert::RelayLosesEvents`]; the counts live in `replication.json`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use nostr::prelude::*;
use samizdat_net::{NegError, RelayUrl};
use serde::{Deserialize, Serialize};

use crate::engine::{Alert, EngineUpdate};
use crate::session::{Session, SessionError};

/// Most own events one check covers.
const MAX_EVENTS: usize = 500_000;

/// Ids per filter in the id fallback.
const IDS_PER_FILTER: usize = 250;

/// Longest a negentropy exchange may take.
const NEG_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs in a row with missing events before the user is alerted.
const LOSING_RUNS_ALERT: u32 = 2;

/// How one relay was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// NIP-77 negentropy.
    Negentropy,
    /// The id fallback: the relay was asked for our ids.
    Ids,
}

/// What one relay holds of ours, and what was done about it.
#[derive(Debug, Clone, Serialize)]
pub struct RelayReplication {
    /// The relay.
    pub relay: String,
    /// `outbox` (own events) or `dm` (gift wraps to the user).
    pub scope: &'static str,
    /// How it was checked (`None`: the check failed, see `error`).
    pub method: Option<Method>,
    /// Our events checked.
    pub checked: usize,
    /// Of which it holds.
    pub held: usize,
    /// Of which it lacks.
    pub missing: usize,
    /// Missing ones queued again.
    pub requeued: usize,
    /// Re-sent and accepted in this run.
    pub delivered: usize,
    /// Still queued (relay down, rate limits): retried with the queue.
    pub pending: usize,
    /// Refused by the relay (now or before), with its reason, by id.
    pub refused: Vec<(String, String)>,
    /// Events of ours it held that the store lacked, now fetched.
    pub fetched: usize,
    /// Bytes the check exchanged (negentropy messages, or the id REQs and
    /// the events sent back).
    pub bytes: u64,
    /// How long the check took.
    pub millis: u64,
    /// Runs in a row in which this relay lacked some of our events.
    pub losing_runs: u32,
    /// Why the check failed, if it did.
    pub error: Option<String>,
}

impl RelayReplication {
    /// One line for people: how it was checked and what it holds.
    pub fn sentence(&self) -> String {
        let how = match self.method {
            Some(Method::Negentropy) => "negentropy",
            Some(Method::Ids) => "ids",
            None => "failed",
        };
        let head = format!(
            "{} ({}, {how}, {} bytes, {} ms)",
            self.relay, self.scope, self.bytes, self.millis
        );
        if let Some(e) = &self.error {
            return format!("{head}: could not check: {e}");
        }
        let mut line = format!(
            "{head}: holds {} of {}, missing {}, re-sent {} ({} accepted, {} still queued), refused {}",
            self.held,
            self.checked,
            self.missing,
            self.requeued,
            self.delivered,
            self.pending,
            self.refused.len()
        );
        if self.fetched > 0 {
            line.push_str(&format!(", {} of yours fetched from it", self.fetched));
        }
        if let Some((_, why)) = self.refused.first() {
            line.push_str(&format!("; refused because: {why}"));
        }
        if self.losing_runs >= LOSING_RUNS_ALERT {
            line.push_str(&format!(
                "; it lacked some of your events {} checks in a row",
                self.losing_runs
            ));
        }
        line
    }
}

/// A whole replication run.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicationReport {
    /// Own events in the store.
    pub own_events: usize,
    /// Gift wraps to the user in the store.
    pub dm_wraps: usize,
    /// One row per relay and scope.
    pub relays: Vec<RelayReplication>,
}

impl ReplicationReport {
    /// Lines for people: the totals, then one sentence per relay.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} of your events, {} DM gift wraps to you",
            self.own_events, self.dm_wraps
        )];
        out.extend(self.relays.iter().map(|r| format!("  {}", r.sentence())));
        out
    }
}

/// What a check found.
struct Found {
    method: Method,
    missing: Vec<EventId>,
    need: Vec<EventId>,
    bytes: u64,
}

/// Per relay, runs in a row with losses (kept in `replication.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct LossBook {
    #[serde(default)]
    losing_runs: BTreeMap<String, u32>,
}

impl Session {
    fn loss_book_path(&self) -> Option<std::path::PathBuf> {
        self.settings_path
            .parent()
            .map(|d| d.join("replication.json"))
    }

    /// Checks every outbox relay for the user's events and every DM relay
    /// for their gift wraps, re-sends what is missing, fetches what only
    /// the relays had. `progress` hears each relay as it is done.
    pub async fn replicate(
        &self,
        progress: impl Fn(&str) + Sync,
    ) -> Result<ReplicationReport, SessionError> {
        let store = self.engine.store();
        let own_filter = Filter::new().author(self.me);
        let dm_filter = Filter::new().kind(Kind::GiftWrap).pubkey(self.me);
        let own = store.query(&[own_filter.clone().limit(MAX_EVENTS)])?;
        let wraps = store.query(&[dm_filter.clone().limit(MAX_EVENTS)])?;
        let mut jobs: Vec<(RelayUrl, &'static str, Filter, &[Event])> = Vec::new();
        for relay in self.settings().write_relays() {
            jobs.push((relay, "outbox", own_filter.clone(), &own));
        }
        if !wraps.is_empty() {
            for relay in self.dm_relays_of(self.me)? {
                jobs.push((relay, "dm", dm_filter.clone(), &wraps));
            }
        }
        let progress = &progress;
        let checks = jobs
            .iter()
            .map(|(relay, scope, filter, events)| async move {
                let started = Instant::now();
                let found = self.check(relay, filter, events).await;
                progress(&format!("{relay} ({scope}) checked"));
                (
                    relay.clone(),
                    *scope,
                    events.len(),
                    found,
                    started.elapsed(),
                )
            });
        let mut rows = Vec::new();
        for (relay, scope, checked, found, took) in join_all(checks).await {
            let mut row = RelayReplication {
                relay: relay.to_string(),
                scope,
                method: None,
                checked,
                held: 0,
                missing: 0,
                requeued: 0,
                delivered: 0,
                pending: 0,
                refused: Vec::new(),
                fetched: 0,
                bytes: 0,
                millis: took.as_millis() as u64,
                losing_runs: 0,
                error: None,
            };
            match found {
                Ok(found) => {
                    row.method = Some(found.method);
                    row.missing = found.missing.len();
                    row.held = checked.saturating_sub(row.missing);
                    row.bytes = found.bytes;
                    let requeued = store.requeue(&row.relay, &found.missing)?;
                    row.requeued = requeued.queued.len();
                    row.refused = requeued
                        .refused
                        .iter()
                        .map(|(id, why)| (id.to_hex(), why.clone()))
                        .collect();
                    if !found.need.is_empty() {
                        row.fetched = self.fetch_ids(&relay, &found.need).await?.len();
                    }
                    rows.push((row, requeued.queued));
                }
                Err(e) => {
                    row.error = Some(e);
                    rows.push((row, Vec::new()));
                }
            }
        }
        self.engine.deliver_all_due().await?;
        let mut book = self.read_loss_book();
        let mut report = Vec::new();
        for (mut row, queued) in rows {
            for (id, state, error) in store.delivery_states(&row.relay, &queued)? {
                match state {
                    samizdat_store::DeliveryState::Delivered => row.delivered += 1,
                    samizdat_store::DeliveryState::Pending => row.pending += 1,
                    _ => row.refused.push((id.to_hex(), error.unwrap_or_default())),
                }
            }
            if row.error.is_none() {
                let runs = book.losing_runs.entry(row.relay.clone()).or_insert(0);
                *runs = if row.missing > 0 { *runs + 1 } else { 0 };
                row.losing_runs = *runs;
                if *runs >= LOSING_RUNS_ALERT {
                    self.engine
                        .announce(EngineUpdate::Alert(Alert::RelayLosesEvents {
                            relay: row.relay.clone(),
                            missing: row.missing,
                            runs: *runs,
                        }));
                }
            }
            report.push(row);
        }
        self.write_loss_book(&book);
        Ok(ReplicationReport {
            own_events: own.len(),
            dm_wraps: wraps.len(),
            relays: report,
        })
    }

    /// Which of `events` (ours, matching `filter`) `relay` lacks, and which
    /// of its events matching `filter` the store lacks.
    async fn check(
        &self,
        relay: &RelayUrl,
        filter: &Filter,
        events: &[Event],
    ) -> Result<Found, String> {
        let items: Vec<(Timestamp, EventId)> =
            events.iter().map(|e| (e.created_at, e.id)).collect();
        match self
            .engine
            .pool
            .negentropy(relay, filter.clone(), items, NEG_TIMEOUT)
            .await
        {
            Ok(out) => Ok(Found {
                method: Method::Negentropy,
                missing: out.have,
                need: out.need,
                bytes: out.bytes_sent + out.bytes_received,
            }),
            Err(NegError::Refused(why)) => Err(why),
            Err(e) => {
                tracing::debug!(%relay, error = %e, "no negentropy; asking for ids");
                self.check_by_ids(relay, events)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The id fallback: asks `relay` for every id; what it sends back (new
    /// or known) it holds.
    async fn check_by_ids(
        &self,
        relay: &RelayUrl,
        events: &[Event],
    ) -> Result<Found, SessionError> {
        let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
        let held = self.fetch_ids(relay, &ids).await?;
        let request_bytes: u64 = ids.len() as u64 * 67 + 64;
        let answer_bytes: u64 = events
            .iter()
            .filter(|e| held.contains(&e.id))
            .map(|e| e.as_json().len() as u64 + 24)
            .sum();
        Ok(Found {
            method: Method::Ids,
            missing: ids.into_iter().filter(|id| !held.contains(id)).collect(),
            need: Vec::new(),
            bytes: request_bytes + answer_bytes,
        })
    }

    /// Asks `relay` for `ids` and returns those it sent (stored on the way).
    async fn fetch_ids(
        &self,
        relay: &RelayUrl,
        ids: &[EventId],
    ) -> Result<HashSet<EventId>, SessionError> {
        let since = Timestamp::now().as_secs();
        let filters: Vec<Filter> = ids
            .chunks(IDS_PER_FILTER)
            .map(|c| Filter::new().ids(c.iter().copied()).limit(c.len()))
            .collect();
        if filters.is_empty() {
            return Ok(HashSet::new());
        }
        self.engine
            .fetch("replicate", std::slice::from_ref(relay), filters)
            .await?;
        Ok(self
            .engine
            .store()
            .seen_since(&relay.to_string(), ids, since)?)
    }

    fn read_loss_book(&self) -> LossBook {
        self.loss_book_path()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn write_loss_book(&self, book: &LossBook) {
        let Some(path) = self.loss_book_path() else {
            return;
        };
        match serde_json::to_string_pretty(book) {
            Ok(text) => {
                if let Err(e) = std::fs::write(&path, text) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot save replication counts");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode replication counts"),
        }
    }
}
