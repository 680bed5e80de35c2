//! The engine's read path over real relays on 127.0.0.1: A and B share no
//! relay, yet A reads B through B's relay list found on a discovery relay;
//! a dead relay in someone's list is planned around within the same sync.

mod common;

use common::relay;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::{Engine, EngineConfig};
use samizdat_net::{NetConfig, PolicyBook, RelayUrl};
use samizdat_store::Store;

fn relay_list(keys: &Keys, urls: &[String]) -> Event {
    EventBuilder::new(Kind::RelayList, "")
        .tags(urls.iter().map(|u| Tag::parse(["r", u.as_str()]).unwrap()))
        .finalize(keys)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reads_b_through_the_outbox_model_and_around_a_dead_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (indexer, indexer_store) = relay(&dir, "indexer").await;
    let (b_relay, b_store) = relay(&dir, "b").await;
    let (_a_relay, _a_store) = relay(&dir, "a").await;
    let dead = format!(
        "ws://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );

    let b = Keys::generate();
    let c = Keys::generate();
    // B writes only to its own relay and says so on the indexer.
    let b_list = relay_list(&b, &[b_relay.url()]);
    indexer_store.insert(&b_list).unwrap();
    let b_notes: Vec<Event> = (0..5)
        .map(|i| {
            EventBuilder::new(Kind::TextNote, format!("b says {i}"))
                .finalize(&b)
                .unwrap()
        })
        .collect();
    b_store.insert_batch(&b_notes).unwrap();
    // C lists a dead relay and a live one of its own; D lists only the dead one.
    let (c_relay, c_store) = relay(&dir, "c").await;
    indexer_store
        .insert(&relay_list(&c, &[dead.clone(), c_relay.url()]))
        .unwrap();
    let c_note = EventBuilder::new(Kind::TextNote, "c is here")
        .finalize(&c)
        .unwrap();
    c_store.insert(&c_note).unwrap();
    let d = Keys::generate();
    indexer_store
        .insert(&relay_list(&d, std::slice::from_ref(&dead)))
        .unwrap();
    // Someone nobody follows: must not be asked about.
    let stranger = Keys::generate();
    b_store
        .insert(
            &EventBuilder::new(Kind::TextNote, "stranger")
                .finalize(&stranger)
                .unwrap(),
        )
        .unwrap();

    let a_store = Arc::new(Store::open(dir.path().join("a-client.sqlite")).unwrap());
    let mut net = NetConfig::default();
    net.transport.connect_timeout = Duration::from_secs(2);
    let config = EngineConfig {
        discovery: vec![RelayUrl::parse(&indexer.url()).unwrap()],
        max_connections: 5,
        per_person: 2,
        phase_timeout: Duration::from_secs(10),
        net,
        ..EngineConfig::default()
    };
    let engine = Engine::new(Arc::clone(&a_store), config, PolicyBook::new(), None);
    let follows = vec![b.public_key(), c.public_key(), d.public_key()];
    let mut updates = engine.subscribe();
    let report = engine.sync(&follows, &[], |_| {}).await.unwrap();
    let (mut phases, mut new_events, mut failed) = (0, 0, 0);
    while let Ok(u) = updates.try_recv() {
        match u {
            samizdat_client::EngineUpdate::Phase(_) => phases += 1,
            samizdat_client::EngineUpdate::NewEvents { events, .. } => new_events += events.len(),
            samizdat_client::EngineUpdate::RelayFailed { .. } => failed += 1,
            _ => {}
        }
    }
    assert!(
        phases >= 3 && failed >= 1,
        "phases {phases}, failures {failed}"
    );
    assert!(
        new_events >= 6,
        "a UI hears the new events as they are stored: {new_events}"
    );

    let feed = engine.following_feed(&follows, 50).unwrap();
    let ids: Vec<EventId> = feed.iter().map(|e| e.id).collect();
    for e in &b_notes {
        assert!(ids.contains(&e.id), "B's notes arrive through B's outbox");
    }
    assert!(
        ids.contains(&c_note.id),
        "C is read from its second relay after the first failed"
    );
    assert!(a_store
        .query(&[Filter::new().author(stranger.public_key()).limit(5)])
        .unwrap()
        .is_empty());
    let dead_key = RelayUrl::parse(&dead).unwrap().to_string();
    assert!(
        report.relays[&dead_key].error.is_some(),
        "{:?}",
        report.relays
    );
    assert!(
        !report.plan.assignments.contains_key(&dead_key),
        "the final plan avoids the dead relay"
    );
    assert_eq!(report.with_relay_list, 3);
    let d_hex = d.public_key().to_hex();
    assert!(
        report
            .plan
            .orphans
            .iter()
            .any(|o| o.pubkey == d_hex
                && o.reason == samizdat_outbox::OrphanReason::AllRelaysUnusable),
        "D, whose only relay is dead, is an orphan with its reason: {:?}",
        report.plan.orphans
    );

    // Delivery is remembered per relay and person, for the planner's next run;
    // a second sync counts already-known events as delivered too.
    let b_url = RelayUrl::parse(&b_relay.url()).unwrap().to_string();
    let history = a_store
        .delivery_history(&[b.public_key(), c.public_key()])
        .unwrap();
    assert_eq!(history[&b_url][&b.public_key()], (1, 1));
    assert_eq!(
        history[&dead_key][&c.public_key()].1,
        0,
        "the dead relay delivered nothing"
    );
    engine.sync(&follows, &[], |_| {}).await.unwrap();
    let history = a_store.delivery_history(&[b.public_key()]).unwrap();
    assert_eq!(history[&b_url][&b.public_key()], (2, 2));
    // And how many of their events it returned: volume the planner weighs.
    let volume = a_store.delivery_volume(&[b.public_key()]).unwrap();
    assert!(volume[&b_url][&b.public_key()] >= 1, "{volume:?}");
    engine.shutdown().await;
}
