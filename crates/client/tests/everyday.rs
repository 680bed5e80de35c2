//! Spam-safe relays, NIP-50 search at one relay, and alerts, over our relay
//! on 127.0.0.1: a stranger's reply that only a relay that is not
//! spam-safe delivered is held back (and counted per relay) while a
//! followed person's is shown; marking the relay spam-safe shows it; a
//! search relay finds what the local store does not have; alerts name an
//! undelivered post, a relay that asks, a follow list changed on another
//! device and missing DM relays.

mod common;

use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::everyday::Pending;
use samizdat_client::RelayRoles;

use common::{local_session, url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spam_safe_inbox_relay_search_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let (home, home_store) = common::relay(&dir, "home").await;
    let (open_inbox, open_store) = common::relay(&dir, "open-inbox").await;
    let (search, search_store) = common::relay(&dir, "search").await;
    let (me, friend, stranger) = (Keys::generate(), Keys::generate(), Keys::generate());
    let follows = EventBuilder::new(Kind::ContactList, "")
        .tag(Tag::public_key(friend.public_key()))
        .finalize(&me)
        .unwrap();
    home_store.insert_batch(&[follows]).unwrap();
    let mention = |k: &Keys, text: &str| {
        EventBuilder::new(Kind::TextNote, text)
            .tag(Tag::public_key(me.public_key()))
            .finalize(k)
            .unwrap()
    };
    open_store
        .insert_batch(&[
            mention(&friend, "hi from a friend"),
            mention(&stranger, "buy my coin"),
        ])
        .unwrap();
    let profile = dir.path().join("me");
    let s = local_session(
        &profile,
        &me,
        &[(&url(&home), true, true), (&url(&open_inbox), true, false)],
        &url(&home),
    );
    // Strangers' items reach the spam-safe check only when the inbox's trust
    // threshold lets strangers in (by default they are outside the network).
    let mut trust = s.trust_settings();
    trust.inbox = 0;
    s.set_trust_settings(trust).unwrap();
    s.fetch_own().await.unwrap();
    s.fetch_inbox(50).await.unwrap();
    let (shown, held) = s.inbox_with_held(50).unwrap();
    let texts: Vec<&str> = shown.iter().map(|e| e.content.as_str()).collect();
    assert_eq!(texts, ["hi from a friend"]);
    assert_eq!(held.total, 1);
    assert_eq!(held.by_relay.get(&url(&open_inbox)), Some(&1), "{held:?}");
    assert!(s.is_spam_safe(&url(&home)), "own write relay by default");
    s.set_spam_safe(&url(&open_inbox), true).unwrap();
    assert_eq!(s.inbox(50).unwrap().len(), 2, "now taken from there too");

    // Search: nothing local, found at the search relay.
    let needle = EventBuilder::new(Kind::TextNote, "a needle in the haystack")
        .finalize(&stranger)
        .unwrap();
    search_store
        .insert_batch(std::slice::from_ref(&needle))
        .unwrap();
    assert!(s.search_local("needle", 10).unwrap().is_empty());
    let found = s.search_relay("needle", &url(&search), 10).await.unwrap();
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), [needle.id]);

    // Alerts.
    s.follow(stranger.public_key(), true).await.unwrap();
    let other_device = local_session(
        &dir.path().join("me2"),
        &me,
        &[(&url(&home), true, true)],
        &url(&home),
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    other_device
        .follow(Keys::generate().public_key(), true)
        .await
        .unwrap();
    s.fetch_own().await.unwrap();
    s.set_policy(&url(&search), None, Some("ask".into()), None)
        .unwrap();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    s.add_relay(
        &format!("ws://{dead}"),
        RelayRoles {
            read: false,
            write: true,
        },
        false,
    )
    .unwrap();
    s.post("not everywhere").await.unwrap();
    let alerts = s.alerts().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| matches!(a, Pending::ChangedElsewhere { list, .. } if list == "follow list")),
        "{alerts:?}"
    );
    assert!(alerts
        .iter()
        .any(|a| matches!(a, Pending::AsksFirst { what, .. } if what == "auth")));
    assert!(alerts
        .iter()
        .any(|a| matches!(a, Pending::NotEverywhere { missing, .. } if missing.len() == 1)));
    assert!(alerts.contains(&Pending::NoDmRelays));
    for x in [s, other_device] {
        x.shutdown().await;
    }
    drop((home, open_inbox, search));
}
