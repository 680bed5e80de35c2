//! `samizdat trust`, `mute --pattern` and `--all` as a user runs them
//! against `samizdat relay` processes: the thresholds shown and changed,
//! a bad threshold and a bad pattern refused with a clear error (nothing
//! saved), a score explained, a stranger's mention held back from the inbox
//! and shown with `--all`, a pattern mute hiding a note.

mod common;

use std::path::Path;
use std::process::Output;

use common::{run_ok, samizdat, RelayProcess};
use nostr::prelude::*;

fn run(home: &Path, args: &[&str]) -> Output {
    samizdat()
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", "trust-test-passphrase")
        .args(["--log", "warn", "--profile", "me"])
        .args(args)
        .output()
        .unwrap()
}

fn ok(home: &Path, args: &[&str]) -> String {
    let mut all = vec!["--log", "warn", "--profile", "me"];
    all.extend_from_slice(args);
    run_ok(home, "trust-test-passphrase", &all)
}

#[test]
fn thresholds_explanations_patterns_and_all() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("profiles");
    ok(&home, &["init", "--log-n", "8"]);
    let me = ok(&home, &["unlock"])
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .map(|n| PublicKey::parse(n).unwrap())
        .unwrap();
    // A stranger's mention of the user, already on the user's relay.
    let stranger = Keys::generate();
    let mention = EventBuilder::new(Kind::TextNote, "buy my coin, free sats")
        .tag(Tag::public_key(me))
        .finalize(&stranger)
        .unwrap();
    let db = dir.path().join("home.sqlite");
    samizdat_store::Store::open_with(&db, samizdat_store::StoreConfig::relay())
        .unwrap()
        .insert(&mention)
        .unwrap();
    let relay = RelayProcess::start(&db, &[]);
    ok(
        &home,
        &[
            "relays",
            "add",
            &relay.url(),
            "--read",
            "--write",
            "--discovery",
        ],
    );

    // The thresholds in force, changed, and a bad value refused.
    let shown = ok(&home, &["trust"]);
    assert!(
        shown.contains("inbox 1") && shown.contains("search 0"),
        "{shown}"
    );
    ok(&home, &["trust", "--search", "-1", "--wraps-per-hour", "5"]);
    let json: serde_json::Value = serde_json::from_str(&ok(&home, &["trust", "--json"])).unwrap();
    assert_eq!(
        (
            json["search"].as_i64(),
            json["stranger_wraps_per_hour"].as_u64()
        ),
        (Some(-1), Some(5))
    );
    let bad = run(&home, &["trust", "--inbox", "lots"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value"));

    // The stranger's mention: held back, explained, shown with --all.
    let inbox = run(&home, &["inbox"]);
    assert!(inbox.status.success());
    assert!(!String::from_utf8_lossy(&inbox.stdout).contains("buy my coin"));
    assert!(
        String::from_utf8_lossy(&inbox.stderr)
            .contains("1 items from people outside your network hidden"),
        "{}",
        String::from_utf8_lossy(&inbox.stderr)
    );
    assert!(ok(&home, &["inbox", "--all"]).contains("buy my coin"));
    let npub = stranger.public_key().to_bech32().unwrap();
    let why = ok(&home, &["trust", &npub]);
    assert!(
        why.contains("score 0") && why.contains("none of your follows follows them"),
        "{why}"
    );
    assert!(why.contains("hidden in: inbox"), "{why}");

    // Pattern mutes: a bad one is refused before anything is published; a
    // good one hides matching notes everywhere (here, in --all).
    let bad = run(&home, &["mute", "--pattern", "(free"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a usable regular expression"));
    let long = "a".repeat(300);
    let bad = run(&home, &["mute", "--pattern", &long]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("at most 256"));
    ok(&home, &["mute", "--pattern", r"free\s+sats"]);
    let mutes = ok(&home, &["mutes"]);
    assert!(mutes.contains(r"pattern /free\s+sats/"), "{mutes}");
    assert!(!ok(&home, &["inbox", "--all"]).contains("buy my coin"));
}
