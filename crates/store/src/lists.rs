//! Other people's lists read cheaply for the client's web of trust: the
//! heads of stored replaceable lists (who, which copy, when) without their
//! contents, and the people one stored list names. A trust graph over
//! thousands of follow lists refreshes by comparing heads and reading only
//! the lists that changed, never decoding a million tags as events.

use rusqlite::types::Value;

use crate::codec::encode_tag_value;
use crate::error::StoreResult;
use crate::Store;

/// The stored copy of one person's replaceable list, without its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListHead {
    /// Whose list (raw public key).
    pub author: [u8; 32],
    /// The event's id.
    pub id: [u8; 32],
    /// When it was made.
    pub created_at: u64,
    /// Its place in the store's insertion order (see
    /// [`Store::list_heads_since`]).
    pub seq: i64,
}

fn key_of(bytes: Vec<u8>) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

impl Store {
    /// The head of every stored event of `kind` (for a replaceable kind: one
    /// per author, the newest).
    pub fn list_heads(&self, kind: u16) -> StoreResult<Vec<ListHead>> {
        self.list_heads_since(kind, 0)
    }

    /// The heads of stored events of `kind` whose [`ListHead::seq`] is at
    /// least `seq`: what changed since a reader last looked (the highest
    /// seq it saw). The kind's index carries the insertion order, so only
    /// those rows are read from the table. SQLite reuses the highest seq
    /// when the newest row is replaced, hence "at least"; a row replaced
    /// after rows above it were deleted can get a lower seq, so a reader
    /// also rescans everything now and then.
    pub fn list_heads_since(&self, kind: u16, seq: i64) -> StoreResult<Vec<ListHead>> {
        let what = "reading list heads";
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT a.pubkey, e.id, e.created_at, e.seq FROM events e INDEXED BY events_kind_time
                 JOIN authors a ON a.id = e.author WHERE e.kind = ?1 AND e.seq >= ?2",
            )
            .map_err(|e| self.err(what, e))?;
        let rows = stmt
            .query_map(rusqlite::params![kind as i64, seq], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(what, e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(author, id, at, seq)| {
                Some(ListHead {
                    author: key_of(author)?,
                    id: key_of(id)?,
                    created_at: at.max(0) as u64,
                    seq,
                })
            })
            .collect())
    }

    /// The people the stored event `id` names in `p` tags (64-hex keys as
    /// raw bytes; anything else in a `p` tag is skipped). Empty when the
    /// event is not stored.
    pub fn people_in(&self, id: &[u8; 32]) -> StoreResult<Vec<[u8; 32]>> {
        let what = "reading the people a list names";
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT tags FROM events WHERE id = ?1")
            .map_err(|e| self.err(what, e))?;
        let mut rows = stmt.query([&id[..]]).map_err(|e| self.err(what, e))?;
        let Some(row) = rows.next().map_err(|e| self.err(what, e))? else {
            return Ok(Vec::new());
        };
        let json: String = row.get(0).map_err(|e| self.err(what, e))?;
        let tags: Vec<Vec<String>> = serde_json::from_str(&json).unwrap_or_default();
        Ok(tags
            .iter()
            .filter(|t| t.first().map(String::as_str) == Some("p"))
            .filter_map(|t| match encode_tag_value(t.get(1)?) {
                Value::Blob(b) => key_of(b),
                _ => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use nostr::prelude::*;

    use crate::Store;

    #[test]
    fn heads_and_the_people_a_list_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let (a, b, c) = (Keys::generate(), Keys::generate(), Keys::generate());
        let old = EventBuilder::new(Kind::ContactList, "")
            .tag(Tag::public_key(b.public_key()))
            .custom_created_at(Timestamp::from_secs(100))
            .finalize(&a)
            .unwrap();
        let new = EventBuilder::new(Kind::ContactList, "")
            .tags([
                Tag::public_key(b.public_key()),
                Tag::public_key(c.public_key()),
                Tag::parse(["p", "not-a-key"]).unwrap(),
            ])
            .custom_created_at(Timestamp::from_secs(200))
            .finalize(&a)
            .unwrap();
        store.insert_batch(&[old, new.clone()]).unwrap();
        let heads = store.list_heads(3).unwrap();
        assert_eq!(heads.len(), 1, "only the newest copy is kept");
        assert_eq!(heads[0].author, a.public_key().to_bytes());
        assert_eq!(heads[0].id, new.id.to_bytes());
        assert_eq!(heads[0].created_at, 200);
        let people = store.people_in(&new.id.to_bytes()).unwrap();
        assert_eq!(
            people,
            vec![b.public_key().to_bytes(), c.public_key().to_bytes()]
        );
        assert!(store.people_in(&[0; 32]).unwrap().is_empty());
        assert!(store.list_heads(10000).unwrap().is_empty());
        // Only what was stored at or after a seq.
        assert!(store
            .list_heads_since(3, heads[0].seq + 1)
            .unwrap()
            .is_empty());
        let newer = EventBuilder::new(Kind::ContactList, "")
            .custom_created_at(Timestamp::from_secs(300))
            .finalize(&a)
            .unwrap();
        store.insert(&newer).unwrap();
        let changed = store.list_heads_since(3, heads[0].seq).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].id, newer.id.to_bytes());
    }
}
