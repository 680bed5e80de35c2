//! Moderation lists (migration 11) for a relay run on this store: banned and
//! allowed keys, banned events, blocked client addresses (as salted hashes)
//! and changed settings, each with the reason and the admin who set it. Kept
//! in the database so a ban survives a restart and travels with a backup.

use rusqlite::params;

use crate::error::StoreResult;
use crate::Store;

/// One entry of a moderation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationEntry {
    /// What is listed: a hex key, a hex event id, an address hash, or a setting's value.
    pub value: String,
    /// Why, as the admin gave it (may be empty).
    pub reason: String,
    /// The admin's hex key (empty when set from the config or the command line).
    pub admin: String,
    /// When it was set (unix seconds).
    pub at: u64,
}

impl Store {
    /// Adds `value` to moderation list `list` (or updates its reason and admin).
    pub fn moderation_add(
        &self,
        list: &str,
        value: &str,
        reason: &str,
        admin: &str,
    ) -> StoreResult<()> {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()) as i64;
        self.writer()
            .prepare_cached(
                "INSERT INTO moderation (list, value, reason, admin, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (list, value) DO UPDATE SET reason = ?3, admin = ?4, at = ?5",
            )
            .and_then(|mut s| s.execute(params![list, value, reason, admin, at]))
            .map_err(|e| self.err("writing a moderation list", e))?;
        Ok(())
    }

    /// Removes `value` from list `list`; true if it was there.
    pub fn moderation_remove(&self, list: &str, value: &str) -> StoreResult<bool> {
        let n = self
            .writer()
            .prepare_cached("DELETE FROM moderation WHERE list = ?1 AND value = ?2")
            .and_then(|mut s| s.execute(params![list, value]))
            .map_err(|e| self.err("writing a moderation list", e))?;
        Ok(n > 0)
    }

    /// Replaces the whole of list `list` with one value (for settings such as
    /// the relay's name).
    pub fn moderation_set_only(&self, list: &str, value: &str, admin: &str) -> StoreResult<()> {
        self.writer()
            .prepare_cached("DELETE FROM moderation WHERE list = ?1")
            .and_then(|mut s| s.execute([list]))
            .map_err(|e| self.err("writing a moderation list", e))?;
        self.moderation_add(list, value, "", admin)
    }

    /// Every entry of list `list`, oldest first.
    pub fn moderation_list(&self, list: &str) -> StoreResult<Vec<ModerationEntry>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT value, reason, admin, at FROM moderation WHERE list = ?1 ORDER BY at, value",
        )
        .and_then(|mut s| {
            s.query_map([list], |r| {
                Ok(ModerationEntry {
                    value: r.get(0)?,
                    reason: r.get(1)?,
                    admin: r.get(2)?,
                    at: r.get::<_, i64>(3)? as u64,
                })
            })?
            .collect()
        })
        .map_err(|e| self.err("reading a moderation list", e))
    }

    /// Removes the stored event with this id, whatever its kind or author (a
    /// relay admin's ban). True if it was stored.
    pub fn remove_event(&self, id: &nostr::prelude::EventId) -> StoreResult<bool> {
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("removing an event", e))?;
        let seq: Option<i64> = {
            use rusqlite::OptionalExtension;
            tx.prepare_cached("SELECT seq FROM events WHERE id = ?1")
                .and_then(|mut s| s.query_row([&id.as_bytes()[..]], |r| r.get(0)).optional())
                .map_err(|e| self.err("removing an event", e))?
        };
        if let Some(seq) = seq {
            crate::insert::delete_row(&tx, seq).map_err(|e| self.err("removing an event", e))?;
        }
        tx.commit().map_err(|e| self.err("removing an event", e))?;
        Ok(seq.is_some())
    }
}

#[cfg(test)]
mod tests {
    use nostr::prelude::*;

    use crate::Store;

    #[test]
    fn lists_survive_reopening_and_removal_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.sqlite");
        {
            let store = Store::open(&path).unwrap();
            store
                .moderation_add("banned_pubkey", "aa", "spam", "admin1")
                .unwrap();
            store.moderation_add("banned_pubkey", "bb", "", "").unwrap();
            store
                .moderation_add("banned_pubkey", "aa", "more spam", "admin2")
                .unwrap();
            store.moderation_set_only("name", "first", "").unwrap();
            store
                .moderation_set_only("name", "second", "admin1")
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let banned = store.moderation_list("banned_pubkey").unwrap();
        assert_eq!(banned.len(), 2);
        let aa = banned.iter().find(|e| e.value == "aa").unwrap();
        assert_eq!(
            (aa.reason.as_str(), aa.admin.as_str()),
            ("more spam", "admin2")
        );
        assert!(store.moderation_remove("banned_pubkey", "aa").unwrap());
        assert!(!store.moderation_remove("banned_pubkey", "aa").unwrap());
        assert_eq!(store.moderation_list("banned_pubkey").unwrap().len(), 1);
        let name = store.moderation_list("name").unwrap();
        assert_eq!(name.len(), 1);
        assert_eq!(name[0].value, "second");
    }

    #[test]
    fn a_removed_event_is_gone_with_its_tags() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let keys = Keys::generate();
        let target = Keys::generate().public_key();
        let event = EventBuilder::new(Kind::TextNote, "spam")
            .tag(Tag::public_key(target))
            .finalize(&keys)
            .unwrap();
        store.insert(&event).unwrap();
        assert!(store.remove_event(&event.id).unwrap());
        assert!(!store.remove_event(&event.id).unwrap());
        let by_tag = Filter::new().pubkey(target).limit(10);
        assert!(store.query(&[by_tag]).unwrap().is_empty());
        assert!(store
            .query(&[Filter::new().id(event.id)])
            .unwrap()
            .is_empty());
    }
}
