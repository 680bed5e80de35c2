//! PostgreSQL's plans for the pages readers ask most, on the server
//! `SAMIZDAT_TEST_POSTGRES` names: a one-hashtag page walks the tag index
//! newest first and stops near its limit, however many events carry the tag
//! (it once read and sorted all of them: REQ p99 330 ms at 50 clients, 25 ms
//! after); the answers stay the same as without the shortcut. With the
//! statistics a running database has (`ANALYZE`, which autovacuum runs).

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PgStore, RelayStorage};

/// The `rows=N` PostgreSQL read at the plan line naming `node`.
fn rows_read(plan: &[String], node: &str) -> usize {
    let line = plan
        .iter()
        .find(|l| l.contains(node))
        .unwrap_or_else(|| panic!("no {node} in the plan:\n{}", plan.join("\n")));
    let actual = line.split("actual").nth(1).unwrap();
    actual
        .split("rows=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row count in {line}"))
}

#[test]
fn a_one_tag_page_stops_at_its_limit() {
    let Some(url) = postgres_url() else {
        eprintln!("SKIPPED: needs PostgreSQL (SAMIZDAT_TEST_POSTGRES)");
        return;
    };
    let tag: u64 = rand::random();
    let store = PgStore::connect_with(&url, Some(&format!("plans_{tag:016x}")), 2).unwrap();
    let keys = Keys::generate();
    let notes: Vec<Event> = (0..2_000u64)
        .map(|i| {
            EventBuilder::new(Kind::TextNote, format!("note {i}"))
                .tag(Tag::hashtag(if i % 20 == 0 {
                    "busy".to_string()
                } else {
                    format!("other{}", i % 20)
                }))
                .tag(Tag::parse(["l", &format!("n{}", i % 7)]).unwrap())
                .custom_created_at(Timestamp::from_secs(1_700_000_000 + i / 3))
                .finalize(&keys)
                .unwrap()
        })
        .collect();
    for batch in notes.chunks(500) {
        store.insert_batch(batch).unwrap();
    }
    // The statistics autovacuum gathers within a minute of a load (without
    // any, PostgreSQL guesses one row per tag and sorts them all).
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "ANALYZE plans_{tag:016x}.tags; ANALYZE plans_{tag:016x}.events"
    ))
    .unwrap();
    let page = Filter::new().hashtag("busy").limit(20);
    let plan = store.explain(&page).unwrap();
    let read = rows_read(&plan, "on tags d");
    assert!(
        read <= 40,
        "{read} tag rows read for 20 events:\n{}",
        plan.join("\n")
    );

    // The same answer as reading them all: newest first, ties by lowest id.
    let mut busy: Vec<Event> = notes
        .iter()
        .filter(|e| e.tags.hashtags().any(|t| t == "busy"))
        .cloned()
        .collect();
    busy.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    assert_eq!(
        store.query(std::slice::from_ref(&page)).unwrap(),
        busy[..20]
    );

    // A second tag is still checked (only the driving one is joined).
    let both = Filter::new()
        .hashtag("busy")
        .custom_tag(SingleLetterTag::from_char('l').unwrap(), "n3")
        .limit(5);
    let found = store.query(&[both]).unwrap();
    assert_eq!(found.len(), 5);
    for e in found {
        let tags: Vec<&[String]> = e.tags.iter().map(|t| t.as_slice()).collect();
        assert!(
            tags.iter().any(|t| t[1] == "busy") && tags.iter().any(|t| t[1] == "n3"),
            "{tags:?}"
        );
    }
}
