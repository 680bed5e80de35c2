//! Privacy settings in the app: exploration finds someone with no
//! relay list, shows what it asked, and can be switched off (with the cap).

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use nostr::prelude::*;
use samizdat_client::Settings;
use samizdat_relay::RelayConfig;

/// Alice follows bob, who lists the relay "big", and carol, who publishes
/// no relay list but writes to "big" too; alice's profile reads "big".
/// Holds the relays (they stop when it is dropped).
struct CarolWithoutAList {
    _relays: Vec<samizdat_relay::RelayHandle>,
    _dir: tempfile::TempDir,
    home: std::path::PathBuf,
}

fn carol_without_a_list(rt: &tokio::runtime::Runtime) -> CarolWithoutAList {
    let dir = tempfile::tempdir().unwrap();
    let (indexer_relay, indexer_store, indexer) =
        relay(rt, dir.path(), "indexer", RelayConfig::default());
    let (big, big_store, big_url) = relay(rt, dir.path(), "big", RelayConfig::default());
    let (alice, bob, carol) = (Keys::generate(), Keys::generate(), Keys::generate());
    let follows = event(
        &alice,
        Kind::ContactList,
        "",
        vec![
            Tag::public_key(bob.public_key()),
            Tag::public_key(carol.public_key()),
        ],
        1000,
    );
    indexer_store
        .insert_batch(&[
            relay_list(&bob, &big_url),
            relay_list(&alice, &big_url),
            follows,
        ])
        .unwrap();
    big_store
        .insert_batch(&[
            event(&bob, Kind::TextNote, "bob writes here", vec![], 300),
            event(
                &carol,
                Kind::TextNote,
                "carol was here all along",
                vec![],
                200,
            ),
        ])
        .unwrap();
    let home = dir.path().join("home");
    profile(rt, &home, "alice", &alice, &[&big_url], &[&indexer], &[]);
    CarolWithoutAList {
        _relays: vec![indexer_relay, big],
        _dir: dir,
        home,
    }
}

#[test]
fn exploring_finds_someone_without_a_relay_list_and_can_be_switched_off() {
    let rt = runtime();
    let net = carol_without_a_list(&rt);
    let home = net.home.clone();
    let mut h = app(&home);
    unlock(&mut h);
    // The relay read for bob is asked about carol too, and has her note.
    wait_for(&mut h, "carol's note, found by exploring", |h| {
        shows(h, "carol was here all along") && shows(h, "bob writes here")
    });

    click(&mut h, "Relays");
    wait_for(&mut h, "the coverage picture", |h| shows(h, "Exposure cap"));
    // After that sync the relay delivered carol: she is now read there,
    // not probed; the page says who is explored for whenever anyone is.
    let view = h.state().main.as_ref().unwrap().relays.clone().unwrap();
    assert!(view.explore);
    assert_eq!(view.cap_percent, Some(25), "the cap is on by default");
    let everyone: Vec<&String> = view.coverage.iter().flat_map(|(_, p)| p).collect();
    assert_eq!(
        everyone.len(),
        2,
        "bob and carol are both read: {:?}",
        view.coverage
    );

    h.get_by_label_contains("Explore (also ask").click();
    h.step();
    click(&mut h, "Save");
    let path = home.join("alice").join("settings.json");
    wait_for(&mut h, "the saved setting", |_| {
        Settings::load(&path).is_ok_and(|s| s.no_exploration)
    });
    let saved = Settings::load(&path).unwrap();
    assert_eq!(saved.max_exposure_percent, Some(25), "the cap stays");
    assert!(
        shows(&h, "Applies from the next unlock"),
        "the user is told when"
    );
}

#[test]
fn without_exploration_someone_without_a_relay_list_stays_unread() {
    let rt = runtime();
    let net = carol_without_a_list(&rt);
    let home = net.home.clone();
    let path = home.join("alice").join("settings.json");
    let mut settings = Settings::load(&path).unwrap();
    settings.no_exploration = true;
    settings.save(&path).unwrap();
    let mut h = app(&home);
    unlock(&mut h);
    wait_for(&mut h, "the first refresh", |h| {
        shows(h, "bob writes here")
            && h.state().main.as_ref().is_some_and(|m| {
                m.last_done
                    .as_ref()
                    .is_some_and(|(r, _)| r.as_ref().is_ok_and(|s| s.starts_with("refresh")))
            })
    });
    assert!(
        !shows(&h, "carol was here all along"),
        "carol was read without exploring: the other test proves nothing"
    );
}

#[test]
fn a_relay_is_reached_directly_only_by_name_and_keeps_that_when_the_proxy_changes() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_own, _, own_url) = relay(&rt, dir.path(), "own", RelayConfig::default());
    let alice = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&own_url], &[], &[]);
    let path = home.join("alice").join("settings.json");
    let mut h = app(&home);
    unlock(&mut h);
    click(&mut h, "Settings");
    fill(&mut h, "SOCKS5 proxy", "127.0.0.1:9050");
    click(&mut h, "Use proxy");
    wait_for(&mut h, "the proxy saved", |_| {
        Settings::load(&path).is_ok_and(|s| s.network.proxy.is_some())
    });

    // A bad address is refused and nothing is saved.
    fill(&mut h, "Relay reached directly", "not a relay");
    click(&mut h, "Reach directly");
    wait_for(&mut h, "the refusal", |h| {
        h.state()
            .main
            .as_ref()
            .is_some_and(|m| !m.alerts.is_empty())
    });
    assert!(Settings::load(&path).unwrap().network.direct.is_empty());

    fill(&mut h, "Relay reached directly", &own_url);
    click(&mut h, "Reach directly");
    wait_for(&mut h, "the exception saved", |_| {
        Settings::load(&path).is_ok_and(|s| s.network.direct.len() == 1)
    });
    wait_for(&mut h, "the exception described", |h| {
        shows(h, "reached directly by your choice")
    });

    // Switching to Tor keeps the exception the user named.
    click(&mut h, "Tor (127.0.0.1:9050)");
    click(&mut h, "Direct");
    wait_for(&mut h, "direct connections saved", |_| {
        Settings::load(&path).is_ok_and(|s| s.network.proxy.is_none())
    });
    assert_eq!(
        Settings::load(&path).unwrap().network.direct.len(),
        1,
        "changing the proxy kept the named exception"
    );
    fill(&mut h, "Relay reached directly", &own_url);
    click(&mut h, "Through the proxy again");
    wait_for(&mut h, "the exception removed", |_| {
        Settings::load(&path).is_ok_and(|s| s.network.direct.is_empty())
    });
}
