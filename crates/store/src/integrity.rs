//! The store's own check after a crash or a full disk: SQLite's page-level
//! `integrity_check`, the full-text index against the events it indexes,
//! and the store's invariants (one current version of each replaceable or
//! addressable event, no queued delivery without its event).

use rusqlite::params;

use crate::store::Store;
use crate::StoreResult;

/// What [`Store::integrity_check`] found; empty `problems` means sound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Each problem, in words (SQLite's own messages first).
    pub problems: Vec<String>,
    /// Events stored.
    pub events: u64,
    /// Deliveries in the publishing queue (any state).
    pub queued: u64,
}

impl IntegrityReport {
    /// Whether nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Store {
    /// Checks the file and the store's invariants; read-only, and cheap
    /// enough to run after every restart in tests (a full scan, though: not
    /// for every start of a large store).
    pub fn integrity_check(&self) -> StoreResult<IntegrityReport> {
        let conn = self.writer();
        let err = |e| self.err("checking integrity", e);
        let mut report = IntegrityReport::default();
        let mut check = conn.prepare("PRAGMA integrity_check").map_err(err)?;
        let rows = check
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(err)?;
        for row in rows {
            let line = row.map_err(err)?;
            if line != "ok" {
                report.problems.push(format!("sqlite: {line}"));
            }
        }
        drop(check);
        // Rank 0: the index's own structure. The index covers only the
        // searchable events (not DMs, wraps, empty content), so comparing it
        // row by row with the events table would report every skipped row.
        if let Err(e) = conn.execute(
            "INSERT INTO events_fts(events_fts, rank) VALUES('integrity-check', 0)",
            [],
        ) {
            report.problems.push(format!("full-text index: {e}"));
        }
        let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0));
        report.events = count("SELECT count(*) FROM events").map_err(err)? as u64;
        report.queued = count("SELECT count(*) FROM publish_queue").map_err(err)? as u64;
        let duplicated_replaceables = count(
            "SELECT count(*) FROM (SELECT 1 FROM events
               WHERE kind IN (0, 3) OR kind BETWEEN 10000 AND 19999
               GROUP BY author, kind HAVING count(*) > 1)",
        )
        .map_err(err)?;
        if duplicated_replaceables > 0 {
            report.problems.push(format!(
                "{duplicated_replaceables} replaceable events stored in more than one current version"
            ));
        }
        let duplicated_addresses = count(
            "SELECT count(*) FROM (SELECT 1 FROM events
               WHERE kind BETWEEN 30000 AND 39999
               GROUP BY author, kind, dtag HAVING count(*) > 1)",
        )
        .map_err(err)?;
        if duplicated_addresses > 0 {
            report.problems.push(format!(
                "{duplicated_addresses} addressable events stored in more than one current version"
            ));
        }
        let orphan_deliveries: i64 = conn
            .query_row(
                "SELECT count(*) FROM publish_queue q
                  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = q.id)
                    AND q.state = ?1",
                params!["pending"],
                |row| row.get(0),
            )
            .map_err(err)?;
        if orphan_deliveries > 0 {
            report.problems.push(format!(
                "{orphan_deliveries} pending deliveries whose event is not stored"
            ));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    #[test]
    fn a_sound_store_is_sound_and_a_duplicate_replaceable_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let keys = Keys::generate();
        for i in 0..3 {
            let list = EventBuilder::new(Kind::ContactList, "")
                .custom_created_at(Timestamp::from_secs(1_700_000_000 + i))
                .finalize(&keys)
                .unwrap();
            store.insert(&list).unwrap();
        }
        let report = store.integrity_check().unwrap();
        assert!(report.is_sound(), "{report:?}");
        assert_eq!(report.events, 1);
        // Break the invariant behind the store's back.
        store
            .writer()
            .execute(
                "INSERT INTO events (id, author, kind, created_at, content, tags, sig)
                 SELECT randomblob(32), author, kind, created_at + 1, content, tags, sig FROM events",
                [],
            )
            .unwrap();
        let report = store.integrity_check().unwrap();
        assert_eq!(report.problems.len(), 1, "{report:?}");
        assert!(report.problems[0].contains("replaceable"));
    }

    #[test]
    fn a_replaced_event_takes_its_pending_deliveries_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let keys = Keys::generate();
        let list = |at: u64| {
            EventBuilder::new(Kind::ContactList, "")
                .custom_created_at(Timestamp::from_secs(at))
                .finalize(&keys)
                .unwrap()
        };
        let relays = ["ws://127.0.0.1:1".to_string()];
        store
            .enqueue_publish(&list(1_700_000_000), &relays)
            .unwrap();
        store
            .enqueue_publish(&list(1_700_000_001), &relays)
            .unwrap();
        let report = store.integrity_check().unwrap();
        assert!(report.is_sound(), "{report:?}");
        assert_eq!(report.queued, 1, "only the newest list is still to deliver");
    }
}
