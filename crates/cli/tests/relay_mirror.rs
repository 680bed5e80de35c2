//! `samizdat relay --mirror URL`: a relay process pulls from another relay
//! (ours, started in-process on 127.0.0.1) exactly the events it lacks, by
//! NIP-77 negentropy; a second pass moves nothing; events its policy refuses
//! are counted, not stored.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use nostr::prelude::*;
use samizdat_relay::RelayConfig;
use samizdat_store::{Store, StoreConfig};

mod common;

use common::{free_port, samizdat};

fn note(keys: &Keys, i: u64) -> Event {
    EventBuilder::new(Kind::TextNote, format!("note {i}"))
        .custom_created_at(Timestamp::from_secs(
            Timestamp::now().as_secs() - 10_000 + i,
        ))
        .finalize(keys)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_pulls_exactly_the_missing_events_from_another() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Keys::generate();
    let stranger = Keys::generate();
    // Relay A: 100 of the owner's notes and 5 of a stranger's.
    let a_store =
        Arc::new(Store::open_with(dir.path().join("a.sqlite"), StoreConfig::relay()).unwrap());
    let shared: Vec<Event> = (0..100).map(|i| note(&owner, i)).collect();
    a_store.insert_batch(&shared).unwrap();
    let strangers: Vec<Event> = (0..5).map(|i| note(&stranger, 1_000 + i)).collect();
    a_store.insert_batch(&strangers).unwrap();
    let a = samizdat_relay::start(
        RelayConfig::default(),
        a_store,
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    // Relay B (an owner-only relay): 60 of them and 10 of its own.
    let b_db = dir.path().join("b.sqlite");
    {
        let b_store = Store::open_with(&b_db, StoreConfig::relay()).unwrap();
        b_store.insert_batch(&shared[..60]).unwrap();
        let own: Vec<Event> = (0..10).map(|i| note(&owner, 500 + i)).collect();
        b_store.insert_batch(&own).unwrap();
    }
    let port = free_port();
    let mut child = samizdat()
        .args([
            "--log",
            "warn",
            "relay",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--policy", "owner", "--owner", &owner.public_key().to_hex()])
        .args(["--mirror", &a.url(), "--mirror-every", "1", "--db"])
        .arg(&b_db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    while lines.len() < 2 {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "relay exited: {lines:?}"
        );
        if line.starts_with("mirror") {
            lines.push(line);
        }
    }
    assert!(
        lines[0].contains("45 missing here, 45 fetched, 40 stored, 5 refused"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("10 held here that it lacks"),
        "{}",
        lines[0]
    );
    // The second pass: only the refused ones are still missing.
    assert!(
        lines[1].contains("5 missing here, 5 fetched, 0 stored"),
        "{}",
        lines[1]
    );
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(child.wait().unwrap().success());
    a.shutdown().await;

    let b_store = Store::open(&b_db).unwrap();
    let held = b_store.query(&[Filter::new().limit(1_000)]).unwrap();
    assert_eq!(held.len(), 110);
    assert!(held.iter().all(|e| e.pubkey == owner.public_key()));
}
