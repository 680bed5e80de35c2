//! Bad input: corrupt, locked and full files, unbounded and oversized filters,
//! huge tag lists. Each is a typed error that says what failed; nothing panics
//! and nothing is half-written.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_store::{InsertOutcome, Store, StoreConfig, StoreError};

#[test]
fn a_corrupt_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.sqlite");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.sqlite"), "{err}");
    // The file was not touched.
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x5a; 8192]);
}

#[test]
fn a_damaged_page_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.sqlite");
    {
        let store = Store::open(&path).unwrap();
        let batch: Vec<Event> = (0..300)
            .map(|i| note(&keys(1), &"x".repeat(500), i))
            .collect();
        store.insert_batch(&batch).unwrap();
        store.checkpoint().unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[4096 * 2..len.min(4096 * 30)] {
        *b ^= 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();
    let result = Store::open(&path).and_then(|s| s.query(&[filter(r#"{"limit":500}"#)]));
    match result {
        Err(StoreError::Corrupt { .. })
        | Err(StoreError::BadRow { .. })
        | Err(StoreError::Sqlite { .. }) => {}
        other => panic!("expected a corruption error, got {other:?}"),
    }
}

#[test]
fn a_locked_file_times_out_with_a_typed_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.sqlite");
    let config = StoreConfig {
        busy_timeout: std::time::Duration::from_millis(100),
        ..StoreConfig::default()
    };
    let store = Store::open_with(&path, config).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = store.insert(&note(&keys(1), "blocked", 1)).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    other.execute_batch("ROLLBACK").unwrap();
    assert!(ids(&store, &[filter(r#"{"limit":5}"#)]).is_empty());
    // The store is usable again once the lock is gone.
    assert_eq!(
        store.insert(&note(&keys(1), "free", 2)).unwrap(),
        InsertOutcome::Stored
    );
}

#[test]
fn a_full_disk_rolls_back_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.sqlite");
    let config = StoreConfig {
        max_size_bytes: Some(600 * 1024),
        ..StoreConfig::default()
    };
    let store = Store::open_with(&path, config).unwrap();
    let first = note(&keys(1), "fits", 1);
    store.insert(&first).unwrap();
    let batch: Vec<Event> = (0..2_000)
        .map(|i| note(&keys(2), &"y".repeat(1_000), 10 + i))
        .collect();
    let err = store.insert_batch(&batch).unwrap_err();
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("nothing from this batch was written"));
    // Nothing of the batch is visible, the earlier event is intact.
    assert_eq!(ids(&store, &[filter(r#"{"limit":5000}"#)]), vec![first.id]);
}

#[test]
fn a_filter_with_no_bounds_is_refused() {
    let (_d, store) = temp_store();
    let err = store.query(&[filter(r#"{"kinds":[1]}"#)]).unwrap_err();
    assert!(matches!(err, StoreError::UnboundedFilter { .. }), "{err:?}");
    assert!(err.to_string().contains("kinds"), "{err}");
    // ids bound a filter by themselves.
    let e = note(&keys(1), "x", 1);
    store.insert(&e).unwrap();
    assert_eq!(
        ids(&store, &[filter(&format!(r#"{{"ids":["{}"]}}"#, e.id))]),
        vec![e.id]
    );
}

#[test]
fn a_filter_with_too_many_values_is_refused() {
    let (_d, store) = temp_store();
    let authors: Vec<String> = (0..10_001)
        .map(|_| format!("\"{}\"", Keys::generate().public_key().to_hex()))
        .collect();
    let json = format!(r#"{{"authors":[{}],"limit":5}}"#, authors.join(","));
    let f = Filter::from_json(json).unwrap();
    let err = store.query(&[f]).unwrap_err();
    assert!(
        matches!(err, StoreError::FilterTooLarge { values: 10_001, .. }),
        "{err:?}"
    );
}

#[test]
fn huge_tag_lists_and_content_are_rejected_by_size() {
    let (_d, store) = temp_store();
    let tags: Vec<Vec<String>> = (0..3_000)
        .map(|i| vec!["t".into(), format!("v{i}")])
        .collect();
    let tag_refs: Vec<Vec<&str>> = tags
        .iter()
        .map(|t| t.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = tag_refs.iter().map(Vec::as_slice).collect();
    let huge = event(&keys(1), 1, "many tags", &slices, 1);
    let err = store.insert(&huge).unwrap_err();
    assert!(matches!(err, StoreError::EventTooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("3000 tags"), "{err}");
    let fat = note(&keys(1), &"z".repeat(300 * 1024), 2);
    let ok = note(&keys(1), "fine", 3);
    let out = store.insert_batch(&[fat, ok.clone()]).unwrap();
    assert!(matches!(out[0], InsertOutcome::TooLarge(_)));
    assert_eq!(out[1], InsertOutcome::Stored);
    assert_eq!(ids(&store, &[filter(r#"{"limit":5}"#)]), vec![ok.id]);
}

#[test]
fn a_missing_directory_is_an_open_error_naming_the_path() {
    let err = Store::open("/nonexistent-dir-for-samizdat/x.sqlite").unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("/nonexistent-dir-for-samizdat/x.sqlite"));
}
