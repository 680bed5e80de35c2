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

/// Kinds whose copies to several relays are sent apart in time, so the
/// arrival times do not link the relays that received the same update.
const STAGGERED: [u16; 7] = [0, 3, 10000, 10002, 10003, 10050, 30000];

/// When each due delivery starts: immediately, except the user's profile and
/// lists, whose copies go out one relay after another with a random gap in
/// `range` (milliseconds) between them.
fn stagger(due: &[(Event, samizdat_store::Delivery)], range: Option<(u64, u64)>) -> Vec<Duration> {
    use rand::Rng;
    let Some((lo, hi)) = range.filter(|(lo, hi)| hi >= lo && *hi > 0) else {
        return vec![Duration::ZERO; due.len()];
    };
    let mut rng = rand::rng();
    let mut next: std::collections::HashMap<EventId, Duration> = Default::default();
    due.iter()
        .map(|(event, _)| {
            if !STAGGERED.contains(&event.kind.as_u16()) {
                return Duration::ZERO;
            }
            let at = next.entry(event.id).or_insert(Duration::ZERO);
            let start = *at;
            *at += Duration::from_millis(rng.random_range(lo..=hi));
            start
        })
        .collect()
}

/// `d` spread over ±20%, so the client's timers (refreshes, retries) keep no
/// fixed period that relays comparing logs could use to link connections.
pub fn jittered(d: Duration) -> Duration {
    d.mul_f64(0.8 + 0.4 * rand::random::<f64>())
}

impl Engine {
    /// Queues `event` for `targets` (durably), then tries every due delivery.
    pub async fn publish(
        &self,
        event: &Event,
        targets: &[RelayUrl],
    ) -> Result<Vec<(String, PublishOutcome)>, EngineError> {
        self.publish_settling(event, targets, &[]).await
    }

    /// Like [`Engine::publish`], settling the waiting list changes `settled`
    /// (those `event` applies) in the same transaction as the queueing.
    pub async fn publish_settling(
        &self,
        event: &Event,
        targets: &[RelayUrl],
        settled: &[i64],
    ) -> Result<Vec<(String, PublishOutcome)>, EngineError> {
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        self.store
            .enqueue_publish_settling(event, &targets, settled)?;
        self.deliver_due().await
    }

    /// Queues `event` for `targets` durably with its first attempt a random
    /// time in `EngineConfig::self_copy_delay_secs` from now; returns the
    /// delay. A later `deliver_due` (the background's, or the caller's after
    /// waiting) sends it.
    pub fn publish_later(&self, event: &Event, targets: &[RelayUrl]) -> Result<u64, EngineError> {
        use rand::Rng;
        let (lo, hi) = self.config.self_copy_delay_secs;
        let delay = if hi > lo {
            rand::rng().random_range(lo..=hi)
        } else {
            lo
        };
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        self.store.enqueue_publish_later(event, &targets, delay)?;
        Ok(delay)
    }

    /// Runs delivery rounds until nothing due is left or a round makes no
    /// progress (at most 100 rounds): for large re-sends.
    pub async fn deliver_all_due(&self) -> Result<usize, EngineError> {
        let mut total = 0;
        for _ in 0..100 {
            let round = self.deliver_due().await?;
            if round.is_empty() {
                break;
            }
            total += round.len();
            let now = Timestamp::now().as_secs();
            if self.store.due_deliveries(now, 1)?.is_empty() {
                break;
            }
        }
        Ok(total)
    }

    /// Tries every delivery that is due now, relays in parallel, and records
    /// each result. Returns what each attempt gave.
    pub async fn deliver_due(&self) -> Result<Vec<(String, PublishOutcome)>, EngineError> {
        let _one_round_at_a_time = self.delivering.lock().await;
        let now = Timestamp::now().as_secs();
        let due = self.store.due_deliveries(now, 1_000)?;
        let delays = stagger(&due, self.config.stagger_ms);
        let attempts = due
            .into_iter()
            .zip(delays)
            .map(|((event, delivery), wait)| async move {
                tokio::time::sleep(wait).await;
                // Gift wraps never leave on a connection authenticated as
                // the user, and never close in time to another wrap.
                let pool = if event.kind == Kind::GiftWrap {
                    self.wait_for_wrap_turn().await;
                    &self.wraps_pool
                } else {
                    &self.pool
                };
                let outcome = match RelayUrl::parse(&delivery.relay) {
                    Ok(relay) => pool.publish(&relay, event.clone()).await,
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

    /// Waits until the last gift wrap left at least a random gap in
    /// `EngineConfig::wrap_gap_ms` ago, and takes the turn: wraps leave one
    /// by one, apart.
    async fn wait_for_wrap_turn(&self) {
        use rand::Rng;
        let Some((lo, hi)) = self.config.wrap_gap_ms.filter(|(lo, hi)| hi >= lo) else {
            return;
        };
        let mut last = self.last_wrap.lock().await;
        if let Some(at) = *last {
            let gap = Duration::from_millis(rand::rng().random_range(lo..=hi));
            tokio::time::sleep(gap.saturating_sub(at.elapsed())).await;
        }
        *last = Some(std::time::Instant::now());
    }

    /// Where recent posts landed and what is pending.
    pub fn publish_status(&self, limit: usize) -> Result<Vec<QueuedEvent>, EngineError> {
        Ok(self.store.publish_status(limit)?)
    }

    /// The wait before the next attempt: doubling from `retry_base`, at most
    /// an hour, jittered so retries keep no clock relays could match.
    fn backoff(&self, attempts: u32) -> u64 {
        let wait = self
            .config
            .retry_base
            .saturating_mul(1u32 << attempts.min(16));
        jittered(wait.min(MAX_RETRY)).as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_are_jittered_within_a_fifth() {
        let base = Duration::from_secs(900);
        let samples: Vec<Duration> = (0..200).map(|_| jittered(base)).collect();
        assert!(samples
            .iter()
            .all(|d| *d >= base.mul_f64(0.8) && *d <= base.mul_f64(1.2)));
        let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
        assert!(distinct.len() > 150, "no fixed period");
    }

    #[test]
    fn lists_go_out_apart_and_notes_at_once() {
        let keys = Keys::generate();
        let list = EventBuilder::new(Kind::ContactList, "")
            .finalize(&keys)
            .unwrap();
        let note = EventBuilder::new(Kind::TextNote, "hi")
            .finalize(&keys)
            .unwrap();
        let d = |relay: &str| samizdat_store::Delivery {
            relay: relay.into(),
            state: DeliveryState::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at: 0,
        };
        let due = vec![
            (list.clone(), d("a")),
            (note.clone(), d("a")),
            (list.clone(), d("b")),
            (list, d("c")),
            (note, d("b")),
        ];
        let waits = stagger(&due, Some((200, 900)));
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(
            (waits[1], waits[4]),
            (Duration::ZERO, Duration::ZERO),
            "notes at once"
        );
        let gap1 = waits[2] - waits[0];
        let gap2 = waits[3] - waits[2];
        for gap in [gap1, gap2] {
            assert!((200..=900).contains(&(gap.as_millis() as u64)), "{gap:?}");
        }
        assert!(
            stagger(&due, None).iter().all(|w| w.is_zero()),
            "off when asked"
        );
    }
}
