//! The privacy ledger (migration 8): per relay, what it learned from us —
//! which people we asked it about, how we reached it (direct, or a proxy
//! with its isolation id), which key we authenticated as, which search
//! terms it saw — each with a count and first and last time. Our own events
//! it received are read from the publishing queue.

use rusqlite::params;

use crate::error::StoreResult;
use crate::Store;

/// One thing a relay learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The relay.
    pub relay: String,
    /// `asked` (detail: a person's hex key), `contact` (detail: the path),
    /// `auth` (detail: the key), `search` (detail: the terms).
    pub fact: String,
    /// What exactly.
    pub detail: String,
    /// How many times.
    pub count: u64,
    /// First time (unix).
    pub first_at: u64,
    /// Last time (unix).
    pub last_at: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Store {
    /// Records that `relay` learned each of `details` (one fact kind).
    pub fn record_learned(&self, relay: &str, fact: &str, details: &[String]) -> StoreResult<()> {
        if details.is_empty() {
            return Ok(());
        }
        let at = now() as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("recording the privacy ledger", e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO privacy_ledger (relay, fact, detail, count, first_at, last_at)
                     VALUES (?1, ?2, ?3, 1, ?4, ?4)
                     ON CONFLICT (relay, fact, detail) DO UPDATE SET count = count + 1, last_at = ?4",
                )
                .map_err(|e| self.err("recording the privacy ledger", e))?;
            for d in details {
                stmt.execute(params![relay, fact, d, at])
                    .map_err(|e| self.err("recording the privacy ledger", e))?;
            }
        }
        tx.commit()
            .map_err(|e| self.err("committing the privacy ledger", e))
    }

    /// Every ledger entry, by relay then fact.
    pub fn ledger(&self) -> StoreResult<Vec<LedgerEntry>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT relay, fact, detail, count, first_at, last_at FROM privacy_ledger ORDER BY relay, fact, detail",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(LedgerEntry {
                    relay: r.get(0)?,
                    fact: r.get(1)?,
                    detail: r.get(2)?,
                    count: r.get::<_, i64>(3)? as u64,
                    first_at: r.get::<_, i64>(4)? as u64,
                    last_at: r.get::<_, i64>(5)? as u64,
                })
            })?
            .collect()
        })
        .map_err(|e| self.err("reading the privacy ledger", e))
    }

    /// Per relay and kind, how many of our own events it accepted (from the
    /// publishing queue).
    pub fn delivered_own(&self) -> StoreResult<Vec<(String, u16, u64)>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT q.relay, e.kind, COUNT(*) FROM publish_queue q JOIN events e ON e.id = q.id
             WHERE q.state = 'delivered' GROUP BY q.relay, e.kind ORDER BY q.relay, e.kind",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? as u16,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect()
        })
        .map_err(|e| self.err("reading own deliveries", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_counted_with_first_and_last_times() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        store
            .record_learned("wss://a", "asked", &["k1".into(), "k2".into()])
            .unwrap();
        store
            .record_learned("wss://a", "asked", &["k1".into()])
            .unwrap();
        store
            .record_learned("wss://b", "auth", &["me".into()])
            .unwrap();
        let l = store.ledger().unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!((l[0].detail.as_str(), l[0].count), ("k1", 2));
        assert!(l[0].first_at <= l[0].last_at);
        assert_eq!(l[2].fact, "auth");
    }
}
