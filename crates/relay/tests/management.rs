//! NIP-86 management over HTTP with NIP-98 authorization: an admin bans a key
//! and its next event is refused; bans survive a restart; a banned event is
//! removed; renaming shows in NIP-11; blocking an address refuses its
//! websockets. Missing, wrong, replayed and non-admin authorizations are
//! refused with 401/403 and change nothing.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PolicyConfig, RelayConfig};
use serde_json::{json, Value};

/// A NIP-98 `Authorization` header value for a POST of `body` to `url`.
fn authorization(keys: &Keys, url: &str, body: &[u8], created_at: u64) -> String {
    nip98_header(keys, url, "POST", body, created_at)
}

/// Calls a NIP-86 method as `keys`; (HTTP status, JSON answer).
async fn call(relay: &TestRelay, keys: &Keys, method: &str, params: Value) -> (u16, Value) {
    let body = json!({"method": method, "params": params}).to_string();
    let url = relay.handle.url();
    let auth = authorization(keys, &url, body.as_bytes(), now());
    post(relay, Some(auth), body.as_bytes()).await
}

async fn post(relay: &TestRelay, auth: Option<String>, body: &[u8]) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/nostr+json+rpc".to_string())];
    if let Some(auth) = auth {
        headers.push(("Authorization", auth));
    }
    let (status, _, text) = http(relay.handle.local_addr(), "POST", "/", &headers, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn admin_config(admin: &Keys) -> RelayConfig {
    RelayConfig {
        policy: PolicyConfig {
            admins: vec![admin.public_key().to_bech32().unwrap()],
            ..Default::default()
        },
        ..RelayConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_bans_a_key_and_its_next_event_is_refused_even_after_a_restart() {
    let (admin, spammer) = (keys(1), keys(2));
    let relay = start_relay(admin_config(&admin)).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    assert_eq!(
        c.publish(&signed(&spammer, 1, "first", &[], now())).await[2],
        true
    );

    let (status, answer) = call(&relay, &admin, "supportedmethods", json!([])).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["result"]
        .as_array()
        .unwrap()
        .contains(&json!("banpubkey")));

    let spammer_hex = spammer.public_key().to_hex();
    let (status, answer) = call(&relay, &admin, "banpubkey", json!([spammer_hex, "spam"])).await;
    assert_eq!((status, &answer["result"]), (200, &json!(true)), "{answer}");
    let ok = c.publish(&signed(&spammer, 1, "second", &[], now())).await;
    assert_eq!(ok[2], false, "{ok}");
    assert!(ok[3].as_str().unwrap().starts_with("blocked:"), "{ok}");
    let (_, listed) = call(&relay, &admin, "listbannedpubkeys", json!([])).await;
    assert_eq!(
        listed["result"],
        json!([{"pubkey": spammer_hex, "reason": "spam"}])
    );
    // The change is recorded with the admin's key.
    let entries = relay.store.moderation_list("banned_pubkey").unwrap();
    assert_eq!(entries[0].admin, admin.public_key().to_hex());

    // Ban an event: it is removed and refused when sent again.
    let note = signed(&keys(3), 1, "offending", &[], now());
    assert_eq!(c.publish(&note).await[2], true);
    let (_, answer) = call(&relay, &admin, "banevent", json!([note.id.to_hex()])).await;
    assert_eq!(answer["result"], true, "{answer}");
    assert!(c
        .req("gone", vec![json!({"ids": [note.id.to_hex()]})])
        .await
        .unwrap()
        .is_empty());
    let ok = c.publish(&note).await;
    assert!(ok[3].as_str().unwrap().starts_with("blocked:"), "{ok}");

    // Rename: NIP-11 shows it.
    let (_, answer) = call(&relay, &admin, "changerelayname", json!(["renamed"])).await;
    assert_eq!(answer["result"], true);
    assert_eq!(nip11(relay.handle.local_addr()).await["name"], "renamed");

    // Restart on the same database: the ban, the banned event and the name hold.
    c.close().await;
    let relay = relay.restart(admin_config(&admin)).await;
    let mut c = Client::connect(&relay.handle.url()).await;
    let ok = c.publish(&signed(&spammer, 1, "third", &[], now())).await;
    assert!(ok[3].as_str().unwrap().starts_with("blocked:"), "{ok}");
    let ok = c.publish(&note).await;
    assert!(ok[3].as_str().unwrap().starts_with("blocked:"), "{ok}");
    let doc = samizdat_relay::information_document(&admin_config(&admin));
    assert_ne!(
        doc["name"], "renamed",
        "the static document is the config's"
    );
    relay.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_missing_replayed_and_foreign_authorizations_change_nothing() {
    let (admin, stranger) = (keys(1), keys(2));
    let relay = start_relay(admin_config(&admin)).await;
    let url = relay.handle.url();
    let target = keys(5).public_key().to_hex();
    let body = json!({"method": "banpubkey", "params": [target]}).to_string();

    let (status, answer) = post(&relay, None, body.as_bytes()).await;
    assert_eq!(status, 401, "{answer}");
    // Signed for another body.
    let other = authorization(&admin, &url, b"{}", now());
    assert_eq!(post(&relay, Some(other), body.as_bytes()).await.0, 401);
    // Signed for another URL.
    let elsewhere = authorization(&admin, "ws://example.invalid", body.as_bytes(), now());
    assert_eq!(post(&relay, Some(elsewhere), body.as_bytes()).await.0, 401);
    // Too old.
    let stale = authorization(&admin, &url, body.as_bytes(), now() - 600);
    assert_eq!(post(&relay, Some(stale), body.as_bytes()).await.0, 401);
    // Garbage.
    let (status, _) = post(&relay, Some("Nostr !!!".into()), body.as_bytes()).await;
    assert_eq!(status, 401);
    // A valid key that is not an admin.
    let (status, answer) = call(&relay, &stranger, "banpubkey", json!([target])).await;
    assert_eq!(status, 403, "{answer}");
    assert!(relay
        .store
        .moderation_list("banned_pubkey")
        .unwrap()
        .is_empty());

    // A good call, then the same authorization again: refused as a replay.
    let good = authorization(&admin, &url, body.as_bytes(), now());
    assert_eq!(
        post(&relay, Some(good.clone()), body.as_bytes()).await.0,
        200
    );
    assert_eq!(post(&relay, Some(good), body.as_bytes()).await.0, 401);

    // Wrong content type, bad JSON, unknown method, bad parameters.
    let (status, _, _) = http(relay.handle.local_addr(), "POST", "/", &[], body.as_bytes()).await;
    assert_eq!(status, 415);
    let bad = b"{not json";
    let auth = authorization(&admin, &url, bad, now());
    assert_eq!(post(&relay, Some(auth), bad).await.0, 400);
    let (status, answer) = call(&relay, &admin, "dropdatabase", json!([])).await;
    assert_eq!(status, 200);
    assert!(
        answer["error"].as_str().unwrap().contains("unsupported"),
        "{answer}"
    );
    let (_, answer) = call(&relay, &admin, "banpubkey", json!(["not-a-key"])).await;
    assert!(
        answer["error"].as_str().unwrap().starts_with("invalid:"),
        "{answer}"
    );
    let (_, answer) = call(&relay, &admin, "allowkind", json!(["one"])).await;
    assert!(
        answer["error"].as_str().unwrap().starts_with("invalid:"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_an_address_refuses_its_websockets_and_kinds_can_be_limited() {
    let admin = keys(1);
    let relay = start_relay(admin_config(&admin)).await;
    let addr = relay.handle.local_addr();
    let (_, answer) = call(&relay, &admin, "allowkind", json!([1])).await;
    assert_eq!(answer["result"], true);
    let mut c = Client::connect(&relay.handle.url()).await;
    let ok = c.publish(&signed(&keys(3), 7, "+", &[], now())).await;
    assert!(ok[3].as_str().unwrap().starts_with("restricted:"), "{ok}");
    assert_eq!(
        c.publish(&signed(&keys(3), 1, "a note", &[], now())).await[2],
        true
    );
    let (_, kinds) = call(&relay, &admin, "listallowedkinds", json!([])).await;
    assert_eq!(kinds["result"], json!([1]));

    let (_, answer) = call(&relay, &admin, "blockip", json!(["127.0.0.1", "abuse"])).await;
    assert_eq!(answer["result"], true);
    assert_eq!(upgrade_status(addr).await, 403);
    let (_, listed) = call(&relay, &admin, "listblockedips", json!([])).await;
    let hash = listed["result"][0]["ip"].as_str().unwrap().to_owned();
    assert_eq!(
        hash.len(),
        16,
        "addresses are kept as salted hashes: {listed}"
    );
    assert!(!listed.to_string().contains("127.0.0.1"));
    // Unblock by the hash, as an operator reading the logs would.
    let (_, answer) = call(&relay, &admin, "unblockip", json!([hash])).await;
    assert_eq!(answer["result"], true);
    assert_eq!(upgrade_status(addr).await, 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_make_admins_and_reported_events_wait_in_the_moderation_queue() {
    let (admin, helper, reporter, poster) = (keys(1), keys(2), keys(3), keys(4));
    let relay = start_relay(admin_config(&admin)).await;
    let helper_hex = helper.public_key().to_hex();

    // Not an admin yet.
    let (status, _) = call(&relay, &helper, "supportedmethods", json!([])).await;
    assert_eq!(status, 403);
    // Roles: create, edit, assign (the admin role makes an admin), list.
    for (method, params) in [
        (
            "createrole",
            json!(["admin", "Admin", "runs the relay", "#c0392b", 1]),
        ),
        (
            "createrole",
            json!(["mod", "Moderator", "reads reports", "#2980b9", 2]),
        ),
        (
            "editrole",
            json!(["mod", "Moderators", "reads the reports", "#2980b9", 2]),
        ),
        ("assignrole", json!([helper_hex, "admin"])),
        ("assignrole", json!([helper_hex, "mod"])),
    ] {
        let (status, answer) = call(&relay, &admin, method, params).await;
        assert_eq!(
            (status, &answer["result"]),
            (200, &json!(true)),
            "{method}: {answer}"
        );
    }
    let (status, roles) = call(&relay, &helper, "listroles", json!([])).await;
    assert_eq!(status, 200, "the admin role lets the helper in: {roles}");
    let roles = roles["result"].as_array().unwrap().clone();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[1]["label"], "Moderators");
    assert_eq!(roles[1]["members"], json!([helper_hex]));
    // Bad role calls are refused with a reason.
    for (method, params, why) in [
        ("createrole", json!(["mod", "again"]), "exists"),
        ("editrole", json!(["ghost", "x"]), "no role"),
        ("createrole", json!(["bad id!", "x"]), "letters, digits"),
        ("assignrole", json!([helper_hex, "ghost"]), "no role"),
        (
            "assignrole",
            json!(["nothex", "mod"]),
            "not a hex public key",
        ),
        ("deleterole", json!(["ghost"]), "no role"),
    ] {
        let (status, answer) = call(&relay, &admin, method, params).await;
        assert_eq!(status, 200);
        assert!(
            answer["error"].as_str().is_some_and(|e| e.contains(why)),
            "{method}: {answer}"
        );
    }

    // Reports: two on one note, one on another; a report of an event not
    // stored here is not in the queue.
    let mut c = Client::connect(&relay.handle.url()).await;
    let bad = signed(&poster, 1, "buy my coin", &[], now());
    let meh = signed(&poster, 1, "hot take", &[], now());
    for e in [&bad, &meh] {
        assert_eq!(c.publish(e).await[2], true);
    }
    let report = |target: &Event, why: &str, by: &Keys| {
        let (id, author) = (target.id.to_hex(), target.pubkey.to_hex());
        signed(
            by,
            1984,
            "",
            &[&["e", &id, why], &["p", &author, why]],
            now(),
        )
    };
    let absent = signed(&poster, 1, "never sent", &[], now());
    for r in [
        report(&bad, "spam", &reporter),
        report(&bad, "illegal", &admin),
        report(&meh, "other", &reporter),
        report(&absent, "spam", &reporter),
    ] {
        assert_eq!(c.publish(&r).await[2], true);
    }
    let (_, queue) = call(&relay, &helper, "listeventsneedingmoderation", json!([])).await;
    let queue = queue["result"].as_array().unwrap().clone();
    assert_eq!(queue.len(), 2, "{queue:?}");
    assert_eq!(queue[0]["id"], bad.id.to_hex(), "most reported first");
    assert_eq!(queue[0]["reason"], "reported 2 times: illegal, spam");
    // Decisions take them off: ban one (removed), keep the other.
    call(
        &relay,
        &helper,
        "banevent",
        json!([bad.id.to_hex(), "scam"]),
    )
    .await;
    call(
        &relay,
        &helper,
        "allowevent",
        json!([meh.id.to_hex(), "fine"]),
    )
    .await;
    let (_, queue) = call(&relay, &admin, "listeventsneedingmoderation", json!([])).await;
    assert_eq!(queue["result"], json!([]), "{queue}");

    // Unassigning the admin role (or deleting it) takes the access away.
    let (_, answer) = call(&relay, &admin, "deleterole", json!(["admin"])).await;
    assert_eq!(answer["result"], json!(true));
    let (status, _) = call(&relay, &helper, "listbannedpubkeys", json!([])).await;
    assert_eq!(status, 403, "no longer an admin");
}
