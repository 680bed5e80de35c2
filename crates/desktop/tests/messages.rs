//! Private messages in the desktop app, driven like a person would: a
//! message from someone outside the user's network waits in the Requests
//! tab unopened, is opened there, read, and answered; the answer reaches
//! the sender (our relays in-process on 127.0.0.1).

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_client::RelayPolicy;
use samizdat_relay::RelayConfig;

#[test]
fn private_messages_arrive_show_unread_and_get_an_answer() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (_home, _, home_url) = relay(&rt, dir.path(), "home", RelayConfig::default());
    let (_alice_dm, _, alice_dm) = relay(&rt, dir.path(), "alice-dm", RelayConfig::default());
    let (_bob_dm, _, bob_dm) = relay(&rt, dir.path(), "bob-dm", RelayConfig::default());
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let dm_list = event(
        &alice,
        Kind::InboxRelays,
        "",
        vec![Tag::parse(["relay", &alice_dm]).unwrap()],
        600,
    );
    let name = event(&bob, Kind::Metadata, r#"{"name":"bob"}"#, vec![], 600);
    indexer_store.insert_batch(&[dm_list, name]).unwrap();
    let allow = RelayPolicy {
        connect: None,
        auth: Some("allow".into()),
    };
    let home = dir.path().join("home");
    profile(
        &rt,
        &home,
        "alice",
        &alice,
        &[&home_url],
        &[&indexer],
        &[(&alice_dm, allow)],
    );

    // bob (a client session in the test) writes first.
    let bob_session = rt.block_on(async {
        let s = client_session(&dir.path().join("bob"), &bob, &home_url, &[&indexer]);
        s.set_dm_relays(std::slice::from_ref(&bob_dm))
            .await
            .unwrap();
        s.send_dm(&[alice.public_key()], "are you there, alice?", None)
            .await
            .unwrap();
        s
    });

    let mut h = app(&home);
    unlock(&mut h);
    // Bob is outside alice's network: his message waits as a request, its
    // seal unopened, until she opens it.
    click(&mut h, "Messages");
    wait_for(&mut h, "the request", |h| shows(h, "Requests (1)"));
    click(&mut h, "Requests (1)");
    wait_for(&mut h, "bob's request", |h| shows(h, "1 message ·"));
    assert!(!shows(&h, "are you there, alice?"), "not opened yet");
    click(&mut h, "Open their messages");
    wait_for(&mut h, "the message", |h| shows(h, "are you there, alice?"));
    wait_for(&mut h, "read now", |h| {
        shows(h, "Messages") && !shows(h, "1 unread")
    });
    fill(&mut h, "Your message", "yes, here");
    click(&mut h, "Send message");
    wait_for(&mut h, "the answer in the chat", |h| shows(h, "yes, here"));
    let at_bob = rt.block_on(async {
        bob_session.sync_dms().await.unwrap();
        bob_session
            .conversation(&[alice.public_key()])
            .await
            .unwrap()
    });
    assert!(
        at_bob
            .iter()
            .any(|m| m.text == "yes, here" && m.author == alice.public_key()),
        "{at_bob:?}"
    );
}
