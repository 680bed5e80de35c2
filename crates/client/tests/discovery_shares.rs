//! Under an exposure cap, the discovery relays share the follow list out:
//! each is asked about its own part only (the privacy ledger shows it),
//! everyone is still found; without a cap each is asked about everyone.

mod common;

use common::{asked_about, relay};
use std::collections::BTreeSet;
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
async fn with_a_cap_each_discovery_relay_learns_only_its_share() {
    let dir = tempfile::tempdir().unwrap();
    let (one, one_store) = relay(&dir, "discovery-one").await;
    let (two, two_store) = relay(&dir, "discovery-two").await;
    // Everyone writes to two content relays, so a 50% cap can read all.
    let (c1, c1_store) = relay(&dir, "content-1").await;
    let (c2, c2_store) = relay(&dir, "content-2").await;
    let people: Vec<Keys> = (0..8).map(|_| Keys::generate()).collect();
    for p in &people {
        // Both discovery relays hold every list.
        let list = relay_list(p, &[c1.url(), c2.url()]);
        one_store.insert(&list).unwrap();
        two_store.insert(&list).unwrap();
        let note = EventBuilder::new(Kind::TextNote, "hello")
            .finalize(p)
            .unwrap();
        c1_store.insert(&note).unwrap();
        c2_store.insert(&note).unwrap();
    }
    let follows: Vec<PublicKey> = people.iter().map(|k| k.public_key()).collect();
    let everyone: BTreeSet<String> = follows.iter().map(|p| p.to_hex()).collect();
    let discovery = vec![
        RelayUrl::parse(&one.url()).unwrap(),
        RelayUrl::parse(&two.url()).unwrap(),
    ];
    let engine_with = |name: &str, cap: Option<f64>| {
        let store = Arc::new(Store::open(dir.path().join(name)).unwrap());
        let mut net = NetConfig::default();
        net.transport.connect_timeout = Duration::from_secs(2);
        let config = EngineConfig {
            discovery: discovery.clone(),
            phase_timeout: Duration::from_secs(10),
            max_exposure: cap,
            net,
            ..EngineConfig::default()
        };
        (
            Engine::new(Arc::clone(&store), config, PolicyBook::new(), None),
            store,
        )
    };
    let one_key = discovery[0].to_string();
    let two_key = discovery[1].to_string();

    // No cap: both discovery relays learn the whole follow list.
    let (open, open_store) = engine_with("open.sqlite", None);
    let report = open.sync(&follows, &[], |_| {}).await.unwrap();
    assert_eq!(report.with_relay_list, 8);
    assert_eq!(asked_about(&open_store, &one_key), everyone);
    assert_eq!(asked_about(&open_store, &two_key), everyone);

    // A 50% cap: each learns half, together everyone; all lists are found.
    let (capped, capped_store) = engine_with("capped.sqlite", Some(0.5));
    let report = capped.sync(&follows, &[], |_| {}).await.unwrap();
    assert_eq!(report.with_relay_list, 8, "every list still found");
    let (a, b) = (
        asked_about(&capped_store, &one_key),
        asked_about(&capped_store, &two_key),
    );
    assert_eq!((a.len(), b.len()), (4, 4), "{a:?} {b:?}");
    assert!(a.is_disjoint(&b));
    assert_eq!(a.union(&b).cloned().collect::<BTreeSet<_>>(), everyone);
    // The planner spends a content relay's room at a pace (60% of what is
    // left per sync): 3 of its 4 places now, the last one next time.
    let feed = capped.following_feed(&follows, 50).unwrap();
    assert_eq!(feed.len(), 6, "three new people per content relay");
    capped.sync(&follows, &[], |_| {}).await.unwrap();
    let feed = capped.following_feed(&follows, 50).unwrap();
    assert_eq!(feed.len(), 8, "everyone's note read by the second sync");
    assert_eq!(
        asked_about(&capped_store, &one_key),
        a,
        "the discovery shares are the same each sync"
    );
}
