//! A session left running: the live feed stays subscribed after EOSE, so a
//! note published later by someone followed arrives through the update
//! stream with no new sync call; a UI that never reads its updates slows
//! nothing down (ingest keeps storing a flood of notes meanwhile). Run
//! longer with `SAMIZDAT_LIVE_SECS=300`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::{EngineUpdate, LocalSigner, RelayRoles, Session, SessionConfig, Settings};
use samizdat_store::Store;

async fn relay(dir: &tempfile::TempDir, name: &str) -> (samizdat_relay::RelayHandle, Arc<Store>) {
    // The flood must not be rate-limited away.
    let mut config = samizdat_relay::RelayConfig::default();
    config.rate.events_per_second_per_ip = 100_000;
    config.rate.events_per_second_per_author = 100_000;
    common::relay_with(dir, name, config).await
}

fn session_for(dir: &std::path::Path, keys: &Keys, own: &str, discovery: &str) -> Arc<Session> {
    std::fs::create_dir_all(dir).unwrap();
    let mut settings = Settings {
        discovery: vec![discovery.to_owned()],
        ..Settings::default()
    };
    settings.relays.insert(
        own.to_owned(),
        RelayRoles {
            read: true,
            write: true,
        },
    );
    settings.save(&dir.join("settings.json")).unwrap();
    let store = Arc::new(Store::open(dir.join("events.sqlite")).unwrap());
    let mut config = SessionConfig::default();
    config.engine.phase_timeout = Duration::from_secs(10);
    config.deliver_every = Duration::from_secs(1);
    Session::with_store(
        store,
        dir.join("settings.json"),
        Arc::new(LocalSigner::new(keys.clone())),
        config,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_arrive_live_and_a_slow_ui_blocks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (indexer, _) = relay(&dir, "indexer").await;
    let (b_relay, _) = relay(&dir, "b").await;
    let (a_relay, _) = relay(&dir, "a").await;
    let (a, b) = (Keys::generate(), Keys::generate());
    let url = |h: &samizdat_relay::RelayHandle| {
        samizdat_net::RelayUrl::parse(&h.url()).unwrap().to_string()
    };
    let bob = session_for(&dir.path().join("b"), &b, &url(&b_relay), &url(&indexer));
    let alice = session_for(&dir.path().join("a"), &a, &url(&a_relay), &url(&indexer));
    // B advertises where they write; A follows B.
    bob.add_relay(&url(&indexer), RelayRoles::default(), true)
        .unwrap();
    assert!(bob
        .publish_relay_list()
        .await
        .unwrap()
        .deliveries
        .iter()
        .all(|(_, o)| o.delivered()));
    bob.post("before A looked").await.unwrap();
    alice.follow(b.public_key(), true).await.unwrap();

    // A UI that subscribes and never reads, and one that reads.
    let _never_read = alice.subscribe();
    let mut updates = alice.subscribe();
    alice.start();
    wait_for_note(&mut updates, "before A looked").await;

    // Published after A's sync: arrives through the live subscription.
    let live = bob.post("while A is watching").await.unwrap();
    wait_for_note(&mut updates, "while A is watching").await;
    assert!(alice.engine().event(live.event.id).unwrap().is_some());

    // A flood for a while, with the never-reading UI still subscribed.
    let secs: u64 = std::env::var("SAMIZDAT_LIVE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut sent = Vec::new();
    let mut round = 0;
    while tokio::time::Instant::now() < until {
        for i in 0..200 {
            let e = EventBuilder::new(Kind::TextNote, format!("flood {round}/{i}"))
                .finalize(&b)
                .unwrap();
            sent.push(e.id);
            // Published straight to B's relay through B's engine pool.
            let _ = bob
                .engine()
                .publish(
                    &e,
                    &[samizdat_net::RelayUrl::parse(&b_relay.url()).unwrap()],
                )
                .await
                .unwrap();
        }
        round += 1;
    }
    let last = bob.post("the last word").await.unwrap();
    wait_for_note(&mut updates, "the last word").await;
    // Everything B sent is in A's store: ingest never waited for a reader.
    let missing = sent
        .iter()
        .filter(|id| alice.engine().event(**id).unwrap().is_none())
        .count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} flood notes missing",
        sent.len()
    );
    assert!(alice.engine().event(last.event.id).unwrap().is_some());
    eprintln!("{} notes arrived live in {secs} s", sent.len());
    alice.shutdown().await;
    bob.shutdown().await;
}

async fn wait_for_note(updates: &mut tokio::sync::broadcast::Receiver<EngineUpdate>, text: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let update = tokio::time::timeout_at(deadline, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("{text:?} never arrived"));
        match update {
            Ok(EngineUpdate::NewEvents { events, sub, .. })
                if sub == "feed" && events.iter().any(|e| e.content == text) =>
            {
                return
            }
            _ => {}
        }
    }
}
