//! In the app: list changes that wait (a follow made while the relays are
//! down is shown on the Alerts tab with its age, stays after "Try now" when
//! nothing answers, and goes away, never sent, when cancelled); an idle
//! profile locks itself; a link warns that the browser does not use the
//! proxy; NIP-05 checks switch off.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use nostr::prelude::*;
use samizdat_client::changes::{Change, ListItem, OwnList};
use samizdat_store::Store;

/// Alice's profile (under the returned home) whose only relay is a
/// loopback address where nothing listens; the runtime and directory live
/// as long as the caller keeps them.
fn alice_offline() -> (
    tokio::runtime::Runtime,
    tempfile::TempDir,
    std::path::PathBuf,
    Keys,
) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("ws://{}", l.local_addr().unwrap())
    };
    let me = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &me, &[&dead], &[&dead], &[]);
    (rt, dir, home, me)
}

#[test]
fn waiting_changes_are_listed_with_their_age_and_can_be_cancelled() {
    let (_rt, _dir, home, _me) = alice_offline();
    // Two follows made on this machine while no relay answered.
    let store = Store::open(home.join("alice").join("events.sqlite")).unwrap();
    let (kept, cancelled) = (Keys::generate().public_key(), Keys::generate().public_key());
    for who in [kept, cancelled] {
        let change = Change::Add {
            item: ListItem::Person(who.to_hex()),
            private: false,
        };
        store
            .queue_list_change(
                &OwnList::Follows.key(),
                &serde_json::to_string(&change).unwrap(),
                None,
            )
            .unwrap();
    }
    drop(store);

    let mut h = app(&home);
    unlock(&mut h);
    click(&mut h, "Alerts");
    let cancelled_npub = cancelled.to_bech32().unwrap();
    wait_for(&mut h, "the waiting changes", |h| {
        shows(h, "Waiting changes")
            && shows(
                h,
                "2 changes to your follow list waiting: your relays have not answered",
            )
            && shows(h, &format!("follow list: add {cancelled_npub} (waiting "))
    });
    click(&mut h, "Try now");
    wait_for(&mut h, "the attempt to finish", |h| {
        shows(h, "waiting: your relays have not answered")
            && h.state()
                .main
                .as_ref()
                .is_some_and(|m| m.waiting.len() == 2)
    });
    // Cancel the second one.
    let buttons = h.query_all_by_label("Cancel").count();
    assert_eq!(buttons, 2);
    h.query_all_by_label("Cancel").nth(1).unwrap().click();
    wait_for(&mut h, "one change left", |h| {
        h.state()
            .main
            .as_ref()
            .is_some_and(|m| m.waiting.len() == 1)
            && !shows(h, &format!("add {cancelled_npub}"))
    });
    assert!(shows(&h, "1 change to your follow list waiting"));
    let left = Store::open(home.join("alice").join("events.sqlite"))
        .unwrap()
        .list_changes(None)
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].change.contains(&kept.to_hex()));
}

#[test]
fn an_idle_profile_locks_itself() {
    let (_rt, _dir, home, _me) = alice_offline();
    let mut h = app(&home);
    unlock(&mut h);
    assert!(h.state().main.is_some());
    assert_eq!(
        h.state().main.as_ref().unwrap().prefs.idle_lock_minutes,
        15,
        "on by default"
    );
    h.state_mut().idle_lock_override = Some(std::time::Duration::from_millis(400));
    wait_for(&mut h, "the idle lock", |h| {
        h.state().main.is_none() && shows(h, "Unlock a profile")
    });
}

#[test]
fn links_warn_before_the_browser_and_nip05_checks_switch_off() {
    let (_rt, _dir, home, me) = alice_offline();
    // A note of her own with a link, already in her store.
    let note = event(
        &me,
        Kind::TextNote,
        "read https://example.invalid/article today",
        vec![],
        60,
    );
    Store::open(home.join("alice").join("events.sqlite"))
        .unwrap()
        .insert_batch(&[note])
        .unwrap();
    let mut h = app(&home);
    unlock(&mut h);
    wait_for(&mut h, "the note with its link", |h| {
        shows(h, "https://example.invalid/article")
    });
    click(&mut h, "https://example.invalid/article");
    wait_for(&mut h, "the warning", |h| {
        shows(h, "Open this link?") && shows(h, "does not go through Samizdat's proxy")
    });
    click(&mut h, "Cancel");
    wait_for(&mut h, "the dialog closed", |h| {
        !shows(h, "Open this link?")
    });

    click(&mut h, "Settings");
    let label =
        "Check NIP-05 names (a person page asks the name's domain, through the proxy when set)";
    wait_for(&mut h, "the NIP-05 switch", |h| shows(h, label));
    click(&mut h, label);
    let settings = home.join("alice").join("settings.json");
    wait_for(&mut h, "the switch saved", |_| {
        samizdat_client::Settings::load(&settings).is_ok_and(|s| s.no_nip05_checks)
    });
}

#[test]
fn the_first_run_recommends_tor_and_saves_the_choice() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &Keys::generate(), &[], &[], &[]);
    let mut h = app(&home);
    unlock(&mut h);
    // No Tor runs on this machine's usual ports during the tests.
    wait_for(&mut h, "the network choice", |h| {
        shows(h, "Get started: how to reach the network") && shows(h, "Tor is not running here")
    });
    assert!(shows(&h, "Get started: choose your relays"));
    click(&mut h, "Use Tor at 127.0.0.1:9050");
    let settings = home.join("alice").join("settings.json");
    wait_for(&mut h, "Tor saved", |_| {
        samizdat_client::Settings::load(&settings)
            .is_ok_and(|s| s.network.proxy.as_deref() == Some("127.0.0.1:9050"))
    });
}
