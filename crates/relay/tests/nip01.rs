//! NIP-01 over real websockets against our relay on 127.0.0.1, in raw JSON.

mod common;

use std::time::Duration;

use common::*;
use nostr::prelude::*;
use serde_json::json;

#[tokio::test]
async fn publish_then_query_returns_the_identical_event() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);
    let tricky = "\"quoted\" \\ back\nslash \t tab \u{8} \u{c} é ☕ 😀 \u{1f} </script>";
    let e = signed(&k, 1, tricky, &[&["t", "a\"b"]], now() - 10);
    let ok = c.publish(&e).await;
    assert_eq!(ok[2], true, "{ok}");
    let got = c
        .req("s", vec![json!({"ids": [e.id.to_hex()]})])
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, e.id);
    assert_eq!(got[0].content, tricky);
    got[0].verify().unwrap();
    // Publishing again is a duplicate, still accepted.
    let ok = c.publish(&e).await;
    assert_eq!(ok[2], true);
    assert!(ok[3].as_str().unwrap().starts_with("duplicate:"), "{ok}");
}

#[tokio::test]
async fn the_same_event_as_raw_text_with_escapes_keeps_its_id() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let e = signed(&keys(1), 1, "line\nbreak \"q\" \u{2028}", &[], now());
    // Serialised by hand with escapes a different library might choose (\u escapes).
    let raw = e.as_json().replace("\\n", "\\u000a");
    c.send_raw(&format!("[\"EVENT\",{raw}]")).await;
    let ok = c.recv().await;
    assert_eq!(ok[1], e.id.to_hex());
    assert_eq!(ok[2], true, "{ok}");
    let got = c.req("s", vec![json!({"limit": 1})]).await.unwrap();
    assert_eq!(got[0].id, e.id);
}

#[tokio::test]
async fn ordering_since_until_and_limits() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);
    let base = now() - 1000;
    let evs: Vec<Event> = (0..6)
        .map(|i| signed(&k, 1, &format!("{i}"), &[], base + (i / 2) * 10))
        .collect();
    for e in &evs {
        assert_eq!(c.publish(e).await[2], true);
    }
    let all = c.req("a", vec![json!({"kinds": [1]})]).await.unwrap();
    assert_eq!(all.len(), 6);
    for w in all.windows(2) {
        assert!(
            w[0].created_at > w[1].created_at
                || (w[0].created_at == w[1].created_at && w[0].id < w[1].id)
        );
    }
    let window = c
        .req("b", vec![json!({"since": base + 10, "until": base + 20})])
        .await
        .unwrap();
    assert_eq!(window.len(), 4, "since and until are inclusive");
    let newest = c.req("c", vec![json!({"limit": 2})]).await.unwrap();
    assert_eq!(ids(&newest), ids(&all[..2]));
    let none = c.req("d", vec![json!({"limit": 0})]).await.unwrap();
    assert!(none.is_empty(), "limit 0 answers EOSE alone");
}

#[tokio::test]
async fn live_events_reach_every_matching_subscription_and_no_other() {
    let relay = start_relay(Default::default()).await;
    let url = relay.handle.url();
    let (alice, bob) = (keys(1), keys(2));
    let mut follows_alice = Client::connect(&url).await;
    let mut follows_bob = Client::connect(&url).await;
    let mut tag_watch = Client::connect(&url).await;
    follows_alice
        .req("a", vec![json!({"authors": [alice.public_key().to_hex()]})])
        .await
        .unwrap();
    follows_bob
        .req("b", vec![json!({"authors": [bob.public_key().to_hex()]})])
        .await
        .unwrap();
    tag_watch
        .req("t", vec![json!({"#t": ["nostr"]})])
        .await
        .unwrap();

    let mut publisher = Client::connect(&url).await;
    let e = signed(&alice, 1, "hi", &[&["t", "nostr"]], now());
    assert_eq!(publisher.publish(&e).await[2], true);

    let got = follows_alice.recv().await;
    assert_eq!(
        (got[0].as_str(), got[1].as_str()),
        (Some("EVENT"), Some("a"))
    );
    assert_eq!(got[2]["id"], e.id.to_hex());
    let got = tag_watch.recv().await;
    assert_eq!(got[2]["id"], e.id.to_hex());
    assert!(follows_bob
        .try_recv(Duration::from_millis(300))
        .await
        .is_none());
}

#[tokio::test]
async fn req_with_the_same_id_replaces_and_close_stops_delivery() {
    let relay = start_relay(Default::default()).await;
    let url = relay.handle.url();
    let (alice, bob) = (keys(1), keys(2));
    let mut c = Client::connect(&url).await;
    c.req("x", vec![json!({"authors": [alice.public_key().to_hex()]})])
        .await
        .unwrap();
    c.req("x", vec![json!({"authors": [bob.public_key().to_hex()]})])
        .await
        .unwrap();
    assert_eq!(relay.handle.open_subscriptions(), 1);
    let mut p = Client::connect(&url).await;
    p.publish(&signed(&alice, 1, "from alice", &[], now()))
        .await;
    assert!(
        c.try_recv(Duration::from_millis(300)).await.is_none(),
        "replaced filter no longer matches"
    );
    let from_bob = signed(&bob, 1, "from bob", &[], now());
    p.publish(&from_bob).await;
    assert_eq!(c.recv().await[2]["id"], from_bob.id.to_hex());
    c.send(json!(["CLOSE", "x"])).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(relay.handle.open_subscriptions(), 0);
    p.publish(&signed(&bob, 1, "after close", &[], now())).await;
    assert!(c.try_recv(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn replaceable_and_addressable_events_are_replaced() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);
    let t = now() - 100;
    let p1 = signed(&k, 0, "{\"name\":\"a\"}", &[], t);
    let p2 = signed(&k, 0, "{\"name\":\"b\"}", &[], t + 1);
    assert_eq!(c.publish(&p1).await[2], true);
    assert_eq!(c.publish(&p2).await[2], true);
    let older = c.publish(&p1).await;
    assert_eq!(older[2], false);
    assert!(older[3].as_str().unwrap().starts_with("duplicate:"));
    let got = c
        .req(
            "p",
            vec![json!({"kinds": [0], "authors": [k.public_key().to_hex()]})],
        )
        .await
        .unwrap();
    assert_eq!(ids(&got), vec![p2.id]);

    let a1 = signed(&k, 30023, "v1", &[&["d", "post"]], t);
    let a2 = signed(&k, 30023, "v2", &[&["d", "post"]], t + 5);
    let other = signed(&k, 30023, "other", &[&["d", "other"]], t);
    for e in [&a1, &a2, &other] {
        c.publish(e).await;
    }
    let got = c.req("a", vec![json!({"kinds": [30023]})]).await.unwrap();
    assert_eq!(ids(&got), vec![a2.id, other.id]);
}

#[tokio::test]
async fn deletion_by_e_and_a_tags() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);
    let t = now() - 100;
    let note = signed(&k, 1, "regret", &[], t);
    let art = signed(&k, 30023, "article", &[&["d", "x"]], t);
    c.publish(&note).await;
    c.publish(&art).await;
    let addr = format!("30023:{}:x", k.public_key().to_hex());
    let del = signed(
        &k,
        5,
        "",
        &[&["e", &note.id.to_hex()], &["a", &addr]],
        t + 10,
    );
    assert_eq!(c.publish(&del).await[2], true);
    let left = c
        .req("s", vec![json!({"authors": [k.public_key().to_hex()]})])
        .await
        .unwrap();
    assert_eq!(ids(&left), vec![del.id]);
    let again = c.publish(&note).await;
    assert_eq!(again[2], false);
    assert!(
        again[3].as_str().unwrap().starts_with("blocked:"),
        "{again}"
    );
}

#[tokio::test]
async fn ephemeral_events_are_relayed_live_but_not_stored() {
    let relay = start_relay(Default::default()).await;
    let url = relay.handle.url();
    let mut listener = Client::connect(&url).await;
    listener
        .req("e", vec![json!({"kinds": [20001]})])
        .await
        .unwrap();
    let mut p = Client::connect(&url).await;
    let e = signed(&keys(1), 20001, "typing", &[], now());
    assert_eq!(p.publish(&e).await[2], true);
    assert_eq!(listener.recv().await[2]["id"], e.id.to_hex());
    assert!(p
        .req("q", vec![json!({"kinds": [20001]})])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn expired_events_are_refused_and_nip50_search_works() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);
    let past = (now() - 5).to_string();
    let expired = signed(&k, 1, "old news", &[&["expiration", &past]], now() - 10);
    let ok = c.publish(&expired).await;
    assert_eq!(ok[2], false);
    assert!(ok[3].as_str().unwrap().starts_with("invalid:"));
    let a = signed(&k, 1, "Learning Rust on nostr", &[], now() - 3);
    let b = signed(&k, 1, "coffee time", &[], now() - 2);
    c.publish(&a).await;
    c.publish(&b).await;
    let got = c
        .req("s", vec![json!({"search": "rust", "limit": 10})])
        .await
        .unwrap();
    assert_eq!(ids(&got), vec![a.id]);
}
