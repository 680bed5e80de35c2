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
use postgres::{Client, GenericClient, NoTls, Statement};
use samizdat_store::{InsertOutcome, ModerationEntry, StoreError, StoreResult};

use crate::storage::RelayStorage;

mod cluster;
mod filters;
mod insert;
mod schema;

pub use cluster::PgChanges;
pub use schema::LATEST as SCHEMA_VERSION;

use filters::{conditions, Sql};

/// Connections each process keeps open unless configured otherwise.
pub const DEFAULT_CONNECTIONS: usize = 4;

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
pub(super) struct Conn {
    client: Client,
    statements: std::collections::HashMap<String, Statement>,
}

/// The statement for `sql`, prepared once per connection.
pub(super) fn prepared(
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
    /// How to open another connection (the cluster listener's).
    config: postgres::Config,
    /// The schema, when not the default one.
    schema: Option<String>,
    /// This process's name in the cluster's notifications (random).
    node: String,
    /// The NOTIFY channel of this database (and schema).
    channel: String,
}

pub(super) fn backend(operation: &'static str) -> impl Fn(postgres::Error) -> StoreError {
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

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`) and creates
    /// the tables if they are missing. With `schema`, everything lives in that
    /// schema (created if missing): tests use one per run.
    pub fn connect(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        Self::connect_with(url, schema, DEFAULT_CONNECTIONS)
    }

    /// [`PgStore::connect`] keeping `connections` connections open (at
    /// least 1).
    pub fn connect_with(url: &str, schema: Option<&str>, connections: usize) -> StoreResult<Self> {
        off_runtime(|| Self::connect_here(url, schema, connections.max(1)))
    }

    fn connect_here(url: &str, schema: Option<&str>, connections: usize) -> StoreResult<Self> {
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
        let mut clients = Vec::with_capacity(connections);
        for i in 0..connections {
            let mut client = config.connect(NoTls).map_err(backend("connecting"))?;
            if let Some(schema) = schema {
                client
                    .batch_execute(&format!(
                        "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
                    ))
                    .map_err(backend("choosing the schema"))?;
            }
            if i == 0 {
                schema::migrate(&mut client)?;
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
            config,
            schema: schema.map(str::to_owned),
            node: format!("{:08x}", rand::random::<u32>()),
            channel: cluster::channel(schema),
        })
    }

    /// Opens one more connection on the same database and schema.
    fn open_client(&self) -> StoreResult<postgres::Client> {
        let mut client = self.config.connect(NoTls).map_err(backend("connecting"))?;
        if let Some(schema) = &self.schema {
            client
                .batch_execute(&format!("SET search_path TO {schema}"))
                .map_err(backend("choosing the schema"))?;
        }
        Ok(client)
    }

    /// Tells the other nodes that moderation lists or settings changed.
    fn moderation_changed(&self, c: &mut Conn) -> StoreResult<()> {
        cluster::announce_moderation(&mut c.client, &self.channel, &self.node)
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
            // The other nodes hear of it when (and only if) it commits.
            let stored: Vec<EventId> = events
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.is_stored())
                .map(|(e, _)| e.id)
                .collect();
            cluster::announce(&mut tx, &self.channel, &self.node, &stored)?;
            tx.commit().map_err(backend("committing inserts"))?;
            Ok(outcomes)
        })
    }

    fn query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>> {
        let now = now();
        let mut rows: Vec<(i64, i64, Vec<u8>, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for filter in filters {
            let limit = samizdat_store::rules::filter_limit(filter)?;
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
            .map_err(backend("writing a moderation list"))?;
            self.moderation_changed(c)
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
                .and_then(|removed| self.moderation_changed(c).map(|()| removed))
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
            cluster::announce_moderation(&mut tx, &self.channel, &self.node)?;
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

    fn shared(&self) -> bool {
        true
    }

    fn announce_ephemeral(&self, event: &Event) -> StoreResult<()> {
        self.with_client(|c| {
            cluster::announce_ephemeral(&mut c.client, &self.channel, &self.node, event)
        })
    }

    fn listen(&self) -> Option<StoreResult<Box<dyn crate::storage::ChangeFeed>>> {
        Some(off_runtime(|| {
            let client = self.open_client()?;
            let feed = PgChanges::new(client, &self.channel, self.node.clone())?;
            Ok(Box::new(feed) as Box<dyn crate::storage::ChangeFeed>)
        }))
    }
}
