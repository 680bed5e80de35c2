//! Where events were seen, and per-relay statistics for the network layer.
//!
//! The store only keeps the numbers; the network layer decides what counts as
//! a failure and records it here, and the outbox planner reads it back.

use nostr::prelude::{EventId, PublicKey, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::StoreResult;
use crate::Store;

/// Why a connection or request to a relay failed; each class is counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// No answer in time (connect, handshake, EOSE or OK).
    Timeout,
    /// TCP connection refused or reset.
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The websocket upgrade was answered with an HTTP error status.
    Http,
    /// The relay closed the connection.
    Closed,
    /// The relay broke the protocol (garbage, invalid events).
    Protocol,
    /// Anything else.
    Other,
}

impl FailureClass {
    fn column(self) -> &'static str {
        match self {
            Self::Timeout => "fail_timeout",
            Self::Refused => "fail_refused",
            Self::Dns => "fail_dns",
            Self::Http => "fail_http",
            Self::Closed => "fail_closed",
            Self::Protocol => "fail_protocol",
            Self::Other => "fail_other",
        }
    }
}

/// Everything the store knows about one relay's behaviour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelayStats {
    /// The relay's URL as recorded.
    pub url: String,
    /// Connection or request attempts.
    pub attempts: u64,
    /// Attempts that succeeded.
    pub successes: u64,
    /// Failures by class: timeout, refused, dns, http, closed, protocol, other.
    pub failures: [u64; 7],
    /// Invalid events received (bad id or signature, off-filter).
    pub invalid_events: u64,
    /// The last failure's description.
    pub last_error: Option<String>,
    /// Unix time of the last attempt.
    pub last_attempt_at: Option<u64>,
    /// Unix time of the last success.
    pub last_success_at: Option<u64>,
    /// Mean latency of successful attempts, in milliseconds.
    pub latency_ms: Option<f64>,
}

impl RelayStats {
    /// Share of attempts that succeeded (1.0 with no attempts yet).
    pub fn success_rate(&self) -> f64 {
        if self.attempts == 0 {
            1.0
        } else {
            self.successes as f64 / self.attempts as f64
        }
    }
}

/// Where and when one event was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// Relay URL.
    pub relay: String,
    /// Unix time it was first received from that relay.
    pub first_seen: u64,
    /// Unix time it was last received from that relay.
    pub last_seen: u64,
}

/// Returns the relay's row id, creating the row if needed.
pub(crate) fn relay_id(conn: &Connection, url: &str) -> rusqlite::Result<i64> {
    if let Some(id) = conn
        .prepare_cached("SELECT id FROM relays WHERE url = ?1")?
        .query_row([url], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO relays (url) VALUES (?1)")?
        .execute([url])?;
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// Records a successful attempt and its latency.
    pub fn record_relay_success(&self, url: &str, latency_ms: f64) -> StoreResult<()> {
        let now = Timestamp::now().as_secs() as i64;
        let conn = self.writer();
        let id = relay_id(&conn, url).map_err(|e| self.err("recording relay", e))?;
        conn.prepare_cached(
            "UPDATE relays SET attempts = attempts + 1, successes = successes + 1,
                 last_attempt_at = ?2, last_success_at = ?2,
                 latency_ms = (coalesce(latency_ms, 0) * latency_samples + ?3) / (latency_samples + 1),
                 latency_samples = latency_samples + 1
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, now, latency_ms]))
        .map_err(|e| self.err("recording relay success", e))?;
        Ok(())
    }

    /// Records a failed attempt of the given class, with its description.
    pub fn record_relay_failure(
        &self,
        url: &str,
        class: FailureClass,
        error: &str,
    ) -> StoreResult<()> {
        let now = Timestamp::now().as_secs() as i64;
        let conn = self.writer();
        let id = relay_id(&conn, url).map_err(|e| self.err("recording relay", e))?;
        let column = class.column();
        conn.prepare_cached(&format!(
            "UPDATE relays SET attempts = attempts + 1, {column} = {column} + 1,
                 last_attempt_at = ?2, last_error = ?3 WHERE id = ?1"
        ))
        .and_then(|mut s| s.execute(params![id, now, error]))
        .map_err(|e| self.err("recording relay failure", e))?;
        Ok(())
    }

    /// Counts invalid events received from a relay.
    pub fn record_invalid_events(&self, url: &str, count: u64) -> StoreResult<()> {
        let conn = self.writer();
        let id = relay_id(&conn, url).map_err(|e| self.err("recording relay", e))?;
        conn.prepare_cached("UPDATE relays SET invalid_events = invalid_events + ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, count as i64]))
            .map_err(|e| self.err("recording invalid events", e))?;
        Ok(())
    }

    /// The statistics of one relay, if it was ever recorded.
    pub fn relay_stats(&self, url: &str) -> StoreResult<Option<RelayStats>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT url, attempts, successes, fail_timeout, fail_refused, fail_dns, fail_http,
                    fail_closed, fail_protocol, fail_other, invalid_events, last_error,
                    last_attempt_at, last_success_at, latency_ms
             FROM relays WHERE url = ?1",
        )
        .and_then(|mut s| {
            s.query_row([url], |r| {
                let mut failures = [0u64; 7];
                for (i, f) in failures.iter_mut().enumerate() {
                    *f = r.get::<_, i64>(3 + i)? as u64;
                }
                Ok(RelayStats {
                    url: r.get(0)?,
                    attempts: r.get::<_, i64>(1)? as u64,
                    successes: r.get::<_, i64>(2)? as u64,
                    failures,
                    invalid_events: r.get::<_, i64>(10)? as u64,
                    last_error: r.get(11)?,
                    last_attempt_at: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
                    last_success_at: r.get::<_, Option<i64>>(13)?.map(|v| v as u64),
                    latency_ms: r.get(14)?,
                })
            })
            .optional()
        })
        .map_err(|e| self.err("reading relay stats", e))
    }

    /// The relays an event was seen on, oldest sighting first.
    pub fn seen_on(&self, id: &EventId) -> StoreResult<Vec<Sighting>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT r.url, s.first_seen, s.last_seen FROM events e
             JOIN event_seen s ON s.event = e.seq JOIN relays r ON r.id = s.relay
             WHERE e.id = ?1 ORDER BY s.first_seen, r.url",
        )
        .and_then(|mut s| {
            s.query_map([id.as_bytes()], |r| {
                Ok(Sighting {
                    relay: r.get(0)?,
                    first_seen: r.get::<_, i64>(1)? as u64,
                    last_seen: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect()
        })
        .map_err(|e| self.err("reading seen-on-relay", e))
    }
}

impl Store {
    /// Which of these ids are stored.
    pub fn existing_ids(&self, ids: &[EventId]) -> StoreResult<std::collections::HashSet<EventId>> {
        Ok(self.stored_signatures(ids)?.into_keys().collect())
    }

    /// The stored signature of each of these ids that is stored. Lets the
    /// network layer skip verifying copies of events it already has, while
    /// still telling a genuine copy (same signature) from a forgery.
    pub fn stored_signatures(
        &self,
        ids: &[EventId],
    ) -> StoreResult<std::collections::HashMap<EventId, nostr::prelude::Signature>> {
        let conn = self.reader()?;
        let mut found = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, sig FROM events WHERE id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(|e| self.err("checking known ids", e))?;
            let rows = stmt
                .query_map(
                    rusqlite::params_from_iter(chunk.iter().map(|id| id.as_bytes().to_vec())),
                    |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)),
                )
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err("checking known ids", e))?;
            for (id, sig) in rows {
                if let (Ok(id), Ok(sig)) = (
                    EventId::from_slice(&id),
                    nostr::prelude::Signature::from_slice(&sig),
                ) {
                    found.insert(id, sig);
                }
            }
        }
        Ok(found)
    }

    /// Records that `relay` delivered these (already stored) events again.
    /// Ids that are not stored are ignored: nothing unverified is written.
    pub fn mark_seen(&self, relay: &str, ids: &[EventId]) -> StoreResult<()> {
        let now = Timestamp::now().as_secs() as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("starting seen-on-relay update", e))?;
        let relay = relay_id(&tx, relay).map_err(|e| self.err("recording relay", e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO event_seen (event, relay, first_seen, last_seen)
                     SELECT seq, ?2, ?3, ?3 FROM events WHERE id = ?1
                     ON CONFLICT (event, relay) DO UPDATE SET last_seen = excluded.last_seen",
                )
                .map_err(|e| self.err("recording seen-on-relay", e))?;
            for id in ids {
                stmt.execute(params![id.as_bytes(), relay, now])
                    .map_err(|e| self.err("recording seen-on-relay", e))?;
            }
        }
        tx.commit()
            .map_err(|e| self.err("committing seen-on-relay", e))
    }
}

impl Store {
    /// Records that `relay` was asked about `author`, and how many of their
    /// events it returned (0: nothing): the outbox planner learns from this
    /// across sessions.
    pub fn record_asked(&self, relay: &str, outcomes: &[(PublicKey, u32)]) -> StoreResult<()> {
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("recording delivery history", e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO delivery_stats (relay, author, asked, delivered, events) VALUES (?1, ?2, 1, ?3, ?4)
                     ON CONFLICT (relay, author) DO UPDATE SET asked = asked + 1,
                       delivered = delivered + excluded.delivered, events = excluded.events",
                )
                .map_err(|e| self.err("recording delivery history", e))?;
            for (author, events) in outcomes {
                stmt.execute(params![
                    relay,
                    &author.to_bytes()[..],
                    i64::from(*events > 0),
                    i64::from(*events)
                ])
                .map_err(|e| self.err("recording delivery history", e))?;
            }
        }
        tx.commit()
            .map_err(|e| self.err("committing delivery history", e))
    }

    /// How many events each relay returned for these authors the last time
    /// it was asked: relay → author → events.
    #[allow(clippy::type_complexity)]
    pub fn delivery_volume(
        &self,
        authors: &[PublicKey],
    ) -> StoreResult<std::collections::BTreeMap<String, std::collections::BTreeMap<PublicKey, u32>>>
    {
        let wanted: std::collections::HashMap<[u8; 32], PublicKey> =
            authors.iter().map(|a| (a.to_bytes(), *a)).collect();
        let mut out: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<PublicKey, u32>,
        > = std::collections::BTreeMap::new();
        // One pass over the table (its key leads with the relay, so a
        // lookup per author would scan it once per author).
        self.each_delivery_row("reading delivery volume", |relay, author, _, _, events| {
            if let Some(who) = wanted.get(author).filter(|_| events > 0) {
                out.entry(relay.to_owned())
                    .or_default()
                    .insert(*who, events.clamp(0, i64::from(u32::MAX)) as u32);
            }
        })?;
        Ok(out)
    }

    /// Delivery history for these authors: relay → author → (asked, delivered).
    #[allow(clippy::type_complexity)]
    pub fn delivery_history(
        &self,
        authors: &[PublicKey],
    ) -> StoreResult<
        std::collections::BTreeMap<String, std::collections::BTreeMap<PublicKey, (u32, u32)>>,
    > {
        let wanted: std::collections::HashMap<[u8; 32], PublicKey> =
            authors.iter().map(|a| (a.to_bytes(), *a)).collect();
        let mut out: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<PublicKey, (u32, u32)>,
        > = std::collections::BTreeMap::new();
        self.each_delivery_row(
            "reading delivery history",
            |relay, author, asked, delivered, _| {
                if let Some(who) = wanted.get(author) {
                    out.entry(relay.to_owned())
                        .or_default()
                        .insert(*who, (asked as u32, delivered as u32));
                }
            },
        )?;
        Ok(out)
    }

    /// Calls `f(relay, author, asked, delivered, events)` for every row of
    /// `delivery_stats`, in one scan.
    fn each_delivery_row(
        &self,
        what: &'static str,
        mut f: impl FnMut(&str, &[u8; 32], i64, i64, i64),
    ) -> StoreResult<()> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT relay, author, asked, delivered, events FROM delivery_stats")
            .map_err(|e| self.err(what, e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(what, e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(what, e))? {
            let relay: String = row.get(0).map_err(|e| self.err(what, e))?;
            let author: Vec<u8> = row.get(1).map_err(|e| self.err(what, e))?;
            let Ok(author) = <[u8; 32]>::try_from(author.as_slice()) else {
                continue;
            };
            let asked: i64 = row.get(2).map_err(|e| self.err(what, e))?;
            let delivered: i64 = row.get(3).map_err(|e| self.err(what, e))?;
            let events: i64 = row.get(4).map_err(|e| self.err(what, e))?;
            f(&relay, &author, asked, delivered, events);
        }
        Ok(())
    }
}

impl Store {
    /// How many events of each of `authors` were received from `relay` since
    /// `since` (new or already known): what the relay delivered in a sync.
    /// Profiles, follow lists and relay lists do not count: a relay that
    /// holds only those is no source of the person's notes.
    pub fn delivered_since(
        &self,
        relay: &str,
        authors: &[PublicKey],
        since: u64,
    ) -> StoreResult<std::collections::BTreeMap<PublicKey, u32>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM events e INDEXED BY events_author_time
                 JOIN event_seen s ON s.event = e.seq AND s.relay = (SELECT id FROM relays WHERE url = ?1)
                 WHERE e.author = (SELECT id FROM authors WHERE pubkey = ?2) AND s.last_seen >= ?3
                   AND e.kind NOT IN (0, 3) AND NOT (e.kind BETWEEN 10000 AND 19999)",
            )
            .map_err(|e| self.err("reading deliveries", e))?;
        let mut out = std::collections::BTreeMap::new();
        for author in authors {
            let n: i64 = stmt
                .query_row(params![relay, &author.to_bytes()[..], since as i64], |r| {
                    r.get(0)
                })
                .map_err(|e| self.err("reading deliveries", e))?;
            if n > 0 {
                out.insert(*author, n.min(i64::from(u32::MAX)) as u32);
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Which of `ids` were received from `relay` at or after `since` (new or
    /// already known): what a relay showed it holds in a check.
    pub fn seen_since(
        &self,
        relay: &str,
        ids: &[EventId],
        since: u64,
    ) -> StoreResult<std::collections::HashSet<EventId>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT 1 FROM events e JOIN event_seen s ON s.event = e.seq
                   AND s.relay = (SELECT id FROM relays WHERE url = ?1)
                 WHERE e.id = ?2 AND s.last_seen >= ?3",
            )
            .map_err(|e| self.err("reading sightings", e))?;
        let mut out = std::collections::HashSet::new();
        for id in ids {
            if stmt
                .exists(params![relay, id.as_bytes(), since as i64])
                .map_err(|e| self.err("reading sightings", e))?
            {
                out.insert(*id);
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Events received from `relay` at or after `since` (new or known)
    /// created at or before `until`: how many, and the oldest `created_at`
    /// among them. Paging through what a relay holds uses it.
    pub fn received_since(
        &self,
        relay: &str,
        since: u64,
        until: u64,
    ) -> StoreResult<(u64, Option<u64>)> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT COUNT(*), MIN(e.created_at) FROM event_seen s JOIN events e ON e.seq = s.event
             WHERE s.relay = (SELECT id FROM relays WHERE url = ?1) AND s.last_seen >= ?2
               AND e.created_at <= ?3",
        )
        .and_then(|mut s| {
            s.query_row(
                params![relay, since as i64, until.min(i64::MAX as u64) as i64],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?.max(0) as u64,
                        r.get::<_, Option<i64>>(1)?.map(|t| t.max(0) as u64),
                    ))
                },
            )
        })
        .map_err(|e| self.err("reading what a relay sent", e))
    }
}
