//! The desktop app driven like a person would (egui_kittest clicks and
//! keystrokes) against our relay running in-process on 127.0.0.1, real
//! websockets and real SQLite files: onboarding, following someone from
//! their page, posting with per-relay delivery, a thread, and the AUTH
//! "ask" dialog.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use egui_kittest::kittest::Queryable;
use nostr::prelude::*;
use samizdat_client::RelayPolicy;
use samizdat_desktop::ui::Page;
use samizdat_relay::RelayConfig;

#[test]
fn onboarding_creates_a_profile_whose_key_rests_as_ncryptsec() {
    let home = tempfile::tempdir().unwrap();
    let mut h = app(home.path());
    wait_for(&mut h, "the start screen", |h| shows(h, "Create a profile"));
    fill(&mut h, "Profile name", "alice");
    fill(&mut h, "New passphrase", PASS);
    assert!(shows(&h, "strong"), "the strength hint is shown");
    fill(&mut h, "Repeat passphrase", "something else");
    assert!(shows(&h, "the passphrases differ"));
    // Retype the repeat field.
    h.get_by_label("Repeat passphrase").click();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label("Repeat passphrase").type_text(PASS);
    h.step();
    click(&mut h, "Create profile");
    wait_for(&mut h, "the new profile to open", |h| {
        h.state().main.is_some()
    });
    assert!(
        shows(&h, "Get started: choose your relays"),
        "first-run help"
    );

    let dir = home.path().join("alice");
    let key = std::fs::read_to_string(dir.join("key.ncryptsec")).unwrap();
    assert!(key.trim().starts_with("ncryptsec1"), "{key}");
    let mode = std::fs::metadata(dir.join("key.ncryptsec"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "owner-only key file");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(PASS), "the passphrase is on disk");
        assert!(!text.contains("nsec1"), "a plain key is on disk");
    }

    // Lock, a wrong passphrase is refused with a clear error, the right one opens.
    click(&mut h, "Lock");
    // The passphrase field comes with the profile list, a moment after the
    // start screen itself.
    wait_for(&mut h, "the start screen", |h| {
        h.state().main.is_none()
            && shows(h, "Unlock a profile")
            && h.query_by_label("Passphrase").is_some()
    });
    fill(&mut h, "Passphrase", "wrong");
    click(&mut h, "Unlock");
    wait_for(&mut h, "the refusal", |h| shows(h, "wrong passphrase"));
    assert!(h.state().main.is_none());
    unlock(&mut h);

    // The network setting, from the Settings tab, saved for the next unlock.
    click(&mut h, "Settings");
    fill(&mut h, "SOCKS5 proxy", "127.0.0.1:9050");
    click(&mut h, "Use proxy");
    wait_for(&mut h, "the saved setting", |h| {
        shows(h, "from the next unlock on")
    });
    let settings = std::fs::read_to_string(dir.join("settings.json")).unwrap();
    assert!(settings.contains("127.0.0.1:9050"), "{settings}");
}

#[test]
fn follow_someone_from_their_page_and_see_their_notes() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (_bob_relay, bob_store, bob_url) = relay(&rt, dir.path(), "bob", RelayConfig::default());
    let (_alice_relay, _, alice_url) = relay(&rt, dir.path(), "alice", RelayConfig::default());
    let (alice, bob) = (Keys::generate(), Keys::generate());
    indexer_store
        .insert_batch(&[relay_list(&bob, &bob_url)])
        .unwrap();
    bob_store
        .insert_batch(&[
            event(
                &bob,
                Kind::Metadata,
                r#"{"name":"bob","about":"writes about rust"}"#,
                vec![],
                900,
            ),
            event(&bob, Kind::TextNote, "hello from bob, first", vec![], 300),
            event(&bob, Kind::TextNote, "hello from bob, second", vec![], 200),
        ])
        .unwrap();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&alice_url], &[&indexer], &[]);

    let mut h = app(&home);
    unlock(&mut h);
    click(&mut h, "Search");
    fill(&mut h, "Find", &bob.public_key().to_bech32().unwrap());
    click(&mut h, "Go");
    wait_for(&mut h, "bob's page with his notes", |h| {
        shows(h, "hello from bob, second") && shows(h, "writes about rust")
    });
    // Where he writes, and why we think so.
    h.get_all_by_label_contains("Where they write: 1 relay")
        .next()
        .unwrap()
        .click();
    wait_for(&mut h, "his relay with its evidence", |h| {
        shows(h, &format!("{bob_url}  asked")) && shows(h, "nip65 · ") && shows(h, "write relay")
    });
    click(&mut h, "Follow");
    wait_for(&mut h, "the follow to be published", |h| {
        shows(h, "Unfollow")
    });
    click(&mut h, "Back (Esc)");
    click(&mut h, "Feed");
    wait_for(&mut h, "bob's notes in the feed", |h| {
        shows(h, "hello from bob, first") && shows(h, "hello from bob, second")
    });
    let feed = &h.state().main.as_ref().unwrap().feed;
    assert!(
        feed.iter().all(|(n, _)| n.author_name == "bob"),
        "names resolved"
    );

    // Mute him from his page: his notes leave the feed.
    h.get_all_by_label("bob").next().unwrap().click();
    wait_for(&mut h, "bob's page again", |h| shows(h, "Mute"));
    click(&mut h, "Mute");
    wait_for(&mut h, "the mute to apply", |h| shows(h, "Unmute"));
    click(&mut h, "Back (Esc)");
    wait_for(&mut h, "bob gone from the feed", |h| {
        h.state().main.as_ref().is_some_and(|m| m.feed.is_empty())
    });
}

#[test]
fn post_and_see_delivery_states_change() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_up, up_store, up_url) = relay(&rt, dir.path(), "up", RelayConfig::default());
    // A second write relay that is down when the note is posted.
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let late_addr = spare.local_addr().unwrap().to_string();
    drop(spare);
    let late_url = format!("ws://{late_addr}");
    let alice = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&up_url, &late_url], &[], &[]);

    let mut h = app(&home);
    unlock(&mut h);
    fill(&mut h, "New note", "a note with two relays");
    click(&mut h, "Post");
    wait_for(&mut h, "the first delivery states", |h| {
        shows(h, "a note with two relays") && shows(h, "delivered 1/2")
    });
    assert!(shows(&h, "pending"), "the down relay is pending");
    let stored = up_store
        .query(&[Filter::new()
            .author(alice.public_key())
            .kind(Kind::TextNote)
            .limit(10)])
        .unwrap();
    assert_eq!(stored.len(), 1, "the relay that is up has it");

    // The second relay comes up; Retry delivers there.
    let (_late, late_store, _) =
        relay_at(&rt, dir.path(), "late", RelayConfig::default(), &late_addr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    while !shows(&h, "delivered 2/2") {
        assert!(
            std::time::Instant::now() < deadline,
            "never delivered to the late relay"
        );
        if h.query_by_label("Retry").is_some() {
            click(&mut h, "Retry");
        }
        for _ in 0..25 {
            h.step();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    assert_eq!(
        late_store
            .query(&[Filter::new()
                .author(alice.public_key())
                .kind(Kind::TextNote)
                .limit(10)])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn open_a_thread_root_first_replies_nested() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (_bob_relay, bob_store, bob_url) = relay(&rt, dir.path(), "bob", RelayConfig::default());
    let (alice, bob, carol, dave) = (
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
    );
    let root = event(&bob, Kind::TextNote, "the root of it all", vec![], 900);
    let reply = |keys: &Keys, parent: &Event, text: &str, ago: u64| {
        let mut tags = vec![Tag::parse(["e", &root.id.to_hex(), "", "root"]).unwrap()];
        if parent.id != root.id {
            tags.push(Tag::parse(["e", &parent.id.to_hex(), "", "reply"]).unwrap());
        }
        event(keys, Kind::TextNote, text, tags, ago)
    };
    let carol_reply = reply(&carol, &root, "carol answers the root", 600);
    let dave_reply = reply(&dave, &carol_reply, "dave answers carol", 300);
    let follows = event(
        &alice,
        Kind::ContactList,
        "",
        vec![Tag::public_key(bob.public_key())],
        1000,
    );
    indexer_store
        .insert_batch(&[
            relay_list(&bob, &bob_url),
            relay_list(&alice, &bob_url),
            follows,
        ])
        .unwrap();
    bob_store
        .insert_batch(&[root.clone(), carol_reply.clone(), dave_reply.clone()])
        .unwrap();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&bob_url], &[&indexer], &[]);

    let mut h = app(&home);
    unlock(&mut h);
    wait_for(&mut h, "the root in the feed", |h| {
        shows(h, "the root of it all")
    });
    // Keyboard: j selects the newest note, Enter opens its thread.
    h.key_press(egui::Key::J);
    h.step();
    h.key_press(egui::Key::Enter);
    // Carol and dave are outside alice's network: hidden, counted, and
    // shown on request, nested under their parents.
    wait_for(&mut h, "the hidden count", |h| {
        shows(h, "2 from people outside your network")
    });
    assert!(!shows(&h, "carol answers the root"));
    click(&mut h, "Show them");
    wait_for(&mut h, "the whole thread", |h| {
        shows(h, "carol answers the root") && shows(h, "dave answers carol")
    });
    let main = h.state().main.as_ref().unwrap();
    let Some(Page::Thread(_, Some(notes))) = main.pages.last() else {
        panic!("no thread page");
    };
    let order: Vec<(EventId, usize)> = notes.cards().iter().map(|(n, d)| (n.id, *d)).collect();
    assert_eq!(
        order,
        vec![(root.id, 0), (carol_reply.id, 1), (dave_reply.id, 2)]
    );
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(
        h.state().main.as_ref().unwrap().pages.is_empty(),
        "Esc goes back"
    );
}

#[test]
fn an_ask_auth_policy_shows_the_dialog_and_deny_never_sends_auth() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let config = RelayConfig {
        auth_required_for_writes: true,
        ..RelayConfig::default()
    };
    let (_guarded, store, url) = relay(&rt, dir.path(), "guarded", config);
    let alice = Keys::generate();
    let ask = RelayPolicy {
        connect: None,
        auth: Some("ask".into()),
    };
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&url], &[], &[(&url, ask)]);
    let mut h = app(&home);
    unlock(&mut h);

    fill(&mut h, "New note", "only after AUTH");
    click(&mut h, "Post");
    wait_for(&mut h, "the AUTH question", |h| {
        shows(h, "A relay asks you to authenticate")
    });
    click(&mut h, "Deny");
    wait_for(&mut h, "the refused post", |h| {
        shows(h, "only after AUTH") && shows(h, "delivered 0/1")
    });
    let mine = || {
        store
            .query(&[Filter::new()
                .author(alice.public_key())
                .kind(Kind::TextNote)
                .limit(10)])
            .unwrap()
    };
    assert_eq!(
        mine().len(),
        0,
        "the relay never had our key, so it took nothing"
    );
    let main = h.state().main.as_ref().unwrap();
    assert!(
        main.authenticated.is_empty(),
        "AUTH was sent: {:?}",
        main.authenticated
    );

    // "Always allow" authenticates, delivers, and saves the policy.
    fill(&mut h, "New note", "allowed this time");
    click(&mut h, "Post");
    wait_for(&mut h, "the AUTH question again", |h| {
        shows(h, "A relay asks you to authenticate")
    });
    click(&mut h, "Always allow");
    wait_for(&mut h, "the delivered post", |h| {
        shows(h, "allowed this time")
            && h.state()
                .main
                .as_ref()
                .is_some_and(|m| m.authenticated == [url.clone()])
    });
    // The first note, refused while AUTH was denied, is still retried and
    // may land now too: look for this one by its text.
    let has_second = || mine().iter().any(|e| e.content == "allowed this time");
    wait_for(&mut h, "the relay to have it", |_| has_second());
    let settings_path = home.join("alice").join("settings.json");
    wait_for(&mut h, "the saved policy", |_| {
        let s = std::fs::read_to_string(&settings_path).unwrap_or_default();
        s.contains("\"auth\": \"allow\"")
    });
}

#[test]
fn new_notes_wait_behind_a_banner_and_a_person_page_checks_nip05() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (_bob_relay, bob_store, bob_url) = relay(&rt, dir.path(), "bob", RelayConfig::default());
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let follows = event(
        &alice,
        Kind::ContactList,
        "",
        vec![Tag::public_key(bob.public_key())],
        1000,
    );
    // bob claims a NIP-05 name on a domain that does not answer.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let profile_json = format!(r#"{{"name":"bob","nip05":"bob@{dead}"}}"#);
    indexer_store
        .insert_batch(&[
            relay_list(&bob, &bob_url),
            relay_list(&alice, &bob_url),
            follows,
        ])
        .unwrap();
    bob_store
        .insert_batch(&[
            event(&bob, Kind::TextNote, "an old note", vec![], 500),
            event(&bob, Kind::Metadata, &profile_json, vec![], 900),
        ])
        .unwrap();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&bob_url], &[&indexer], &[]);
    let mut h = app(&home);
    unlock(&mut h);
    wait_for(&mut h, "the first refresh", |h| {
        shows(h, "an old note")
            && h.state().main.as_ref().is_some_and(|m| {
                m.last_done
                    .as_ref()
                    .is_some_and(|(r, _)| r.as_ref().is_ok_and(|s| s.starts_with("refresh")))
            })
    });
    // bob posts through his own session while alice's app is open.
    rt.block_on(async {
        let session = client_session(&dir.path().join("bob-profile"), &bob, &bob_url, &[]);
        session.post("news while you read").await.unwrap();
        session.shutdown().await;
    });
    wait_for(&mut h, "the banner", |h| shows(h, "1 new note — show"));
    assert!(!shows(&h, "news while you read"), "the feed did not jump");
    click(&mut h, "1 new note — show");
    wait_for(&mut h, "the new note", |h| shows(h, "news while you read"));
    assert!(!shows(&h, "new note — show"));

    // bob's page: his NIP-05 claim cannot be verified, and says so.
    h.get_all_by_label("bob").next().unwrap().click();
    wait_for(&mut h, "bob's page", |h| shows(h, "could not verify"));
}

#[test]
fn proof_of_work_shows_progress_cancels_and_publishes() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_relay, store, url) = relay(&rt, dir.path(), "relay", RelayConfig::default());
    let alice = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&url], &[], &[]);
    let mut h = app(&home);
    unlock(&mut h);
    h.state_mut().main.as_mut().unwrap().pow_bits = 40;
    fill(&mut h, "New note", "too much work");
    click(&mut h, "Post");
    wait_for(&mut h, "the mining progress", |h| {
        shows(h, "mining 40 bits")
    });
    click(&mut h, "Cancel");
    // Under a loaded CI machine the miner holds both cores; the click is
    // repeated (it only sets the cancel flag) until the mining has stopped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut last_click = std::time::Instant::now();
    while h.state().main.as_ref().is_some_and(|m| m.mining.is_some()) {
        assert!(
            std::time::Instant::now() < deadline,
            "mining did not stop within 90 s of Cancel"
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
        if last_click.elapsed() > std::time::Duration::from_secs(3) {
            if let Some(cancel) = h.query_by_label("Cancel") {
                cancel.click();
            }
            last_click = std::time::Instant::now();
        }
    }
    wait_for(&mut h, "the cancellation", |h| {
        // The status line may already show a later action (the first
        // refresh); the failed post stays in the alerts.
        h.state()
            .main
            .as_ref()
            .is_some_and(|m| m.mining.is_none() && m.alerts.iter().any(|a| a.contains("cancelled")))
    });
    h.state_mut().main.as_mut().unwrap().pow_bits = 10;
    fill(&mut h, "New note", "just enough work");
    click(&mut h, "Post");
    wait_for(&mut h, "the mined post delivered", |h| {
        shows(h, "just enough work") && shows(h, "delivered 1/1")
    });
    let mine = store
        .query(&[Filter::new()
            .author(alice.public_key())
            .kind(Kind::TextNote)
            .limit(10)])
        .unwrap();
    assert_eq!(mine.len(), 1, "the cancelled post never reached the relay");
    assert!(samizdat_client::pow::leading_zero_bits(mine[0].id.as_bytes()) >= 10);
}

#[test]
fn your_data_checks_relays_and_backs_up() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_r, relay_store, url) = relay(&rt, dir.path(), "home", RelayConfig::default());
    let alice = Keys::generate();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&url], &[], &[]);
    let mut h = app(&home);
    unlock(&mut h);
    fill(&mut h, "New note", "kept everywhere");
    click(&mut h, "Post");
    wait_for(&mut h, "the note delivered", |h| shows(h, "delivered 1/1"));
    // The relay loses everything of hers behind her back.
    let lost = relay_store
        .query(&[Filter::new().author(alice.public_key()).limit(10)])
        .unwrap();
    assert_eq!(lost.len(), 1);
    drop(relay_store);
    let conn = rusqlite::Connection::open(dir.path().join("home.sqlite")).unwrap();
    conn.execute("DELETE FROM events", []).unwrap();
    drop(conn);
    click(&mut h, "Settings");
    click(&mut h, "Check my relays");
    wait_for(&mut h, "the check's report", |h| {
        shows(h, "missing 1, re-sent 1 (1 accepted")
    });
    let backup = dir.path().join("alice.jsonl");
    fill(&mut h, "Backup file", backup.to_str().unwrap());
    click(&mut h, "Export");
    wait_for(&mut h, "the export", |h| shows(h, "wrote 1 events"));
    click(&mut h, "Import");
    wait_for(&mut h, "the import", |h| shows(h, "1 already here, 0 bad"));
    assert!(std::fs::read_to_string(&backup)
        .unwrap()
        .contains("kept everywhere"));
}
