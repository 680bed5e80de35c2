//! The single writer: events from every connection are queued here and
//! committed in batches (group commit), then fanned out to live
//! subscriptions. On shutdown the queue is closed and drained, so every event
//! that was accepted into it is committed before the relay stops.

use std::sync::Arc;

use nostr::prelude::*;
use samizdat_store::InsertOutcome;
use tokio::sync::{mpsc, oneshot};

use crate::state::RelayState;

/// Most events committed in one transaction.
const MAX_BATCH: usize = 2_000;

/// One event waiting to be stored, and where to say what happened to it.
pub struct WriteJob {
    /// The verified event.
    pub event: Event,
    /// Receives the store's verdict, or a failure description.
    pub reply: oneshot::Sender<Result<InsertOutcome, String>>,
}

/// Runs until shutdown, then drains the queue and returns.
pub async fn run(state: Arc<RelayState>, mut rx: mpsc::Receiver<WriteJob>) {
    let mut shutdown = state.shutdown.clone();
    loop {
        let first = tokio::select! {
            job = rx.recv() => job,
            _ = crate::state::stopped(&mut shutdown) => {
                rx.close();
                rx.recv().await
            }
        };
        let Some(first) = first else { break };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit(&state, jobs).await;
    }
    tracing::debug!("writer drained and stopped");
}

async fn commit(state: &Arc<RelayState>, jobs: Vec<WriteJob>) {
    let (events, replies): (Vec<Event>, Vec<_>) =
        jobs.into_iter().map(|j| (j.event, j.reply)).unzip();
    let store = Arc::clone(&state.store);
    let owners = state.policy().owners().clone();
    let result = crate::storage::spawn_blocking(move || {
        let outcome = store.insert_batch(&events);
        // A new follow list of an owner changes who may write (personal
        // policy) from this batch on.
        let follows = match &outcome {
            Ok(outcomes) if owner_list_changed(&events, outcomes, &owners) => {
                crate::state::owner_follows(store.as_ref(), &owners).ok()
            }
            _ => None,
        };
        (events, outcome, follows)
    })
    .await;
    match result {
        Ok((events, Ok(outcomes), follows)) => {
            if let Some(follows) = follows {
                tracing::info!(follows = follows.len(), "owner's follow list changed");
                state.update_policy(|p| p.follows = follows);
            }
            for ((event, reply), outcome) in events.iter().zip(replies).zip(outcomes) {
                if outcome.is_stored() {
                    state.fan_out(event);
                    if event.kind == Kind::EventDeletion {
                        // Store work: on the blocking pool.
                        let (state, deletion) = (Arc::clone(state), event.clone());
                        tokio::spawn(crate::storage::spawn_blocking(move || {
                            crate::vanish::recipient_deletions(&state, &deletion)
                        }));
                    }
                }
                let _ = reply.send(Ok(outcome));
            }
        }
        Ok((_, Err(e), _)) => {
            tracing::warn!(error = %e, "batch not stored");
            for reply in replies {
                let _ = reply.send(Err(e.to_string()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "writer task failed");
            for reply in replies {
                let _ = reply.send(Err("internal error".into()));
            }
        }
    }
}

/// True if a stored event of the batch is a follow list by an owner.
fn owner_list_changed(
    events: &[Event],
    outcomes: &[InsertOutcome],
    owners: &std::collections::HashSet<PublicKey>,
) -> bool {
    events
        .iter()
        .zip(outcomes)
        .any(|(e, o)| o.is_stored() && e.kind == Kind::ContactList && owners.contains(&e.pubkey))
}
