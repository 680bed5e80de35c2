//! DMs unlinkable at the relay: a DM relay written for this test asks for
//! AUTH before it serves wraps (as NIP-17 relays do) and records, for every
//! EVENT, which key the connection had authenticated as. The sender reads
//! her own wraps there (so one of her connections is authenticated as her),
//! then sends a message: no wrap arrives on a connection authenticated as
//! her, and the copy to herself arrives only after a delay.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// What the DM relay saw: AUTHs, and each EVENT with the key its
/// connection had authenticated as (if any) and when it arrived.
#[derive(Default)]
struct Seen {
    auths: Vec<PublicKey>,
    events: Vec<(Option<PublicKey>, Event, Instant)>,
}

async fn recording_dm_relay(seen: Arc<Mutex<Seen>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let challenge = format!("{:016x}", rand::random::<u64>());
                let _ = ws
                    .send(Message::text(json!(["AUTH", challenge]).to_string()))
                    .await;
                let mut authed: Option<PublicKey> = None;
                while let Some(Ok(msg)) = ws.next().await {
                    let Ok(v) = serde_json::from_str::<Value>(msg.to_text().unwrap_or("")) else {
                        continue;
                    };
                    let answer = match v[0].as_str() {
                        Some("REQ") => {
                            let sub = v[1].as_str().unwrap_or("");
                            if authed.is_some() {
                                json!(["EOSE", sub])
                            } else {
                                json!([
                                    "CLOSED",
                                    sub,
                                    "auth-required: wraps go to their recipient only"
                                ])
                            }
                        }
                        Some("AUTH") | Some("EVENT") => {
                            let Ok(event) = Event::from_json(v[1].to_string()) else {
                                continue;
                            };
                            let ok = event.verify().is_ok();
                            if v[0] == "AUTH" {
                                let tagged = event.tags.iter().any(|t| {
                                    t.as_slice().first().map(String::as_str) == Some("challenge")
                                        && t.as_slice().get(1) == Some(&challenge)
                                });
                                if ok && tagged && event.kind == Kind::Authentication {
                                    authed = Some(event.pubkey);
                                    seen.lock().unwrap().auths.push(event.pubkey);
                                }
                            } else if ok {
                                seen.lock().unwrap().events.push((
                                    authed,
                                    event.clone(),
                                    Instant::now(),
                                ));
                            }
                            json!(["OK", event.id.to_hex(), ok, ""])
                        }
                        _ => continue,
                    };
                    let _ = ws.send(Message::text(answer.to_string())).await;
                }
            });
        }
    });
    samizdat_net::RelayUrl::parse(&format!("ws://{addr}"))
        .unwrap()
        .to_string()
}

/// Alice's profile (her own relay, an indexer holding the DM relay lists
/// of `dm_lists`' owners) and the recording DM relay they name.
struct Stage {
    _dir: tempfile::TempDir,
    _relays: Vec<samizdat_relay::RelayHandle>,
    seen: Arc<Mutex<Seen>>,
    dm: String,
    alice: Arc<samizdat_client::Session>,
}

async fn stage(
    alice: &Keys,
    dm_lists: &[&Keys],
    tweak: impl FnOnce(&mut samizdat_client::SessionConfig),
) -> Stage {
    let dir = tempfile::tempdir().unwrap();
    let (own, _) = common::relay(&dir, "own").await;
    let (indexer, indexer_store) = common::relay(&dir, "indexer").await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let dm = recording_dm_relay(Arc::clone(&seen)).await;
    let lists: Vec<Event> = dm_lists
        .iter()
        .map(|keys| {
            EventBuilder::new(Kind::InboxRelays, "")
                .tag(Tag::parse(["relay", dm.as_str()]).unwrap())
                .finalize(*keys)
                .unwrap()
        })
        .collect();
    indexer_store.insert_batch(&lists).unwrap();
    let signer = Arc::new(samizdat_client::LocalSigner::new(alice.clone()));
    let (own_url, indexer_url) = (common::url(&own), common::url(&indexer));
    let session = common::session_with(
        &dir.path().join("alice"),
        signer,
        &[(&own_url, true, true)],
        &[&indexer_url],
        &[],
        tweak,
    );
    Stage {
        _dir: dir,
        _relays: vec![own, indexer],
        seen,
        dm,
        alice: session,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wrap_leaves_on_a_connection_authenticated_as_the_sender() {
    let (alice, bob) = (Keys::generate(), Keys::generate());
    // Bob's DM relays name the shared DM relay.
    let st = stage(&alice, &[&bob], |c| c.engine.self_copy_delay_secs = (2, 3)).await;
    let (seen, dm, a) = (st.seen.clone(), st.dm.clone(), st.alice.clone());
    a.set_dm_relays(std::slice::from_ref(&dm)).await.unwrap();
    // Reading her wraps authenticates one connection as alice.
    a.sync_dms().await.unwrap();
    assert_eq!(
        seen.lock().unwrap().auths,
        [alice.public_key()],
        "alice read as herself"
    );

    let sent = a
        .send_dm(&[bob.public_key()], "meet me where we said", None)
        .await
        .unwrap();
    let delay = sent.self_copy_in.expect("the copy to herself waits");
    assert!((2..=3).contains(&delay), "{delay}");
    let sent_at = Instant::now();
    {
        let s = seen.lock().unwrap();
        let wraps: Vec<_> = s
            .events
            .iter()
            .filter(|(_, e, _)| e.kind == Kind::GiftWrap)
            .collect();
        assert_eq!(wraps.len(), 1, "only bob's copy so far");
        assert!(wraps[0].1.tags.public_keys().any(|p| p == bob.public_key()));
    }
    tokio::time::sleep(Duration::from_secs(delay) + Duration::from_millis(1100)).await;
    a.engine().deliver_due().await.unwrap();
    let wraps: Vec<(Option<PublicKey>, Event, Instant)> = seen
        .lock()
        .unwrap()
        .events
        .iter()
        .filter(|(_, e, _)| e.kind == Kind::GiftWrap)
        .cloned()
        .collect();
    assert_eq!(wraps.len(), 2, "then her own copy");
    for (authed, wrap, _) in &wraps {
        assert_ne!(
            *authed,
            Some(alice.public_key()),
            "wrap {} arrived on a connection authenticated as the sender",
            wrap.id
        );
    }
    let gap = wraps[1].2.duration_since(wraps[0].2);
    assert!(
        gap >= Duration::from_secs(2),
        "self copy {gap:?} after bob's"
    );
    assert!(sent_at.elapsed() < Duration::from_secs(30));
    a.shutdown().await;
}

/// Wraps leave one at a time, apart: even a copy to herself that is due at
/// once (a message sent while an older copy comes due) reaches the DM relay
/// at least the gap after the recipient's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wraps_never_arrive_close_together() {
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let st = stage(&alice, &[&bob, &alice], |c| {
        c.engine.wrap_gap_ms = Some((1_500, 1_500))
    })
    .await;
    let (seen, a) = (st.seen.clone(), st.alice.clone());
    a.send_dm(&[bob.public_key()], "two wraps, apart", None)
        .await
        .unwrap();
    let arrivals: Vec<Instant> = seen
        .lock()
        .unwrap()
        .events
        .iter()
        .filter(|(_, e, _)| e.kind == Kind::GiftWrap)
        .map(|(_, _, at)| *at)
        .collect();
    assert_eq!(arrivals.len(), 2, "bob's copy and hers");
    let gap = arrivals[1].duration_since(arrivals[0]);
    assert!(gap >= Duration::from_millis(1_400), "{gap:?} apart");
    a.shutdown().await;
}
