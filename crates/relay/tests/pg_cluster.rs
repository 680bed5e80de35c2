//! Two relay nodes on one PostgreSQL database (the server
//! `SAMIZDAT_TEST_POSTGRES` names, a schema of its own): a live subscriber on
//! node B receives an event published on node A; a deletion published on B
//! removes the event for a reader on A (and reaches A's live subscriber); a
//! ban made on A through NIP-86 refuses the key on B; an ephemeral event
//! crosses too. Without the variable the test says it was skipped (under CI
//! that is an error).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PolicyConfig, RelayConfig, RelayStorage};
use serde_json::{json, Value};

async fn node(store: Arc<dyn RelayStorage>, config: RelayConfig) -> samizdat_relay::RelayHandle {
    samizdat_relay::start(config, store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Waits for an EVENT on `sub` (other messages skipped), at most `within`.
async fn event_on(c: &mut Client, sub: &str, within: Duration) -> Option<Event> {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let msg = c.try_recv(left).await?;
        if msg[0] == "EVENT" && msg[1] == sub {
            return Event::from_json(msg[2].to_string()).ok();
        }
    }
    None
}

async fn ban(handle: &samizdat_relay::RelayHandle, admin: &Keys, key: &PublicKey) -> Value {
    let body = json!({"method": "banpubkey", "params": [key.to_hex(), "spam"]}).to_string();
    let header = nip98_header(admin, &handle.url(), "POST", body.as_bytes(), now());
    let headers = vec![
        ("Content-Type", "application/nostr+json+rpc".to_string()),
        ("Authorization", header),
    ];
    let (_, _, text) = http(handle.local_addr(), "POST", "/", &headers, body.as_bytes()).await;
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_live_events_deletions_and_bans() {
    if postgres_url().is_none() {
        eprintln!("SKIPPED: a cluster needs PostgreSQL (SAMIZDAT_TEST_POSTGRES)");
        return;
    }
    let (admin, alice, spammer) = (keys(1), keys(2), keys(3));
    let config = RelayConfig {
        policy: PolicyConfig {
            admins: vec![admin.public_key().to_bech32().unwrap()],
            ..Default::default()
        },
        ..RelayConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (store_a, schema) = open_storage(dir.path(), None);
    let (store_b, _) = open_storage(dir.path(), schema.as_deref());
    let a = node(store_a, config.clone()).await;
    let b = node(store_b, config).await;
    // Let both listeners connect.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Live: subscribed on B, published on A.
    let mut on_b = Client::connect(&b.url()).await;
    assert_eq!(
        on_b.req("live", vec![json!({"kinds": [1, 5, 20001]})])
            .await
            .unwrap(),
        []
    );
    let mut on_a = Client::connect(&a.url()).await;
    assert_eq!(
        on_a.req("live", vec![json!({"kinds": [1, 5]})])
            .await
            .unwrap(),
        []
    );
    let mut pub_a = Client::connect(&a.url()).await;
    let note = signed(&alice, 1, "published on A", &[], now());
    let started = Instant::now();
    assert_eq!(pub_a.publish(&note).await[2], true);
    let got = event_on(&mut on_b, "live", Duration::from_secs(5)).await;
    assert_eq!(
        got.map(|e| e.id),
        Some(note.id),
        "B's subscriber heard A's event"
    );
    println!("fan-out A → B: {:?}", started.elapsed());
    // A's own subscriber hears it once (locally), not again through the cluster.
    assert_eq!(
        event_on(&mut on_a, "live", Duration::from_secs(2))
            .await
            .map(|e| e.id),
        Some(note.id)
    );
    assert!(
        event_on(&mut on_a, "live", Duration::from_millis(500))
            .await
            .is_none(),
        "once"
    );

    // An ephemeral event crosses whole.
    let ping = signed(&alice, 20001, "typing", &[], now());
    assert_eq!(pub_a.publish(&ping).await[2], true);
    let got = event_on(&mut on_b, "live", Duration::from_secs(5)).await;
    assert_eq!(
        got.map(|e| e.id),
        Some(ping.id),
        "the ephemeral event reached B"
    );

    // A deletion on B removes the note for a reader on A.
    let deletion = signed(&alice, 5, "", &[&["e", &note.id.to_hex()]], now());
    let mut pub_b = Client::connect(&b.url()).await;
    assert_eq!(pub_b.publish(&deletion).await[2], true);
    let mut reader = Client::connect(&a.url()).await;
    let found = reader
        .req("r", vec![json!({"ids": [note.id.to_hex()]})])
        .await
        .unwrap();
    assert!(found.is_empty(), "deleted everywhere");
    let heard = event_on(&mut on_a, "live", Duration::from_secs(5)).await;
    assert_eq!(
        heard.map(|e| e.id),
        Some(deletion.id),
        "A's subscriber heard B's deletion"
    );

    // A ban on A refuses the key on B.
    assert_eq!(
        ban(&a, &admin, &spammer.public_key()).await["result"],
        json!(true)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let e = signed(&spammer, 1, "spam", &[], now());
        let ok = pub_b.publish(&e).await;
        if ok[2] == false {
            break ok;
        }
        assert!(
            Instant::now() < deadline,
            "B still takes the banned key: {ok}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        refused[3].as_str().unwrap_or("").contains("blocked"),
        "{refused}"
    );
    for h in [a, b] {
        h.shutdown().await;
    }
}
