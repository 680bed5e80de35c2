//! The pool against our relay on 127.0.0.1: subscriptions, EOSE, live events,
//! publishing outcomes, seen-on-relay, statistics, AUTH policy, connection policy.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_net::{Decision, KeysAuthSigner, PolicyBook, PoolEvent, PublishOutcome, RelayUrl};
use samizdat_relay::RelayConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_receive_verify_store_and_go_live() {
    let (relay, relay_store, _d) = our_relay(RelayConfig::default()).await;
    let author = keys(1);
    let stored: Vec<Event> = (0..30)
        .map(|i| note(&author, &format!("old {i}"), 100 + i))
        .collect();
    relay_store.insert_batch(&stored).unwrap();
    let env = env();
    let (pool, mut rx) = pool(&env, fast_config(), PolicyBook::new(), None);
    let r = url(&relay.url());
    let filter = Filter::new()
        .author(author.public_key())
        .kind(Kind::TextNote)
        .limit(100);
    pool.subscribe(&r, "feed", vec![filter]).unwrap();
    let events = collect_until(&mut rx, Duration::from_secs(5), |e| eose_for(e, &r, "feed")).await;
    assert!(eose_for(&events, &r, "feed"));
    let mut got: Vec<EventId> = stored_ids(&env.store);
    got.sort();
    let mut want: Vec<EventId> = stored.iter().map(|e| e.id).collect();
    want.sort();
    assert_eq!(
        got, want,
        "every stored event arrived, verified, in the client store"
    );
    let sightings = env.store.seen_on(&stored[0].id).unwrap();
    assert_eq!(sightings[0].relay, r.to_string());
    let stats = env.store.relay_stats(&r.to_string()).unwrap().unwrap();
    assert_eq!(stats.successes, 1);
    assert!(stats.latency_ms.is_some());

    // A live event after EOSE.
    let live = note(&author, "live", 0);
    assert_eq!(
        pool.publish(&r, live.clone()).await,
        PublishOutcome::Accepted
    );
    let events = collect_until(&mut rx, Duration::from_secs(5), |e| {
        e.iter().any(|e| matches!(e, PoolEvent::Events { events, .. } if events.iter().any(|x| x.id == live.id)))
    })
    .await;
    assert!(!events.is_empty());
    assert!(env
        .store
        .existing_ids(&[live.id])
        .unwrap()
        .contains(&live.id));
    pool.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_outcomes_are_classified() {
    let mut config = RelayConfig::default();
    config.limits.max_content_length = 10;
    config.rate.events_per_second_per_author = 2;
    let (relay, _s, _d) = our_relay(config).await;
    let env = env();
    let (pool, _rx) = pool(&env, fast_config(), PolicyBook::new(), None);
    let r = url(&relay.url());
    let k = keys(2);
    let e = note(&k, "short", 5);
    assert_eq!(pool.publish(&r, e.clone()).await, PublishOutcome::Accepted);
    assert_eq!(pool.publish(&r, e.clone()).await, PublishOutcome::Duplicate);
    match pool
        .publish(&r, note(&k, "far too long for this relay", 4))
        .await
    {
        PublishOutcome::Rejected(reason) => assert!(reason.starts_with("invalid:"), "{reason}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    let mut limited = false;
    for i in 0..5 {
        if let PublishOutcome::RateLimited(_) = pool.publish(&r, note(&k, &format!("{i}"), 3)).await
        {
            limited = true;
        }
    }
    assert!(limited, "rate-limited answers are classified");
    pool.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_happens_only_where_the_policy_allows_it() {
    let (relay, relay_store, _d) = our_relay(RelayConfig::default()).await;
    let me = keys(3);
    let dm = EventBuilder::new(Kind::EncryptedDirectMessage, "cipher?iv=x")
        .tag(Tag::public_key(me.public_key()))
        .finalize(&keys(4))
        .unwrap();
    relay_store.insert(&dm).unwrap();
    let r = url(&relay.url());
    let filter = Filter::new()
        .kind(Kind::EncryptedDirectMessage)
        .pubkey(me.public_key())
        .limit(10);
    let signer: Arc<dyn samizdat_net::AuthSigner> = Arc::new(KeysAuthSigner(me.clone()));

    // Default policy: AUTH denied. The subscription is closed, the key never shown.
    let env1 = env();
    let (pool1, mut rx1) = pool(
        &env1,
        fast_config(),
        PolicyBook::new(),
        Some(Arc::clone(&signer)),
    );
    pool1.subscribe(&r, "dms", vec![filter.clone()]).unwrap();
    let events = collect_until(&mut rx1, Duration::from_secs(5), |e| {
        e.iter().any(|e| matches!(e, PoolEvent::Closed { .. }))
    })
    .await;
    assert!(events
        .iter()
        .any(|e| matches!(e, PoolEvent::AuthDeclined { .. })));
    assert!(events.iter().any(
        |e| matches!(e, PoolEvent::Closed { reason, .. } if reason.starts_with("auth-required:"))
    ));
    assert!(!events
        .iter()
        .any(|e| matches!(e, PoolEvent::Authenticated { .. })));
    assert!(stored_ids(&env1.store).is_empty());
    pool1.shutdown().await;

    // AUTH allowed for this relay: authenticate, re-REQ, receive the DM.
    let env2 = env();
    let policies = PolicyBook::new();
    policies.set_auth(&r, Decision::Allow);
    let (pool2, mut rx2) = pool(&env2, fast_config(), policies, Some(signer));
    pool2.subscribe(&r, "dms", vec![filter]).unwrap();
    let events = collect_until(&mut rx2, Duration::from_secs(5), |e| eose_for(e, &r, "dms")).await;
    assert!(events
        .iter()
        .any(|e| matches!(e, PoolEvent::Authenticated { .. })));
    assert_eq!(stored_ids(&env2.store), vec![dm.id]);

    // A protected event needs AUTH to publish: the pool authenticates and retries.
    let protected = EventBuilder::new(Kind::TextNote, "mine only")
        .tag(Tag::protected())
        .finalize(&me)
        .unwrap();
    assert_eq!(pool2.publish(&r, protected).await, PublishOutcome::Accepted);
    pool2.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_and_unlisted_relays_are_never_contacted() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let r = url(&format!("ws://{addr}"));
    let env = env();
    let policies = PolicyBook::new();
    policies.set_connect(&r, Decision::Deny);
    let (pool, mut rx) = pool(&env, fast_config(), policies.clone(), None);
    pool.subscribe(&r, "x", vec![Filter::new().limit(1)])
        .unwrap();
    assert_eq!(
        pool.publish(&r, note(&keys(5), "x", 1)).await,
        PublishOutcome::Denied
    );
    let events = collect_until(&mut rx, Duration::from_millis(500), |e| !e.is_empty()).await;
    assert!(matches!(events[0], PoolEvent::Denied { .. }));

    // Whitelist-only: a relay with no entry is denied too.
    let other = url(&format!("ws://localhost:{}", addr.port()));
    policies.set_whitelist_only(true);
    assert_eq!(
        pool.publish(&other, note(&keys(5), "y", 1)).await,
        PublishOutcome::Denied
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no TCP connection was made"
    );
    pool.shutdown().await;
}

#[test]
fn plain_websockets_to_public_hosts_are_refused() {
    let env = env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (pool, _rx) = pool(&env, fast_config(), PolicyBook::new(), None);
    assert!(pool.relay_url("ws://relay.example.com").is_err());
    assert!(pool.relay_url("wss://relay.example.com").is_ok());
    assert!(pool.relay_url("ws://127.0.0.1:7777").is_ok());
    let _ = RelayUrl::parse("ws://x.onion").unwrap();
}
