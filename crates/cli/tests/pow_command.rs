//! `samizdat post --pow`, `samizdat pow` and Ctrl-C during mining, against a
//! `samizdat relay` process: mined ids meet their target, the profile
//! default applies, and an interrupted post publishes and queues nothing.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{interrupt, samizdat, RelayProcess};
use nostr::prelude::*;

fn id_in(stdout: &str) -> EventId {
    let note = stdout
        .split_whitespace()
        .find(|w| w.starts_with("note1"))
        .unwrap_or_else(|| panic!("no note id in {stdout}"));
    EventId::from_bech32(note).unwrap()
}

#[test]
fn mined_posts_meet_their_target_and_ctrl_c_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("relay.sqlite"), &[]);
    let home = dir.path().join("home");
    let run = |args: &[&str]| common::run_ok(&home, "pow-test-passphrase", args);
    run(&["init", "--log-n", "8"]);
    run(&["relays", "add", &relay.url(), "--read", "--write"]);
    let posted = run(&["post", "--pow", "12", "mined on the command line"]);
    assert!(samizdat_client::pow::leading_zero_bits(id_in(&posted).as_bytes()) >= 12);
    assert!(run(&["pow", "10"]).contains("10 bits"));
    let posted = run(&["post", "the default applies"]);
    assert!(samizdat_client::pow::leading_zero_bits(id_in(&posted).as_bytes()) >= 10);

    let mut child = samizdat()
        .env("SAMIZDAT_HOME", &home)
        .env("SAMIZDAT_PASSPHRASE", "pow-test-passphrase")
        .args(["post", "--pow", "60", "this is never published"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let status = interrupt(&mut child);
    assert!(!status.success(), "an interrupted post fails");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("cancelled"), "{stderr}");
    let status = run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        status.as_array().map(Vec::len),
        Some(2),
        "only the two mined posts: {status}"
    );
    assert!(!status.to_string().contains("never published"));
}
