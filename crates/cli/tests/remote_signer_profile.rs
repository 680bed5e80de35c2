//! A profile whose key lives in `samizdat bunker` (on another profile):
//! `init --bunker` pairs with it, then `post`, `reply` and `follow` work
//! unchanged, and a relay that takes events only from authenticated authors
//! gets NIP-42 AUTH signed through the bunker. The profile directory holds
//! no secret key, in any form.

mod common;

use std::io::BufReader;
use std::process::Stdio;

use common::{interrupt, line_starting_with, samizdat, walk, RelayProcess};

/// Runs `samizdat ARGS` with the test's home and passphrase; must succeed.
fn run(home: &std::path::Path, pass: &str, args: &[&str]) -> String {
    let out = samizdat()
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", pass)
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

#[test]
fn a_bunker_backed_profile_posts_replies_follows_and_authenticates() {
    let home = tempfile::tempdir().unwrap();
    // The bunker talks on an open relay; the user writes to one that wants AUTH.
    let signal = RelayProcess::start(&home.path().join("signal.sqlite"), &[]);
    let config = home.path().join("strict.toml");
    std::fs::write(&config, "auth_required_for_writes = true\n").unwrap();
    let strict = RelayProcess::start(
        &home.path().join("strict.sqlite"),
        &["--config", config.to_str().unwrap()],
    );

    let pass = "remote-signer-test-passphrase";
    let keys = nostr::prelude::Keys::generate();
    let hex = keys.secret_key().to_secret_hex();
    let nsec = nostr::prelude::ToBech32::to_bech32(keys.secret_key()).unwrap();
    let npub = nostr::prelude::ToBech32::to_bech32(&keys.public_key()).unwrap();
    let vault = common::output_with_stdin(
        samizdat()
            .env("SAMIZDAT_HOME", home.path())
            .env("SAMIZDAT_PASSPHRASE", pass)
            .args(["--profile", "vault", "init", "--log-n", "8", "--import"]),
        &hex,
    );
    assert!(vault.status.success(), "{vault:?}");
    let mut bunker = samizdat()
        .env("SAMIZDAT_HOME", home.path())
        .env("SAMIZDAT_PASSPHRASE", pass)
        .args([
            "--profile",
            "vault",
            "bunker",
            "--relay",
            &signal.url(),
            "--approve",
            "1,3,22242",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(bunker.stdout.take().unwrap());
    let uri = line_starting_with(&mut out, "bunker://");

    let app = |args: &[&str]| {
        run(
            home.path(),
            pass,
            &[&["--profile", "app"][..], args].concat(),
        )
    };
    let init = app(&["init", "--log-n", "8", "--bunker", &uri]);
    assert!(init.contains(&npub), "{init}");
    let strict_url = strict.url();
    app(&["relays", "add", &strict_url, "--read", "--write"]);
    // Without AUTH allowed, the strict relay refuses and the post stays queued.
    let refused = app(&["post", "not yet"]);
    assert!(refused.contains("AuthRequired"), "{refused}");
    app(&["relays", "policy", &strict_url, "--auth", "allow"]);
    let posted = app(&["post", "signed far away"]);
    assert!(posted.contains("Accepted"), "{posted}");
    let note = posted
        .split_whitespace()
        .find(|w| w.starts_with("note1"))
        .unwrap()
        .to_owned();
    let replied = app(&["reply", &note, "and a reply"]);
    assert!(replied.contains("Accepted"), "{replied}");
    let friend =
        nostr::prelude::ToBech32::to_bech32(&nostr::prelude::Keys::generate().public_key())
            .unwrap();
    let followed = app(&["follow", &friend]);
    assert!(followed.contains("Accepted"), "{followed}");
    // Everything signed after AUTH was allowed landed; the refused post waits.
    let status = app(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(status.lines().last().unwrap()).unwrap();
    let states: Vec<&str> = status
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["deliveries"].as_array().unwrap().iter())
        .filter_map(|d| d["state"].as_str())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "delivered").count(),
        3,
        "{status}"
    );
    assert_eq!(
        states.iter().filter(|s| **s == "pending").count(),
        1,
        "{status}"
    );

    interrupt(&mut bunker);
    let app_dir = home.path().join("app");
    assert!(!app_dir.join("key.ncryptsec").exists());
    let mut files = String::new();
    for file in walk(&app_dir) {
        files += &String::from_utf8_lossy(&std::fs::read(file).unwrap());
    }
    for secret in [hex.as_str(), nsec.as_str(), pass] {
        assert!(!files.contains(secret), "a secret is in the app's profile");
    }
}
