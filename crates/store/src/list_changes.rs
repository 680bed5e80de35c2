//! Waiting changes to the user's own lists (migration 12).
//!
//! An edit of a replaceable list (follow, mute, bookmark, profile field, …)
//! is kept here as a *change* ("add p:X"), not as a finished event, until a
//! copy of the list that can be trusted is at hand; the client then builds
//! one new version from it and settles the changes in the same transaction
//! as the queued publish ([`Store::enqueue_publish_settling`]), so a kill at
//! any moment leaves either the waiting changes or the new version, never
//! both and never neither. `list_answers` remembers when a relay last
//! answered a fetch of each list: a copy fetched after a change was made is
//! one the change may be applied to.
//!
//! The store does not read the changes: `list` and `change` are the
//! client's own words (a list key and a JSON change).

use rusqlite::params;

use crate::error::StoreResult;
use crate::Store;

/// One waiting change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListChangeRow {
    /// Its number (grows with every change queued; oldest first).
    pub id: i64,
    /// Which list (the client's key, e.g. `3` or `30000:friends`).
    pub list: String,
    /// The change itself (the client's JSON).
    pub change: String,
    /// The id (hex) of the newest copy this device had when the change was
    /// made, if any: what the user saw when asking.
    pub base: Option<String>,
    /// When it was made (unix milliseconds).
    pub queued_at: u64,
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Store {
    /// Keeps a change to `list` until it can be applied; returns its number.
    pub fn queue_list_change(
        &self,
        list: &str,
        change: &str,
        base: Option<&str>,
    ) -> StoreResult<i64> {
        let conn = self.writer();
        conn.prepare_cached(
            "INSERT INTO list_changes (list, change, base, queued_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![list, change, base, now_millis() as i64]))
        .map_err(|e| self.err("queueing a list change", e))?;
        Ok(conn.last_insert_rowid())
    }

    /// The waiting changes, oldest first: those of `list`, or of every list.
    pub fn list_changes(&self, list: Option<&str>) -> StoreResult<Vec<ListChangeRow>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT id, list, change, base, queued_at FROM list_changes
             WHERE ?1 IS NULL OR list = ?1 ORDER BY id",
        )
        .and_then(|mut s| {
            s.query_map([list], |r| {
                Ok(ListChangeRow {
                    id: r.get(0)?,
                    list: r.get(1)?,
                    change: r.get(2)?,
                    base: r.get(3)?,
                    queued_at: r.get::<_, i64>(4)? as u64,
                })
            })?
            .collect()
        })
        .map_err(|e| self.err("reading waiting list changes", e))
    }

    /// Drops waiting changes (cancelled, or no longer applicable); returns
    /// how many were there.
    pub fn remove_list_changes(&self, ids: &[i64]) -> StoreResult<usize> {
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("removing list changes", e))?;
        let removed = settle(&tx, ids).map_err(|e| self.err("removing list changes", e))?;
        tx.commit()
            .map_err(|e| self.err("removing list changes", e))?;
        Ok(removed)
    }

    /// Records that a relay answered a fetch of `list` at `at_millis`.
    pub fn note_list_answered(&self, list: &str, at_millis: u64) -> StoreResult<()> {
        self.writer()
            .prepare_cached(
                "INSERT INTO list_answers (list, answered_at) VALUES (?1, ?2)
                 ON CONFLICT (list) DO UPDATE SET answered_at = max(answered_at, ?2)",
            )
            .and_then(|mut s| s.execute(params![list, at_millis as i64]))
            .map_err(|e| self.err("recording a list fetch", e))?;
        Ok(())
    }

    /// When a relay last answered a fetch of `list` (unix milliseconds).
    pub fn list_answered_at(&self, list: &str) -> StoreResult<Option<u64>> {
        use rusqlite::OptionalExtension;
        let conn = self.reader()?;
        conn.prepare_cached("SELECT answered_at FROM list_answers WHERE list = ?1")
            .and_then(|mut s| s.query_row([list], |r| r.get::<_, i64>(0)).optional())
            .map(|v| v.map(|v| v as u64))
            .map_err(|e| self.err("reading list fetches", e))
    }
}

/// Deletes the changes `ids` inside `tx`; returns how many there were.
pub(crate) fn settle(tx: &rusqlite::Transaction<'_>, ids: &[i64]) -> rusqlite::Result<usize> {
    let mut stmt = tx.prepare_cached("DELETE FROM list_changes WHERE id = ?1")?;
    let mut removed = 0;
    for id in ids {
        removed += stmt.execute([id])?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    #[test]
    fn changes_wait_in_order_and_settle_with_their_publish() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let a = store
            .queue_list_change("3", r#"{"add":"x"}"#, None)
            .unwrap();
        let b = store
            .queue_list_change("10000", r#"{"add":"y"}"#, Some("ab"))
            .unwrap();
        let c = store
            .queue_list_change("3", r#"{"add":"z"}"#, None)
            .unwrap();
        let all = store.list_changes(None).unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b, c]);
        let follows = store.list_changes(Some("3")).unwrap();
        assert_eq!(follows.iter().map(|r| r.id).collect::<Vec<_>>(), [a, c]);
        assert_eq!(all[1].base.as_deref(), Some("ab"));

        let keys = Keys::generate();
        let list = EventBuilder::new(Kind::ContactList, "")
            .finalize(&keys)
            .unwrap();
        store
            .enqueue_publish_settling(&list, &["ws://127.0.0.1:1".into()], &[a, c])
            .unwrap();
        assert!(store.list_changes(Some("3")).unwrap().is_empty());
        assert_eq!(store.list_changes(None).unwrap().len(), 1);
        assert_eq!(store.publish_status(10).unwrap().len(), 1);
        assert_eq!(store.remove_list_changes(&[b, b]).unwrap(), 1);

        assert_eq!(store.list_answered_at("3").unwrap(), None);
        store.note_list_answered("3", 20).unwrap();
        store.note_list_answered("3", 10).unwrap();
        assert_eq!(store.list_answered_at("3").unwrap(), Some(20));
    }
}
