//! NIP-11, many open subscriptions, and graceful shutdown with nothing lost.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_relay::RelayConfig;
use samizdat_store::Store;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http_get(addr: std::net::SocketAddr, accept: &str) -> (String, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req =
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn nip11_declares_the_real_limits() {
    let mut config = RelayConfig::default();
    config.limits.max_limit = 123;
    config.name = "test relay".into();
    let relay = start_relay(config).await;
    let (head, body) = http_get(relay.handle.local_addr(), "application/nostr+json").await;
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{head}"
    );
    assert!(head.contains("application/nostr+json"), "{head}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["name"], "test relay");
    assert_eq!(doc["limitation"]["max_limit"], 123);
    for nip in [1, 9, 11, 40, 42, 50, 70, 77] {
        assert!(
            doc["supported_nips"]
                .as_array()
                .unwrap()
                .contains(&json!(nip)),
            "{doc}"
        );
    }
    let (_, plain) = http_get(relay.handle.local_addr(), "text/html").await;
    assert!(plain.contains("Nostr relay"));
}

#[tokio::test]
async fn thousands_of_subscriptions_each_get_only_their_events() {
    let mut config = RelayConfig::default();
    config.rate.reqs_per_second_per_ip = 0;
    let relay = start_relay(config).await;
    let url = relay.handle.url();
    let authors: Vec<Keys> = (0..40u8).map(|i| keys(100 + i)).collect();
    let mut clients = Vec::new();
    for (i, _) in authors.iter().enumerate() {
        let mut c = Client::connect(&url).await;
        // 50 subscriptions per connection: one for "its" author, the rest for random keys.
        for s in 0..50 {
            let who = if s == 0 {
                authors[i].public_key()
            } else {
                Keys::generate().public_key()
            };
            c.req(
                &format!("s{s}"),
                vec![json!({"authors": [who.to_hex()], "limit": 0})],
            )
            .await
            .unwrap();
        }
        clients.push(c);
    }
    assert_eq!(relay.handle.open_subscriptions(), 2_000);
    let mut p = Client::connect(&url).await;
    let e = signed(&authors[7], 1, "for client 7", &[], now());
    p.publish(&e).await;
    let got = clients[7].recv().await;
    assert_eq!(
        (got[1].as_str(), got[2]["id"].as_str()),
        (Some("s0"), Some(e.id.to_hex().as_str()))
    );
    for (i, c) in clients
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| *i != 7)
        .take(5)
    {
        assert!(
            c.try_recv(Duration::from_millis(50)).await.is_none(),
            "client {i} got a stranger's event"
        );
    }
}

#[tokio::test]
async fn shutdown_commits_every_acknowledged_and_queued_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.sqlite");
    let store = Arc::new(Store::open(&path).unwrap());
    let mut config = RelayConfig::default();
    config.rate.events_per_second_per_ip = 0;
    config.rate.events_per_second_per_author = 0;
    let relay = samizdat_relay::start(config, store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = relay.url();
    let k = keys(1);
    let events: Vec<Event> = (0..300)
        .map(|i| signed(&k, 1, &format!("{i}"), &[], now() - i))
        .collect();
    let mut c = Client::connect(&url).await;
    // Fire everything without waiting, then shut down while writes are in flight.
    for e in &events {
        c.send(json!(["EVENT", e])).await;
    }
    let mut acked = Vec::new();
    while let Some(m) = c.try_recv(Duration::from_secs(2)).await {
        if m[0] == "OK" && m[2] == true {
            acked.push(m[1].as_str().unwrap().to_owned());
        }
        if acked.len() >= 50 {
            break;
        }
    }
    relay.shutdown().await;
    let reopened = Store::open(&path).unwrap();
    let stored: Vec<String> = reopened
        .query(&[Filter::new().limit(1_000)])
        .unwrap()
        .into_iter()
        .map(|e| e.id.to_hex())
        .collect();
    assert!(acked.len() >= 50);
    for id in &acked {
        assert!(stored.contains(id), "acknowledged event {id} lost");
    }
    // No event is half-written: each stored one verifies.
    for e in reopened.query(&[Filter::new().limit(1_000)]).unwrap() {
        e.verify().unwrap();
    }
}
