//! `samizdat follow nprofile1…`: a person whose relay list is on no
//! discovery relay is found through the nprofile's relay hints, and their
//! notes arrive on the next sync.

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
}
