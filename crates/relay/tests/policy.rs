//! Write and read policies over real websockets: personal (owner, follows,
//! events tagging the owner; a new follow list takes effect at once), owner,
//! deny; private kinds and AUTH for every reader; NIP-45 COUNT against the
//! query it counts; per-address connection caps; a live reload; metrics.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PolicyConfig, RelayConfig, WriteMode};
use serde_json::json;

fn personal(owner: &Keys) -> RelayConfig {
    RelayConfig {
        policy: PolicyConfig {
            write: WriteMode::Personal,
            owners: vec![owner.public_key().to_bech32().unwrap()],
            ..Default::default()
        },
        ..RelayConfig::default()
    }
}

fn reason(ok: &serde_json::Value) -> String {
    ok[3].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_relay_takes_its_owner_follows_and_replies_and_a_new_follow_at_once() {
    let (owner, friend, stranger) = (keys(1), keys(2), keys(3));
    let relay = start_relay(personal(&owner)).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let follows = signed(
        &owner,
        3,
        "",
        &[&["p", &friend.public_key().to_hex()]],
        now() - 60,
    );
    assert_eq!(c.publish(&follows).await[2], true);
    assert_eq!(
        c.publish(&signed(&owner, 1, "mine", &[], now())).await[2],
        true
    );
    assert_eq!(
        c.publish(&signed(&friend, 1, "friend", &[], now())).await[2],
        true
    );

    let spam = signed(&stranger, 1, "buy now", &[], now());
    let ok = c.publish(&spam).await;
    assert_eq!(ok[2], false, "{ok}");
    assert!(reason(&ok).starts_with("restricted:"), "{ok}");

    // A reply (or reaction, or DM) that tags the owner is accepted.
    let owner_hex = owner.public_key().to_hex();
    let reply = signed(&stranger, 1, "nice post", &[&["p", &owner_hex]], now());
    assert_eq!(c.publish(&reply).await[2], true);

    // The owner follows the stranger: the next note is taken, no restart.
    let stranger_hex = stranger.public_key().to_hex();
    let more = signed(
        &owner,
        3,
        "",
        &[&["p", &friend.public_key().to_hex()], &["p", &stranger_hex]],
        now() - 30,
    );
    assert_eq!(c.publish(&more).await[2], true);
    let later = signed(&stranger, 1, "now followed", &[], now());
    assert_eq!(
        c.publish(&later).await[2],
        true,
        "a follow takes effect at once"
    );

    // NIP-11 says what the relay takes.
    let doc = nip11(relay.handle.local_addr()).await;
    assert_eq!(doc["policy"]["write"], "personal");
    assert_eq!(doc["limitation"]["restricted_writes"], true);
    assert_eq!(doc["pubkey"], owner_hex);
    assert!(doc["supported_nips"]
        .as_array()
        .unwrap()
        .contains(&json!(86)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_mode_and_deny_and_allow_lists_refuse_with_reasons() {
    let (owner, guest, banned) = (keys(1), keys(2), keys(3));
    let relay = start_relay(RelayConfig {
        policy: PolicyConfig {
            write: WriteMode::Owner,
            owners: vec![owner.public_key().to_hex()],
            allow: vec![guest.public_key().to_bech32().unwrap()],
            deny: vec![banned.public_key().to_hex()],
            ..Default::default()
        },
        ..RelayConfig::default()
    })
    .await;
    let mut c = Client::connect(&relay.handle.url()).await;
    assert_eq!(
        c.publish(&signed(&owner, 1, "mine", &[], now())).await[2],
        true
    );
    assert_eq!(
        c.publish(&signed(&guest, 1, "allowed", &[], now())).await[2],
        true
    );
    let ok = c.publish(&signed(&keys(4), 1, "someone", &[], now())).await;
    assert!(reason(&ok).starts_with("restricted:"), "{ok}");
    let owner_hex = owner.public_key().to_hex();
    let ok = c
        .publish(&signed(&banned, 1, "tagging", &[&["p", &owner_hex]], now()))
        .await;
    assert!(reason(&ok).starts_with("blocked:"), "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_kinds_need_auth_and_auth_read_all_closes_anonymous_reads() {
    let owner = keys(1);
    let relay = start_relay(personal(&owner)).await;
    let url = relay.handle.url();
    let mut c = Client::connect(&url).await;
    let settings = signed(&owner, 30078, "app settings", &[&["d", "app"]], now());
    let note = signed(&owner, 1, "public", &[], now());
    assert_eq!(c.publish(&settings).await[2], true);
    assert_eq!(c.publish(&note).await[2], true);
    let mut anonymous = Client::connect(&url).await;
    let all = anonymous
        .req("all", vec![json!({"limit": 10})])
        .await
        .unwrap();
    assert_eq!(
        ids(&all),
        vec![note.id],
        "app data is not served anonymously"
    );
    let closed = anonymous
        .req("mine", vec![json!({"kinds": [30078]})])
        .await
        .unwrap_err();
    assert!(closed.starts_with("auth-required:"), "{closed}");
    let mut authed = Client::connect(&url).await;
    assert_eq!(authed.auth(&owner, &url).await[2], true);
    let mine = authed
        .req("mine", vec![json!({"kinds": [30078]})])
        .await
        .unwrap();
    assert_eq!(ids(&mine), vec![settings.id]);

    let mut config = personal(&owner);
    config.policy.auth_read_all = true;
    let closed_relay = start_relay(config).await;
    let url = closed_relay.handle.url();
    let mut anonymous = Client::connect(&url).await;
    let closed = anonymous
        .req("all", vec![json!({"limit": 1})])
        .await
        .unwrap_err();
    assert!(closed.starts_with("auth-required:"), "{closed}");
    let closed = anonymous
        .count("n", vec![json!({"kinds": [1]})])
        .await
        .unwrap_err();
    assert!(closed.starts_with("auth-required:"), "{closed}");
    let mut reader = Client::connect(&url).await;
    assert_eq!(reader.auth(&keys(7), &url).await[2], true);
    assert!(reader.req("all", vec![json!({"limit": 1})]).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_matches_the_query_and_leaves_private_kinds_out() {
    let relay = start_relay(RelayConfig::default()).await;
    let url = relay.handle.url();
    let (alice, bob) = (keys(1), keys(2));
    let bob_hex = bob.public_key().to_hex();
    let mut c = Client::connect(&url).await;
    for i in 0..30u64 {
        let author = if i % 3 == 0 { &bob } else { &alice };
        let tags: &[&[&str]] = if i % 2 == 0 { &[&["t", "nostr"]] } else { &[] };
        c.publish(&signed(
            author,
            1,
            &format!("note {i}"),
            tags,
            now() - 100 + i,
        ))
        .await;
    }
    c.publish(&signed(&alice, 7, "+", &[&["p", &bob_hex]], now()))
        .await;
    c.publish(&signed(
        &alice,
        4,
        "secret?iv=x",
        &[&["p", &bob_hex]],
        now(),
    ))
    .await;
    for filter in [
        json!({"kinds": [1]}),
        json!({"authors": [alice.public_key().to_hex()], "kinds": [1]}),
        json!({"#t": ["nostr"]}),
        json!({"#p": [bob_hex]}),
        json!({"since": now() - 90, "until": now() - 80}),
    ] {
        let mut query = filter.clone();
        query["limit"] = json!(1000);
        let listed = c.req("q", vec![query]).await.unwrap().len() as u64;
        let counted = c.count("n", vec![filter.clone()]).await.unwrap();
        assert_eq!(
            counted, listed,
            "COUNT of {filter} equals the query's length"
        );
    }
    // Two overlapping filters: each event once.
    let both = c
        .count("n", vec![json!({"kinds": [1]}), json!({"#t": ["nostr"]})])
        .await
        .unwrap();
    assert_eq!(both, 30);
    // The DM is counted only for its authenticated recipient asking about itself.
    assert_eq!(
        c.count("n", vec![json!({"#p": [bob_hex]})]).await.unwrap(),
        1
    );
    let mut recipient = Client::connect(&url).await;
    assert_eq!(recipient.auth(&bob, &url).await[2], true);
    assert_eq!(
        recipient
            .count("n", vec![json!({"#p": [bob_hex]})])
            .await
            .unwrap(),
        2
    );
    let bad = c
        .count("n", vec![json!({"kinds": "one"})])
        .await
        .unwrap_err();
    assert!(bad.starts_with("invalid:"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_capped_and_freed() {
    let mut config = RelayConfig::default();
    config.limits.max_connections_per_ip = 2;
    let relay = start_relay(config).await;
    let url = relay.handle.url();
    let first = Client::connect(&url).await;
    let _second = Client::connect(&url).await;
    assert_eq!(upgrade_status(relay.handle.local_addr()).await, 429);
    first.close().await;
    let mut freed = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if upgrade_status(relay.handle.local_addr()).await == 101 {
            freed = true;
            break;
        }
    }
    assert!(freed, "a closed connection frees its slot");
    let metrics = relay.handle.metrics();
    assert!(
        metrics.contains("samizdat_relay_connections_refused_total{reason=\"too_many\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_changes_limits_and_policy_for_open_connections() {
    let owner = keys(1);
    let relay = start_relay(RelayConfig::default()).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let long = "x".repeat(2_000);
    assert_eq!(
        c.publish(&signed(&keys(2), 1, &long, &[], now())).await[2],
        true
    );

    let mut tighter = personal(&owner);
    tighter.limits.max_content_length = 1_000;
    relay.handle.reload(tighter).unwrap();
    // The same connection, still open, follows the new config.
    let ok = c.publish(&signed(&owner, 1, &long, &[], now())).await;
    assert!(reason(&ok).contains("limit of 1000"), "{ok}");
    let ok = c.publish(&signed(&keys(2), 1, "short", &[], now())).await;
    assert!(reason(&ok).starts_with("restricted:"), "{ok}");

    // A bad config is refused and the running one stays.
    let mut bad = RelayConfig::default();
    bad.policy.write = WriteMode::Owner;
    let err = relay.handle.reload(bad).unwrap_err().to_string();
    assert!(err.contains("owner"), "{err}");
    let ok = c
        .publish(&signed(&keys(2), 1, "still personal", &[], now()))
        .await;
    assert!(reason(&ok).starts_with("restricted:"), "{ok}");

    let (status, _, text) = http(relay.handle.local_addr(), "GET", "/metrics", &[], b"").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("samizdat_relay_events_accepted_total 1"),
        "{text}"
    );
    assert!(
        text.contains("samizdat_relay_events_refused_total{reason=\"restricted\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("samizdat_relay_events_refused_total{reason=\"invalid\"} 1"),
        "{text}"
    );
    assert!(text.contains("samizdat_relay_connections_open 1"), "{text}");
}
