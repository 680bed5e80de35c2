//! Helpers shared by the store's integration tests: deterministic keys,
//! signed events, and a store in a fresh temporary directory.
#![allow(dead_code)]

use nostr::prelude::*;
use samizdat_store::Store;

/// Deterministic keys number `n` (1..=250).
pub fn keys(n: u8) -> Keys {
    let mut bytes = [0u8; 32];
    bytes[31] = n;
    bytes[0] = 0x42;
    Keys::new(SecretKey::from_slice(&bytes).expect("valid secret key"))
}

/// A signed event.
pub fn event(keys: &Keys, kind: u16, content: &str, tags: &[&[&str]], created_at: u64) -> Event {
    let tags: Vec<Tag> = tags
        .iter()
        .map(|t| Tag::parse(t.iter().copied()).expect("tag"))
        .collect();
    EventBuilder::new(Kind::from_u16(kind), content)
        .tags(tags)
        .custom_created_at(Timestamp::from_secs(created_at))
        .finalize(keys)
        .expect("signing")
}

/// A text note.
pub fn note(keys: &Keys, content: &str, created_at: u64) -> Event {
    event(keys, 1, content, &[], created_at)
}

/// A store in a new temporary directory (kept alive by the returned guard).
pub fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("events.sqlite")).expect("open store");
    (dir, store)
}

/// Parses a filter from JSON.
pub fn filter(json: &str) -> Filter {
    Filter::from_json(json).expect("filter json")
}

/// Ids of the events a query returns, in order.
pub fn ids(store: &Store, filters: &[Filter]) -> Vec<EventId> {
    store
        .query(filters)
        .expect("query")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Unix time now.
pub fn now() -> u64 {
    Timestamp::now().as_secs()
}
