//! Typed errors for every store operation.
//!
//! Each variant says what failed and, where it helps, with which input. SQLite's
//! own error codes are mapped to the few classes callers act on differently
//! (corrupt file, locked file, full disk); everything else keeps the operation
//! name and the underlying error.

use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the event store at {path}: {source}")]
    Open {
        /// The file that was being opened.
        path: PathBuf,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// The file exists but is not a SQLite database, or its pages are damaged.
    #[error("the event store at {path} is corrupt or not a database ({detail}); move it aside and resync")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// SQLite's description of the damage.
        detail: String,
    },
    /// Another process holds a lock on the file for longer than the busy timeout.
    #[error("the event store at {path} is locked by another process (during {operation})")]
    Locked {
        /// The locked file.
        path: PathBuf,
        /// What the store was doing when it gave up waiting.
        operation: &'static str,
    },
    /// The disk (or the configured size cap) is full; the transaction was rolled back.
    #[error("the event store at {path} is full (during {operation}); nothing from this batch was written")]
    DiskFull {
        /// The file that could not grow.
        path: PathBuf,
        /// What the store was doing.
        operation: &'static str,
    },
    /// The file was written by a newer Samizdat with a schema this build does not know.
    #[error("the event store at {path} has schema version {found}, newer than this build's {supported}; upgrade Samizdat")]
    SchemaTooNew {
        /// The file.
        path: PathBuf,
        /// `user_version` found in the file.
        found: i64,
        /// The newest version this build can read.
        supported: i64,
    },
    /// A filter could match an unbounded number of events (no `limit`, no `ids`).
    #[error("filter {filter} has no limit and no ids; give it a limit")]
    UnboundedFilter {
        /// The filter, as JSON.
        filter: String,
    },
    /// A filter lists more values than the store accepts in one query.
    #[error("filter lists {values} values, more than the {max} one query may hold")]
    FilterTooLarge {
        /// How many ids/authors/kinds/tag values the filter lists.
        values: usize,
        /// The configured maximum.
        max: usize,
    },
    /// An event is larger than the store accepts (too many tags or too much content).
    #[error("event {id} rejected: {reason}")]
    EventTooLarge {
        /// Hex id of the event.
        id: String,
        /// Which bound it broke.
        reason: String,
    },
    /// A row in the database could not be turned back into an event.
    #[error("stored row {seq} is not a valid event: {reason}")]
    BadRow {
        /// Internal row number.
        seq: i64,
        /// What was wrong with it.
        reason: String,
    },
    /// Any other SQLite failure, with the operation that hit it.
    #[error("event store failure during {operation}: {source}")]
    Sqlite {
        /// What the store was doing.
        operation: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Another database engine standing behind the same interface (the
    /// relay's PostgreSQL backend) failed.
    #[error("database failure during {operation}: {message}")]
    Backend {
        /// What the store was doing.
        operation: &'static str,
        /// The engine's error.
        message: String,
    },
    /// The blocking task running a store call from async code was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Maps a rusqlite error to the store's typed classes.
pub(crate) fn classify(
    path: &std::path::Path,
    operation: &'static str,
    err: rusqlite::Error,
) -> StoreError {
    use rusqlite::ErrorCode;
    if let rusqlite::Error::SqliteFailure(code, ref msg) = err {
        match code.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                return StoreError::Corrupt {
                    path: path.to_path_buf(),
                    detail: msg.clone().unwrap_or_else(|| code.to_string()),
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Locked {
                    path: path.to_path_buf(),
                    operation,
                }
            }
            ErrorCode::DiskFull => {
                return StoreError::DiskFull {
                    path: path.to_path_buf(),
                    operation,
                }
            }
            _ => {}
        }
    }
    StoreError::Sqlite {
        operation,
        source: err,
    }
}
