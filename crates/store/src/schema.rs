//! Versioned schema migrations.
//!
//! The schema version lives in SQLite's `user_version`. [`MIGRATIONS`] is an
//! ordered list: step `n` (1-based) moves a file from version `n - 1` to `n`.
//! Every step runs in its own transaction, so a crash mid-upgrade leaves the
//! file at the previous version, never half-migrated. Steps are append-only:
//! once released, a step is never edited, only followed by a new one.

use rusqlite::Connection;

/// One schema step: the SQL that moves the file up by one version.
pub(crate) struct Migration {
    /// What the step adds, for logs.
    pub name: &'static str,
    /// Statements to run, in one transaction.
    pub sql: &'static str,
}

/// All schema steps, oldest first. `MIGRATIONS.len()` is the current version.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "events, authors and single-letter tag index",
        sql: r#"
CREATE TABLE authors (
    id      INTEGER PRIMARY KEY,
    pubkey  BLOB NOT NULL UNIQUE
);
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    author      INTEGER NOT NULL REFERENCES authors(id),
    kind        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    content     TEXT NOT NULL,
    tags        TEXT NOT NULL,
    sig         BLOB NOT NULL,
    dtag        TEXT,
    expires_at  INTEGER
);
CREATE INDEX events_author_kind_time ON events(author, kind, created_at);
CREATE INDEX events_author_time ON events(author, created_at);
CREATE INDEX events_kind_time ON events(kind, created_at);
CREATE INDEX events_time ON events(created_at);
CREATE INDEX events_address ON events(author, kind, dtag) WHERE dtag IS NOT NULL;
CREATE INDEX events_expiry ON events(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE tags (
    name        INTEGER NOT NULL,
    value       BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    event       INTEGER NOT NULL,
    PRIMARY KEY (name, value, created_at, event)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "NIP-09 deletion tombstones",
        sql: r#"
CREATE TABLE deleted_ids (
    id          BLOB PRIMARY KEY,
    author      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE deleted_addresses (
    author      INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    dtag        TEXT NOT NULL,
    until       INTEGER NOT NULL,
    PRIMARY KEY (author, kind, dtag)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "seen-on-relay and relay statistics",
        sql: r#"
CREATE TABLE relays (
    id                INTEGER PRIMARY KEY,
    url               TEXT NOT NULL UNIQUE,
    attempts          INTEGER NOT NULL DEFAULT 0,
    successes         INTEGER NOT NULL DEFAULT 0,
    fail_timeout      INTEGER NOT NULL DEFAULT 0,
    fail_refused      INTEGER NOT NULL DEFAULT 0,
    fail_dns          INTEGER NOT NULL DEFAULT 0,
    fail_http         INTEGER NOT NULL DEFAULT 0,
    fail_closed       INTEGER NOT NULL DEFAULT 0,
    fail_protocol     INTEGER NOT NULL DEFAULT 0,
    fail_other        INTEGER NOT NULL DEFAULT 0,
    invalid_events    INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    last_attempt_at   INTEGER,
    last_success_at   INTEGER,
    latency_ms        REAL,
    latency_samples   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE event_seen (
    event       INTEGER NOT NULL,
    relay       INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (event, relay)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "NIP-50 full-text index over content",
        sql: r#"
CREATE VIRTUAL TABLE events_fts USING fts5(
    content,
    content = 'events',
    content_rowid = 'seq',
    detail = column,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO events_fts (rowid, content)
    SELECT seq, content FROM events
    WHERE content != '' AND kind NOT IN (4, 13, 1059, 1060, 24133);
"#,
    },
    Migration {
        name: "durable publishing queue",
        sql: r#"
CREATE TABLE publish_queue (
    id               BLOB NOT NULL,
    relay            TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  INTEGER NOT NULL,
    queued_at        INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (id, relay)
) WITHOUT ROWID;
CREATE INDEX publish_queue_due ON publish_queue(state, next_attempt_at);
"#,
    },
    Migration {
        name: "history of the user's own replaceable events",
        sql: r#"
CREATE TABLE own_keys (
    pubkey  BLOB PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE replaced_history (
    id          BLOB PRIMARY KEY,
    pubkey      BLOB NOT NULL,
    kind        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    event       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX replaced_history_by_kind ON replaced_history(pubkey, kind, created_at);
"#,
    },
    Migration {
        name: "delivery history per relay and author, for the outbox planner",
        sql: r#"
CREATE TABLE delivery_stats (
    relay      TEXT NOT NULL,
    author     BLOB NOT NULL,
    asked      INTEGER NOT NULL DEFAULT 0,
    delivered  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (relay, author)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "privacy ledger: what each relay learned",
        sql: r#"
CREATE TABLE privacy_ledger (
    relay     TEXT NOT NULL,
    fact      TEXT NOT NULL,
    detail    TEXT NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    first_at  INTEGER NOT NULL,
    last_at   INTEGER NOT NULL,
    PRIMARY KEY (relay, fact, detail)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "relay hints: where events and references say a person writes",
        sql: r#"
CREATE TABLE relay_hints (
    pubkey    BLOB NOT NULL,
    relay     TEXT NOT NULL,
    source    TEXT NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    first_at  INTEGER NOT NULL,
    last_at   INTEGER NOT NULL,
    PRIMARY KEY (pubkey, relay, source)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "delivery volume: how many events a relay returned per author",
        sql: r#"
ALTER TABLE delivery_stats ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        name: "moderation: a relay's banned and allowed keys, banned events, blocked addresses, settings",
        sql: r#"
CREATE TABLE moderation (
    list    TEXT NOT NULL,
    value   TEXT NOT NULL,
    reason  TEXT NOT NULL DEFAULT '',
    admin   TEXT NOT NULL DEFAULT '',
    at      INTEGER NOT NULL,
    PRIMARY KEY (list, value)
) WITHOUT ROWID;
"#,
    },
    Migration {
        name: "waiting list changes: edits of own lists kept as changes until a relay has answered",
        sql: r#"
CREATE TABLE list_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    list       TEXT NOT NULL,
    change     TEXT NOT NULL,
    base       TEXT,
    queued_at  INTEGER NOT NULL
);
CREATE INDEX list_changes_by_list ON list_changes (list, id);
CREATE TABLE list_answers (
    list         TEXT PRIMARY KEY,
    answered_at  INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Reads `user_version`.
pub(crate) fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Applies steps `from + 1 ..= to`, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection, from: i64, to: i64) -> rusqlite::Result<()> {
    for version in (from + 1)..=to {
        let step = &MIGRATIONS[(version - 1) as usize];
        tracing::info!(version, step = step.name, "migrating event store schema");
        let tx = conn.transaction()?;
        tx.execute_batch(step.sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

/// Creates or upgrades a bare file to exactly `version` (for migration tests:
/// it builds the files that older releases left behind).
pub fn migrate_to_for_tests(path: &std::path::Path, version: i64) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    let from = current_version(&conn)?;
    migrate(&mut conn, from, version.min(SCHEMA_VERSION))
}
