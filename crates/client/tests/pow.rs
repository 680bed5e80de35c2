//! Proof of work through the session, against our relay on 127.0.0.1: a
//! mined post arrives with its nonce tag and target; a cancelled one
//! publishes nothing and queues nothing.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::pow::{leading_zero_bits, PowError, PowProgress};
use samizdat_client::{LocalSigner, RelayRoles, Session, SessionConfig, SessionError, Settings};
use samizdat_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mined_posts_arrive_and_cancelled_ones_publish_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, relay_store) = common::relay(&dir, "relay").await;
    let url = samizdat_net::RelayUrl::parse(&relay.url())
        .unwrap()
        .to_string();
    let keys = Keys::generate();
    let mut settings = Settings::default();
    settings.relays.insert(
        url,
        RelayRoles {
            read: true,
            write: true,
        },
    );
    let path = dir.path().join("settings.json");
    settings.save(&path).unwrap();
    let store = Arc::new(Store::open(dir.path().join("events.sqlite")).unwrap());
    let session = Session::with_store(
        Arc::clone(&store),
        path,
        Arc::new(LocalSigner::new(keys.clone())),
        SessionConfig::default(),
    )
    .unwrap();

    let progress = PowProgress::new();
    let published = session
        .post_with_pow("worked for it", None, 14, Arc::clone(&progress))
        .await
        .unwrap();
    assert!(leading_zero_bits(published.event.id.as_bytes()) >= 14);
    let on_relay = relay_store
        .query(&[Filter::new().id(published.event.id)])
        .unwrap();
    assert_eq!(on_relay.len(), 1);
    let nonce: Vec<String> = on_relay[0]
        .tags
        .iter()
        .find(|t| t.as_slice()[0] == "nonce")
        .unwrap()
        .as_slice()
        .to_vec();
    assert_eq!(nonce[2], "14");

    // Cancelled mid-way: nothing published, nothing queued.
    let progress = PowProgress::new();
    let canceller = Arc::clone(&progress);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        canceller.cancel.store(true, Ordering::SeqCst);
    });
    let err = session
        .post_with_pow("never published", None, 60, Arc::clone(&progress))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Pow(PowError::Cancelled)),
        "{err}"
    );
    assert!(progress.hashes.load(Ordering::Relaxed) > 0, "it did mine");
    let mine = Filter::new()
        .author(keys.public_key())
        .kind(Kind::TextNote)
        .limit(10);
    assert_eq!(
        relay_store
            .query(std::slice::from_ref(&mine))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.query(&[mine]).unwrap().len(),
        1,
        "nothing stored or queued"
    );
    assert_eq!(session.publish_status(10).unwrap().len(), 1);

    // The profile default.
    session.set_pow_default(Some(8)).unwrap();
    assert_eq!(session.settings().pow, Some(8));
    assert!(session.set_pow_default(Some(65)).is_err());
    session.shutdown().await;
}
