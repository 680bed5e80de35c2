//! NIP-77 negentropy between our pool and our relay on 127.0.0.1: the ids
//! each side lacks are found with a few kilobytes, gift wraps only after
//! AUTH, and a relay without NIP-77 is told apart (so callers fall back).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_net::{KeysAuthSigner, NegError, PolicyBook};
use samizdat_relay::RelayConfig;

fn items(events: &[Event]) -> Vec<(Timestamp, EventId)> {
    events.iter().map(|e| (e.created_at, e.id)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_what_each_side_lacks() {
    let (relay, relay_store, _d) = our_relay(RelayConfig::default()).await;
    let me = keys(1);
    let all: Vec<Event> = (0..2_000)
        .map(|i| note(&me, &format!("n{i}"), 10 + i))
        .collect();
    // The relay lost every 100th; we never had every 150th.
    let on_relay: Vec<Event> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 100 != 0)
        .map(|(_, e)| e.clone())
        .collect();
    relay_store.insert_batch(&on_relay).unwrap();
    let mine: Vec<Event> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 150 != 1)
        .map(|(_, e)| e.clone())
        .collect();
    let env = env();
    let (pool, _rx) = pool(&env, fast_config(), PolicyBook::new(), None);
    let r = url(&relay.url());
    let filter = Filter::new().author(me.public_key());
    let out = pool
        .negentropy(&r, filter, items(&mine), Duration::from_secs(10))
        .await
        .unwrap();
    let mut have = out.have.clone();
    have.sort();
    let mut want_have: Vec<EventId> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 100 == 0 && i % 150 != 1)
        .map(|(_, e)| e.id)
        .collect();
    want_have.sort();
    assert_eq!(have, want_have);
    let mut need = out.need.clone();
    need.sort();
    let mut want_need: Vec<EventId> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 150 == 1 && i % 100 != 0)
        .map(|(_, e)| e.id)
        .collect();
    want_need.sort();
    assert_eq!(need, want_need);
    assert!(out.rounds >= 1);
    assert!(
        out.bytes_sent + out.bytes_received < 64 * 2_000,
        "far less than the ids themselves: {out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gift_wraps_need_auth_and_unsupported_relays_are_told_apart() {
    let (relay, relay_store, _d) = our_relay(RelayConfig::default()).await;
    let me = keys(2);
    let wrap = EventBuilder::new(Kind::GiftWrap, "sealed")
        .tag(Tag::public_key(me.public_key()))
        .finalize(&keys(3))
        .unwrap();
    relay_store
        .insert_batch(std::slice::from_ref(&wrap))
        .unwrap();
    let r = url(&relay.url());
    let filter = Filter::new().kind(Kind::GiftWrap).pubkey(me.public_key());
    // Without AUTH allowed: refused, the key never shown.
    let env1 = env();
    let (plain_pool, _rx) = pool(&env1, fast_config(), PolicyBook::new(), None);
    let refused = plain_pool
        .negentropy(&r, filter.clone(), vec![], Duration::from_secs(5))
        .await;
    assert!(
        matches!(&refused, Err(NegError::Refused(why)) if why.starts_with("auth-required:")),
        "{refused:?}"
    );
    // With AUTH allowed for this relay: the wrap is found.
    let env2 = env();
    let policies = PolicyBook::new();
    policies.set_auth(&r, samizdat_net::Decision::Allow);
    let signer = Arc::new(KeysAuthSigner(me.clone()));
    let (pool2, _rx2) = pool(&env2, fast_config(), policies, Some(signer));
    let out = pool2
        .negentropy(&r, filter, vec![], Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(out.need, vec![wrap.id]);

    // A relay with NIP-77 off answers NEG-OPEN with a NOTICE.
    let (plain, _, _d2) = our_relay(RelayConfig {
        negentropy: false,
        ..RelayConfig::default()
    })
    .await;
    let unsupported = plain_pool
        .negentropy(
            &url(&plain.url()),
            Filter::new().author(me.public_key()),
            vec![],
            Duration::from_secs(5),
        )
        .await;
    assert!(
        matches!(unsupported, Err(NegError::Unsupported(_))),
        "{unsupported:?}"
    );
}
