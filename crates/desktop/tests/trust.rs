//! The web of trust in the desktop app, driven like a person would: a
//! stranger's mention is hidden behind "N from people outside your network"
//! and shown on request, marked as such; a name imitating someone the user
//! follows carries a warning on its card and its page, with the score.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::RelayConfig;

#[test]
fn the_inbox_hides_strangers_behind_a_count_and_flags_an_impostor() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (_home, home_store, home_url) = relay(&rt, dir.path(), "home", RelayConfig::default());
    let (alice, bob, impostor) = (Keys::generate(), Keys::generate(), Keys::generate());
    let follows = event(
        &alice,
        Kind::ContactList,
        "",
        vec![Tag::public_key(bob.public_key())],
        1000,
    );
    let mention = |k: &Keys, text: &str, ago: u64| {
        event(
            k,
            Kind::TextNote,
            text,
            vec![Tag::public_key(alice.public_key())],
            ago,
        )
    };
    indexer_store
        .insert_batch(&[
            relay_list(&bob, &home_url),
            relay_list(&alice, &home_url),
            follows,
            event(
                &bob,
                Kind::Metadata,
                r#"{"name":"Bob Marley"}"#,
                vec![],
                900,
            ),
            event(
                &impostor,
                Kind::Metadata,
                r#"{"name":"Bob Mаrley"}"#,
                vec![],
                900,
            ),
        ])
        .unwrap();
    home_store
        .insert_batch(&[
            mention(&bob, "hi alice, bob here", 600),
            mention(&impostor, "new key! send me your backup", 300),
        ])
        .unwrap();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&home_url], &[&indexer], &[]);

    let mut h = app(&home);
    unlock(&mut h);
    click(&mut h, "Inbox");
    wait_for(&mut h, "bob's mention and the hidden count", |h| {
        shows(h, "hi alice, bob here") && shows(h, "1 from people outside your network")
    });
    assert!(!shows(&h, "new key! send me your backup"));
    click(&mut h, "Show them");
    wait_for(&mut h, "the impostor's mention, flagged", |h| {
        shows(h, "new key! send me your backup") && shows(h, "⚠ imitates Bob Marley")
    });
    assert!(shows(&h, "· outside your network"));
    // The impostor's page says it too, with the web of trust's word.
    click(&mut h, "Bob Mаrley");
    wait_for(&mut h, "the impostor's page", |h| {
        shows(
            h,
            "⚠ This name imitates Bob Marley, whom you follow: it is another key.",
        )
    });
    assert!(shows(
        &h,
        "Web of trust: none of your follows follows them; their name imitates Bob Marley (another key); score 0"
    ));
    // Settings: an inbox threshold of 0 lets strangers in (score 0).
    h.key_press(egui::Key::Escape);
    h.step();
    click(&mut h, "Settings");
    wait_for(&mut h, "the web of trust settings", |h| {
        shows(h, "Save web of trust")
    });
    // What dragging the inbox threshold to 0 leaves in the form.
    h.state_mut().main.as_mut().unwrap().trust.inbox = 0;
    click(&mut h, "Save web of trust");
    click(&mut h, "Inbox");
    wait_for(&mut h, "the impostor's mention, no longer hidden", |h| {
        shows(h, "new key! send me your backup") && !shows(h, "1 from people outside your network")
    });
}
