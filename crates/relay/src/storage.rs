//! The one interface the relay needs from a database, with two engines
//! behind it: the SQLite store (`samizdat_store::Store`, the default, shared
//! with the client) and PostgreSQL ([`crate::PgStore`], for a relay that
//! outgrows one machine). Both apply the same NIP-01 rules (replaceable and
//! addressable versions, NIP-09 deletions with tombstones, NIP-40 expiry,
//! ephemeral kinds) and answer filters with the same results; the relay's
//! test suite runs on both.

use std::sync::Arc;

use nostr::prelude::{Event, EventId, Filter};
use samizdat_store::{InsertOutcome, ModerationEntry, Store, StoreError, StoreResult};

/// What the relay stores and asks. Calls block: the relay runs them on
/// tokio's blocking pool.
pub trait RelayStorage: Send + Sync + 'static {
    /// Stores a batch (verified events) in one transaction; one outcome per event.
    fn insert_batch(&self, events: &[Event]) -> StoreResult<Vec<InsertOutcome>>;
    /// Answers NIP-01 filters, OR-ed, newest first (ties by lowest id), each
    /// filter's `limit` applied to it.
    fn query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>>;
    /// NIP-45: matching events, each once, leaving out `hidden_kinds`.
    fn count(&self, filters: &[Filter], hidden_kinds: &[u16]) -> StoreResult<u64>;
    /// Removes events past their NIP-40 expiry; how many.
    fn purge_expired(&self) -> StoreResult<usize>;
    /// Flushes what the engine buffers (SQLite's WAL); a no-op elsewhere.
    fn checkpoint(&self) -> StoreResult<()>;
    /// Removes one event whatever its kind (an admin's ban); true if it was stored.
    fn remove_event(&self, id: &EventId) -> StoreResult<bool>;
    /// Adds to a moderation list (or updates the reason and admin).
    fn moderation_add(&self, list: &str, value: &str, reason: &str, admin: &str)
        -> StoreResult<()>;
    /// Removes from a moderation list; true if it was there.
    fn moderation_remove(&self, list: &str, value: &str) -> StoreResult<bool>;
    /// Makes `value` the only entry of `list` (a setting).
    fn moderation_set_only(&self, list: &str, value: &str, admin: &str) -> StoreResult<()>;
    /// A moderation list, oldest first.
    fn moderation_list(&self, list: &str) -> StoreResult<Vec<ModerationEntry>>;
    /// Which engine, for logs (`sqlite PATH`, `postgres HOST/DB`); no secrets.
    fn describe(&self) -> String;
    /// What other relay processes on the same database write, as it happens
    /// (a cluster; PostgreSQL's LISTEN/NOTIFY). `None`: one process owns the
    /// database (SQLite).
    fn listen(&self) -> Option<StoreResult<Box<dyn ChangeFeed>>> {
        None
    }
    /// Whether other relay processes share this database (then ephemeral
    /// events are passed on with [`RelayStorage::announce_ephemeral`]).
    fn shared(&self) -> bool {
        false
    }
    /// Passes an ephemeral event (never stored) to the other nodes.
    fn announce_ephemeral(&self, _event: &Event) -> StoreResult<()> {
        Ok(())
    }
    /// [`RelayStorage::query`] without a blocking thread, when the engine's
    /// client is async (PostgreSQL); `None` sends [`query`] to the blocking
    /// pool.
    fn query_async<'a>(&'a self, _filters: &'a [Filter]) -> Option<Pending<'a, Vec<Event>>> {
        None
    }
    /// [`RelayStorage::count`] without a blocking thread, when the engine
    /// can (see [`RelayStorage::query_async`]).
    fn count_async<'a>(
        &'a self,
        _filters: &'a [Filter],
        _hidden_kinds: &'a [u16],
    ) -> Option<Pending<'a, u64>> {
        None
    }
}

/// A storage call under way on an async engine.
pub type Pending<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send + 'a>>;

/// Answers filters: on the engine's own async client when it has one, else
/// on the blocking pool.
pub async fn query(
    storage: &Arc<dyn RelayStorage>,
    filters: Vec<Filter>,
) -> StoreResult<Vec<Event>> {
    if let Some(pending) = storage.query_async(&filters) {
        return pending.await;
    }
    blocking(storage, move |s| s.query(&filters)).await
}

/// Counts (NIP-45) like [`query`] answers.
pub async fn count(
    storage: &Arc<dyn RelayStorage>,
    filters: Vec<Filter>,
    hidden_kinds: Vec<u16>,
) -> StoreResult<u64> {
    if let Some(pending) = storage.count_async(&filters, &hidden_kinds) {
        return pending.await;
    }
    blocking(storage, move |s| s.count(&filters, &hidden_kinds)).await
}

/// A change another node of the cluster made.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Events it stored (fetch them by id, then fan them out).
    Stored(Vec<EventId>),
    /// An ephemeral event it received (never stored), whole.
    Ephemeral(Box<Event>),
    /// Moderation lists or settings changed: read them again.
    Moderation,
}

/// The other nodes' changes, one at a time. Blocking: read it on a thread
/// of its own.
pub trait ChangeFeed: Send {
    /// The next change, waiting at most `wait` (`None` when nothing came).
    fn next_change(&mut self, wait: std::time::Duration) -> StoreResult<Option<Change>>;
}

impl RelayStorage for Store {
    fn insert_batch(&self, events: &[Event]) -> StoreResult<Vec<InsertOutcome>> {
        Store::insert_batch(self, events)
    }
    fn query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>> {
        Store::query(self, filters)
    }
    fn count(&self, filters: &[Filter], hidden_kinds: &[u16]) -> StoreResult<u64> {
        Store::count(self, filters, hidden_kinds)
    }
    fn purge_expired(&self) -> StoreResult<usize> {
        Store::purge_expired(self)
    }
    fn checkpoint(&self) -> StoreResult<()> {
        Store::checkpoint(self)
    }
    fn remove_event(&self, id: &EventId) -> StoreResult<bool> {
        Store::remove_event(self, id)
    }
    fn moderation_add(
        &self,
        list: &str,
        value: &str,
        reason: &str,
        admin: &str,
    ) -> StoreResult<()> {
        Store::moderation_add(self, list, value, reason, admin)
    }
    fn moderation_remove(&self, list: &str, value: &str) -> StoreResult<bool> {
        Store::moderation_remove(self, list, value)
    }
    fn moderation_set_only(&self, list: &str, value: &str, admin: &str) -> StoreResult<()> {
        Store::moderation_set_only(self, list, value, admin)
    }
    fn moderation_list(&self, list: &str) -> StoreResult<Vec<ModerationEntry>> {
        Store::moderation_list(self, list)
    }
    fn describe(&self) -> String {
        format!("sqlite {}", self.path().display())
    }
}

thread_local! {
    static ON_BLOCKING_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True inside [`spawn_blocking`]: an engine with a synchronous client that
/// drives its own runtime (PostgreSQL) may block here directly.
pub(crate) fn on_blocking_pool() -> bool {
    ON_BLOCKING_POOL.with(|f| f.get())
}

/// `tokio::task::spawn_blocking`, marking the thread as one where storage
/// calls may block (see [`on_blocking_pool`]).
pub(crate) async fn spawn_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || {
        ON_BLOCKING_POOL.with(|flag| flag.set(true));
        let out = f();
        ON_BLOCKING_POOL.with(|flag| flag.set(false));
        out
    })
    .await
}

/// Runs a storage call on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    storage: &Arc<dyn RelayStorage>,
    f: impl FnOnce(&dyn RelayStorage) -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    let storage = Arc::clone(storage);
    spawn_blocking(move || f(storage.as_ref()))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}
