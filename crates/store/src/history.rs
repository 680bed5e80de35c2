//! Earlier versions of the user's own replaceable events (profile, follow
//! list, relay list): NIP-01 keeps only the newest, but a user must be able
//! to see and restore what an older device or a mistake overwrote. Only keys
//! registered with [`Store::keep_history_for`] are kept, so other people's
//! large, often-updated lists cost nothing.

use nostr::prelude::*;
use rusqlite::{params, OptionalExtension, Transaction};

use crate::codec::{EventRow, EVENT_COLUMNS};
use crate::error::StoreResult;
use crate::Store;

/// Copies the stored event `seq` into the history if its author is one of
/// the user's own keys (called just before a newer version replaces it).
pub(crate) fn keep_if_own(tx: &Transaction<'_>, seq: i64, author: i64) -> rusqlite::Result<()> {
    if !is_own(tx, author)? {
        return Ok(());
    }
    let row = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e CROSS JOIN authors a ON a.id = e.author WHERE e.seq = ?1"
        ))?
        .query_row([seq], EventRow::from_row)
        .optional()?;
    let Some(row) = row else { return Ok(()) };
    let Ok(event) = row.into_event() else {
        return Ok(());
    };
    put(tx, &event)
}

/// Keeps `event`, an older version than the one stored, in the history if
/// its author is one of the user's own keys (a version that arrives late,
/// e.g. from a relay a new device restores from, still becomes history).
pub(crate) fn keep_older_if_own(
    tx: &Transaction<'_>,
    event: &Event,
    author: i64,
) -> rusqlite::Result<()> {
    if is_own(tx, author)? {
        put(tx, event)?;
    }
    Ok(())
}

fn is_own(tx: &Transaction<'_>, author: i64) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT 1 FROM own_keys k JOIN authors a ON a.pubkey = k.pubkey WHERE a.id = ?1",
    )?
    .exists([author])
}

fn put(tx: &Transaction<'_>, event: &Event) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO replaced_history (id, pubkey, kind, created_at, event) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        event.id.as_bytes(),
        &event.pubkey.to_bytes()[..],
        i64::from(event.kind.as_u16()),
        event.created_at.as_secs() as i64,
        event.as_json()
    ])?;
    Ok(())
}

impl Store {
    /// Keeps replaced versions of this key's replaceable events from now on.
    pub fn keep_history_for(&self, pubkey: &PublicKey) -> StoreResult<()> {
        self.writer()
            .prepare_cached("INSERT OR IGNORE INTO own_keys (pubkey) VALUES (?1)")
            .and_then(|mut s| s.execute([&pubkey.to_bytes()[..]]))
            .map_err(|e| self.err("registering an own key", e))?;
        Ok(())
    }

    /// Every version of `pubkey`'s replaceable event of `kind`: the current
    /// one (if stored) and the replaced ones kept, newest first.
    pub fn versions(&self, pubkey: &PublicKey, kind: Kind) -> StoreResult<Vec<Event>> {
        let mut out = self.query(&[Filter::new().author(*pubkey).kind(kind).limit(1)])?;
        let conn = self.reader()?;
        let older: Vec<String> = conn
            .prepare_cached(
                "SELECT event FROM replaced_history WHERE pubkey = ?1 AND kind = ?2 ORDER BY created_at DESC, id",
            )
            .and_then(|mut s| {
                s.query_map(params![&pubkey.to_bytes()[..], i64::from(kind.as_u16())], |r| r.get(0))?
                    .collect()
            })
            .map_err(|e| self.err("reading replaced versions", e))?;
        out.extend(older.iter().filter_map(|json| Event::from_json(json).ok()));
        Ok(out)
    }
}
