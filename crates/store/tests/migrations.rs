//! Schema migrations from an empty file and from every older version.

mod common;

use common::*;
use samizdat_store::{testing::migrate_to_for_tests, Store, StoreError, SCHEMA_VERSION};

fn user_version(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn empty_file_migrates_to_current() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.sqlite");
    std::fs::File::create(&path).unwrap();
    let store = Store::open(&path).unwrap();
    drop(store);
    assert_eq!(user_version(&path), SCHEMA_VERSION);
}

#[test]
fn every_older_version_migrates_and_keeps_its_events() {
    for version in 0..SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("v{version}.sqlite"));
        migrate_to_for_tests(&path, version).unwrap();
        assert_eq!(user_version(&path), version);
        if version >= 1 {
            // A file from version 1 on holds events: write one the way that
            // release did (no seen rows; a full-text row only from version 4).
            let conn = rusqlite::Connection::open(&path).unwrap();
            let e = note(&keys(1), "written by an older release", 1_000);
            conn.execute(
                "INSERT INTO authors (id, pubkey) VALUES (1, ?1)",
                [&e.pubkey.to_bytes()[..]],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO events (id, author, kind, created_at, content, tags, sig) VALUES (?1, 1, 1, 1000, ?2, '[]', ?3)",
                rusqlite::params![e.id.as_bytes(), e.content, AsRef::<[u8]>::as_ref(&e.sig)],
            )
            .unwrap();
            if version >= 4 {
                // From version 4 on, releases indexed content as they wrote it.
                conn.execute(
                    "INSERT INTO events_fts (rowid, content) SELECT seq, content FROM events",
                    [],
                )
                .unwrap();
            }
            drop(conn);
            let store = Store::open(&path).unwrap();
            assert_eq!(
                ids(&store, &[filter(r#"{"limit":5}"#)]),
                vec![e.id],
                "from v{version}"
            );
            assert_eq!(
                ids(&store, &[filter(r#"{"search":"older release","limit":5}"#)]),
                vec![e.id],
                "full-text index backfilled from v{version}"
            );
        } else {
            let store = Store::open(&path).unwrap();
            store.insert(&note(&keys(1), "x", 1)).unwrap();
        }
        assert_eq!(user_version(&path), SCHEMA_VERSION);
    }
}

#[test]
fn a_newer_schema_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.sqlite");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    match Store::open(&path) {
        Err(StoreError::SchemaTooNew {
            found, supported, ..
        }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(user_version(&path), SCHEMA_VERSION + 1);
}
