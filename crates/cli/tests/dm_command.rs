//! `samizdat dm` as two users run it against `samizdat relay` processes:
//! DM relays published, messages both ways, `dm list` with unread counts,
//! `dm read` oldest first, a person without DM relays refused, and the
//! secrets-hygiene check of the DM session: at trace level, neither the logs
//! nor any file under either profile holds a message's text.

mod common;

use std::path::Path;
use std::process::Output;

use common::{samizdat, walk, RelayProcess};

fn run(home: &Path, profile: &str, args: &[&str]) -> Output {
    let out = samizdat()
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", "dm-test-passphrase")
        .args(["--log", "trace", "--profile", profile])
        .args(args)
        .output()
        .unwrap();
    out
}

fn ok(home: &Path, profile: &str, args: &[&str], logs: &mut String) -> String {
    let out = run(home, profile, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    logs.push_str(&stderr);
    stdout
}

fn npub_of(home: &Path, profile: &str, logs: &mut String) -> String {
    ok(home, profile, &["unlock"], logs)
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned()
}

#[test]
fn two_people_exchange_private_messages_and_no_text_reaches_a_file_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let indexer = RelayProcess::start(&dir.path().join("indexer.sqlite"), &[]);
    let home_a = RelayProcess::start(&dir.path().join("a.sqlite"), &[]);
    let dm_a = RelayProcess::start(&dir.path().join("a-dm.sqlite"), &[]);
    let dm_b = RelayProcess::start(&dir.path().join("b-dm.sqlite"), &[]);
    let home = dir.path().join("home");
    let mut logs = String::new();
    for (profile, own, dm) in [("alice", &home_a, &dm_a), ("bob", &home_a, &dm_b)] {
        let init = ok(&home, profile, &["init", "--log-n", "8"], &mut logs);
        assert!(
            init.contains("dm relays set"),
            "init proposes DM relays: {init}"
        );
        ok(
            &home,
            profile,
            &["relays", "add", &own.url(), "--read", "--write"],
            &mut logs,
        );
        ok(
            &home,
            profile,
            &["relays", "add", &indexer.url(), "--discovery"],
            &mut logs,
        );
        ok(
            &home,
            profile,
            &["dm", "relays", "set", &dm.url()],
            &mut logs,
        );
        let shown = ok(&home, profile, &["dm", "relays"], &mut logs);
        assert!(shown.contains(&dm.url().replace("ws://", "")), "{shown}");
    }
    let alice = npub_of(&home, "alice", &mut logs);
    let bob = npub_of(&home, "bob", &mut logs);

    let sent = ok(
        &home,
        "alice",
        &["dm", "send", &bob, "meet at the old bridge"],
        &mut logs,
    );
    assert!(sent.contains("Accepted"), "{sent}");
    // Alice is outside bob's network: her message waits as a request, its
    // seal unopened, until bob reads her conversation.
    let list = ok(&home, "bob", &["dm", "list", "--json"], &mut logs);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        list["conversations"].as_array().map(Vec::len),
        Some(0),
        "{list}"
    );
    let alice_hex = nostr::prelude::PublicKey::parse(&alice).unwrap().to_hex();
    assert_eq!(list["requests"]["requests"][0]["from"], alice_hex, "{list}");
    let requests = ok(&home, "bob", &["dm", "requests"], &mut logs);
    assert!(requests.contains("1 message(s), unopened"), "{requests}");
    let read = ok(&home, "bob", &["dm", "read", &alice, "--json"], &mut logs);
    let read: serde_json::Value = serde_json::from_str(&read).unwrap();
    assert_eq!(read[0]["text"], "meet at the old bridge");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(
        &home,
        "bob",
        &["dm", "send", &alice, "bring the leaflets"],
        &mut logs,
    );
    let at_alice = ok(&home, "alice", &["dm", "read", &bob], &mut logs);
    let first = at_alice.find("meet at the old bridge").unwrap();
    let second = at_alice.find("bring the leaflets").unwrap();
    assert!(first < second, "oldest first: {at_alice}");
    let list = ok(&home, "bob", &["dm", "list"], &mut logs);
    assert!(list.contains("0 unread"), "{list}");

    // Someone without DM relays: refused, nothing sent anywhere else.
    let stranger =
        nostr::prelude::ToBech32::to_bech32(&nostr::prelude::Keys::generate().public_key())
            .unwrap();
    let refused = run(&home, "alice", &["dm", "send", &stranger, "hello?"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no DM relays"));

    // No message text in any log line or any file of either profile.
    let mut files = String::new();
    for f in walk(&home) {
        files.push_str(&String::from_utf8_lossy(&std::fs::read(f).unwrap()));
    }
    for text in ["meet at the old bridge", "bring the leaflets"] {
        assert!(!logs.contains(text), "{text:?} reached a log");
        assert!(!files.contains(text), "{text:?} reached a file");
    }
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "the session logged"
    );
}
