//! NIP-42 AUTH, DM privacy (kinds 4 and 1059 only to their authenticated
//! recipients) and NIP-70 protected events.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn auth_accepts_the_right_challenge_and_refuses_others() {
    let relay = start_relay(Default::default()).await;
    let url = relay.handle.url();
    let mut c = Client::connect(&url).await;
    assert_eq!(c.challenge.len(), 32);
    let good = c.auth(&keys(1), &url).await;
    assert_eq!(good[2], true, "{good}");

    let mut other = Client::connect(&url).await;
    assert_ne!(
        other.challenge, c.challenge,
        "challenges are per connection"
    );
    other.challenge = c.challenge.clone();
    let replayed = other.auth(&keys(1), &url).await;
    assert_eq!(replayed[2], false);
    assert!(
        replayed[3].as_str().unwrap().starts_with("invalid:"),
        "{replayed}"
    );

    let mut wrong_relay = Client::connect(&url).await;
    let refused = wrong_relay
        .auth(&keys(1), "wss://another.relay.example")
        .await;
    assert_eq!(refused[2], false, "{refused}");
}

#[tokio::test]
async fn dms_and_gift_wraps_go_only_to_their_authenticated_recipient() {
    let relay = start_relay(Default::default()).await;
    let url = relay.handle.url();
    let (alice, bob, carol) = (keys(1), keys(2), keys(3));
    let bob_hex = bob.public_key().to_hex();
    let dm = signed(&alice, 4, "ciphertext?iv=x", &[&["p", &bob_hex]], now() - 5);
    let wrap = signed(&keys(9), 1059, "sealed", &[&["p", &bob_hex]], now() - 4);
    let public = signed(&alice, 1, "hello world", &[], now() - 3);
    let mut sender = Client::connect(&url).await;
    for e in [&dm, &wrap, &public] {
        assert_eq!(sender.publish(e).await[2], true);
    }

    // A stranger asking for DMs only is told to authenticate.
    let mut stranger = Client::connect(&url).await;
    let closed = stranger
        .req("dm", vec![json!({"kinds": [4, 1059]})])
        .await
        .unwrap_err();
    assert!(closed.starts_with("auth-required:"), "{closed}");
    // Asking for everything returns only the public note.
    let all = stranger
        .req("all", vec![json!({"limit": 10})])
        .await
        .unwrap();
    assert_eq!(ids(&all), vec![public.id]);
    // Asking by the recipient's p tag, unauthenticated: nothing private.
    let by_p = stranger
        .req("p", vec![json!({"#p": [bob_hex]})])
        .await
        .unwrap();
    assert!(by_p.is_empty());

    // Carol authenticated is still not the recipient.
    let mut c = Client::connect(&url).await;
    c.auth(&carol, &url).await;
    assert!(c
        .req("dm", vec![json!({"kinds": [4, 1059]})])
        .await
        .unwrap()
        .is_empty());

    // Bob authenticated gets both; Alice (the DM's author) gets her DM.
    let mut b = Client::connect(&url).await;
    b.auth(&bob, &url).await;
    let mine = b
        .req("dm", vec![json!({"kinds": [4, 1059]})])
        .await
        .unwrap();
    assert_eq!(ids(&mine), vec![wrap.id, dm.id]);
    let mut a = Client::connect(&url).await;
    a.auth(&alice, &url).await;
    assert_eq!(
        ids(&a.req("dm", vec![json!({"kinds": [4]})]).await.unwrap()),
        vec![dm.id]
    );

    // Live: a new gift wrap for Bob reaches Bob and not Carol's catch-all.
    c.req("live", vec![json!({"kinds": [1059]})]).await.unwrap();
    let live = signed(&keys(10), 1059, "sealed 2", &[&["p", &bob_hex]], now());
    sender.publish(&live).await;
    let got = b.recv().await;
    assert_eq!(got[2]["id"], live.id.to_hex());
    assert!(c.try_recv(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn protected_events_need_their_author_authenticated() {
    let relay = start_relay(Default::default()).await;
    let url = relay.handle.url();
    let (alice, bob) = (keys(1), keys(2));
    let protected = signed(&alice, 1, "only from me", &[&["-"]], now());
    let mut c = Client::connect(&url).await;
    let refused = c.publish(&protected).await;
    assert_eq!(refused[2], false);
    assert!(
        refused[3].as_str().unwrap().starts_with("auth-required:"),
        "{refused}"
    );
    c.auth(&bob, &url).await;
    assert_eq!(
        c.publish(&protected).await[2],
        false,
        "someone else's key does not count"
    );
    c.auth(&alice, &url).await;
    assert_eq!(c.publish(&protected).await[2], true);
}
