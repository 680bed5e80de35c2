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

use deadpool_postgres::{Object, Pool};
use nostr::prelude::*;
use samizdat_store::{InsertOutcome, ModerationEntry, StoreError, StoreResult};

use crate::storage::{Pending, RelayStorage};

mod cluster;
mod connect;
mod filters;
mod insert;
mod schema;

pub use cluster::PgChanges;
pub use schema::LATEST as SCHEMA_VERSION;

use cluster::NOTIFY;
use connect::{PgRuntime, Target};
use filters::{conditions, Sql};

/// Connections each process may open unless configured otherwise.
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
/// few: the text depends on which conditions a filter has, not on its
/// values); past this many the cache starts again.
const STATEMENT_CACHE: usize = 512;

/// The relay's events in PostgreSQL: an async pool (tokio-postgres and
/// deadpool) on a runtime of its own, behind the blocking
/// [`RelayStorage`] calls.
pub struct PgStore {
    pool: Pool,
    target: Target,
    /// Declared after the pool: connections close before their runtime.
    runtime: PgRuntime,
    /// This process's name in the cluster's notifications (random).
    node: String,
    /// The NOTIFY channel of this database (and schema).
    channel: String,
}

pub(super) fn backend<E: std::error::Error>(operation: &'static str) -> impl Fn(E) -> StoreError {
    move |e| {
        // The client's Display leaves out the cause ("connection refused").
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !message.ends_with(&cause_text) {
                message.push_str(": ");
                message.push_str(&cause_text);
            }
            source = cause.source();
        }
        StoreError::Backend { operation, message }
    }
}

fn now() -> i64 {
    Timestamp::now().as_secs() as i64
}

/// Runs `f` where it may block on the store's runtime: directly on a plain
/// thread or tokio's blocking pool, on a scoped thread of its own when
/// called from a runtime's worker (tokio forbids blocking there).
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

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`, with
    /// `?sslmode=require[&sslrootcert=ca.pem]` for TLS) and brings the
    /// tables to the current schema version. With `schema`, everything
    /// lives in that schema (created if missing): tests use one per run.
    pub fn connect(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        Self::connect_with(url, schema, DEFAULT_CONNECTIONS)
    }

    /// [`PgStore::connect`] with a pool of at most `connections`
    /// connections (at least 1), opened as needed.
    pub fn connect_with(url: &str, schema: Option<&str>, connections: usize) -> StoreResult<Self> {
        let target = connect::target(url, schema)?;
        let store = Self {
            pool: connect::pool(&target, connections)?,
            target,
            runtime: PgRuntime::new()?,
            node: format!("{:08x}", rand::random::<u32>()),
            channel: cluster::channel(schema),
        };
        store
            .block(async {
                let mut client = store.client().await?;
                schema::migrate(&mut client, schema).await
            })
            .map_err(|e| match e {
                StoreError::Backend { operation, message }
                    if message.contains("invalid peer certificate") =>
                {
                    StoreError::Backend {
                        operation,
                        message: format!(
                            "{message} (the server's certificate did not verify: name its authority with sslrootcert=PATH)"
                        ),
                    }
                }
                other => other,
            })?;
        Ok(store)
    }

    /// Runs `fut` on the store's runtime and waits for it (see
    /// [`off_runtime`]).
    fn block<T: Send>(
        &self,
        fut: impl std::future::Future<Output = StoreResult<T>> + Send,
    ) -> StoreResult<T> {
        off_runtime(|| self.runtime.block_on(fut))
    }

    /// A connection from the pool (waiting for one, in order).
    async fn client(&self) -> StoreResult<Object> {
        let client = self.pool.get().await.map_err(backend("connecting"))?;
        if client.statement_cache.size() >= STATEMENT_CACHE {
            client.statement_cache.clear();
        }
        Ok(client)
    }

    /// Sends `payload` on the cluster's channel over `client` (a
    /// transaction: delivered at its commit).
    async fn notify(&self, client: &tokio_postgres::Client, payload: &str) -> StoreResult<()> {
        client
            .execute(NOTIFY, &[&self.channel, &payload])
            .await
            .map(|_| ())
            .map_err(backend("announcing to the cluster"))
    }

    /// Stores a batch in one transaction; the other nodes hear of what was
    /// stored when (and only if) it commits.
    async fn run_insert(&self, events: &[Event]) -> StoreResult<Vec<InsertOutcome>> {
        let now = now();
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(backend("starting a transaction"))?;
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(Self::insert_one(&tx, event, now).await?);
        }
        let stored: Vec<EventId> = events
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.is_stored())
            .map(|(e, _)| e.id)
            .collect();
        for payload in cluster::stored_payloads(&self.node, &stored) {
            tx.execute(NOTIFY, &[&self.channel, &payload])
                .await
                .map_err(backend("announcing writes to the cluster"))?;
        }
        tx.commit().await.map_err(backend("committing inserts"))?;
        Ok(outcomes)
    }

    /// Answers NIP-01 filters (see [`RelayStorage::query`]).
    async fn run_query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>> {
        let now = now();
        let mut rows: Vec<(i64, i64, Vec<u8>, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for filter in filters {
            let Some((sql, limit)) = filters::select(filter, now)? else {
                continue;
            };
            let client = self.client().await?;
            let statement = client
                .prepare_cached(&sql.text)
                .await
                .map_err(backend("preparing a query"))?;
            let found = client
                .query(&statement, &sql.refs())
                .await
                .map_err(backend("running a query"))?;
            drop(client);
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

    /// PostgreSQL's plan for `filter` as run now (`EXPLAIN ANALYZE`), one
    /// line per node: for tests and diagnostics (which index drives, how
    /// many rows each step read).
    pub fn explain(&self, filter: &Filter) -> StoreResult<Vec<String>> {
        let Some((sql, _)) = filters::select(filter, now())? else {
            return Ok(vec!["matches nothing".into()]);
        };
        self.block(async {
            let client = self.client().await?;
            let rows = client
                .query(&format!("EXPLAIN ANALYZE {}", sql.text), &sql.refs())
                .await
                .map_err(backend("explaining a query"))?;
            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
        })
    }

    /// NIP-45 (see [`RelayStorage::count`]).
    async fn run_count(&self, filters: &[Filter], hidden_kinds: &[u16]) -> StoreResult<u64> {
        let now = now();
        let mut sql = Sql::default();
        let mut ors = Vec::new();
        for filter in filters {
            if let Some(cond) = conditions(filter, &mut sql, now, None)? {
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
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&sql.text)
            .await
            .map_err(backend("preparing a count"))?;
        let n: i64 = client
            .query_one(&statement, &sql.refs())
            .await
            .map_err(backend("counting events"))?
            .get(0);
        Ok(n as u64)
    }

    /// One statement on a pooled connection: rows changed.
    async fn execute(
        &self,
        operation: &'static str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute(sql, params)
            .await
            .map_err(backend(operation))
    }

    /// Tells the other nodes that moderation lists or settings changed.
    async fn moderation_changed(&self) -> StoreResult<()> {
        let client = self.client().await?;
        self.notify(&client, &cluster::moderation_payload(&self.node))
            .await
    }
}

impl RelayStorage for PgStore {
    fn insert_batch(&self, events: &[Event]) -> StoreResult<Vec<InsertOutcome>> {
        self.block(self.run_insert(events))
    }

    fn query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>> {
        self.block(self.run_query(filters))
    }

    fn count(&self, filters: &[Filter], hidden_kinds: &[u16]) -> StoreResult<u64> {
        self.block(self.run_count(filters, hidden_kinds))
    }

    fn purge_expired(&self) -> StoreResult<usize> {
        let now = now();
        self.block(self.execute(
            "purging expired events",
            "DELETE FROM events WHERE expires_at IS NOT NULL AND expires_at <= $1",
            &[&now],
        ))
        .map(|n| n as usize)
    }

    fn checkpoint(&self) -> StoreResult<()> {
        Ok(())
    }

    fn remove_event(&self, id: &EventId) -> StoreResult<bool> {
        let id = id.as_bytes().to_vec();
        self.block(self.execute(
            "removing an event",
            "DELETE FROM events WHERE id = $1",
            &[&id],
        ))
        .map(|n| n > 0)
    }

    fn moderation_add(
        &self,
        list: &str,
        value: &str,
        reason: &str,
        admin: &str,
    ) -> StoreResult<()> {
        let at = now();
        self.block(async {
            self.execute(
                "writing a moderation list",
                "INSERT INTO moderation (list, value, reason, admin, at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (list, value) DO UPDATE SET reason = $3, admin = $4, at = $5",
                &[&list, &value, &reason, &admin, &at],
            )
            .await?;
            self.moderation_changed().await
        })
    }

    fn moderation_remove(&self, list: &str, value: &str) -> StoreResult<bool> {
        self.block(async {
            let removed = self
                .execute(
                    "writing a moderation list",
                    "DELETE FROM moderation WHERE list = $1 AND value = $2",
                    &[&list, &value],
                )
                .await?;
            self.moderation_changed().await?;
            Ok(removed > 0)
        })
    }

    fn moderation_set_only(&self, list: &str, value: &str, admin: &str) -> StoreResult<()> {
        let at = now();
        self.block(async {
            let err = backend("writing a setting");
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            tx.execute("DELETE FROM moderation WHERE list = $1", &[&list])
                .await
                .map_err(&err)?;
            tx.execute(
                "INSERT INTO moderation (list, value, reason, admin, at) VALUES ($1, $2, '', $3, $4)",
                &[&list, &value, &admin, &at],
            )
            .await
            .map_err(&err)?;
            tx.execute(NOTIFY, &[&self.channel, &cluster::moderation_payload(&self.node)])
                .await
                .map_err(&err)?;
            tx.commit().await.map_err(&err)
        })
    }

    fn moderation_list(&self, list: &str) -> StoreResult<Vec<ModerationEntry>> {
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    "SELECT value, reason, admin, at FROM moderation WHERE list = $1 ORDER BY at, value",
                    &[&list],
                )
                .await
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
        self.target.described.clone()
    }

    fn shared(&self) -> bool {
        true
    }

    fn announce_ephemeral(&self, event: &Event) -> StoreResult<()> {
        let Some(payload) = cluster::ephemeral_payload(&self.node, event) else {
            return Ok(());
        };
        self.block(async {
            let client = self.client().await?;
            self.notify(&client, &payload).await
        })
    }

    fn query_async<'a>(&'a self, filters: &'a [Filter]) -> Option<Pending<'a, Vec<Event>>> {
        Some(self.runtime.in_context(self.run_query(filters)))
    }

    fn count_async<'a>(
        &'a self,
        filters: &'a [Filter],
        hidden_kinds: &'a [u16],
    ) -> Option<Pending<'a, u64>> {
        Some(
            self.runtime
                .in_context(self.run_count(filters, hidden_kinds)),
        )
    }

    fn listen(&self) -> Option<StoreResult<Box<dyn crate::storage::ChangeFeed>>> {
        Some(self.block(async {
            let feed = PgChanges::open(
                &self.target,
                &self.runtime,
                &self.channel,
                self.node.clone(),
            )
            .await?;
            Ok(Box::new(feed) as Box<dyn crate::storage::ChangeFeed>)
        }))
    }
}
