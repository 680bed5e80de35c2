//! The PostgreSQL schema's versions, on the server `SAMIZDAT_TEST_POSTGRES`
//! names (a schema of its own per case): an empty database is brought to
//! the latest version; a database from before versions existed (the tables
//! without `schema_version`) is taken as version 1 and keeps its events; a
//! database newer than this relay is refused with both versions named.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PgStore, RelayStorage, SCHEMA_VERSION};

fn version(url: &str, schema: &str) -> Option<i32> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    c.query_one("SELECT max(version) FROM schema_version", &[])
        .ok()
        .and_then(|r| r.get(0))
}

fn run_sql(url: &str, schema: &str, sql: &str) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("SET search_path TO {schema}; {sql}"))
        .unwrap();
}

#[test]
fn empty_previous_and_newer_databases() {
    let Some(url) = postgres_url() else {
        eprintln!("SKIPPED: needs PostgreSQL (SAMIZDAT_TEST_POSTGRES)");
        return;
    };
    let tag: u64 = rand::random();
    // Empty: migrated to the latest.
    let fresh = format!("v_{tag:016x}_a");
    let store = PgStore::connect_with(&url, Some(&fresh), 1).unwrap();
    drop(store);
    assert_eq!(version(&url, &fresh), Some(SCHEMA_VERSION));

    // Before versions: tables and an event, no schema_version.
    let old = format!("v_{tag:016x}_b");
    let store = PgStore::connect_with(&url, Some(&old), 1).unwrap();
    let note = signed(&keys(1), 1, "kept across the upgrade", &[], now());
    store.insert_batch(std::slice::from_ref(&note)).unwrap();
    drop(store);
    run_sql(&url, &old, "DROP TABLE schema_version");
    let store = PgStore::connect_with(&url, Some(&old), 1).unwrap();
    assert_eq!(version(&url, &old), Some(SCHEMA_VERSION));
    let found = store.query(&[Filter::new().id(note.id).limit(1)]).unwrap();
    assert_eq!(found.len(), 1, "the old database's events are still there");
    drop(store);

    // Newer than this relay: refused, both versions named.
    run_sql(&url, &old, "UPDATE schema_version SET version = 99");
    let err = PgStore::connect_with(&url, Some(&old), 1)
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("99") && text.contains(&SCHEMA_VERSION.to_string()),
        "{text}"
    );
    assert!(text.contains("upgrade"), "{text}");
}
