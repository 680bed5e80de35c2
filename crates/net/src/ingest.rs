//! The validation pipeline behind each relay connection: events that passed
//! the cheap checks arrive here in batches. Ids seen before (this session or
//! in the store) skip verification and only record where they were seen;
//! new ones are verified on all cores off the runtime, stored in one
//! transaction with their relay, and reported. Invalid events are counted
//! against the relay.

use std::collections::HashMap;
use std::sync::Arc;

use nostr::prelude::*;

use crate::pool::{PoolEvent, PoolShared};
use crate::url::RelayUrl;
use crate::validate::{is_genuine_copy, verify_batch, Rejection};

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

/// What one batch produced.
struct BatchResult {
    stored: Vec<(String, Event)>,
    rejected: HashMap<&'static str, (Rejection, usize)>,
}

pub(crate) async fn run(
    shared: Arc<PoolShared>,
    relay: RelayUrl,
    mut rx: tokio::sync::mpsc::Receiver<IngestItem>,
) {
    while let Some(item) = rx.recv().await {
        match item {
            IngestItem::Batch(batch) => {
                let s = Arc::clone(&shared);
                let url = relay.to_string();
                let result = tokio::task::spawn_blocking(move || process(&s, &url, batch)).await;
                let Ok(result) = result else { continue };
                report(&shared, &relay, result).await;
            }
            IngestItem::Rejected(reason) => {
                let s = Arc::clone(&shared);
                let url = relay.to_string();
                let _ = tokio::task::spawn_blocking(move || s.store.record_invalid_events(&url, 1))
                    .await;
                let _ = shared
                    .events
                    .send(PoolEvent::Rejected {
                        relay: relay.clone(),
                        reason,
                        count: 1,
                    })
                    .await;
            }
            IngestItem::Eose { sub, timed_out } => {
                let _ = shared
                    .events
                    .send(PoolEvent::Eose {
                        relay: relay.clone(),
                        sub,
                        timed_out,
                    })
                    .await;
            }
            IngestItem::Emit(event) => {
                let _ = shared.events.send(event).await;
            }
        }
    }
}

fn process(shared: &PoolShared, relay: &str, batch: Vec<(String, Event)>) -> BatchResult {
    let mut result = BatchResult {
        stored: Vec::new(),
        rejected: HashMap::new(),
    };
    // 1. Copies of events already verified (this session, or stored) cost
    //    one hash: same id, same signature. A different signature under a
    //    known id is a forgery.
    let mut known = Vec::new();
    let mut fresh = Vec::new();
    let mut forged = 0u64;
    {
        let seen = shared.seen.lock().ok();
        for (sub, event) in batch {
            match seen.as_ref().and_then(|s| s.signature(&event.id)) {
                Some(sig) if is_genuine_copy(&event, sig) => known.push(event.id),
                Some(_) => forged += 1,
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
                        Some(sig) if is_genuine_copy(&event, sig) => known.push(event.id),
                        Some(_) => forged += 1,
                        None => still_fresh.push((sub, event)),
                    }
                }
                fresh = still_fresh;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check known ids"),
        }
    }
    if forged > 0 {
        result
            .rejected
            .entry(Rejection::BadSignature.as_str())
            .or_insert((Rejection::BadSignature, 0))
            .1 += forged as usize;
        if let Err(e) = shared.store.record_invalid_events(relay, forged) {
            tracing::warn!(error = %e, "cannot count invalid events");
        }
    }
    if !known.is_empty() {
        if let Err(e) = shared.store.mark_seen(relay, &known) {
            tracing::warn!(error = %e, "cannot record seen-on-relay");
        }
    }
    if fresh.is_empty() {
        return result;
    }
    // 2. Verify the new ones on all cores.
    let (subs, events): (Vec<String>, Vec<Event>) = fresh.into_iter().unzip();
    let verdicts = verify_batch(&events);
    let mut valid = Vec::with_capacity(events.len());
    let mut valid_subs = Vec::with_capacity(events.len());
    let mut invalid = 0u64;
    for ((sub, event), verdict) in subs.into_iter().zip(events).zip(verdicts) {
        match verdict {
            None => {
                valid.push(event);
                valid_subs.push(sub);
            }
            Some(reason) => {
                invalid += 1;
                result
                    .rejected
                    .entry(reason.as_str())
                    .or_insert((reason, 0))
                    .1 += 1;
            }
        }
    }
    if invalid > 0 {
        if let Err(e) = shared.store.record_invalid_events(relay, invalid) {
            tracing::warn!(error = %e, "cannot count invalid events");
        }
    }
    // 3. Store the valid ones in one transaction, with where they were seen.
    match shared.store.insert_batch_from(Some(relay), &valid) {
        Ok(outcomes) => {
            if let Ok(mut seen) = shared.seen.lock() {
                for e in &valid {
                    seen.insert(e.id, e.sig);
                }
            }
            for ((sub, event), outcome) in valid_subs.into_iter().zip(valid).zip(outcomes) {
                if outcome.is_stored() {
                    result.stored.push((sub, event));
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot store verified events"),
    }
    result
}

async fn report(shared: &PoolShared, relay: &RelayUrl, result: BatchResult) {
    let mut by_sub: Vec<(String, Vec<Event>)> = Vec::new();
    for (sub, event) in result.stored {
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
    for (_, (reason, count)) in result.rejected {
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
