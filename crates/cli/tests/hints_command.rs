//! `samizdat follow nprofile1…`: a person whose relay list is on no
//! discovery relay is found through the nprofile's relay hints, and their
//! notes arrive on the next sync; `samizdat person --relays` shows the
//! evidence per relay.

mod common;

use common::{run_ok, RelayProcess};
use nostr::nips::nip19::{Nip19Profile, ToBech32};
use nostr::prelude::*;

#[test]
fn an_nprofile_hint_finds_a_list_no_discovery_relay_has() {
    let dir = tempfile::tempdir().unwrap();
    let indexer = RelayProcess::start(&dir.path().join("indexer.sqlite"), &[]);
    let bobs = RelayProcess::start(&dir.path().join("bob.sqlite"), &[]);
    let alices = RelayProcess::start(&dir.path().join("alice.sqlite"), &[]);
    let home = dir.path().join("home");
    let pass = "hints-test-passphrase";
    let run = |profile: &str, args: &[&str]| {
        let mut all = vec!["--profile", profile];
        all.extend_from_slice(args);
        run_ok(&home, pass, &all)
    };
    // bob publishes his relay list and a note on his own relay only.
    let init = run("bob", &["init", "--log-n", "8"]);
    let npub = init
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned();
    run("bob", &["relays", "add", &bobs.url(), "--read", "--write"]);
    run("bob", &["relays", "publish"]);
    run("bob", &["post", "found through a hint"]);

    run("alice", &["init", "--log-n", "8"]);
    run(
        "alice",
        &["relays", "add", &alices.url(), "--read", "--write"],
    );
    run("alice", &["relays", "add", &indexer.url(), "--discovery"]);
    let bob = PublicKey::parse(&npub).unwrap();
    let nprofile = Nip19Profile::new(bob, [RelayUrl::parse(&bobs.url()).unwrap()])
        .to_bech32()
        .unwrap();
    run("alice", &["follow", &nprofile]);
    run("alice", &["sync"]);
    let feed = run("alice", &["feed", "--json"]);
    assert!(feed.contains("found through a hint"), "{feed}");

    let report: serde_json::Value =
        serde_json::from_str(&run("alice", &["person", &npub, "--relays", "--json"])).unwrap();
    let relays = report["relays"].as_array().unwrap();
    let at_bobs = relays
        .iter()
        .find(|r| r["relay"] == bobs.url())
        .unwrap_or_else(|| panic!("{report}"));
    let sources: Vec<&str> = at_bobs["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    for s in ["nip65", "seen", "hint-reference"] {
        assert!(sources.contains(&s), "{s} missing: {report}");
    }
    assert_eq!(at_bobs["planned"], true, "{report}");
    assert!(at_bobs["delivered"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(report["stale_list"], false);
    let text = run("alice", &["person", &npub, "--relays"]);
    assert!(
        text.contains("read here") && text.contains("hint-reference"),
        "{text}"
    );
}
