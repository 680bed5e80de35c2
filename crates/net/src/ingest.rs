//! The validation pipeline behind each relay connection, in two stages that
//! overlap: while one batch is being stored, the next is being verified.
//!
//! 1. *Check*: copies of events already verified (this session, or in the
//!    store) cost one hash — same id, same signature — and only record where
//!    they were seen; a known id with another signature is a forgery. New
//!    events are verified on all cores off the async runtime.
//! 2. *Store*: verified events from consecutive batches are stored together in
//!    one transaction with the relay they came from, invalid ones are counted
//!    against the relay, and everything is reported in arrival order.

use std::collections::HashMap;
use std::sync::Arc;

use nostr::prelude::*;
use tokio::sync::mpsc;

use crate::pool::{PoolEvent, PoolShared};
use crate::url::RelayUrl;
use crate::validate::{is_genuine_copy, verify_batch, Rejection};

/// Most events stored in one transaction.
const MAX_STORE_BATCH: usize = 8_192;

/// Work for the pipeline, in arrival order.
pub(crate) enum IngestItem {
    /// Events that passed the cheap checks, with their subscription.
    Batch(Vec<(String, Event)>),
    /// An event dropped by the cheap checks.
    Rejected(Rejection),
    /// End of stored events for a subscription (after the events before it).
    Eose { sub: String, timed_out: bool },
    /// Any other event to report in order.
    Emit(PoolEvent),
}

/// A batch after the check stage.
#[derive(Default)]
struct Checked {
    valid: Vec<(String, Event)>,
    known: Vec<EventId>,
    rejected: HashMap<&'static str, (Rejection, usize)>,
}

impl Checked {
    fn reject(&mut self, reason: Rejection, count: usize) {
        self.rejected
            .entry(reason.as_str())
            .or_insert((reason, 0))
            .1 += count;
    }

    fn absorb(&mut self, other: Checked) {
        self.valid.extend(other.valid);
        self.known.extend(other.known);
        for (_, (reason, count)) in other.rejected {
            self.reject(reason, count);
        }
    }
}

enum Stage2 {
    Checked(Checked),
    Emit(PoolEvent),
}

/// Runs both stages until the session's sender is dropped.
pub(crate) async fn run(
    shared: Arc<PoolShared>,
    relay: RelayUrl,
    mut rx: mpsc::Receiver<IngestItem>,
) {
    let (tx2, rx2) = mpsc::channel::<Stage2>(2);
    let store_stage = tokio::spawn(store_stage(Arc::clone(&shared), relay.clone(), rx2));
    while let Some(item) = rx.recv().await {
        let next = match item {
            IngestItem::Batch(batch) => {
                let s = Arc::clone(&shared);
                match tokio::task::spawn_blocking(move || check(&s, batch)).await {
                    Ok(checked) => Stage2::Checked(checked),
                    Err(_) => continue,
                }
            }
            IngestItem::Rejected(reason) => {
                let mut c = Checked::default();
                c.reject(reason, 1);
                Stage2::Checked(c)
            }
            IngestItem::Eose { sub, timed_out } => Stage2::Emit(PoolEvent::Eose {
                relay: relay.clone(),
                sub,
                timed_out,
            }),
            IngestItem::Emit(event) => Stage2::Emit(event),
        };
        if tx2.send(next).await.is_err() {
            break;
        }
    }
    drop(tx2);
    let _ = store_stage.await;
}

/// Stage 1: known copies, forgeries, and Schnorr verification of the rest.
fn check(shared: &PoolShared, batch: Vec<(String, Event)>) -> Checked {
    let mut out = Checked::default();
    let mut fresh = Vec::new();
    {
        let seen = shared.seen.lock().ok();
        for (sub, event) in batch {
            match seen.as_ref().and_then(|s| s.signature(&event.id)) {
                Some(sig) if is_genuine_copy(&event, sig) => out.known.push(event.id),
                Some(_) => out.reject(Rejection::BadSignature, 1),
                None => fresh.push((sub, event)),
            }
        }
    }
    if !fresh.is_empty() {
        let ids: Vec<EventId> = fresh.iter().map(|(_, e)| e.id).collect();
        match shared.store.stored_signatures(&ids) {
            Ok(stored) if !stored.is_empty() => {
                let mut still_fresh = Vec::with_capacity(fresh.len());
                for (sub, event) in fresh {
                    match stored.get(&event.id) {
                        Some(sig) if is_genuine_copy(&event, sig) => out.known.push(event.id),
                        Some(_) => out.reject(Rejection::BadSignature, 1),
                        None => still_fresh.push((sub, event)),
                    }
                }
                fresh = still_fresh;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check known ids"),
        }
    }
    if fresh.is_empty() {
        return out;
    }
    let (subs, events): (Vec<String>, Vec<Event>) = fresh.into_iter().unzip();
    let verdicts = verify_batch(&events);
    for ((sub, event), verdict) in subs.into_iter().zip(events).zip(verdicts) {
        match verdict {
            None => out.valid.push((sub, event)),
            Some(reason) => out.reject(reason, 1),
        }
    }
    out
}

/// Stage 2: store consecutive checked batches together, report in order.
async fn store_stage(shared: Arc<PoolShared>, relay: RelayUrl, mut rx: mpsc::Receiver<Stage2>) {
    let mut held: Option<Stage2> = None;
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => match rx.recv().await {
                Some(item) => item,
                None => break,
            },
        };
        match item {
            Stage2::Emit(event) => {
                let _ = shared.events.send(event).await;
            }
            Stage2::Checked(mut group) => {
                while group.valid.len() < MAX_STORE_BATCH {
                    match rx.try_recv() {
                        Ok(Stage2::Checked(more)) => group.absorb(more),
                        Ok(other) => {
                            held = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let s = Arc::clone(&shared);
                let url = relay.to_string();
                let Ok(stored) = tokio::task::spawn_blocking(move || store(&s, &url, group)).await
                else {
                    continue;
                };
                report(&shared, &relay, stored).await;
            }
        }
    }
}

/// What a stored group produced.
struct Stored {
    events: Vec<(String, Event)>,
    rejected: Vec<(Rejection, usize)>,
    /// Verified events the store could not take (full disk, read-only
    /// file): how many, and the store's error.
    not_stored: Option<(usize, String)>,
}

fn store(shared: &PoolShared, relay: &str, group: Checked) -> Stored {
    let invalid: usize = group.rejected.values().map(|(_, n)| n).sum();
    if invalid > 0 {
        if let Err(e) = shared.store.record_invalid_events(relay, invalid as u64) {
            tracing::warn!(error = %e, "cannot count invalid events");
        }
    }
    if !group.known.is_empty() {
        if let Err(e) = shared.store.mark_seen(relay, &group.known) {
            tracing::warn!(error = %e, "cannot record seen-on-relay");
        }
    }
    let mut stored = Vec::new();
    let mut not_stored = None;
    if !group.valid.is_empty() {
        let (subs, events): (Vec<String>, Vec<Event>) = group.valid.into_iter().unzip();
        match shared.store.insert_batch_from(Some(relay), &events) {
            Ok(outcomes) => {
                if let Ok(mut seen) = shared.seen.lock() {
                    for e in &events {
                        seen.insert(e.id, e.sig);
                    }
                }
                for ((sub, event), outcome) in subs.into_iter().zip(events).zip(outcomes) {
                    // Ephemeral events (NIP-46 requests, typing) are verified and reported, never stored.
                    if outcome.is_stored() || outcome == samizdat_store::InsertOutcome::Ephemeral {
                        stored.push((sub, event));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot store verified events");
                not_stored = Some((events.len(), e.to_string()));
            }
        }
    }
    Stored {
        events: stored,
        rejected: group.rejected.into_values().collect(),
        not_stored,
    }
}

async fn report(shared: &PoolShared, relay: &RelayUrl, stored: Stored) {
    let mut by_sub: Vec<(String, Vec<Event>)> = Vec::new();
    for (sub, event) in stored.events {
        match by_sub.last_mut() {
            Some((s, events)) if *s == sub => events.push(event),
            _ => by_sub.push((sub, vec![event])),
        }
    }
    for (sub, events) in by_sub {
        let _ = shared
            .events
            .send(PoolEvent::Events {
                relay: relay.clone(),
                sub,
                events,
            })
            .await;
    }
    if let Some((events, error)) = stored.not_stored {
        let _ = shared
            .events
            .send(PoolEvent::NotStored {
                relay: relay.clone(),
                events,
                error,
            })
            .await;
    }
    for (reason, count) in stored.rejected {
        let _ = shared
            .events
            .send(PoolEvent::Rejected {
                relay: relay.clone(),
                reason,
                count,
            })
            .await;
    }
}
