//! Query plans: author+kind+time, kind+time, tag+time and id lookups are index
//! seeks, never table scans. Also checks the paths only large data sets take
//! (windowed multi-author pages, very common search words) against a direct
//! computation.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_store::Store;

fn plan(store: &Store, json: &str) -> String {
    let lines = store.explain(&filter(json)).expect("explain");
    lines.join("\n")
}

fn assert_no_scan(plan: &str) {
    for line in plan.lines() {
        assert!(
            !(line.starts_with("SCAN e") || line.starts_with("SCAN t"))
                || line.contains("VIRTUAL TABLE INDEX"),
            "table scan in plan:\n{plan}"
        );
    }
}

fn populated() -> (tempfile::TempDir, Store, Vec<Keys>) {
    let (dir, store) = temp_store();
    let authors: Vec<Keys> = (1..=20).map(keys).collect();
    let mut batch = Vec::new();
    for i in 0..400u64 {
        let k = &authors[(i % 20) as usize];
        let tag = if i % 3 == 0 { "rust" } else { "misc" };
        batch.push(event(
            k,
            1,
            &format!("note {i} common"),
            &[&["t", tag]],
            10_000 + i * 60,
        ));
    }
    store.insert_batch(&batch).unwrap();
    (dir, store, authors)
}

#[test]
fn every_driver_is_an_index_seek() {
    let (_d, store, authors) = populated();
    let a = authors[0].public_key().to_hex();
    let b = authors[1].public_key().to_hex();

    let p = plan(
        &store,
        &format!(r#"{{"authors":["{a}","{b}"],"kinds":[1],"limit":10}}"#),
    );
    assert!(p.contains("USING INDEX events_author_kind_time"), "{p}");
    assert_no_scan(&p);

    let p = plan(&store, &format!(r#"{{"authors":["{a}"],"limit":10}}"#));
    assert!(p.contains("USING INDEX events_author_time"), "{p}");
    assert_no_scan(&p);

    let p = plan(&store, r#"{"kinds":[1],"limit":10}"#);
    assert!(p.contains("USING INDEX events_kind_time"), "{p}");
    assert_no_scan(&p);

    let p = plan(&store, r##"{"#t":["rust","misc"],"limit":10}"##);
    assert!(p.contains("SEARCH t USING PRIMARY KEY"), "{p}");
    assert_no_scan(&p);

    // One tag value: the index walked newest first and stopped at the limit
    // (only the tie-break on the id is sorted), not a window read whole.
    let p = plan(&store, r##"{"#t":["rust"],"limit":10}"##);
    assert!(p.contains("SEARCH t USING PRIMARY KEY"), "{p}");
    assert!(!p.contains("TEMP B-TREE FOR ORDER BY"), "{p}");
    assert_no_scan(&p);
    let page = store
        .query(&[filter(r##"{"#t":["rust"],"limit":10}"##)])
        .unwrap();
    let all = store
        .query(&[filter(r##"{"#t":["rust"],"limit":1000}"##)])
        .unwrap();
    assert_eq!(all.len(), 134);
    assert_eq!(page, all[..10].to_vec());

    let p = plan(&store, r#"{"since":10000,"limit":10}"#);
    assert!(p.contains("USING INDEX events_time"), "{p}");
    assert_no_scan(&p);

    let id = store.query(&[filter(r#"{"limit":1}"#)]).unwrap()[0]
        .id
        .to_hex();
    let p = plan(&store, &format!(r#"{{"ids":["{id}"]}}"#));
    assert!(p.contains("sqlite_autoindex_events_1"), "{p}");
    assert_no_scan(&p);

    let p = plan(&store, r#"{"search":"note","kinds":[1],"limit":10}"#);
    assert!(p.contains("VIRTUAL TABLE INDEX"), "{p}");
    assert!(
        p.contains("SEARCH e USING INTEGER PRIMARY KEY"),
        "rare words come by rowid:\n{p}"
    );
    assert_no_scan(&p);
}

#[test]
fn windowed_pages_equal_a_full_sort() {
    let (_d, store, authors) = populated();
    let all = store.query(&[filter(r#"{"limit":1000}"#)]).unwrap();
    let wanted: Vec<PublicKey> = authors[..7].iter().map(|k| k.public_key()).collect();
    let json = format!(
        r#"{{"authors":[{}],"kinds":[1,7],"limit":25}}"#,
        wanted
            .iter()
            .map(|k| format!("\"{}\"", k.to_hex()))
            .collect::<Vec<_>>()
            .join(",")
    );
    let expected: Vec<EventId> = all
        .iter()
        .filter(|e| wanted.contains(&e.pubkey))
        .take(25)
        .map(|e| e.id)
        .collect();
    assert_eq!(ids(&store, &[filter(&json)]), expected);

    let expected: Vec<EventId> = all
        .iter()
        .filter(|e| e.tags.hashtags().any(|t| t == "rust"))
        .filter(|e| e.created_at.as_secs() <= 30_000)
        .take(30)
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids(
            &store,
            &[filter(
                r##"{"#t":["rust","nope"],"until":30000,"limit":30}"##
            )]
        ),
        expected
    );
}

#[test]
fn very_common_search_words_take_the_row_by_row_path_and_agree() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let batch: Vec<Event> = (0..2_300u64)
        .map(|i| {
            note(
                &k,
                &format!("common word {}", if i % 7 == 0 { "seven" } else { "other" }),
                1_000 + i,
            )
        })
        .collect();
    store.insert_batch(&batch).unwrap();
    let got = ids(&store, &[filter(r#"{"search":"common","limit":50}"#)]);
    let expected: Vec<EventId> = batch.iter().rev().take(50).map(|e| e.id).collect();
    assert_eq!(got, expected);
    let got = ids(&store, &[filter(r#"{"search":"common seven","limit":5}"#)]);
    let expected: Vec<EventId> = batch
        .iter()
        .rev()
        .filter(|e| e.content.ends_with("seven"))
        .take(5)
        .map(|e| e.id)
        .collect();
    assert_eq!(got, expected);
    let p = plan(&store, r#"{"search":"common","limit":50}"#);
    assert!(
        p.contains("USING INDEX events_time"),
        "common words walk time order:\n{p}"
    );
}
