//! The "My relay" tab on the demo, whose user runs the home relay (an
//! admin there): the metrics and the moderation queue show (a stranger's
//! scam reported by someone the user follows), removing the reported note
//! empties the queue, and "Ban the author on my relay" from a note's menu
//! bans that key — all over NIP-86 with the user's key.

mod common;

use common::*;
use egui_kittest::kittest::Queryable;

#[test]
fn the_operator_moderates_and_bans_from_a_note() {
    let home = tempfile::tempdir().unwrap();
    let mut h = demo_app(home.path());
    wait_for(&mut h, "the demo feed", |h| {
        h.state().main.as_ref().is_some_and(|m| m.feed.len() >= 5)
    });
    click(&mut h, "My relay");
    wait_for(&mut h, "the overview", |h| shows(h, "Moderation queue: 1"));
    assert!(shows(&h, "reported 1 time: spam"));
    assert!(shows(&h, "Double your sats"));
    assert!(shows(&h, "Connections open"));
    click(&mut h, "Remove and ban the event");
    wait_for(&mut h, "the queue emptied", |h| {
        shows(h, "Moderation queue: 0")
    });

    click(&mut h, "Feed");
    let author = h.state().main.as_ref().unwrap().feed[0].0.author;
    h.get_all_by_label("More").next().unwrap().click();
    h.step();
    click(&mut h, "Ban the author on my relay");
    wait_for(&mut h, "the ban", |h| {
        h.state()
            .main
            .as_ref()
            .is_some_and(|m| m.alerts.iter().any(|a| a.contains("banpubkey done")))
    });
    click(&mut h, "My relay");
    wait_for(&mut h, "the banned key listed", |h| {
        shows(h, "Banned keys: 1")
    });
    let banned = h
        .state()
        .main
        .as_ref()
        .and_then(|m| m.operator.overview.clone())
        .unwrap()
        .unwrap()
        .banned;
    assert_eq!(banned[0].value, author.to_hex());
}
