//! Opening the database and handing out connections.
//!
//! One writer connection (behind a mutex: SQLite allows one writer at a time
//! anyway) and a small pool of reader connections. In WAL mode readers never
//! wait for the writer and see the last committed state.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{classify, StoreError, StoreResult};
use crate::schema::{self, SCHEMA_VERSION};

/// Tunables of a store. [`StoreConfig::default`] suits a desktop profile.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// How long a call waits on another process's lock before [`StoreError::Locked`].
    pub busy_timeout: Duration,
    /// Most tags an event may carry to be stored.
    pub max_tags: usize,
    /// Most bytes of content an event may carry to be stored.
    pub max_content_bytes: usize,
    /// Most ids, authors, kinds and tag values one filter may list.
    pub max_filter_values: usize,
    /// Optional cap on the file's size; inserts beyond it fail with [`StoreError::DiskFull`].
    pub max_size_bytes: Option<u64>,
    /// SQLite page cache per connection, in KiB.
    pub cache_kib: i64,
    /// How much of the file SQLite may memory-map (reads without copies).
    pub mmap_bytes: i64,
    /// Most reader connections open at once; further readers wait for one.
    /// Reads are CPU-bound, so more than a few per core only adds memory.
    pub max_readers: usize,
    /// Whether relay hints in the tags of stored events are recorded for
    /// the outbox planner (a client's store; a relay's store turns it off).
    pub record_relay_hints: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            max_tags: 2_500,
            max_content_bytes: 256 * 1024,
            max_filter_values: 10_000,
            max_size_bytes: None,
            cache_kib: 64 * 1024,
            mmap_bytes: 256 << 20,
            max_readers: 8,
            record_relay_hints: true,
        }
    }
}

impl StoreConfig {
    /// The defaults for a relay's store: no client-side bookkeeping (relay
    /// hints are for a client's outbox planner).
    pub fn relay() -> Self {
        Self {
            record_relay_hints: false,
            ..Self::default()
        }
    }
}

/// The local event store: one SQLite file per profile.
///
/// `Store` is `Send + Sync`; share it with an `Arc`. Calls are synchronous and
/// short; from async code use the `*_async` methods, which run on tokio's
/// blocking pool.
pub struct Store {
    pub(crate) path: PathBuf,
    pub(crate) config: StoreConfig,
    pub(crate) writer: Mutex<Connection>,
    readers: Mutex<ReaderPool>,
    reader_returned: Condvar,
}

/// Idle reader connections and how many exist in all.
struct ReaderPool {
    idle: Vec<Connection>,
    opened: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A reader connection borrowed from the pool; returned on drop.
pub(crate) struct Reader<'a> {
    store: &'a Store,
    conn: Option<Connection>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    // An invariant, not outside input: `conn` is taken only in `drop`.
    #[allow(clippy::expect_used)]
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("reader connection present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut pool = self.store.readers.lock().unwrap_or_else(|p| p.into_inner());
            pool.idle.push(conn);
            drop(pool);
            self.store.reader_returned.notify_one();
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it to the
    /// current schema.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with(path, StoreConfig::default())
    }

    /// Opens the store with explicit tunables.
    pub fn open_with(path: impl AsRef<Path>, config: StoreConfig) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let mut writer = open_connection(&path, &config, false)?;
        let err = |op, e| classify(&path, op, e);
        let found =
            schema::current_version(&writer).map_err(|e| err("reading schema version", e))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                path,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            schema::migrate(&mut writer, found, SCHEMA_VERSION)
                .map_err(|e| err("migrating schema", e))?;
        }
        Ok(Self {
            path,
            config,
            writer: Mutex::new(writer),
            readers: Mutex::new(ReaderPool {
                idle: Vec::new(),
                opened: 0,
            }),
            reader_returned: Condvar::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tunables this store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Maps a rusqlite error with this store's path.
    pub(crate) fn err(&self, operation: &'static str, e: rusqlite::Error) -> StoreError {
        classify(&self.path, operation, e)
    }

    /// Locks the writer connection. A poisoned lock (a panic elsewhere while
    /// writing) is recovered: SQLite rolled the transaction back already.
    pub(crate) fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Borrows a reader connection: an idle one, a new one while fewer than
    /// `max_readers` exist, else the next one returned.
    pub(crate) fn reader(&self) -> StoreResult<Reader<'_>> {
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(Reader {
                    store: self,
                    conn: Some(conn),
                });
            }
            if pool.opened < self.config.max_readers.max(1) {
                pool.opened += 1;
                drop(pool);
                return match open_connection(&self.path, &self.config, true) {
                    Ok(conn) => Ok(Reader {
                        store: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.readers
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .opened -= 1;
                        Err(e)
                    }
                };
            }
            pool = self
                .reader_returned
                .wait(pool)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Bytes the database currently occupies (pages in use times page size,
    /// WAL excluded).
    pub fn size_on_disk(&self) -> StoreResult<u64> {
        let conn = self.reader()?;
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(|e| self.err("reading page count", e))?;
        let size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| self.err("reading page size", e))?;
        Ok((pages * size) as u64)
    }

    /// Writes the WAL back into the main file and truncates it.
    pub fn checkpoint(&self) -> StoreResult<()> {
        self.writer()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.err("checkpointing", e))
    }
}

fn open_connection(path: &Path, config: &StoreConfig, read_only: bool) -> StoreResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|source| {
        match classify(path, "opening", source) {
            StoreError::Sqlite { source, .. } => StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        }
    })?;
    conn.busy_timeout(config.busy_timeout)
        .map_err(|e| classify(path, "setting busy timeout", e))?;
    let setup = |conn: &Connection| -> rusqlite::Result<()> {
        if !read_only {
            // journal_mode answers with a row; it is also where a non-database
            // file is first noticed.
            let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        } else {
            conn.query_row("PRAGMA schema_version", [], |_| Ok(()))?;
        }
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", -config.cache_kib)?;
        conn.pragma_update(None, "mmap_size", config.mmap_bytes)?;
        if let Some(max) = config.max_size_bytes {
            let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            conn.pragma_update(None, "max_page_count", (max as i64 / page).max(1))?;
        }
        Ok(())
    };
    setup(&conn).map_err(|e| classify(path, "configuring connection", e))?;
    Ok(conn)
}
