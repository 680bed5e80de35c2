//! Own data from the command line, with `samizdat relay` processes on
//! 127.0.0.1: `replicate` fills a relay added later and re-sends nothing the
//! second time; `export --with-key` then `import` into a fresh profile takes
//! the key (still encrypted) and every event; `restore` on a third profile
//! with the same key finds the notes through the relay list; a backup with a
//! bad line is imported with that line named.

mod common;

use common::{run_ok, RelayProcess};

#[test]
fn replicate_export_import_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let home_relay = RelayProcess::start(&dir.path().join("home.sqlite"), &[]);
    let late_relay = RelayProcess::start(&dir.path().join("late.sqlite"), &[]);
    let indexer = RelayProcess::start(&dir.path().join("indexer.sqlite"), &[]);
    let home = dir.path().join("home");
    let pass = "own-data-test-passphrase";
    let run = |profile: &str, args: &[&str]| {
        let mut all = vec!["--profile", profile];
        all.extend_from_slice(args);
        run_ok(&home, pass, &all)
    };
    let init = run("alice", &["init", "--log-n", "8"]);
    let npub = init
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned();
    run(
        "alice",
        &["relays", "add", &home_relay.url(), "--read", "--write"],
    );
    run("alice", &["relays", "add", &indexer.url(), "--discovery"]);
    run("alice", &["relays", "publish"]);
    for i in 0..3 {
        run("alice", &["post", &format!("alice's note {i}")]);
    }
    run("alice", &["relays", "add", &late_relay.url(), "--write"]);

    let json = |text: &str| -> serde_json::Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    let first = json(&run("alice", &["replicate", "--json"]));
    let row = |report: &serde_json::Value, url: &str| {
        report["relays"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["relay"] == url)
            .cloned()
            .unwrap_or_else(|| panic!("{report}"))
    };
    let late = row(&first, &late_relay.url());
    assert_eq!(late["method"], "negentropy");
    assert!(late["missing"].as_u64().unwrap() >= 3, "{late}");
    assert_eq!(late["missing"], late["delivered"], "{late}");
    assert_eq!(row(&first, &home_relay.url())["missing"], 0);
    let second = json(&run("alice", &["replicate", "--json"]));
    for r in second["relays"].as_array().unwrap() {
        assert_eq!(r["requeued"], 0, "{second}");
    }
    let text = run("alice", &["replicate"]);
    assert!(text.contains("missing 0"), "{text}");

    // Backup with the key, into a fresh profile.
    let backup = dir.path().join("alice.jsonl");
    let out = run("alice", &["export", backup.to_str().unwrap(), "--with-key"]);
    assert!(out.contains("with your key"), "{out}");
    let content = std::fs::read_to_string(&backup).unwrap();
    assert!(content.lines().next().unwrap().contains("ncryptsec1"));
    assert!(!content.contains("nsec1"), "never the plain key");
    let imported = json(&run(
        "copy",
        &["import", backup.to_str().unwrap(), "--json"],
    ));
    assert!(imported["bad"].as_array().unwrap().is_empty(), "{imported}");
    let shown = run("copy", &["unlock"]);
    assert!(shown.contains(&npub), "the key came along: {shown}");

    // A bad line is named, the rest kept.
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, format!("{content}{{not json\n")).unwrap();
    let again = json(&run(
        "copy",
        &["import", broken.to_str().unwrap(), "--json"],
    ));
    let bad = again["bad"].as_array().unwrap();
    assert_eq!(bad.len(), 1, "{again}");
    assert_eq!(bad[0][0], content.lines().count() + 1);
    assert_eq!(again["stored"], 0, "everything else was there already");

    // A third device with the same key restores from the relays.
    let nsec_import = run("alice", &["key", "export", "--i-understand"]);
    let nsec = nsec_import
        .split_whitespace()
        .find(|w| w.starts_with("nsec1"))
        .unwrap()
        .to_owned();
    let third = common::output_with_stdin(
        common::samizdat()
            .env("SAMIZDAT_HOME", &home)
            .env("SAMIZDAT_PASSPHRASE", pass)
            .args(["--profile", "third", "init", "--log-n", "8", "--import"]),
        &nsec,
    );
    assert!(third.status.success(), "{third:?}");
    run("third", &["relays", "add", &indexer.url(), "--discovery"]);
    let restored = run("third", &["restore"]);
    assert!(restored.contains("notes"), "{restored}");
    assert!(restored.contains("relay list"), "{restored}");
    let feed = run("third", &["person", &npub, "--json"]);
    assert!(feed.contains("alice's note 2"), "{feed}");
}
