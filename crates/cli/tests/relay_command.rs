//! `samizdat relay` as a user runs it: a real process on 127.0.0.1, real
//! websockets, SIGTERM for a graceful stop, and clear errors for bad input.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{free_port, samizdat};

#[tokio::test]
async fn relay_serves_then_stops_on_sigterm_keeping_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/relay.sqlite");
    let port = free_port();
    let mut child = samizdat()
        .args([
            "--log",
            "warn",
            "relay",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
        ])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains(&format!("ws://127.0.0.1:{port}")), "{line}");

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}"))
        .await
        .unwrap();
    let keys = Keys::generate();
    let mut ids = Vec::new();
    for i in 0..20 {
        let e = EventBuilder::new(Kind::TextNote, format!("note {i}"))
            .finalize(&keys)
            .unwrap();
        ids.push(e.id);
        ws.send(Message::text(json!(["EVENT", e]).to_string()))
            .await
            .unwrap();
    }
    let mut oks = 0;
    while oks < 20 {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if m.to_text().unwrap().starts_with("[\"OK\"") {
            oks += 1;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");

    let store = samizdat_store::Store::open(&db).unwrap();
    let stored = store.query(&[Filter::new().limit(100)]).unwrap();
    assert_eq!(stored.len(), 20);
    for id in ids {
        assert!(stored.iter().any(|e| e.id == id));
    }
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(&config, "[limits]\nmax_limt = 5\n").unwrap();
    let out = samizdat()
        .args(["relay", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("r.sqlite"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("relay.toml") && err.contains("max_limt"),
        "{err}"
    );
}

#[test]
fn a_corrupt_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.sqlite");
    std::fs::write(&db, vec![7u8; 4096]).unwrap();
    let out = samizdat()
        .args(["relay", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corrupt") && err.contains("bad.sqlite"),
        "{err}"
    );
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = samizdat()
        .args(["relay", "--listen", &addr.to_string(), "--db"])
        .arg(dir.path().join("r.sqlite"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot listen") && err.contains(&addr.to_string()),
        "{err}"
    );
}
