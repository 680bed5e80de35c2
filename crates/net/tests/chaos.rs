//! Fault injection: a chaos relay written for this test, on loopback, in each
//! of its bad behaviours, beside a healthy relay (ours). The client keeps
//! working with the healthy relay, stores none of the bad events, records
//! each failure by class, and its memory stays bounded.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use samizdat_net::{PolicyBook, PoolEvent, RelayUrl};
use samizdat_relay::RelayConfig;
use samizdat_store::FailureClass;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, Debug)]
enum Chaos {
    Garbage,
    BadSignatures,
    OffFilter,
    NoEose,
    Flood,
    DisconnectMidStream,
    NoHandshake,
    Http403,
    Http500,
    Slow,
}

/// Starts a chaos relay; `good` are valid events it may replay.
async fn chaos_relay(mode: Chaos, good: Vec<Event>, stranger: Event) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let good = good.clone();
            let stranger = stranger.clone();
            tokio::spawn(async move {
                match mode {
                    Chaos::NoHandshake => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        drop(tcp);
                        return;
                    }
                    Chaos::Http403 | Chaos::Http500 => {
                        let mut buf = [0u8; 2048];
                        let _ = tcp.read(&mut buf).await;
                        let status = if matches!(mode, Chaos::Http403) {
                            "403 Forbidden"
                        } else {
                            "500 Internal Server Error"
                        };
                        let _ = tcp
                            .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
                            .await;
                        return;
                    }
                    _ => {}
                }
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    let Ok(text) = msg.to_text() else { continue };
                    let Ok(v) = serde_json::from_str::<Value>(text) else {
                        continue;
                    };
                    if v[0] != "REQ" {
                        continue;
                    }
                    let sub = v[1].as_str().unwrap_or("").to_owned();
                    let ev = |e: &Event| Message::text(json!(["EVENT", sub, e]).to_string());
                    let eose = Message::text(json!(["EOSE", sub]).to_string());
                    match mode {
                        Chaos::Garbage => {
                            for junk in [
                                "{{{",
                                "[\"EVENT\"]",
                                "null",
                                "[\"EVENT\",\"x\",{\"id\":1}]",
                                "\u{0}\u{1}",
                                "[\"OK\",\"nope\"]",
                            ] {
                                for _ in 0..20 {
                                    let _ = ws.send(Message::text(junk)).await;
                                }
                            }
                            let _ = ws.send(Message::binary(vec![0xff; 64])).await;
                        }
                        Chaos::BadSignatures => {
                            for e in &good {
                                let mut v = serde_json::to_value(e).unwrap();
                                v["content"] = json!("forged by the relay");
                                let _ = ws
                                    .send(Message::text(json!(["EVENT", sub, v]).to_string()))
                                    .await;
                                let mut v = serde_json::to_value(e).unwrap();
                                v["sig"] = json!(stranger.sig.to_string());
                                let _ = ws
                                    .send(Message::text(json!(["EVENT", sub, v]).to_string()))
                                    .await;
                            }
                            let _ = ws.send(eose).await;
                        }
                        Chaos::OffFilter => {
                            let _ = ws.send(ev(&stranger)).await;
                            let _ = ws
                                .send(Message::text(
                                    json!(["EVENT", "not-ours", good[0]]).to_string(),
                                ))
                                .await;
                            let _ = ws.send(eose).await;
                        }
                        Chaos::NoEose => {
                            let _ = ws.send(ev(&good[0])).await;
                        }
                        Chaos::Flood => {
                            for _ in 0..300 {
                                for e in &good {
                                    if ws.send(ev(e)).await.is_err() {
                                        return;
                                    }
                                }
                                let _ = ws.send(ev(&stranger)).await;
                            }
                            let _ = ws.send(eose).await;
                        }
                        Chaos::DisconnectMidStream => {
                            let _ = ws.send(ev(&good[1])).await;
                            drop(ws);
                            return;
                        }
                        Chaos::Slow => {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            let _ = ws.send(ev(&good[2])).await;
                            let _ = ws.send(eose).await;
                        }
                        Chaos::NoHandshake | Chaos::Http403 | Chaos::Http500 => {}
                    }
                }
            });
        }
    });
    addr
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_relays_cannot_poison_the_store_or_stop_the_healthy_one() {
    let author = keys(20);
    let good: Vec<Event> = (0..20)
        .map(|i| note(&author, &format!("good {i}"), 100 + i))
        .collect();
    let stranger = note(&keys(21), "a stranger's note", 5);
    let (healthy, healthy_store, _d) = our_relay(RelayConfig::default()).await;
    healthy_store.insert_batch(&good).unwrap();

    let modes = [
        Chaos::Garbage,
        Chaos::BadSignatures,
        Chaos::OffFilter,
        Chaos::NoEose,
        Chaos::Flood,
        Chaos::DisconnectMidStream,
        Chaos::NoHandshake,
        Chaos::Http403,
        Chaos::Http500,
        Chaos::Slow,
    ];
    let mut chaos_urls = Vec::new();
    for mode in modes {
        let addr = chaos_relay(mode, good.clone(), stranger.clone()).await;
        chaos_urls.push((mode, url(&format!("ws://{addr}"))));
    }

    let env = env();
    let (pool, mut rx) = pool(&env, fast_config(), PolicyBook::new(), None);
    let before = rss_mib();
    let filter = Filter::new()
        .author(author.public_key())
        .kind(Kind::TextNote)
        .limit(50);
    let healthy_url = url(&healthy.url());
    for (_, u) in &chaos_urls {
        pool.subscribe(u, "feed", vec![filter.clone()]).unwrap();
    }
    pool.subscribe(&healthy_url, "feed", vec![filter.clone()])
        .unwrap();

    let events = collect_until(&mut rx, Duration::from_secs(8), |e| {
        eose_for(e, &healthy_url, "feed")
    })
    .await;
    assert!(
        eose_for(&events, &healthy_url, "feed"),
        "the healthy relay is served despite the chaos"
    );
    // Let the chaos run its course (timeouts, reconnects, the slow relay).
    let more = collect_until(&mut rx, Duration::from_secs(4), |_| false).await;
    let all: Vec<&PoolEvent> = events.iter().chain(more.iter()).collect();

    // Only the genuine events are stored: nothing forged, nothing off-filter.
    let mut stored = stored_ids(&env.store);
    stored.sort();
    let mut want: Vec<EventId> = good.iter().map(|e| e.id).collect();
    want.sort();
    assert_eq!(stored, want);
    for e in env.store.query(&[Filter::new().limit(1000)]).unwrap() {
        e.verify().unwrap();
        assert_ne!(e.content, "forged by the relay");
    }

    let stats = |u: &RelayUrl| {
        env.store
            .relay_stats(&u.to_string())
            .unwrap()
            .unwrap_or_default()
    };
    let by_mode = |m: &str| {
        chaos_urls
            .iter()
            .find(|(mode, _)| format!("{mode:?}") == m)
            .map(|(_, u)| u.clone())
            .unwrap()
    };
    assert!(
        stats(&by_mode("BadSignatures")).invalid_events >= 40,
        "forgeries are counted against the relay"
    );
    assert!(stats(&by_mode("OffFilter")).invalid_events >= 2);
    assert!(stats(&by_mode("Flood")).invalid_events >= 1);
    assert!(
        stats(&by_mode("Http403")).failures[3] >= 1,
        "403 on upgrade is an HTTP failure"
    );
    assert!(stats(&by_mode("Http500")).failures[3] >= 1);
    assert!(
        stats(&by_mode("NoHandshake")).failures[0] >= 1,
        "a hanging handshake is a timeout"
    );
    assert!(
        stats(&by_mode("Garbage")).failures[5] >= 1,
        "garbage is a protocol failure"
    );
    assert!(
        stats(&by_mode("DisconnectMidStream"))
            .failures
            .iter()
            .sum::<u64>()
            >= 1
    );
    assert!(all.iter().any(|e| matches!(e, PoolEvent::Eose { relay, timed_out: true, .. } if *relay == by_mode("NoEose"))), "a missing EOSE times out");
    assert!(all.iter().any(|e| matches!(
        e,
        PoolEvent::Disconnected {
            class: FailureClass::Http,
            ..
        }
    )));
    assert!(stats(&healthy_url).successes >= 1);
    assert_eq!(stats(&healthy_url).invalid_events, 0);

    // Bounded: the flood and the reconnect storm did not grow memory without limit.
    let grown = rss_mib() - before;
    assert!(grown < 200.0, "memory grew by {grown:.0} MiB");

    // And the client still works: a live event through the healthy relay arrives.
    let live = note(&author, "still alive", 0);
    assert!(pool.publish(&healthy_url, live.clone()).await.delivered());
    let _ = collect_until(&mut rx, Duration::from_secs(3), |e| {
        e.iter().any(|e| matches!(e, PoolEvent::Events { events, .. } if events.iter().any(|x| x.id == live.id)))
    })
    .await;
    assert!(env
        .store
        .existing_ids(&[live.id])
        .unwrap()
        .contains(&live.id));
    pool.shutdown().await;
    healthy.shutdown().await;
}
