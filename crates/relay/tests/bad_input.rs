//! Hostile and broken clients: malformed JSON, wrong shapes, unknown verbs,
//! oversize and binary frames, invalid UTF-8, bad events, and a client that
//! never reads. Each gets a NOTICE / CLOSED / OK false with a reason; the
//! connection stays usable where the protocol allows; the relay never falls over.

mod common;

use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{Limits, RelayConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn expect_prefix(c: &mut Client, verb: &str, prefix: &str) -> serde_json::Value {
    let m = c.recv().await;
    assert_eq!(m[0], verb, "{m}");
    let reason = m.as_array().unwrap().last().unwrap().as_str().unwrap();
    assert!(reason.starts_with(prefix), "expected {prefix} in {m}");
    m
}

async fn still_usable(c: &mut Client) {
    assert!(c.req("probe", vec![json!({"limit": 1})]).await.is_ok());
}

#[tokio::test]
async fn malformed_messages_get_notices_and_the_connection_survives() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    for bad in [
        "not json",
        "{\"EVENT\": 1}",
        "[]",
        "[1, 2]",
        "[\"HELLO\", 1]",
        "[\"EVENT\"]",
        "[\"EVENT\", {\"id\": \"zz\"}]",
        "[\"REQ\", 5]",
        "[\"CLOSE\"]",
        "[\"AUTH\", 3]",
        "\"just a string\"",
    ] {
        c.send_raw(bad).await;
        expect_prefix(&mut c, "NOTICE", "invalid:").await;
    }
    still_usable(&mut c).await;
}

#[tokio::test]
async fn wrong_filters_and_subscription_ids_are_closed_with_reasons() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    c.send(json!(["REQ", "s"])).await;
    expect_prefix(&mut c, "CLOSED", "invalid:").await;
    c.send(json!(["REQ", "s", 5])).await;
    expect_prefix(&mut c, "CLOSED", "invalid:").await;
    c.send(json!(["REQ", "s", {"kinds": "one"}])).await;
    expect_prefix(&mut c, "CLOSED", "invalid:").await;
    c.send(json!(["REQ", "x".repeat(65), {}])).await;
    expect_prefix(&mut c, "CLOSED", "invalid:").await;
    c.send(json!(["COUNT", "c", {"kinds": "one"}])).await;
    expect_prefix(&mut c, "CLOSED", "invalid:").await;
    c.send(json!(["COUNT", "c"])).await;
    expect_prefix(&mut c, "CLOSED", "invalid:").await;
    c.send(json!(["COUNT"])).await;
    expect_prefix(&mut c, "NOTICE", "invalid:").await;
    still_usable(&mut c).await;
}

#[tokio::test]
async fn bad_events_get_ok_false_with_machine_readable_reasons() {
    let relay = start_relay(Default::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);
    let good = signed(&k, 1, "original", &[], now());

    // Content changed after signing: the id no longer matches.
    let mut v = serde_json::to_value(&good).unwrap();
    v["content"] = json!("tampered");
    c.send(json!(["EVENT", v])).await;
    let m = expect_prefix(&mut c, "OK", "invalid:").await;
    assert_eq!(m[1], good.id.to_hex());
    assert_eq!(m[2], false);

    // Signature from another key.
    let mut v = serde_json::to_value(&good).unwrap();
    v["sig"] = json!(signed(&keys(2), 1, "x", &[], now()).sig.to_string());
    c.send(json!(["EVENT", v])).await;
    let m = expect_prefix(&mut c, "OK", "invalid:").await;
    assert!(m[3].as_str().unwrap().contains("signature"), "{m}");

    // Missing fields.
    c.send(json!(["EVENT", {"id": good.id.to_hex(), "kind": 1}]))
        .await;
    expect_prefix(&mut c, "OK", "invalid:").await;

    // Too far in the future.
    let future = signed(&k, 1, "from tomorrow", &[], now() + 86_400);
    c.send(json!(["EVENT", future])).await;
    expect_prefix(&mut c, "OK", "invalid:").await;

    // The store holds none of them.
    assert!(c
        .req("all", vec![json!({"limit": 10})])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn size_and_count_limits_are_enforced_and_declared() {
    let config = RelayConfig {
        limits: Limits {
            max_message_length: 4_096,
            max_subscriptions: 2,
            max_filters: 2,
            max_limit: 3,
            max_event_tags: 5,
            max_content_length: 1_000,
            ..Limits::default()
        },
        ..RelayConfig::default()
    };
    let relay = start_relay(config).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let k = keys(1);

    let many_tags: Vec<Vec<String>> = (0..6).map(|i| vec!["t".into(), format!("{i}")]).collect();
    let refs: Vec<Vec<&str>> = many_tags
        .iter()
        .map(|t| t.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let e = signed(&k, 1, "tags", &slices, now());
    let m = c.publish(&e).await;
    assert!(
        m[3].as_str().unwrap().starts_with("invalid:") && m[2] == false,
        "{m}"
    );
    let m = c
        .publish(&signed(&k, 1, &"c".repeat(1_001), &[], now()))
        .await;
    assert!(m[3].as_str().unwrap().starts_with("invalid:"), "{m}");

    // Oversize message: a NOTICE, and the connection stays usable.
    c.send_raw(&format!(
        "[\"REQ\",\"big\",{{\"search\":\"{}\"}}]",
        "x".repeat(5_000)
    ))
    .await;
    expect_prefix(&mut c, "NOTICE", "invalid:").await;

    for i in 0..5 {
        c.publish(&signed(&k, 1, &format!("{i}"), &[], now() - i))
            .await;
    }
    assert_eq!(
        c.req("a", vec![json!({"limit": 100})]).await.unwrap().len(),
        3,
        "limit lowered to max_limit"
    );
    c.req("b", vec![json!({"limit": 1})]).await.unwrap();
    let refused = c.req("c", vec![json!({"limit": 1})]).await.unwrap_err();
    assert!(refused.starts_with("restricted:"), "{refused}");
    c.send(json!(["CLOSE", "b"])).await;
    let filters = vec![json!({}), json!({}), json!({})];
    let refused = c.req("d", filters).await.unwrap_err();
    assert!(refused.starts_with("invalid:"), "{refused}");
}

#[tokio::test]
async fn rate_limits_answer_rate_limited() {
    let mut config = RelayConfig::default();
    config.rate.events_per_second_per_ip = 3;
    let relay = start_relay(config).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let mut limited = 0;
    for i in 0..10 {
        let m = c
            .publish(&signed(&keys(1), 1, &format!("{i}"), &[], now()))
            .await;
        if m[2] == false && m[3].as_str().unwrap().starts_with("rate-limited:") {
            limited += 1;
        }
    }
    assert!(limited >= 5, "{limited} of 10 were rate-limited");
}

#[tokio::test]
async fn binary_frames_get_a_notice_and_oversize_frames_drop_only_that_client() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let relay = start_relay(RelayConfig {
        limits: Limits {
            max_message_length: 1_000,
            ..Limits::default()
        },
        ..RelayConfig::default()
    })
    .await;
    let url = relay.handle.url();
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    use futures_util::StreamExt;
    let _challenge = ws.next().await.unwrap().unwrap();
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let m = ws.next().await.unwrap().unwrap();
    assert!(m.to_text().unwrap().contains("binary frames"), "{m:?}");
    // Far past the hard cap: the relay drops this connection...
    let _ = ws.send(Message::text("x".repeat(1_000_000))).await;
    let mut closed = false;
    for _ in 0..5 {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "an oversize frame ends that connection");
    // ...and keeps serving everyone else.
    let mut other = Client::connect(&url).await;
    still_usable(&mut other).await;
}

/// Writes one masked client frame by hand (tungstenite will not send invalid UTF-8).
fn raw_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    let mask = [1u8, 2, 3, 4];
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

#[tokio::test]
async fn invalid_utf8_fails_only_that_connection() {
    let relay = start_relay(Default::default()).await;
    let addr = relay.handle.local_addr();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 101"));
    tcp.write_all(&raw_frame(0x1, &[0x5b, 0xff, 0xfe, 0x5d]))
        .await
        .unwrap();
    // The relay closes (RFC 6455 requires it for invalid UTF-8 in a text frame).
    let mut closed = false;
    for _ in 0..20 {
        match tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) if buf[..n].contains(&0x88) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed);
    let mut other = Client::connect(&relay.handle.url()).await;
    still_usable(&mut other).await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_memory_stays_bounded() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let config = RelayConfig {
        limits: Limits {
            max_outgoing_bytes: 256 * 1024,
            ..Limits::default()
        },
        ..RelayConfig::default()
    };
    let relay = start_relay(config).await;
    let url = relay.handle.url();
    // The sluggard subscribes to everything and never reads again.
    let (mut sluggard, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    sluggard
        .send(Message::text(
            json!(["REQ", "all", {"kinds": [1]}]).to_string(),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(relay.handle.open_subscriptions(), 1);
    let mut p = Client::connect(&url).await;
    let k = keys(1);
    let big = "b".repeat(60_000);
    let mut disconnected = false;
    for i in 0..400 {
        let e = EventBuilder::new(Kind::TextNote, format!("{i} {big}"))
            .finalize(&k)
            .unwrap();
        assert_eq!(p.publish(&e).await[2], true);
        if relay.handle.open_subscriptions() == 0 {
            disconnected = true;
            break;
        }
    }
    assert!(
        disconnected,
        "the relay dropped the client that does not read"
    );
    still_usable(&mut p).await;
    drop(sluggard);
}
