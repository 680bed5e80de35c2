//! Writing events: the NIP-01 rules the SQLite store applies (duplicates,
//! tombstones, replaceable and addressable versions, NIP-09 deletions, NIP-40
//! expiry, size bounds), one statement each, prepared once per connection.

use deadpool_postgres::Transaction;
use nostr::prelude::*;
use samizdat_store::rules::{d_tag, expiration, indexable_tags, is_searchable, size_violation};
use samizdat_store::{InsertOutcome, StoreConfig, StoreResult};

use super::{backend, PgStore};

impl PgStore {
    pub(super) async fn insert_one(
        tx: &Transaction<'_>,
        event: &Event,
        now: i64,
    ) -> StoreResult<InsertOutcome> {
        let err = backend("inserting an event");
        if event.kind.is_ephemeral() {
            return Ok(InsertOutcome::Ephemeral);
        }
        let expires_at = expiration(event);
        if expires_at.is_some_and(|t| t <= now) {
            return Ok(InsertOutcome::Expired);
        }
        if let Some(reason) = size_violation(event, &StoreConfig::default()) {
            return Ok(InsertOutcome::TooLarge(reason));
        }
        let id = event.id.as_bytes().to_vec();
        let pubkey = event.pubkey.to_bytes().to_vec();
        let known = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM events WHERE id = $1),
                    EXISTS (SELECT 1 FROM deleted_ids WHERE id = $1 AND pubkey = $2)",
            )
            .await
            .map_err(&err)?;
        let row = tx.query_one(&known, &[&id, &pubkey]).await.map_err(&err)?;
        if row.get::<_, bool>(0) {
            return Ok(InsertOutcome::Duplicate);
        }
        if row.get::<_, bool>(1) {
            return Ok(InsertOutcome::Deleted);
        }
        let created_at = event.created_at.as_secs() as i64;
        let kind = i32::from(event.kind.as_u16());
        let address = (event.kind.is_replaceable() || event.kind.is_addressable()).then(|| {
            if event.kind.is_addressable() {
                d_tag(event)
            } else {
                String::new()
            }
        });
        let mut outcome = InsertOutcome::Stored;
        if let Some(dtag) = &address {
            let lock_key = format!("{}:{kind}:{dtag}", event.pubkey.to_hex());
            let lock = tx
                .prepare_cached("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .await
                .map_err(&err)?;
            tx.execute(&lock, &[&lock_key]).await.map_err(&err)?;
            let tomb = tx.prepare_cached("SELECT until FROM deleted_addresses WHERE pubkey = $1 AND kind = $2 AND dtag = $3").await.map_err(&err)?;
            let until: Option<i64> = tx
                .query_opt(&tomb, &[&pubkey, &kind, dtag])
                .await
                .map_err(&err)?
                .map(|r| r.get(0));
            if until.is_some_and(|until| created_at <= until) {
                return Ok(InsertOutcome::Deleted);
            }
            let versions = tx.prepare_cached("SELECT seq, created_at, id FROM events WHERE pubkey = $1 AND kind = $2 AND dtag = $3").await.map_err(&err)?;
            let older = tx
                .query(&versions, &[&pubkey, &kind, dtag])
                .await
                .map_err(&err)?;
            for row in older {
                let (old_seq, old_created, old_id): (i64, i64, Vec<u8>) =
                    (row.get(0), row.get(1), row.get(2));
                let new_wins =
                    created_at > old_created || (created_at == old_created && id < old_id);
                if !new_wins {
                    return Ok(InsertOutcome::RejectedOlder);
                }
                let delete = tx
                    .prepare_cached("DELETE FROM events WHERE seq = $1")
                    .await
                    .map_err(&err)?;
                tx.execute(&delete, &[&old_seq]).await.map_err(&err)?;
                outcome = InsertOutcome::ReplacedOlder;
            }
        }
        let insert = tx.prepare_cached("INSERT INTO events (id, pubkey, kind, created_at, dtag, expires_at, searchable, content, raw)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING seq").await.map_err(&err)?;
        let inserted = tx
            .query_opt(
                &insert,
                &[
                    &id,
                    &pubkey,
                    &kind,
                    &created_at,
                    &address,
                    &expires_at,
                    &is_searchable(event.kind, &event.content),
                    &event.content,
                    &event.as_json(),
                ],
            )
            .await
            .map_err(&err)?;
        let Some(row) = inserted else {
            return Ok(InsertOutcome::Duplicate);
        };
        let seq: i64 = row.get(0);
        let (names, values): (Vec<String>, Vec<String>) = indexable_tags(event)
            .map(|(name, value)| ((name as char).to_string(), value.to_string()))
            .unzip();
        if !names.is_empty() {
            let tags = tx
                .prepare_cached(
                    "INSERT INTO tags (name, value, created_at, event)
                 SELECT n, v, $3, $4 FROM UNNEST($1::text[], $2::text[]) AS u(n, v)
                 ON CONFLICT DO NOTHING",
                )
                .await
                .map_err(&err)?;
            tx.execute(&tags, &[&names, &values, &created_at, &seq])
                .await
                .map_err(&err)?;
        }
        if event.kind == Kind::EventDeletion {
            Self::apply_deletion(tx, event, &pubkey, created_at).await?;
        }
        Ok(outcome)
    }

    /// NIP-09, as the SQLite store applies it: the author's own events named
    /// by `e` tags, older versions of addresses named by `a` tags; tombstones
    /// keep them out; deletion requests are not deleted.
    async fn apply_deletion(
        tx: &Transaction<'_>,
        deletion: &Event,
        pubkey: &Vec<u8>,
        created_at: i64,
    ) -> StoreResult<()> {
        let err = backend("applying a deletion");
        for tag in deletion.tags.iter() {
            let slice = tag.as_slice();
            let (Some(name), Some(value)) = (slice.first(), slice.get(1)) else {
                continue;
            };
            match name.as_str() {
                "e" => {
                    let Ok(target) = EventId::from_hex(value) else {
                        continue;
                    };
                    let target = target.as_bytes().to_vec();
                    tx.execute(
                        "DELETE FROM events WHERE id = $1 AND pubkey = $2 AND kind <> 5",
                        &[&target, pubkey],
                    )
                    .await
                    .map_err(&err)?;
                    tx.execute(
                        "INSERT INTO deleted_ids (id, pubkey) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[&target, pubkey],
                    )
                    .await
                    .map_err(&err)?;
                }
                "a" => {
                    let mut parts = value.splitn(3, ':');
                    let (Some(kind), Some(author), dtag) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        continue;
                    };
                    let Ok(kind) = kind.parse::<u16>() else {
                        continue;
                    };
                    let kind_v = Kind::from_u16(kind);
                    if author != deletion.pubkey.to_hex()
                        || kind == 5
                        || !(kind_v.is_replaceable() || kind_v.is_addressable())
                    {
                        continue;
                    }
                    let dtag = if kind_v.is_addressable() {
                        dtag.unwrap_or("")
                    } else {
                        ""
                    };
                    let kind = i32::from(kind);
                    tx.execute(
                        "DELETE FROM events WHERE pubkey = $1 AND kind = $2 AND dtag = $3 AND created_at <= $4",
                        &[pubkey, &kind, &dtag, &created_at],
                    )
                    .await
                    .map_err(&err)?;
                    tx.execute(
                        "INSERT INTO deleted_addresses (pubkey, kind, dtag, until) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (pubkey, kind, dtag) DO UPDATE
                         SET until = GREATEST(deleted_addresses.until, EXCLUDED.until)",
                        &[pubkey, &kind, &dtag, &created_at],
                    )
                    .await
                    .map_err(&err)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
