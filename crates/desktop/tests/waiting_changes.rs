//! List changes that wait, in the app: a follow made while the relays are
//! down is shown on the Alerts tab with its age, stays after "Try now"
//! (nothing answers), and goes away, never sent, when cancelled. And an
//! idle profile locks itself.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use nostr::prelude::*;
use samizdat_client::changes::{Change, ListItem, OwnList};
use samizdat_store::Store;

/// A loopback address where nothing listens.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("ws://{}", l.local_addr().unwrap())
}

#[test]
fn waiting_changes_are_listed_with_their_age_and_can_be_cancelled() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let dead = dead_url();
    let me = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &me, &[&dead], &[&dead], &[]);
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
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let dead = dead_url();
    let me = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &me, &[&dead], &[&dead], &[]);
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
