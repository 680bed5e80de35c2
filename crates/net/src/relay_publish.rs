//! The publishes waiting on one relay: queued while disconnected, sent,
//! answered by OK, or answered for the relay when their time runs out.

use std::time::Instant;

use nostr::prelude::*;
use tokio::sync::oneshot;

use crate::pool::PublishOutcome;
use crate::relay::{Pending, RelayActor};

impl RelayActor {
    /// Answers every waiting publish with `outcome` (the actor is ending, or
    /// the relay is denied).
    pub(crate) fn fail_pending(&mut self, outcome: PublishOutcome) {
        for (_, p) in self.pending.drain() {
            let _ = p.reply.send(outcome.clone());
        }
    }

    /// Answers publishes whose time ran out while no connection was open.
    pub(crate) fn expire_unsent(&mut self) {
        let now = Instant::now();
        let late: Vec<EventId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            if let Some(p) = self.pending.remove(&id) {
                let _ = p.reply.send(PublishOutcome::Failed(match &self.last_error {
                    Some(e) => format!("relay unreachable: {e}"),
                    None => "relay unreachable".into(),
                }));
            }
        }
    }

    pub(crate) fn queue_publish(&mut self, event: Event, reply: oneshot::Sender<PublishOutcome>) {
        let deadline = Instant::now() + self.shared.config.ok_timeout;
        self.pending.insert(
            event.id,
            Pending {
                event,
                reply,
                deadline,
                sent: false,
                auth_retried: false,
            },
        );
    }

    /// Answers sent publishes whose OK did not come in time.
    pub(crate) fn expire_sent(&mut self, now: Instant) {
        let late: Vec<EventId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.sent && p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            if let Some(p) = self.pending.remove(&id) {
                let _ = p.reply.send(PublishOutcome::Timeout);
            }
        }
    }
}
