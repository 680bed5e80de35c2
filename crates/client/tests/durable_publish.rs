//! Durable publishing: a post queued for two relays, one of them down, is
//! delivered to the second after a "crash" (everything dropped, the store
//! reopened from its file) once the relay comes up.

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::{Engine, EngineConfig};
use samizdat_net::{NetConfig, PolicyBook, PublishOutcome, RelayUrl};
use samizdat_store::{DeliveryState, Store};

fn config() -> EngineConfig {
    let mut net = NetConfig::default();
    net.transport.connect_timeout = Duration::from_secs(1);
    net.ok_timeout = Duration::from_secs(1);
    EngineConfig {
        net,
        retry_base: Duration::from_secs(1),
        ..EngineConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_survives_a_crash_and_reaches_every_relay() {
    let dir = tempfile::tempdir().unwrap();
    let up_store = Arc::new(Store::open(dir.path().join("up.sqlite")).unwrap());
    let up = samizdat_relay::start(
        Default::default(),
        up_store.clone(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let later_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let targets = vec![
        RelayUrl::parse(&up.url()).unwrap(),
        RelayUrl::parse(&format!("ws://{later_addr}")).unwrap(),
    ];
    let keys = Keys::generate();
    let post = EventBuilder::new(Kind::TextNote, "this must get everywhere")
        .finalize(&keys)
        .unwrap();
    let path = dir.path().join("me.sqlite");

    {
        let engine = Engine::new(
            Arc::new(Store::open(&path).unwrap()),
            config(),
            PolicyBook::new(),
            None,
        );
        let mut updates = engine.subscribe();
        let results = engine.publish(&post, &targets).await.unwrap();
        let mut deliveries = 0;
        let mut alert = None;
        while let Ok(u) = updates.try_recv() {
            match u {
                samizdat_client::EngineUpdate::Delivery { .. } => deliveries += 1,
                samizdat_client::EngineUpdate::Alert(a) => alert = Some(a),
                _ => {}
            }
        }
        assert_eq!(deliveries, 2, "a UI hears each delivery attempt");
        assert_eq!(
            alert,
            Some(samizdat_client::Alert::PostNotEverywhere {
                event: post.id,
                missing: vec![targets[1].to_string()]
            })
        );
        assert!(
            results
                .iter()
                .any(|(r, o)| *r == targets[0].to_string() && *o == PublishOutcome::Accepted),
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .any(|(r, o)| *r == targets[1].to_string() && !o.delivered()),
            "{results:?}"
        );
        // The process "dies" here: no shutdown, nothing flushed by hand.
    }

    let later_store = Arc::new(Store::open(dir.path().join("later.sqlite")).unwrap());
    let later = samizdat_relay::start(Default::default(), later_store.clone(), later_addr)
        .await
        .unwrap();
    let engine = Engine::new(
        Arc::new(Store::open(&path).unwrap()),
        config(),
        PolicyBook::new(),
        None,
    );
    let status = engine.publish_status(10).unwrap();
    let pending: Vec<_> = status[0]
        .deliveries
        .iter()
        .filter(|d| d.state == DeliveryState::Pending)
        .collect();
    assert_eq!(
        pending.len(),
        1,
        "the second relay is still pending after the restart"
    );
    assert!(pending[0].last_error.is_some());
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let retried = engine.deliver_due().await.unwrap();
    assert_eq!(
        retried,
        vec![(targets[1].to_string(), PublishOutcome::Accepted)]
    );
    let status = engine.publish_status(10).unwrap();
    assert!(
        status[0]
            .deliveries
            .iter()
            .all(|d| d.state == DeliveryState::Delivered),
        "{:?}",
        status[0].deliveries
    );
    assert_eq!(status[0].event.id, post.id);
    for store in [&up_store, &later_store] {
        assert!(store.existing_ids(&[post.id]).unwrap().contains(&post.id));
    }
    assert!(
        engine.deliver_due().await.unwrap().is_empty(),
        "nothing is sent twice"
    );
    engine.shutdown().await;
    up.shutdown().await;
    later.shutdown().await;
}
