//! The app as a screen reader and a keyboard user meet it, read from
//! egui's AccessKit tree (what AT-SPI gets on Linux) with the demo open:
//! every button has a name; each feed card is a node read as "author,
//! time: text"; Tab moves a visible focus through the controls and Enter
//! activates the focused one (a tab is reached and opened without the
//! mouse); the high-contrast theme is applied when chosen.

mod common;

use common::*;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};

#[test]
fn buttons_are_named_cards_read_as_author_time_text_and_the_keyboard_reaches_tabs() {
    let home = tempfile::tempdir().unwrap();
    let mut h = demo_app(home.path());
    wait_for(&mut h, "the demo feed", |h| {
        h.state().main.as_ref().is_some_and(|m| m.feed.len() >= 5)
    });

    // Every button has a name.
    let mut buttons = 0;
    let mut unnamed = Vec::new();
    for node in h.root().children_recursive() {
        let n = node.accesskit_node();
        if n.role() == Role::Button {
            buttons += 1;
            if n.label().is_none_or(|l| l.trim().is_empty()) {
                unnamed.push(format!("{:?}", n.bounding_box()));
            }
        }
    }
    assert!(buttons > 20, "{buttons} buttons");
    assert!(unnamed.is_empty(), "buttons without a name at {unnamed:?}");

    // Cards: one node each, "author, N units ago: text", its buttons inside.
    let feed: Vec<_> = h.state().main.as_ref().unwrap().feed.clone();
    let cards: Vec<String> = h
        .root()
        .children_recursive()
        .filter(|n| n.accesskit_node().role() == Role::Article)
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    assert!(cards.len() >= 2, "the cards on screen: {cards:?}");
    let first = &feed[0].0;
    assert!(
        cards[0].starts_with(&format!("{}, ", first.author_name)) && cards[0].contains(" ago: "),
        "{}",
        cards[0]
    );
    println!("first card reads: {}", cards[0]);

    // The keyboard: Tab until "Settings" has the focus, Enter opens it.
    let mut reached = false;
    for _ in 0..300 {
        h.key_press(egui::Key::Tab);
        h.step();
        let focused = h
            .root()
            .children_recursive()
            .find(|n| n.accesskit_node().is_focused())
            .and_then(|n| n.accesskit_node().label());
        if focused.as_deref() == Some("Settings") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached the Settings tab");
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert_eq!(
        h.state().main.as_ref().unwrap().tab,
        samizdat_desktop::ui::Tab::Settings,
        "Enter opened the focused tab"
    );

    // High contrast: chosen in Settings, applied on the next frame.
    h.get_by_label("High contrast").click();
    h.step();
    h.step();
    assert!(h.state().main.as_ref().unwrap().prefs.high_contrast);
    let visuals = h.ctx.style().visuals.clone();
    assert_eq!(visuals.override_text_color, Some(egui::Color32::WHITE));
}
