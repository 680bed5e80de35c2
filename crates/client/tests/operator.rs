//! Managing the user's own relay from the client, against our relay on
//! 127.0.0.1: the overview (methods, lists, moderation queue, roles,
//! metrics), a ban that the relay then enforces, events per minute between
//! two readings, the AUTH written in the privacy ledger; a key that is not
//! an admin, a bad URL and a dead relay each give a clear error.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::url;
use nostr::prelude::*;
use samizdat_client::{LocalSigner, SessionError};
use samizdat_relay::{PolicyConfig, RelayConfig};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_reads_bans_and_moderates_their_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (me, spammer, stranger) = (Keys::generate(), Keys::generate(), Keys::generate());
    let config = RelayConfig {
        policy: PolicyConfig {
            admins: vec![me.public_key().to_bech32().unwrap()],
            ..Default::default()
        },
        ..RelayConfig::default()
    };
    let (relay, relay_store) = common::relay_with(&dir, "mine", config).await;
    let relay_url = url(&relay);
    let s = common::session_at(
        &dir.path().join("me"),
        Arc::new(LocalSigner::new(me.clone())),
        &[(&relay_url, true, true)],
        &[],
        &[],
    );
    let spam = EventBuilder::new(Kind::TextNote, "buy my coin")
        .finalize(&spammer)
        .unwrap();
    let report = EventBuilder::new(Kind::Reporting, "")
        .tags([
            Tag::parse(["e", &spam.id.to_hex(), "spam"]).unwrap(),
            Tag::parse(["p", &spammer.public_key().to_hex(), "spam"]).unwrap(),
        ])
        .finalize(&stranger)
        .unwrap();
    relay_store.insert_batch(&[spam.clone(), report]).unwrap();

    let first = s.relay_overview(&relay_url).await.unwrap();
    assert!(first
        .methods
        .iter()
        .any(|m| m == "listeventsneedingmoderation"));
    assert_eq!(first.queue.len(), 1, "{:?}", first.queue);
    assert_eq!(first.queue[0].0.value, spam.id.to_hex());
    assert_eq!(first.queue[0].0.reason, "reported 1 time: spam");
    assert!(first.banned.is_empty());
    assert_eq!(first.metrics.events_per_minute, None, "first reading");

    // Ban from the queue: the key is banned, the event goes.
    s.manage_relay(
        &relay_url,
        "banpubkey",
        vec![json!(spammer.public_key().to_hex()), json!("spam")],
    )
    .await
    .unwrap();
    s.manage_relay(
        &relay_url,
        "banevent",
        vec![json!(spam.id.to_hex()), json!("spam")],
    )
    .await
    .unwrap();
    s.post("still here").await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let second = s.relay_overview(&relay_url).await.unwrap();
    assert_eq!(second.banned.len(), 1);
    assert_eq!(second.banned[0].value, spammer.public_key().to_hex());
    assert_eq!(second.banned[0].reason, "spam");
    assert!(second.queue.is_empty());
    assert!(second.metrics.events_accepted > first.metrics.events_accepted);
    assert!(
        second.metrics.events_per_minute.is_some_and(|m| m > 0.0),
        "{:?}",
        second.metrics
    );
    let report = s.privacy_report().unwrap();
    let ledger = report
        .relays
        .iter()
        .find(|r| r.relay.contains(&relay.local_addr().port().to_string()));
    assert!(
        ledger.is_some_and(|l| l.auth_as.contains(&me.public_key().to_hex())),
        "the relay learned the key: {ledger:?}"
    );

    // Errors: a key that is not an admin, a bad URL, a dead relay, a bad method.
    let other = common::session_at(
        &dir.path().join("other"),
        Arc::new(LocalSigner::new(stranger)),
        &[(&relay_url, true, true)],
        &[],
        &[],
    );
    let err = other.relay_overview(&relay_url).await.unwrap_err();
    assert!(
        err.to_string().contains("403") && err.to_string().contains("not an admin"),
        "{err}"
    );
    let err = s.relay_overview("not a url").await.unwrap_err();
    assert!(matches!(err, SessionError::BadRelay(_)), "{err}");
    let err = s.relay_overview(&common::dead_url()).await.unwrap_err();
    assert!(matches!(err, SessionError::Manage(_)), "{err}");
    let err = s
        .manage_relay(&relay_url, "dropalltables", vec![])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unsupported method"), "{err}");
    for x in [s, other] {
        x.shutdown().await;
    }
}
