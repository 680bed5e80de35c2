//! Inserting events with full NIP-01 / NIP-09 / NIP-40 semantics.
//!
//! The caller has already verified ids and signatures; the store decides what
//! to keep. Every batch is one transaction: either all its effects are written
//! or none (a full disk or a lock leaves the file as it was).

use nostr::prelude::{Event, Kind, Timestamp};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::codec::{self, encode_tag_value};
use crate::error::{StoreError, StoreResult};
use crate::relays::relay_id;
use crate::Store;

/// What happened to one event handed to [`Store::insert_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// New, now stored.
    Stored,
    /// Already stored (same id); nothing changed except seen-on-relay.
    Duplicate,
    /// Stored, and an older version of the same replaceable/addressable event was removed.
    ReplacedOlder,
    /// A newer version of this replaceable/addressable event is already stored; not stored.
    RejectedOlder,
    /// Its author asked for it to be deleted (NIP-09); not stored.
    Deleted,
    /// Its NIP-40 expiration has passed; not stored.
    Expired,
    /// Ephemeral kind (20000–29999); never stored.
    Ephemeral,
    /// Breaks a size bound of the store (tags, content); not stored.
    TooLarge(String),
}

impl InsertOutcome {
    /// True when the event is now in the store (new or replacing an older version).
    pub fn is_stored(&self) -> bool {
        matches!(self, Self::Stored | Self::ReplacedOlder)
    }
}

impl Store {
    /// Inserts one event. An oversized event is an error here
    /// ([`StoreError::EventTooLarge`]); in a batch it is an outcome.
    pub fn insert(&self, event: &Event) -> StoreResult<InsertOutcome> {
        let outcome = self
            .insert_batch_from(None, std::slice::from_ref(event))?
            .pop()
            .unwrap_or(InsertOutcome::Duplicate);
        match outcome {
            InsertOutcome::TooLarge(reason) => Err(StoreError::EventTooLarge {
                id: event.id.to_hex(),
                reason,
            }),
            other => Ok(other),
        }
    }

    /// Inserts a batch in one transaction; one outcome per event, in order.
    pub fn insert_batch(&self, events: &[Event]) -> StoreResult<Vec<InsertOutcome>> {
        self.insert_batch_from(None, events)
    }

    /// Inserts a batch that arrived from `relay` (its URL), also recording
    /// where each stored or duplicate event was seen.
    pub fn insert_batch_from(
        &self,
        relay: Option<&str>,
        events: &[Event],
    ) -> StoreResult<Vec<InsertOutcome>> {
        let now = Timestamp::now().as_secs() as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("starting insert transaction", e))?;
        let relay = match relay {
            Some(url) => Some(relay_id(&tx, url).map_err(|e| self.err("recording relay", e))?),
            None => None,
        };
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            let outcome = self.insert_one(&tx, event, now, relay)?;
            outcomes.push(outcome);
        }
        tx.commit().map_err(|e| self.err("committing inserts", e))?;
        Ok(outcomes)
    }

    pub(crate) fn insert_one(
        &self,
        tx: &Transaction<'_>,
        event: &Event,
        now: i64,
        relay: Option<i64>,
    ) -> StoreResult<InsertOutcome> {
        let err = |op, e| self.err(op, e);
        if event.kind.is_ephemeral() {
            return Ok(InsertOutcome::Ephemeral);
        }
        let expires_at = codec::expiration(event);
        if expires_at.is_some_and(|t| t <= now) {
            return Ok(InsertOutcome::Expired);
        }
        if let Some(reason) = crate::rules::size_violation(event, &self.config) {
            return Ok(InsertOutcome::TooLarge(reason));
        }
        let id = event.id.as_bytes();
        let existing: Option<i64> = tx
            .prepare_cached("SELECT seq FROM events WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(|e| err("looking up event id", e))?;
        if let Some(seq) = existing {
            if let Some(relay) = relay {
                mark_seen(tx, seq, relay, now).map_err(|e| err("recording seen-on-relay", e))?;
            }
            return Ok(InsertOutcome::Duplicate);
        }
        let author = author_id(tx, event).map_err(|e| err("recording author", e))?;
        let tombstoned: bool = tx
            .prepare_cached("SELECT 1 FROM deleted_ids WHERE id = ?1 AND author = ?2")
            .and_then(|mut s| s.exists(params![id, author]))
            .map_err(|e| err("checking deletion tombstones", e))?;
        if tombstoned {
            return Ok(InsertOutcome::Deleted);
        }
        let created_at = event.created_at.as_secs() as i64;
        let kind = i64::from(event.kind.as_u16());
        let address = (event.kind.is_replaceable() || event.kind.is_addressable()).then(|| {
            if event.kind.is_addressable() {
                codec::d_tag(event)
            } else {
                String::new()
            }
        });
        let mut outcome = InsertOutcome::Stored;
        if let Some(dtag) = &address {
            let deleted_until: Option<i64> = tx
                .prepare_cached(
                    "SELECT until FROM deleted_addresses WHERE author = ?1 AND kind = ?2 AND dtag = ?3",
                )
                .and_then(|mut s| s.query_row(params![author, kind, dtag], |r| r.get(0)).optional())
                .map_err(|e| err("checking address tombstones", e))?;
            if deleted_until.is_some_and(|until| created_at <= until) {
                return Ok(InsertOutcome::Deleted);
            }
            let older: Vec<(i64, i64, Vec<u8>)> = tx
                .prepare_cached(
                    "SELECT seq, created_at, id FROM events INDEXED BY events_address
                     WHERE author = ?1 AND kind = ?2 AND dtag = ?3",
                )
                .and_then(|mut s| {
                    s.query_map(params![author, kind, dtag], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect()
                })
                .map_err(|e| err("looking up replaceable versions", e))?;
            for (old_seq, old_created, old_id) in older {
                let new_wins =
                    created_at > old_created || (created_at == old_created && id[..] < old_id[..]);
                if !new_wins {
                    if old_id[..] != id[..] {
                        crate::history::keep_older_if_own(tx, event, author)
                            .map_err(|e| err("keeping an older version", e))?;
                    }
                    return Ok(InsertOutcome::RejectedOlder);
                }
                crate::history::keep_if_own(tx, old_seq, author)
                    .map_err(|e| err("keeping a replaced version", e))?;
                delete_row(tx, old_seq).map_err(|e| err("removing replaced version", e))?;
                outcome = InsertOutcome::ReplacedOlder;
            }
        }
        let tags_json = serde_json::to_string(&event.tags).unwrap_or_else(|_| "[]".into());
        tx.prepare_cached(
            "INSERT INTO events (id, author, kind, created_at, content, tags, sig, dtag, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                author,
                kind,
                created_at,
                event.content,
                tags_json,
                AsRef::<[u8]>::as_ref(&event.sig),
                address,
                expires_at
            ])
        })
        .map_err(|e| err("inserting event", e))?;
        let seq = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO tags (name, value, created_at, event) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| err("preparing tag insert", e))?;
            for (name, value) in codec::indexable_tags(event) {
                stmt.execute(params![name, encode_tag_value(value), created_at, seq])
                    .map_err(|e| err("inserting tag", e))?;
            }
        }
        if codec::is_searchable(event.kind, &event.content) {
            tx.prepare_cached("INSERT INTO events_fts (rowid, content) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![seq, event.content]))
                .map_err(|e| err("indexing content", e))?;
        }
        if let Some(relay) = relay {
            mark_seen(tx, seq, relay, now).map_err(|e| err("recording seen-on-relay", e))?;
        }
        if self.config.record_relay_hints {
            crate::hints::record_tag_hints(tx, event, now)
                .map_err(|e| err("recording relay hints", e))?;
        }
        if event.kind == Kind::EventDeletion {
            apply_deletion(tx, event, author, created_at)
                .map_err(|e| err("applying deletion", e))?;
        }
        Ok(outcome)
    }

    /// Removes events whose NIP-40 expiration has passed; returns how many.
    /// Queries never return them even before this runs.
    pub fn purge_expired(&self) -> StoreResult<usize> {
        let now = Timestamp::now().as_secs() as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("starting purge", e))?;
        let seqs: Vec<i64> = tx
            .prepare("SELECT seq FROM events WHERE expires_at IS NOT NULL AND expires_at <= ?1")
            .and_then(|mut s| s.query_map([now], |r| r.get(0))?.collect())
            .map_err(|e| self.err("finding expired events", e))?;
        for seq in &seqs {
            delete_row(&tx, *seq).map_err(|e| self.err("purging expired event", e))?;
        }
        tx.commit().map_err(|e| self.err("committing purge", e))?;
        Ok(seqs.len())
    }
}

fn author_id(tx: &Transaction<'_>, event: &Event) -> rusqlite::Result<i64> {
    let pubkey = event.pubkey.to_bytes();
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM authors WHERE pubkey = ?1")?
        .query_row([&pubkey[..]], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO authors (pubkey) VALUES (?1)")?
        .execute([&pubkey[..]])?;
    Ok(tx.last_insert_rowid())
}

fn mark_seen(tx: &Transaction<'_>, seq: i64, relay: i64, now: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO event_seen (event, relay, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (event, relay) DO UPDATE SET last_seen = excluded.last_seen",
    )?
    .execute(params![seq, relay, now])?;
    Ok(())
}

/// Removes one stored event with its tag rows, full-text entry and seen rows.
pub(crate) fn delete_row(tx: &Transaction<'_>, seq: i64) -> rusqlite::Result<()> {
    let row: Option<(i64, i64, String, String)> = tx
        .prepare_cached("SELECT kind, created_at, tags, content FROM events WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((kind, created_at, tags_json, content)) = row else {
        return Ok(());
    };
    let tags: nostr::prelude::Tags = serde_json::from_str(&tags_json).unwrap_or_default();
    {
        let mut del = tx.prepare_cached(
            "DELETE FROM tags WHERE name = ?1 AND value = ?2 AND created_at = ?3 AND event = ?4",
        )?;
        for tag in tags.iter() {
            let slice = tag.as_slice();
            if let (Some(name), Some(value)) = (slice.first(), slice.get(1)) {
                let b = name.as_bytes();
                if b.len() == 1 && b[0].is_ascii_alphabetic() {
                    del.execute(params![b[0], encode_tag_value(value), created_at, seq])?;
                }
            }
        }
    }
    let kind = Kind::from_u16(u16::try_from(kind).unwrap_or(u16::MAX));
    if codec::is_searchable(kind, &content) {
        tx.prepare_cached(
            "INSERT INTO events_fts (events_fts, rowid, content) VALUES ('delete', ?1, ?2)",
        )?
        .execute(params![seq, content])?;
    }
    tx.prepare_cached("DELETE FROM event_seen WHERE event = ?1")?
        .execute([seq])?;
    // A replaced or deleted event is not delivered any more: its pending
    // deliveries go with it (found by the crash matrix: a follow-list edit
    // killed before delivery left the old list's deliveries pending for
    // ever). Finished ones stay as history.
    tx.prepare_cached(
        "DELETE FROM publish_queue WHERE state = 'pending'
           AND id = (SELECT id FROM events WHERE seq = ?1)",
    )?
    .execute([seq])?;
    tx.prepare_cached("DELETE FROM events WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

/// NIP-09: removes the author's own events named by `e` tags and older
/// versions of addresses named by `a` tags, and records tombstones so that
/// they are not stored again. Deletion requests cannot delete deletion requests.
fn apply_deletion(
    tx: &Transaction<'_>,
    deletion: &Event,
    author: i64,
    created_at: i64,
) -> rusqlite::Result<()> {
    for tag in deletion.tags.iter() {
        let slice = tag.as_slice();
        let (Some(name), Some(value)) = (slice.first(), slice.get(1)) else {
            continue;
        };
        match name.as_str() {
            "e" => {
                let Ok(target) = nostr::prelude::EventId::from_hex(value) else {
                    continue;
                };
                let found: Option<(i64, i64, i64)> = tx
                    .prepare_cached("SELECT seq, author, kind FROM events WHERE id = ?1")?
                    .query_row([target.as_bytes()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()?;
                if let Some((seq, target_author, target_kind)) = found {
                    if target_author != author || target_kind == 5 {
                        continue;
                    }
                    delete_row(tx, seq)?;
                }
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO deleted_ids (id, author) VALUES (?1, ?2)",
                )?
                .execute(params![target.as_bytes(), author])?;
            }
            "a" => {
                let mut parts = value.splitn(3, ':');
                let (Some(kind), Some(pubkey), dtag) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let Ok(kind) = kind.parse::<u16>() else {
                    continue;
                };
                if pubkey != deletion.pubkey.to_hex() || kind == 5 {
                    continue;
                }
                let kind_v = Kind::from_u16(kind);
                if !(kind_v.is_replaceable() || kind_v.is_addressable()) {
                    continue;
                }
                let dtag = if kind_v.is_addressable() {
                    dtag.unwrap_or("")
                } else {
                    ""
                };
                let doomed: Vec<i64> = tx
                    .prepare_cached(
                        "SELECT seq FROM events INDEXED BY events_address
                         WHERE author = ?1 AND kind = ?2 AND dtag = ?3 AND created_at <= ?4",
                    )?
                    .query_map(params![author, kind, dtag, created_at], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for seq in doomed {
                    delete_row(tx, seq)?;
                }
                tx.prepare_cached(
                    "INSERT INTO deleted_addresses (author, kind, dtag, until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (author, kind, dtag) DO UPDATE SET until = max(until, excluded.until)",
                )?
                .execute(params![author, kind, dtag, created_at])?;
            }
            _ => {}
        }
    }
    Ok(())
}
