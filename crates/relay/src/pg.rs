//! The relay's PostgreSQL engine: the same NIP-01 semantics as the SQLite
//! store (replaceable and addressable versions, NIP-09 deletions with
//! tombstones, NIP-40 expiry, ephemeral kinds, NIP-50 search, NIP-45 count)
//! behind [`RelayStorage`], for a relay that outgrows one machine (an engine
//! with replication and managed hosting). The rules that decide *what* is
//! indexed come from `samizdat_store::rules`, so both engines agree.
//!
//! Several relay processes may share one database: replaceable and
//! addressable inserts take a transaction-level advisory lock on their
//! address, so two writers cannot both keep a version.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nostr::prelude::*;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Statement, Transaction};
use samizdat_store::rules::{d_tag, expiration, indexable_tags, is_searchable};
use samizdat_store::{InsertOutcome, ModerationEntry, StoreError, StoreResult};

use crate::storage::RelayStorage;

/// Connections kept open to the database.
const CONNECTIONS: usize = 4;
/// Most ids/authors/kinds/tag values one filter may list (as the SQLite store).
const MAX_FILTER_VALUES: usize = 10_000;
/// Most tags and content bytes an event may carry (as the SQLite store).
const MAX_TAGS: usize = 2_500;
const MAX_CONTENT_BYTES: usize = 256 * 1024;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    seq         BIGSERIAL PRIMARY KEY,
    id          BYTEA NOT NULL UNIQUE,
    pubkey      BYTEA NOT NULL,
    kind        INTEGER NOT NULL,
    created_at  BIGINT NOT NULL,
    dtag        TEXT,
    expires_at  BIGINT,
    searchable  BOOLEAN NOT NULL,
    content     TEXT NOT NULL,
    raw         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_author_kind_time ON events (pubkey, kind, created_at DESC);
CREATE INDEX IF NOT EXISTS events_author_time ON events (pubkey, created_at DESC);
CREATE INDEX IF NOT EXISTS events_kind_time ON events (kind, created_at DESC);
CREATE INDEX IF NOT EXISTS events_time ON events (created_at DESC);
CREATE INDEX IF NOT EXISTS events_address ON events (pubkey, kind, dtag) WHERE dtag IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_expiry ON events (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_search ON events
    USING GIN (to_tsvector('simple', content)) WHERE searchable;
CREATE TABLE IF NOT EXISTS tags (
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    event       BIGINT NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    PRIMARY KEY (name, value, created_at, event)
);
CREATE INDEX IF NOT EXISTS tags_event ON tags (event);
CREATE TABLE IF NOT EXISTS deleted_ids (
    id      BYTEA NOT NULL,
    pubkey  BYTEA NOT NULL,
    PRIMARY KEY (id, pubkey)
);
CREATE TABLE IF NOT EXISTS deleted_addresses (
    pubkey  BYTEA NOT NULL,
    kind    INTEGER NOT NULL,
    dtag    TEXT NOT NULL,
    until   BIGINT NOT NULL,
    PRIMARY KEY (pubkey, kind, dtag)
);
CREATE TABLE IF NOT EXISTS moderation (
    list    TEXT NOT NULL,
    value   TEXT NOT NULL,
    reason  TEXT NOT NULL DEFAULT '',
    admin   TEXT NOT NULL DEFAULT '',
    at      BIGINT NOT NULL,
    PRIMARY KEY (list, value)
);
"#;

/// Prepared statements kept per connection, by SQL text (filter shapes are
/// few: the text depends on which conditions a filter has, not on its values).
const STATEMENT_CACHE: usize = 512;

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    statements: std::collections::HashMap<String, Statement>,
}

/// The statement for `sql`, prepared once per connection.
fn prepared(
    client: &mut impl GenericClient,
    statements: &mut std::collections::HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    if statements.len() >= STATEMENT_CACHE {
        statements.clear();
    }
    statements.insert(sql.to_string(), statement.clone());
    Ok(statement)
}

/// The relay's events in PostgreSQL.
pub struct PgStore {
    clients: Vec<Mutex<Conn>>,
    next: AtomicUsize,
    described: String,
}

fn backend(operation: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |e| {
        // The client's Display leaves out the cause ("connection refused").
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        StoreError::Backend { operation, message }
    }
}

fn now() -> i64 {
    Timestamp::now().as_secs() as i64
}

/// Runs `f` where the synchronous PostgreSQL client may block: directly on
/// a plain thread, on a scoped thread of its own when called from inside a
/// tokio runtime (the client drives its own runtime, which tokio forbids
/// inside another one).
fn off_runtime<T: Send>(f: impl FnOnce() -> StoreResult<T> + Send) -> StoreResult<T> {
    if crate::storage::on_blocking_pool() || tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f).join().unwrap_or_else(|_| {
            Err(StoreError::Backend {
                operation: "running a database call",
                message: "the database thread panicked".into(),
            })
        })
    })
}

impl Drop for PgStore {
    /// Closing a connection blocks on the client's own runtime: done on a
    /// plain thread when the store is dropped inside a tokio runtime.
    fn drop(&mut self) {
        let clients = std::mem::take(&mut self.clients);
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

/// SQL text and its parameters, numbered as they are pushed.
#[derive(Default)]
struct Sql {
    text: String,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    /// Pushes a parameter and returns its placeholder (`$n`).
    fn param(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    /// `column = $n` for one value (so an index can be walked in order and
    /// stopped at the limit), `column = ANY($n)` for several.
    fn any<T>(&mut self, column: &str, mut values: Vec<T>) -> String
    where
        T: ToSql + Sync + Send + 'static,
        Vec<T>: ToSql + Sync + Send + 'static,
    {
        if values.len() == 1 {
            if let Some(one) = values.pop() {
                return format!("{column} = {}", self.param(one));
            }
        }
        format!("{column} = ANY({})", self.param(values))
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`) and creates
    /// the tables if they are missing. With `schema`, everything lives in that
    /// schema (created if missing): tests use one per run.
    pub fn connect(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        off_runtime(|| Self::connect_here(url, schema))
    }

    fn connect_here(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        let config: postgres::Config = url.parse().map_err(backend("reading the database URL"))?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_default();
        let described = format!(
            "postgres {host}/{}{}",
            config.get_dbname().unwrap_or(""),
            schema.map(|s| format!(" schema {s}")).unwrap_or_default()
        );
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Backend {
                    operation: "choosing a schema",
                    message: format!("schema name {schema:?} may hold letters, digits and _ only"),
                });
            }
        }
        let mut clients = Vec::with_capacity(CONNECTIONS);
        for i in 0..CONNECTIONS {
            let mut client = config.connect(NoTls).map_err(backend("connecting"))?;
            if let Some(schema) = schema {
                client
                    .batch_execute(&format!(
                        "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
                    ))
                    .map_err(backend("choosing the schema"))?;
            }
            if i == 0 {
                client
                    .batch_execute(&format!(
                        "SELECT pg_advisory_lock(7771); {SCHEMA} SELECT pg_advisory_unlock(7771);"
                    ))
                    .map_err(backend("creating the tables"))?;
            }
            clients.push(Mutex::new(Conn {
                client,
                statements: std::collections::HashMap::new(),
            }));
        }
        Ok(Self {
            clients,
            next: AtomicUsize::new(0),
            described,
        })
    }

    /// Runs `f` on an idle connection (or waits for one), off any async
    /// runtime (see [`off_runtime`]).
    fn with_client<T: Send>(
        &self,
        f: impl FnOnce(&mut Conn) -> StoreResult<T> + Send,
    ) -> StoreResult<T> {
        off_runtime(|| self.with_client_here(f))
    }

    fn with_client_here<T>(&self, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.clients.len() {
            if let Ok(mut c) = self.clients[(start + i) % self.clients.len()].try_lock() {
                return f(&mut c);
            }
        }
        let mut c = self.clients[start % self.clients.len()]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }

    fn insert_one(
        tx: &mut Transaction<'_>,
        statements: &mut std::collections::HashMap<String, Statement>,
        event: &Event,
        now: i64,
    ) -> StoreResult<InsertOutcome> {
        let err = backend("inserting an event");
        let mut st =
            |tx: &mut Transaction<'_>, sql: &str| prepared(tx, statements, sql).map_err(&err);
        if event.kind.is_ephemeral() {
            return Ok(InsertOutcome::Ephemeral);
        }
        let expires_at = expiration(event);
        if expires_at.is_some_and(|t| t <= now) {
            return Ok(InsertOutcome::Expired);
        }
        if event.tags.len() > MAX_TAGS {
            return Ok(InsertOutcome::TooLarge(format!(
                "{} tags, more than {MAX_TAGS}",
                event.tags.len()
            )));
        }
        if event.content.len() > MAX_CONTENT_BYTES {
            return Ok(InsertOutcome::TooLarge(format!(
                "{} bytes of content, more than {MAX_CONTENT_BYTES}",
                event.content.len()
            )));
        }
        let id = event.id.as_bytes().to_vec();
        let pubkey = event.pubkey.to_bytes().to_vec();
        let known = st(
            tx,
            "SELECT EXISTS (SELECT 1 FROM events WHERE id = $1),
                    EXISTS (SELECT 1 FROM deleted_ids WHERE id = $1 AND pubkey = $2)",
        )?;
        let row = tx.query_one(&known, &[&id, &pubkey]).map_err(&err)?;
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
            let lock = st(tx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")?;
            tx.execute(&lock, &[&lock_key]).map_err(&err)?;
            let tomb = st(
                tx,
                "SELECT until FROM deleted_addresses WHERE pubkey = $1 AND kind = $2 AND dtag = $3",
            )?;
            let until: Option<i64> = tx
                .query_opt(&tomb, &[&pubkey, &kind, dtag])
                .map_err(&err)?
                .map(|r| r.get(0));
            if until.is_some_and(|until| created_at <= until) {
                return Ok(InsertOutcome::Deleted);
            }
            let versions = st(
                tx,
                "SELECT seq, created_at, id FROM events WHERE pubkey = $1 AND kind = $2 AND dtag = $3",
            )?;
            let older = tx.query(&versions, &[&pubkey, &kind, dtag]).map_err(&err)?;
            for row in older {
                let (old_seq, old_created, old_id): (i64, i64, Vec<u8>) =
                    (row.get(0), row.get(1), row.get(2));
                let new_wins =
                    created_at > old_created || (created_at == old_created && id < old_id);
                if !new_wins {
                    return Ok(InsertOutcome::RejectedOlder);
                }
                let delete = st(tx, "DELETE FROM events WHERE seq = $1")?;
                tx.execute(&delete, &[&old_seq]).map_err(&err)?;
                outcome = InsertOutcome::ReplacedOlder;
            }
        }
        let insert = st(
            tx,
            "INSERT INTO events (id, pubkey, kind, created_at, dtag, expires_at, searchable, content, raw)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING seq",
        )?;
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
            .map_err(&err)?;
        let Some(row) = inserted else {
            return Ok(InsertOutcome::Duplicate);
        };
        let seq: i64 = row.get(0);
        let (names, values): (Vec<String>, Vec<String>) = indexable_tags(event)
            .map(|(name, value)| ((name as char).to_string(), value.to_string()))
            .unzip();
        if !names.is_empty() {
            let tags = st(
                tx,
                "INSERT INTO tags (name, value, created_at, event)
                 SELECT n, v, $3, $4 FROM UNNEST($1::text[], $2::text[]) AS u(n, v)
                 ON CONFLICT DO NOTHING",
            )?;
            tx.execute(&tags, &[&names, &values, &created_at, &seq])
                .map_err(&err)?;
        }
        if event.kind == Kind::EventDeletion {
            Self::apply_deletion(tx, event, &pubkey, created_at)?;
        }
        Ok(outcome)
    }

    /// NIP-09, as the SQLite store applies it: the author's own events named
    /// by `e` tags, older versions of addresses named by `a` tags; tombstones
    /// keep them out; deletion requests are not deleted.
    fn apply_deletion(
        tx: &mut Transaction<'_>,
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
                    .map_err(&err)?;
                    tx.execute(
                        "INSERT INTO deleted_ids (id, pubkey) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[&target, pubkey],
                    )
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
                    .map_err(&err)?;
                    tx.execute(
                        "INSERT INTO deleted_addresses (pubkey, kind, dtag, until) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (pubkey, kind, dtag) DO UPDATE
                         SET until = GREATEST(deleted_addresses.until, EXCLUDED.until)",
                        &[pubkey, &kind, &dtag, &created_at],
                    )
                    .map_err(&err)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The WHERE conditions of one filter (after `e.`), or `None` when it
/// cannot match; errors for the same bounds the SQLite store enforces.
fn conditions(filter: &Filter, sql: &mut Sql, now: i64) -> StoreResult<Option<String>> {
    let values = filter.ids.as_ref().map_or(0, |v| v.len())
        + filter.authors.as_ref().map_or(0, |v| v.len())
        + filter.kinds.as_ref().map_or(0, |v| v.len())
        + filter.generic_tags.values().map(|v| v.len()).sum::<usize>();
    if values > MAX_FILTER_VALUES {
        return Err(StoreError::FilterTooLarge {
            values,
            max: MAX_FILTER_VALUES,
        });
    }
    if samizdat_store::has_empty_list(filter) {
        return Ok(None);
    }
    let mut parts = vec![format!(
        "(e.expires_at IS NULL OR e.expires_at > {})",
        sql.param(now)
    )];
    if let Some(ids) = &filter.ids {
        let ids: Vec<Vec<u8>> = ids.iter().map(|i| i.as_bytes().to_vec()).collect();
        parts.push(sql.any("e.id", ids));
    }
    if let Some(authors) = &filter.authors {
        let keys: Vec<Vec<u8>> = authors.iter().map(|k| k.to_bytes().to_vec()).collect();
        parts.push(sql.any("e.pubkey", keys));
    }
    if let Some(kinds) = &filter.kinds {
        let kinds: Vec<i32> = kinds.iter().map(|k| i32::from(k.as_u16())).collect();
        parts.push(sql.any("e.kind", kinds));
    }
    if let Some(since) = filter.since {
        let since = since.as_secs().min(i64::MAX as u64) as i64;
        parts.push(format!("e.created_at >= {}", sql.param(since)));
    }
    if let Some(until) = filter.until {
        let until = until.as_secs().min(i64::MAX as u64) as i64;
        parts.push(format!("e.created_at <= {}", sql.param(until)));
    }
    for (letter, values) in &filter.generic_tags {
        let values: Vec<String> = values.iter().cloned().collect();
        let name = sql.param(letter.as_char().to_string());
        let value = sql.any("t.value", values);
        parts.push(format!(
            "EXISTS (SELECT 1 FROM tags t WHERE t.event = e.seq AND t.name = {name} AND {value})"
        ));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        parts.push(format!(
            "e.searchable AND to_tsvector('simple', e.content) @@ plainto_tsquery('simple', {})",
            sql.param(search.to_string())
        ));
    }
    Ok(Some(parts.join(" AND ")))
}

/// The rows' limit for a filter, as the SQLite store computes it.
fn limit_of(filter: &Filter) -> StoreResult<usize> {
    match (filter.limit, &filter.ids) {
        (Some(limit), Some(ids)) => Ok(limit.min(ids.len())),
        (Some(limit), None) => Ok(limit),
        (None, Some(ids)) => Ok(ids.len()),
        (None, None) => Err(StoreError::UnboundedFilter {
            filter: filter.as_json(),
        }),
    }
}

impl RelayStorage for PgStore {
    fn insert_batch(&self, events: &[Event]) -> StoreResult<Vec<InsertOutcome>> {
        let now = now();
        self.with_client(|conn| {
            let Conn { client, statements } = conn;
            let mut tx = client
                .transaction()
                .map_err(backend("starting a transaction"))?;
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
                outcomes.push(Self::insert_one(&mut tx, statements, event, now)?);
            }
            tx.commit().map_err(backend("committing inserts"))?;
            Ok(outcomes)
        })
    }

    fn query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>> {
        let now = now();
        let mut rows: Vec<(i64, i64, Vec<u8>, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for filter in filters {
            let limit = limit_of(filter)?;
            let mut sql = Sql::default();
            let Some(cond) = conditions(filter, &mut sql, now)? else {
                continue;
            };
            if limit == 0 {
                continue;
            }
            // A filter with tags and no ids or authors walks the tag index of
            // its most selective tag, newest first (PostgreSQL would otherwise
            // walk every event by time and probe its tags). An event matches
            // once per value at most, so `limit × values` rows hold `limit`
            // distinct events.
            let driver = (filter.ids.is_none() && filter.authors.is_none())
                .then(|| filter.generic_tags.iter().min_by_key(|(_, v)| v.len()))
                .flatten();
            let (from, order, fetch) = match driver {
                Some((letter, values)) => {
                    let name = sql.param(letter.as_char().to_string());
                    let values_len = values.len();
                    let values =
                        sql.any("d.value", values.iter().cloned().collect::<Vec<String>>());
                    (
                        format!("tags d JOIN events e ON e.seq = d.event AND d.name = {name} AND {values}"),
                        "d.created_at DESC, e.id ASC",
                        limit.saturating_mul(values_len.max(1)),
                    )
                }
                None => ("events e".to_string(), "e.created_at DESC, e.id ASC", limit),
            };
            let fetch = sql.param(fetch.min(i64::MAX as usize) as i64);
            sql.text = format!(
                "SELECT e.seq, e.created_at, e.id, e.raw FROM {from} WHERE {cond}
                 ORDER BY {order} LIMIT {fetch}"
            );
            let found = self.with_client(|c| {
                let statement = prepared(&mut c.client, &mut c.statements, &sql.text)
                    .map_err(backend("preparing a query"))?;
                c.client
                    .query(&statement, &sql.refs())
                    .map_err(backend("running a query"))
            })?;
            let mut this_filter = std::collections::HashSet::new();
            for row in found {
                let seq: i64 = row.get(0);
                if this_filter.len() >= limit {
                    break;
                }
                if this_filter.insert(seq) && seen.insert(seq) {
                    rows.push((seq, row.get(1), row.get(2), row.get(3)));
                }
            }
        }
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.2.cmp(&b.2)));
        rows.into_iter()
            .map(|(seq, _, _, raw)| {
                Event::from_json(&raw).map_err(|e| StoreError::BadRow {
                    seq,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    fn count(&self, filters: &[Filter], hidden_kinds: &[u16]) -> StoreResult<u64> {
        let now = now();
        let mut sql = Sql::default();
        let mut ors = Vec::new();
        for filter in filters {
            if let Some(cond) = conditions(filter, &mut sql, now)? {
                ors.push(format!("({cond})"));
            }
        }
        if ors.is_empty() {
            return Ok(0);
        }
        let hidden: Vec<i32> = hidden_kinds.iter().map(|k| i32::from(*k)).collect();
        let hidden = sql.param(hidden);
        sql.text = format!(
            "SELECT count(*) FROM events e WHERE ({}) AND e.kind <> ALL({hidden})",
            ors.join(" OR ")
        );
        let n: i64 = self
            .with_client(|c| {
                let statement = prepared(&mut c.client, &mut c.statements, &sql.text)
                    .map_err(backend("preparing a count"))?;
                c.client
                    .query_one(&statement, &sql.refs())
                    .map_err(backend("counting events"))
            })?
            .get(0);
        Ok(n as u64)
    }

    fn purge_expired(&self) -> StoreResult<usize> {
        let now = now();
        self.with_client(|c| {
            c.client
                .execute(
                    "DELETE FROM events WHERE expires_at IS NOT NULL AND expires_at <= $1",
                    &[&now],
                )
                .map(|n| n as usize)
                .map_err(backend("purging expired events"))
        })
    }

    fn checkpoint(&self) -> StoreResult<()> {
        Ok(())
    }

    fn remove_event(&self, id: &EventId) -> StoreResult<bool> {
        let id = id.as_bytes().to_vec();
        self.with_client(|c| {
            c.client
                .execute("DELETE FROM events WHERE id = $1", &[&id])
                .map(|n| n > 0)
                .map_err(backend("removing an event"))
        })
    }

    fn moderation_add(
        &self,
        list: &str,
        value: &str,
        reason: &str,
        admin: &str,
    ) -> StoreResult<()> {
        let at = now();
        self.with_client(|c| {
            c.client.execute(
                "INSERT INTO moderation (list, value, reason, admin, at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (list, value) DO UPDATE SET reason = $3, admin = $4, at = $5",
                &[&list, &value, &reason, &admin, &at],
            )
            .map(|_| ())
            .map_err(backend("writing a moderation list"))
        })
    }

    fn moderation_remove(&self, list: &str, value: &str) -> StoreResult<bool> {
        self.with_client(|c| {
            c.client
                .execute(
                    "DELETE FROM moderation WHERE list = $1 AND value = $2",
                    &[&list, &value],
                )
                .map(|n| n > 0)
                .map_err(backend("writing a moderation list"))
        })
    }

    fn moderation_set_only(&self, list: &str, value: &str, admin: &str) -> StoreResult<()> {
        let at = now();
        self.with_client(|c| {
            let mut tx = c.client.transaction().map_err(backend("writing a setting"))?;
            tx.execute("DELETE FROM moderation WHERE list = $1", &[&list])
                .map_err(backend("writing a setting"))?;
            tx.execute(
                "INSERT INTO moderation (list, value, reason, admin, at) VALUES ($1, $2, '', $3, $4)",
                &[&list, &value, &admin, &at],
            )
            .map_err(backend("writing a setting"))?;
            tx.commit().map_err(backend("writing a setting"))
        })
    }

    fn moderation_list(&self, list: &str) -> StoreResult<Vec<ModerationEntry>> {
        let rows = self.with_client(|c| {
            c.client.query(
                "SELECT value, reason, admin, at FROM moderation WHERE list = $1 ORDER BY at, value",
                &[&list],
            )
            .map_err(backend("reading a moderation list"))
        })?;
        Ok(rows
            .into_iter()
            .map(|r| ModerationEntry {
                value: r.get(0),
                reason: r.get(1),
                admin: r.get(2),
                at: r.get::<_, i64>(3) as u64,
            })
            .collect())
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}
