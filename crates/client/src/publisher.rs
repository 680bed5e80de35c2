//! Durable publishing: an outgoing event is stored and queued per target
//! relay before anything is sent; each delivery is retried with backoff until
//! the relay says OK or refuses for good. A crash or kill loses nothing: the
//! next `deliver_due` (at startup) picks up what is still pending.

use std::time::Duration;

use futures_util::future::join_all;
use nostr::prelude::*;
use samizdat_net::{PublishOutcome, RelayUrl};
use samizdat_store::{DeliveryState, QueuedEvent};

use crate::engine::{Alert, Engine, EngineError, EngineUpdate};

/// Longest wait between delivery attempts.
const MAX_RETRY: Duration = Duration::from_secs(3600);

impl Engine {
    /// Queues `event` for `targets` (durably), then tries every due delivery.
    pub async fn publish(
        &self,
        event: &Event,
        targets: &[RelayUrl],
    ) -> Result<Vec<(String, PublishOutcome)>, EngineError> {
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        self.store.enqueue_publish(event, &targets)?;
        self.deliver_due().await
    }

    /// Tries every delivery that is due now, relays in parallel, and records
    /// each result. Returns what each attempt gave.
    pub async fn deliver_due(&self) -> Result<Vec<(String, PublishOutcome)>, EngineError> {
        let _one_round_at_a_time = self.delivering.lock().await;
        let now = Timestamp::now().as_secs();
        let due = self.store.due_deliveries(now, 1_000)?;
        let attempts = due.into_iter().map(|(event, delivery)| async move {
            let outcome = match RelayUrl::parse(&delivery.relay) {
                Ok(relay) => self.pool.publish(&relay, event.clone()).await,
                Err(e) => PublishOutcome::Failed(e.to_string()),
            };
            (event, delivery, outcome)
        });
        let mut results = Vec::new();
        let mut missing: std::collections::BTreeMap<EventId, Vec<String>> =
            std::collections::BTreeMap::new();
        for (event, delivery, outcome) in join_all(attempts).await {
            let (state, error, next) = match &outcome {
                PublishOutcome::Accepted | PublishOutcome::Duplicate => {
                    (DeliveryState::Delivered, None, 0)
                }
                PublishOutcome::Rejected(reason) => {
                    (DeliveryState::Rejected, Some(reason.clone()), 0)
                }
                PublishOutcome::Denied => (
                    DeliveryState::Abandoned,
                    Some("denied by policy".to_string()),
                    0,
                ),
                PublishOutcome::RateLimited(reason)
                | PublishOutcome::AuthRequired(reason)
                | PublishOutcome::Failed(reason) => (
                    DeliveryState::Pending,
                    Some(reason.clone()),
                    now + self.backoff(delivery.attempts),
                ),
                PublishOutcome::Timeout => (
                    DeliveryState::Pending,
                    Some("no OK in time".to_string()),
                    now + self.backoff(delivery.attempts),
                ),
            };
            self.store.record_delivery(
                &event.id,
                &delivery.relay,
                state.clone(),
                error.as_deref(),
                next,
            )?;
            self.announce(EngineUpdate::Delivery {
                event: event.id,
                relay: delivery.relay.clone(),
                outcome: outcome.clone(),
            });
            if state == DeliveryState::Pending {
                missing
                    .entry(event.id)
                    .or_default()
                    .push(delivery.relay.clone());
            }
            results.push((delivery.relay, outcome));
        }
        for (event, missing) in missing {
            self.announce(EngineUpdate::Alert(Alert::PostNotEverywhere {
                event,
                missing,
            }));
        }
        Ok(results)
    }

    /// Where recent posts landed and what is pending.
    pub fn publish_status(&self, limit: usize) -> Result<Vec<QueuedEvent>, EngineError> {
        Ok(self.store.publish_status(limit)?)
    }

    fn backoff(&self, attempts: u32) -> u64 {
        let wait = self
            .config
            .retry_base
            .saturating_mul(1u32 << attempts.min(16));
        wait.min(MAX_RETRY).as_secs().max(1)
    }
}
