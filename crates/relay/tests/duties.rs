//! The field's newer relay duties, on both engines (`pg_suite` runs them on
//! PostgreSQL): NIP-62 request to vanish (everything of the key and the
//! gift wraps to it go, and cannot come back; honoured on a relay the key
//! may not write to), gift wraps dated two days back accepted under a
//! lower `created_at` limit, NIP-09 deletion of a gift wrap by its
//! recipient, NIP-70 reposts carrying a protected event refused, and NIP-98
//! authorizations whose method is written `post`.

mod common;

use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PolicyConfig, RelayConfig, WriteMode};
use serde_json::json;

fn wrap_to(recipient: &PublicKey, ago: u64) -> Event {
    let throwaway = Keys::generate();
    signed(
        &throwaway,
        1059,
        "sealed",
        &[&["p", &recipient.to_hex()]],
        now() - ago,
    )
}

fn stored(relay: &TestRelay, filter: Filter) -> Vec<Event> {
    relay.store.query(&[filter.limit(100)]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_vanishes_with_its_messages_and_stays_gone() {
    let (alice, bob) = (keys(1), keys(2));
    let relay = start_relay(RelayConfig::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let notes: Vec<Event> = (0..3)
        .map(|i| signed(&alice, 1, &format!("note {i}"), &[], now() - 60 + i))
        .collect();
    for n in &notes {
        assert_eq!(c.publish(n).await[2], true);
    }
    let deletion = signed(&alice, 5, "", &[&["e", &notes[0].id.to_hex()]], now() - 30);
    assert_eq!(c.publish(&deletion).await[2], true);
    let wrap = wrap_to(&alice.public_key(), 3_600);
    assert_eq!(c.publish(&wrap).await[2], true);
    let bobs = signed(&bob, 1, "bob stays", &[], now() - 10);
    assert_eq!(c.publish(&bobs).await[2], true);
    // A request naming another relay is an ordinary event here.
    let elsewhere = signed(
        &alice,
        62,
        "",
        &[&["relay", "wss://elsewhere.example"]],
        now(),
    );
    assert_eq!(c.publish(&elsewhere).await[2], true);
    assert!(!stored(&relay, Filter::new().author(alice.public_key())).is_empty());

    let request = signed(&alice, 62, "GDPR", &[&["relay", "ALL_RELAYS"]], now());
    let ok = c.publish(&request).await;
    assert_eq!(ok[2], true, "{ok}");
    assert!(ok[3].as_str().unwrap().starts_with("vanished: "), "{ok}");
    assert!(
        stored(&relay, Filter::new().author(alice.public_key())).is_empty(),
        "all of hers"
    );
    assert!(
        stored(
            &relay,
            Filter::new()
                .kind(Kind::GiftWrap)
                .pubkey(alice.public_key())
        )
        .is_empty(),
        "the wraps to her"
    );
    assert_eq!(
        stored(&relay, Filter::new().author(bob.public_key())).len(),
        1,
        "bob's stay"
    );
    // Nothing of before comes back; what she writes afterwards is taken.
    let again = c.publish(&notes[1]).await;
    assert_eq!(again[2], false);
    assert!(again[3].as_str().unwrap().contains("vanish"), "{again}");
    assert_eq!(c.publish(&wrap).await[2], false, "the wrap neither");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = signed(&alice, 1, "back again", &[], now());
    assert_eq!(c.publish(&later).await[2], true);
    // It holds after a restart (the moderation lists keep it).
    let relay = relay.restart(RelayConfig::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    assert_eq!(c.publish(&notes[2]).await[2], false);

    // A relay the key may not write to honours the request all the same.
    let owner = keys(9);
    let personal = RelayConfig {
        policy: PolicyConfig {
            write: WriteMode::Owner,
            owners: vec![owner.public_key().to_bech32().unwrap()],
            ..Default::default()
        },
        ..RelayConfig::default()
    };
    let relay = start_relay(personal).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let wrap = wrap_to(&bob.public_key(), 60);
    relay
        .store
        .insert_batch(std::slice::from_ref(&wrap))
        .unwrap();
    let request = signed(&bob, 62, "", &[&["relay", &relay.handle.url()]], now());
    let ok = c.publish(&request).await;
    assert_eq!(ok[2], true, "{ok}");
    assert!(stored(&relay, Filter::new().kind(Kind::GiftWrap)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backdated_wraps_recipient_deletions_protected_reposts_and_lowercase_methods() {
    let (alice, admin) = (keys(1), keys(3));
    let mut config = RelayConfig {
        policy: PolicyConfig {
            admins: vec![admin.public_key().to_bech32().unwrap()],
            ..Default::default()
        },
        ..RelayConfig::default()
    };
    config.limits.created_at_lower_limit = 3_600;
    let relay = start_relay(config).await;
    let mut c = Client::connect(&relay.handle.url()).await;

    // Gift wraps may be two days old whatever the limit; a note may not.
    let wrap = wrap_to(&alice.public_key(), 47 * 3_600);
    assert_eq!(c.publish(&wrap).await[2], true, "a wrap dated 47 h back");
    let old_note = signed(&alice, 1, "old", &[], now() - 7_200);
    assert_eq!(c.publish(&old_note).await[2], false, "a note 2 h back");
    let ancient = wrap_to(&alice.public_key(), 4 * 86_400);
    assert_eq!(c.publish(&ancient).await[2], false, "a wrap 4 days back");

    // The recipient deletes a wrap to her (its author is a throwaway key).
    let deletion = signed(&alice, 5, "", &[&["e", &wrap.id.to_hex()]], now());
    assert_eq!(c.publish(&deletion).await[2], true);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !stored(&relay, Filter::new().id(wrap.id)).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the wrap is still stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back = c.publish(&wrap).await;
    assert_eq!(back[2], false, "and it cannot come back: {back}");
    // Someone else's deletion of a wrap to alice does nothing.
    let other = wrap_to(&alice.public_key(), 60);
    assert_eq!(c.publish(&other).await[2], true);
    let stranger = signed(&keys(7), 5, "", &[&["e", &other.id.to_hex()]], now());
    assert_eq!(c.publish(&stranger).await[2], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored(&relay, Filter::new().id(other.id)).len(), 1);

    // NIP-70: a repost carrying a protected event is refused.
    let protected = signed(&alice, 1, "only I publish this", &[&["-"]], now());
    let plain = signed(&alice, 1, "share me", &[], now());
    let repost = |of: &Event| {
        signed(
            &keys(8),
            6,
            &of.as_json(),
            &[&["e", &of.id.to_hex()], &["p", &of.pubkey.to_hex()]],
            now(),
        )
    };
    let refused = c.publish(&repost(&protected)).await;
    assert_eq!(refused[2], false);
    assert!(refused[3].as_str().unwrap().contains("NIP-70"), "{refused}");
    assert_eq!(c.publish(&repost(&plain)).await[2], true);

    // NIP-98 with the method written `post`.
    let body = json!({"method": "supportedmethods", "params": []}).to_string();
    let header = nip98_header(&admin, &relay.handle.url(), "post", body.as_bytes(), now());
    let headers = vec![
        ("Content-Type", "application/nostr+json+rpc".to_string()),
        ("Authorization", header),
    ];
    let (status, _, text) = http(
        relay.handle.local_addr(),
        "POST",
        "/",
        &headers,
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("banpubkey"), "{text}");
}
