//! Hints are not beacons: a stranger's note names relays in its tags and in
//! the stranger's relay list. Each of those relays is a listener that counts
//! connections. Opening the thread without a proxy contacts none of them
//! and says why; allowing it contacts at most three, and the privacy ledger
//! says who named each; once the user follows the stranger, the relays they
//! name are trusted.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nostr::prelude::*;

/// A listener that counts the connections made to it (and drops them).
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (
        samizdat_net::RelayUrl::parse(&url).unwrap().to_string(),
        count,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_hints_are_not_contacted_without_a_proxy_or_consent() {
    let dir = tempfile::tempdir().unwrap();
    let (own, _) = common::relay(&dir, "own").await;
    let own_url = common::url(&own);
    let (me, stranger) = (Keys::generate(), Keys::generate());
    let beacons: Vec<(String, Arc<AtomicUsize>)> = (0..4).map(|_| counting_listener()).collect();
    let contacts = || -> usize { beacons.iter().map(|(_, c)| c.load(Ordering::SeqCst)).sum() };
    let root_id = EventId::from_byte_array([7; 32]);
    // The stranger's reply names two relays in its tags, and their relay
    // list names two more.
    let reply = EventBuilder::new(Kind::TextNote, "come read the rest")
        .tags([
            Tag::parse(["e", &root_id.to_hex(), &beacons[0].0, "root"]).unwrap(),
            Tag::parse(["p", &me.public_key().to_hex(), &beacons[1].0]).unwrap(),
        ])
        .finalize(&stranger)
        .unwrap();
    let list = EventBuilder::new(Kind::RelayList, "")
        .tags([
            Tag::parse(["r", &beacons[2].0]).unwrap(),
            Tag::parse(["r", &beacons[3].0]).unwrap(),
        ])
        .finalize(&stranger)
        .unwrap();
    let s = common::local_session(dir.path(), &me, &[(&own_url, true, true)], &own_url);
    s.engine()
        .store()
        .insert_batch(&[reply.clone(), list])
        .unwrap();

    let read = s.thread_read(reply.id, false).await.unwrap();
    assert_eq!(contacts(), 0, "no beacon was contacted");
    assert_eq!(read.skipped.len(), 4, "{:?}", read.skipped);
    let npub = stranger.public_key().to_bech32().unwrap();
    assert!(read.skipped[0].1.contains(&npub), "{:?}", read.skipped[0]);
    assert!(read.skipped[0].1.contains("without a proxy"));
    assert!(
        !read.events.is_empty(),
        "the thread still shows what is known"
    );

    // Allowed: at most three of them, each written in the ledger with who
    // named it.
    let read = s.thread_read(reply.id, true).await.unwrap();
    assert_eq!(read.stranger_relays.len(), 3);
    assert_eq!(read.skipped.len(), 1);
    assert!(read.skipped[0].1.contains("more than 3"));
    let contacted = beacons
        .iter()
        .filter(|(_, c)| c.load(Ordering::SeqCst) > 0)
        .count();
    assert_eq!(contacted, 3, "three beacons contacted, the fourth not");
    let report = s.privacy_report().unwrap();
    let named: Vec<_> = report
        .relays
        .iter()
        .filter(|r| !r.named_by.is_empty())
        .collect();
    assert_eq!(named.len(), 3);
    assert!(named.iter().all(|r| r.named_by == [npub.clone()]));
    assert!(
        named[0].summary.contains("named it"),
        "{}",
        named[0].summary
    );

    // Followed, the stranger is no stranger: their relays are trusted.
    let follows = EventBuilder::new(Kind::ContactList, "")
        .tag(Tag::public_key(stranger.public_key()))
        .finalize(&me)
        .unwrap();
    s.engine().store().insert_batch(&[follows]).unwrap();
    let read = s.thread_read(reply.id, false).await.unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert!(read.stranger_relays.is_empty());
    s.shutdown().await;
}

/// Looking up a stranger's name (as the desktop does for people in a
/// thread or a conversation) or reading the relays an nprofile names does
/// not contact the relays in the stranger's relay list or reference
/// without a proxy; the user's own relay is still asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_relay_list_and_nprofile_are_not_beacons_either() {
    let dir = tempfile::tempdir().unwrap();
    let (own, _) = common::relay(&dir, "own").await;
    let own_url = common::url(&own);
    let (me, stranger) = (Keys::generate(), Keys::generate());
    let beacons: Vec<(String, Arc<AtomicUsize>)> = (0..3).map(|_| counting_listener()).collect();
    let contacts = || -> usize { beacons.iter().map(|(_, c)| c.load(Ordering::SeqCst)).sum() };
    let list = EventBuilder::new(Kind::RelayList, "")
        .tags([
            Tag::parse(["r", &beacons[0].0]).unwrap(),
            Tag::parse(["r", &beacons[1].0]).unwrap(),
        ])
        .finalize(&stranger)
        .unwrap();
    let s = common::local_session(dir.path(), &me, &[(&own_url, true, true)], &own_url);
    s.engine().store().insert_batch(&[list]).unwrap();

    s.fetch_profiles_of(&[stranger.public_key()]).await.unwrap();
    assert_eq!(contacts(), 0, "the stranger's relays were not contacted");

    let skipped = s
        .fetch_relay_list_from(
            stranger.public_key(),
            std::slice::from_ref(&beacons[2].0),
            samizdat_store::HintSource::Reference,
        )
        .await
        .unwrap();
    assert_eq!(contacts(), 0, "nor the nprofile's relay");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].1.contains("without a proxy"), "{skipped:?}");
    let asked = s.privacy_report().unwrap();
    assert!(
        asked.relays.iter().any(|r| r.relay == own_url),
        "the user's own relay was asked: {:?}",
        asked.relays.iter().map(|r| &r.relay).collect::<Vec<_>>()
    );
    s.shutdown().await;
}
