//! NIP-01 / NIP-09 / NIP-40 storage rules, one by one, on a real SQLite file.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_store::InsertOutcome;

#[test]
fn stores_then_reports_duplicates() {
    let (_d, store) = temp_store();
    let e = note(&keys(1), "hello", 1_000);
    assert_eq!(store.insert(&e).unwrap(), InsertOutcome::Stored);
    assert_eq!(store.insert(&e).unwrap(), InsertOutcome::Duplicate);
    let got = store.query(&[filter(r#"{"limit":10}"#)]).unwrap();
    assert_eq!(got, vec![e]);
}

#[test]
fn json_escapes_round_trip_with_identical_ids() {
    let (_d, store) = temp_store();
    let content = "quote \" backslash \\ newline \n tab \t unicode é 😀 control \u{1} slash /";
    let e = event(&keys(1), 1, content, &[&["t", "a\"b\\c"]], 1_000);
    store.insert(&e).unwrap();
    let back = store.query(&[filter(r#"{"limit":1}"#)]).unwrap().remove(0);
    assert_eq!(back.id, e.id);
    assert_eq!(back.content, content);
    back.verify().expect("the stored event still verifies");
    assert_eq!(Event::from_json(back.as_json()).unwrap(), e);
}

#[test]
fn replaceable_keeps_only_newest_and_breaks_ties_by_lowest_id() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let old = event(&k, 0, "{\"name\":\"old\"}", &[], 100);
    let new = event(&k, 0, "{\"name\":\"new\"}", &[], 200);
    assert_eq!(store.insert(&old).unwrap(), InsertOutcome::Stored);
    assert_eq!(store.insert(&new).unwrap(), InsertOutcome::ReplacedOlder);
    assert_eq!(store.insert(&old).unwrap(), InsertOutcome::RejectedOlder);
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[0],"limit":5}"#)]),
        vec![new.id]
    );

    // Same created_at: the lowest id wins, whatever the arrival order.
    let a = event(&k, 10002, "a", &[], 300);
    let b = event(&k, 10002, "b", &[], 300);
    let (low, high) = if a.id < b.id { (a, b) } else { (b, a) };
    assert_eq!(store.insert(&high).unwrap(), InsertOutcome::Stored);
    assert_eq!(store.insert(&low).unwrap(), InsertOutcome::ReplacedOlder);
    assert_eq!(store.insert(&high).unwrap(), InsertOutcome::RejectedOlder);
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[10002],"limit":5}"#)]),
        vec![low.id]
    );
}

#[test]
fn addressable_replaces_per_d_tag() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let a1 = event(&k, 30023, "a1", &[&["d", "a"]], 100);
    let a2 = event(&k, 30023, "a2", &[&["d", "a"]], 200);
    let b1 = event(&k, 30023, "b1", &[&["d", "b"]], 150);
    for e in [&a1, &b1] {
        assert_eq!(store.insert(e).unwrap(), InsertOutcome::Stored);
    }
    assert_eq!(store.insert(&a2).unwrap(), InsertOutcome::ReplacedOlder);
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[30023],"limit":5}"#)]),
        vec![a2.id, b1.id]
    );
    // Another author's same d-tag is a different address.
    let other = event(&keys(2), 30023, "x", &[&["d", "a"]], 50);
    assert_eq!(store.insert(&other).unwrap(), InsertOutcome::Stored);
}

#[test]
fn ephemeral_events_are_never_stored() {
    let (_d, store) = temp_store();
    let e = event(&keys(1), 20001, "typing", &[], 100);
    assert_eq!(store.insert(&e).unwrap(), InsertOutcome::Ephemeral);
    assert!(ids(&store, &[filter(r#"{"limit":5}"#)]).is_empty());
}

#[test]
fn deletion_by_e_tag_removes_own_events_and_keeps_them_out() {
    let (_d, store) = temp_store();
    let (alice, mallory) = (keys(1), keys(2));
    let mine = note(&alice, "mine", 100);
    let theirs = note(&mallory, "theirs", 100);
    store.insert_batch(&[mine.clone(), theirs.clone()]).unwrap();
    let del = event(
        &alice,
        5,
        "oops",
        &[&["e", &mine.id.to_hex()], &["e", &theirs.id.to_hex()]],
        200,
    );
    assert_eq!(store.insert(&del).unwrap(), InsertOutcome::Stored);
    let left = ids(&store, &[filter(r#"{"kinds":[1],"limit":5}"#)]);
    assert_eq!(
        left,
        vec![theirs.id],
        "only the author's own event is deleted"
    );
    assert_eq!(store.insert(&mine).unwrap(), InsertOutcome::Deleted);
    // The deletion itself stays, and searching its content finds nothing deleted.
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[5],"limit":5}"#)]),
        vec![del.id]
    );
    assert!(ids(&store, &[filter(r#"{"search":"mine","limit":5}"#)]).is_empty());
}

#[test]
fn deletion_arriving_first_still_blocks_the_event() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let target = note(&k, "later", 100);
    let del = event(&k, 5, "", &[&["e", &target.id.to_hex()]], 200);
    store.insert(&del).unwrap();
    assert_eq!(store.insert(&target).unwrap(), InsertOutcome::Deleted);
}

#[test]
fn deleting_a_deletion_has_no_effect() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let target = note(&k, "t", 100);
    let del = event(&k, 5, "", &[&["e", &target.id.to_hex()]], 200);
    let undel = event(&k, 5, "", &[&["e", &del.id.to_hex()]], 300);
    store
        .insert_batch(&[target.clone(), del.clone(), undel.clone()])
        .unwrap();
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[5],"limit":5}"#)]),
        vec![undel.id, del.id]
    );
}

#[test]
fn deletion_by_a_tag_removes_only_versions_up_to_its_time() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let v1 = event(&k, 30023, "v1", &[&["d", "post"]], 100);
    store.insert(&v1).unwrap();
    let address = format!("30023:{}:post", k.public_key().to_hex());
    let del = event(&k, 5, "", &[&["a", &address]], 150);
    store.insert(&del).unwrap();
    assert!(ids(&store, &[filter(r#"{"kinds":[30023],"limit":5}"#)]).is_empty());
    assert_eq!(store.insert(&v1).unwrap(), InsertOutcome::Deleted);
    let older = event(&k, 30023, "v0", &[&["d", "post"]], 120);
    assert_eq!(store.insert(&older).unwrap(), InsertOutcome::Deleted);
    let newer = event(&k, 30023, "v2", &[&["d", "post"]], 200);
    assert_eq!(store.insert(&newer).unwrap(), InsertOutcome::Stored);
    // Someone else's a-tag deletion cannot touch it.
    let foreign = event(&keys(2), 5, "", &[&["a", &address]], 300);
    store.insert(&foreign).unwrap();
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[30023],"limit":5}"#)]),
        vec![newer.id]
    );
}

#[test]
fn expired_events_are_neither_stored_nor_returned() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let past = now() - 10;
    let expired = event(
        &k,
        1,
        "gone",
        &[&["expiration", &past.to_string()]],
        past - 100,
    );
    assert_eq!(store.insert(&expired).unwrap(), InsertOutcome::Expired);
    let soon = now() + 2;
    let short = event(
        &k,
        1,
        "short",
        &[&["expiration", &soon.to_string()]],
        now() - 5,
    );
    assert_eq!(store.insert(&short).unwrap(), InsertOutcome::Stored);
    assert_eq!(ids(&store, &[filter(r#"{"limit":5}"#)]), vec![short.id]);
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert!(ids(&store, &[filter(r#"{"limit":5}"#)]).is_empty());
    assert_eq!(store.purge_expired().unwrap(), 1);
}

#[test]
fn since_until_are_inclusive_and_order_is_newest_first_then_lowest_id() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let evs: Vec<Event> = (0..6)
        .map(|i| note(&k, &format!("n{i}"), 100 + (i / 2) * 10))
        .collect();
    store.insert_batch(&evs).unwrap();
    let got = store
        .query(&[filter(r#"{"since":110,"until":120,"limit":10}"#)])
        .unwrap();
    assert_eq!(got.len(), 4);
    for pair in got.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(a.created_at > b.created_at || (a.created_at == b.created_at && a.id < b.id));
    }
    assert!(got
        .iter()
        .all(|e| (110..=120).contains(&e.created_at.as_secs())));
}

#[test]
fn limit_zero_returns_nothing_and_limit_cuts_newest_first() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let evs: Vec<Event> = (0..5).map(|i| note(&k, "x", 100 + i)).collect();
    store.insert_batch(&evs).unwrap();
    assert!(ids(&store, &[filter(r#"{"limit":0}"#)]).is_empty());
    assert_eq!(
        ids(&store, &[filter(r#"{"limit":2}"#)]),
        vec![evs[4].id, evs[3].id]
    );
}

#[test]
fn tag_filters_or_within_and_across() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let a = event(
        &k,
        1,
        "a",
        &[&["t", "rust"], &["p", &keys(9).public_key().to_hex()]],
        100,
    );
    let b = event(&k, 1, "b", &[&["t", "nostr"]], 101);
    let c = event(&k, 1, "c", &[&["t", "rust"], &["t", "nostr"]], 102);
    store
        .insert_batch(&[a.clone(), b.clone(), c.clone()])
        .unwrap();
    assert_eq!(
        ids(&store, &[filter(r##"{"#t":["rust","nostr"],"limit":9}"##)]),
        vec![c.id, b.id, a.id]
    );
    let both = format!(
        r##"{{"#t":["rust"],"#p":["{}"],"limit":9}}"##,
        keys(9).public_key().to_hex()
    );
    assert_eq!(ids(&store, &[filter(&both)]), vec![a.id]);
    // Several filters are OR-ed, each once.
    assert_eq!(
        ids(
            &store,
            &[
                filter(r##"{"#t":["rust"],"limit":9}"##),
                filter(r##"{"#t":["nostr"],"limit":9}"##)
            ]
        ),
        vec![c.id, b.id, a.id]
    );
}

#[test]
fn seen_on_relay_is_recorded_for_new_and_duplicate_events() {
    let (_d, store) = temp_store();
    let e = note(&keys(1), "x", 100);
    store
        .insert_batch_from(Some("wss://a.example"), std::slice::from_ref(&e))
        .unwrap();
    store
        .insert_batch_from(Some("wss://b.example"), std::slice::from_ref(&e))
        .unwrap();
    let seen: Vec<String> = store
        .seen_on(&e.id)
        .unwrap()
        .into_iter()
        .map(|s| s.relay)
        .collect();
    assert_eq!(seen.len(), 2);
    assert!(seen.contains(&"wss://a.example".to_string()));
}

#[test]
fn relay_statistics_accumulate_by_failure_class() {
    use samizdat_store::FailureClass;
    let (_d, store) = temp_store();
    let url = "wss://r.example";
    store.record_relay_success(url, 100.0).unwrap();
    store.record_relay_success(url, 300.0).unwrap();
    store
        .record_relay_failure(url, FailureClass::Timeout, "no answer in 10s")
        .unwrap();
    store
        .record_relay_failure(url, FailureClass::Http, "403 on upgrade")
        .unwrap();
    store.record_invalid_events(url, 3).unwrap();
    let stats = store.relay_stats(url).unwrap().expect("recorded");
    assert_eq!((stats.attempts, stats.successes), (4, 2));
    assert_eq!(stats.failures[0], 1);
    assert_eq!(stats.failures[3], 1);
    assert_eq!(stats.invalid_events, 3);
    assert_eq!(stats.latency_ms, Some(200.0));
    assert_eq!(stats.last_error.as_deref(), Some("403 on upgrade"));
    assert!((stats.success_rate() - 0.5).abs() < 1e-9);
    assert!(store.relay_stats("wss://never.example").unwrap().is_none());
}

#[test]
fn full_text_search_finds_words_and_skips_ciphertext() {
    let (_d, store) = temp_store();
    let k = keys(1);
    let a = note(&k, "Learning Rust for nostr relays", 100);
    let b = note(&k, "coffee is good", 101);
    let dm = event(
        &k,
        4,
        "rust?iv=abc",
        &[&["p", &keys(2).public_key().to_hex()]],
        102,
    );
    store.insert_batch(&[a.clone(), b, dm]).unwrap();
    assert_eq!(
        ids(&store, &[filter(r#"{"search":"rust","limit":9}"#)]),
        vec![a.id]
    );
    assert_eq!(
        ids(&store, &[filter(r#"{"search":"RUST relays","limit":9}"#)]),
        vec![a.id]
    );
    assert!(ids(&store, &[filter(r#"{"search":"rust coffee","limit":9}"#)]).is_empty());
    // FTS syntax in user input is only words.
    assert!(ids(&store, &[filter(r#"{"search":"\" OR * NEAR(","limit":9}"#)]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_run_off_the_runtime() {
    let (_d, store) = temp_store();
    let store = std::sync::Arc::new(store);
    let e = note(&keys(1), "async", 100);
    let out = store
        .insert_batch_async(Some("wss://x".into()), vec![e.clone()])
        .await
        .unwrap();
    assert_eq!(out, vec![InsertOutcome::Stored]);
    let got = store
        .query_async(vec![filter(r#"{"limit":3}"#)])
        .await
        .unwrap();
    assert_eq!(got, vec![e]);
}

#[test]
fn own_replaced_versions_are_kept_others_are_not() {
    let (_d, store) = temp_store();
    let (me, other) = (keys(1), keys(2));
    store.keep_history_for(&me.public_key()).unwrap();
    let mine: Vec<Event> = (0..3)
        .map(|i| {
            event(
                &me,
                3,
                "",
                &[&["p", &keys(10 + i).public_key().to_hex()]],
                100 + u64::from(i),
            )
        })
        .collect();
    let theirs: Vec<Event> = (0..3).map(|i| event(&other, 3, "", &[], 100 + i)).collect();
    for e in mine.iter().chain(&theirs) {
        store.insert(e).unwrap();
    }
    let versions: Vec<EventId> = store
        .versions(&me.public_key(), Kind::ContactList)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(versions, vec![mine[2].id, mine[1].id, mine[0].id]);
    assert_eq!(
        store
            .versions(&other.public_key(), Kind::ContactList)
            .unwrap()
            .len(),
        1
    );
    // The current version is still the only one a query returns.
    assert_eq!(
        ids(&store, &[filter(r#"{"kinds":[3],"limit":10}"#)]).len(),
        2
    );
    // An older version arriving after the newer one (restoring on a new
    // device) is refused as current but kept as history too.
    let late = event(&me, 3, "", &[&["p", &keys(20).public_key().to_hex()]], 50);
    assert_eq!(
        store.insert(&late).unwrap(),
        samizdat_store::InsertOutcome::RejectedOlder
    );
    let versions = store.versions(&me.public_key(), Kind::ContactList).unwrap();
    assert_eq!(versions.len(), 4);
    assert_eq!(versions[3].id, late.id);
    let late_other = event(&other, 3, "", &[], 50);
    store.insert(&late_other).unwrap();
    assert_eq!(
        store
            .versions(&other.public_key(), Kind::ContactList)
            .unwrap()
            .len(),
        1
    );
}
