//! The durable publishing queue: every outgoing event with a delivery state
//! per target relay, committed before anything is sent, so a crash or a kill
//! never loses a post — after a restart the pending deliveries are still due.

use nostr::prelude::*;
use rusqlite::{params, OptionalExtension};

use crate::codec::{EventRow, EVENT_COLUMNS};
use crate::error::StoreResult;
use crate::{InsertOutcome, Store};

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet accepted; due again at `next_attempt_at`.
    Pending,
    /// The relay has it.
    Delivered,
    /// The relay refused it for good (its reason is in `last_error`).
    Rejected,
    /// Given up (by the user, or the relay is denied by policy).
    Abandoned,
}

impl DeliveryState {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Rejected => "rejected",
            Self::Abandoned => "abandoned",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "delivered" => Self::Delivered,
            "rejected" => Self::Rejected,
            "abandoned" => Self::Abandoned,
            _ => Self::Pending,
        }
    }
}

/// One relay's delivery of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The relay.
    pub relay: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: u32,
    /// The last failure or refusal.
    pub last_error: Option<String>,
    /// When it is due again (unix time), if pending.
    pub next_attempt_at: u64,
}

/// An outgoing event and its deliveries.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    /// The event.
    pub event: Event,
    /// Per target relay.
    pub deliveries: Vec<Delivery>,
}

impl Store {
    /// Stores the user's own event and queues it for every target relay, in
    /// one transaction: once this returns, the post survives a crash.
    pub fn enqueue_publish(&self, event: &Event, targets: &[String]) -> StoreResult<InsertOutcome> {
        self.enqueue_publish_settling(event, targets, &[])
    }

    /// Like [`Store::enqueue_publish`], and removes the waiting list changes
    /// `settled` (the ones `event` applies) in the same transaction: after a
    /// crash either the changes still wait or the new version is queued.
    pub fn enqueue_publish_settling(
        &self,
        event: &Event,
        targets: &[String],
        settled: &[i64],
    ) -> StoreResult<InsertOutcome> {
        self.enqueue(event, targets, settled, 0)
    }

    /// Like [`Store::enqueue_publish`], with the first attempt due only
    /// `delay_secs` from now (a copy that must not arrive with another).
    pub fn enqueue_publish_later(
        &self,
        event: &Event,
        targets: &[String],
        delay_secs: u64,
    ) -> StoreResult<InsertOutcome> {
        self.enqueue(event, targets, &[], delay_secs)
    }

    fn enqueue(
        &self,
        event: &Event,
        targets: &[String],
        settled: &[i64],
        delay_secs: u64,
    ) -> StoreResult<InsertOutcome> {
        let now = Timestamp::now().as_secs() as i64;
        let due = now + delay_secs as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("queueing a publish", e))?;
        let outcome = self.insert_one(&tx, event, now, None)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO publish_queue (id, relay, state, next_attempt_at, queued_at, updated_at)
                     VALUES (?1, ?2, 'pending', ?4, ?3, ?3)",
                )
                .map_err(|e| self.err("queueing a publish", e))?;
            for relay in targets {
                stmt.execute(params![event.id.as_bytes(), relay, now, due])
                    .map_err(|e| self.err("queueing a publish", e))?;
            }
        }
        crate::list_changes::settle(&tx, settled)
            .map_err(|e| self.err("settling list changes", e))?;
        tx.commit()
            .map_err(|e| self.err("committing a publish", e))?;
        Ok(outcome)
    }

    /// Deliveries due at `now`: pending ones whose next attempt has come.
    pub fn due_deliveries(&self, now: u64, limit: usize) -> StoreResult<Vec<(Event, Delivery)>> {
        let conn = self.reader()?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, q.relay, q.attempts, q.last_error, q.next_attempt_at
             FROM publish_queue q INDEXED BY publish_queue_due
             CROSS JOIN events e ON e.id = q.id CROSS JOIN authors a ON a.id = e.author
             WHERE q.state = 'pending' AND q.next_attempt_at <= ?1
             ORDER BY q.next_attempt_at LIMIT ?2"
        );
        let rows = conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![now as i64, limit as i64], |r| {
                    Ok((
                        EventRow::from_row(r)?,
                        Delivery {
                            relay: r.get(8)?,
                            state: DeliveryState::Pending,
                            attempts: r.get::<_, i64>(9)? as u32,
                            last_error: r.get(10)?,
                            next_attempt_at: r.get::<_, i64>(11)? as u64,
                        },
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err("reading due deliveries", e))?;
        rows.into_iter()
            .map(|(row, d)| Ok((row.into_event()?, d)))
            .collect()
    }

    /// Records the result of one delivery attempt.
    pub fn record_delivery(
        &self,
        id: &EventId,
        relay: &str,
        state: DeliveryState,
        error: Option<&str>,
        next_attempt_at: u64,
    ) -> StoreResult<()> {
        let now = Timestamp::now().as_secs() as i64;
        self.writer()
            .prepare_cached(
                "UPDATE publish_queue SET state = ?3, attempts = attempts + 1, last_error = coalesce(?4, last_error),
                     next_attempt_at = ?5, updated_at = ?6 WHERE id = ?1 AND relay = ?2",
            )
            .and_then(|mut s| s.execute(params![id.as_bytes(), relay, state.as_str(), error, next_attempt_at as i64, now]))
            .map_err(|e| self.err("recording a delivery", e))?;
        Ok(())
    }

    /// The most recently queued events with where each landed, newest first.
    pub fn publish_status(&self, limit: usize) -> StoreResult<Vec<QueuedEvent>> {
        let conn = self.reader()?;
        let ids: Vec<Vec<u8>> = conn
            .prepare_cached("SELECT id FROM publish_queue GROUP BY id ORDER BY max(queued_at) DESC, id LIMIT ?1")
            .and_then(|mut s| s.query_map([limit as i64], |r| r.get(0))?.collect())
            .map_err(|e| self.err("reading the publishing queue", e))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = conn
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events e CROSS JOIN authors a ON a.id = e.author WHERE e.id = ?1"
                ))
                .and_then(|mut s| s.query_row([&id], EventRow::from_row))
                .map_err(|e| self.err("reading a queued event", e));
            let Ok(row) = row else { continue };
            let deliveries = conn
                .prepare_cached(
                    "SELECT relay, state, attempts, last_error, next_attempt_at FROM publish_queue WHERE id = ?1 ORDER BY relay",
                )
                .and_then(|mut s| {
                    s.query_map([&id], |r| {
                        Ok(Delivery {
                            relay: r.get(0)?,
                            state: DeliveryState::parse(&r.get::<_, String>(1)?),
                            attempts: r.get::<_, i64>(2)? as u32,
                            last_error: r.get(3)?,
                            next_attempt_at: r.get::<_, i64>(4)? as u64,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|e| self.err("reading deliveries", e))?;
            out.push(QueuedEvent {
                event: row.into_event()?,
                deliveries,
            });
        }
        Ok(out)
    }
}

/// What [`Store::requeue`] did with one relay's missing events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requeued {
    /// Events put back in the queue for the relay.
    pub queued: Vec<EventId>,
    /// Events the relay refused before (with its reason): not queued again,
    /// so a refusing relay is reported, not retried forever.
    pub refused: Vec<(EventId, String)>,
}

impl Store {
    /// Puts the user's stored events `ids` back in the publishing queue for
    /// `relay` (due now), except those the relay refused before.
    pub fn requeue(&self, relay: &str, ids: &[EventId]) -> StoreResult<Requeued> {
        let now = Timestamp::now().as_secs() as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("requeueing deliveries", e))?;
        let mut out = Requeued::default();
        for id in ids {
            let previous: Option<(String, Option<String>)> = tx
                .prepare_cached(
                    "SELECT state, last_error FROM publish_queue WHERE id = ?1 AND relay = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![id.as_bytes(), relay], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                })
                .map_err(|e| self.err("reading a delivery", e))?;
            if let Some((state, error)) = &previous {
                if state == DeliveryState::Rejected.as_str() {
                    out.refused.push((*id, error.clone().unwrap_or_default()));
                    continue;
                }
            }
            tx.prepare_cached(
                "INSERT INTO publish_queue (id, relay, state, next_attempt_at, queued_at, updated_at)
                 VALUES (?1, ?2, 'pending', ?3, ?3, ?3)
                 ON CONFLICT (id, relay) DO UPDATE SET state = 'pending', next_attempt_at = ?3, updated_at = ?3",
            )
            .and_then(|mut s| s.execute(params![id.as_bytes(), relay, now]))
            .map_err(|e| self.err("requeueing a delivery", e))?;
            out.queued.push(*id);
        }
        tx.commit()
            .map_err(|e| self.err("committing requeued deliveries", e))?;
        Ok(out)
    }

    /// The state and last error of each of `ids`' deliveries to `relay`.
    pub fn delivery_states(
        &self,
        relay: &str,
        ids: &[EventId],
    ) -> StoreResult<Vec<(EventId, DeliveryState, Option<String>)>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT state, last_error FROM publish_queue WHERE id = ?1 AND relay = ?2",
            )
            .map_err(|e| self.err("reading deliveries", e))?;
        let mut out = Vec::new();
        for id in ids {
            let row: Option<(String, Option<String>)> = stmt
                .query_row(params![id.as_bytes(), relay], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(|e| self.err("reading deliveries", e))?;
            if let Some((state, error)) = row {
                out.push((*id, DeliveryState::parse(&state), error));
            }
        }
        Ok(out)
    }
}
