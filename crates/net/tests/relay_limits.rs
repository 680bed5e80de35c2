//! The pool respects what a relay declares in NIP-11: filters per REQ (split
//! into several REQs), open subscriptions (the rest wait their turn) and
//! `limit` (lowered). Our relay enforces the same limits, so a breach would
//! come back as CLOSED.

mod common;

use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_net::{PolicyBook, PoolEvent};
use samizdat_relay::RelayConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_limits_are_respected_and_extra_subscriptions_wait() {
    let mut config = RelayConfig::default();
    config.limits.max_subscriptions = 2;
    config.limits.max_filters = 1;
    config.limits.max_limit = 3;
    let (relay, relay_store, _d) = our_relay(config).await;
    let (a, b) = (keys(30), keys(31));
    let mut events: Vec<Event> = (0..5).map(|i| note(&a, &format!("a{i}"), 10 + i)).collect();
    events.extend((0..5).map(|i| note(&b, &format!("b{i}"), 10 + i)));
    relay_store.insert_batch(&events).unwrap();

    let env = env();
    let (pool, mut rx) = pool(&env, fast_config(), PolicyBook::new(), None);
    let r = url(&relay.url());
    // Two filters: with max_filters 1 this needs two REQs, filling both slots.
    pool.subscribe(
        &r,
        "first",
        vec![
            Filter::new().author(a.public_key()).limit(100),
            Filter::new().author(b.public_key()).limit(100),
        ],
    )
    .unwrap();
    pool.subscribe(
        &r,
        "second",
        vec![Filter::new().author(a.public_key()).limit(1)],
    )
    .unwrap();
    let seen = collect_until(&mut rx, Duration::from_secs(5), |e| {
        eose_for(e, &r, "first")
    })
    .await;
    assert!(eose_for(&seen, &r, "first"));
    assert!(
        !seen.iter().any(|e| matches!(e, PoolEvent::Closed { .. })),
        "no limit was breached: {seen:?}"
    );
    assert_eq!(
        stored_ids(&env.store).len(),
        6,
        "limit lowered to 3 per filter"
    );
    let early = collect_until(&mut rx, Duration::from_millis(400), |e| {
        eose_for(e, &r, "second")
    })
    .await;
    assert!(
        !eose_for(&early, &r, "second"),
        "the third REQ waits for a free slot"
    );

    pool.unsubscribe(&r, "first").unwrap();
    let later = collect_until(&mut rx, Duration::from_secs(5), |e| {
        eose_for(e, &r, "second")
    })
    .await;
    assert!(eose_for(&later, &r, "second"));
    assert!(!later.iter().any(|e| matches!(e, PoolEvent::Closed { .. })));
    pool.shutdown().await;
    relay.shutdown().await;
}
