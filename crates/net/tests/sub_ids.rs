//! No fingerprint in subscription ids: a relay written for this test records
//! every REQ's id. Two runs (two pools, as two `samizdat sync` processes
//! would be) open the same logical subscriptions; the relay sees no id twice
//! and never the engine's names (`feed`, `inbox`), so relays comparing logs
//! cannot tie the runs together by an id.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use samizdat_net::PolicyBook;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// A relay that answers every REQ with EOSE and records its id.
async fn recording_relay(ids: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let ids = Arc::clone(&ids);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    let Ok(v) = serde_json::from_str::<Value>(msg.to_text().unwrap_or("")) else {
                        continue;
                    };
                    if v[0] == "REQ" {
                        let sub = v[1].as_str().unwrap_or("").to_owned();
                        ids.lock().unwrap().push(sub.clone());
                        let _ = ws
                            .send(Message::text(json!(["EOSE", sub]).to_string()))
                            .await;
                    }
                }
            });
        }
    });
    format!("ws://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_share_no_subscription_id_and_never_send_the_logical_names() {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let relay = url(&recording_relay(Arc::clone(&ids)).await);
    let mut runs: Vec<BTreeSet<String>> = Vec::new();
    for _ in 0..2 {
        let env = env();
        let (pool, mut rx) = pool(&env, fast_config(), PolicyBook::new(), None);
        for name in ["feed", "inbox"] {
            pool.subscribe(
                &relay,
                name,
                vec![Filter::new().kind(Kind::TextNote).limit(5)],
            )
            .unwrap();
        }
        let events = collect_until(&mut rx, Duration::from_secs(5), |seen| {
            eose_for(seen, &relay, "feed") && eose_for(seen, &relay, "inbox")
        })
        .await;
        assert!(
            eose_for(&events, &relay, "feed"),
            "the engine still hears its own names"
        );
        pool.shutdown().await;
        runs.push(ids.lock().unwrap().drain(..).collect());
    }
    assert_eq!(runs[0].len(), 2);
    assert_eq!(runs[1].len(), 2);
    assert!(runs[0].is_disjoint(&runs[1]), "{runs:?}");
    for id in runs.iter().flatten() {
        assert!(!["feed", "inbox"].contains(&id.as_str()), "{id}");
        assert_eq!(id.len(), 16, "{id}");
    }
}
