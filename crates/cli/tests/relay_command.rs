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

/// Publishes `event` on an open websocket and returns its OK message.
async fn publish(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    event: &Event,
) -> serde_json::Value {
    ws.send(Message::text(json!(["EVENT", event]).to_string()))
        .await
        .unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        if v[0] == "OK" && v[1] == event.id.to_hex() {
            return v;
        }
    }
}

#[tokio::test]
async fn personal_policy_from_flags_and_sighup_changes_a_limit_live() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(&config, "[limits]\nmax_content_length = 5000\n").unwrap();
    let owner = Keys::generate();
    let port = free_port();
    let mut child = samizdat()
        .args([
            "--log",
            "warn",
            "relay",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--policy",
            "personal",
            "--owner",
            &owner.public_key().to_bech32().unwrap(),
        ])
        .arg("--db")
        .arg(dir.path().join("relay.sqlite"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("write policy: personal"), "{line}");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}"))
        .await
        .unwrap();
    let note = |keys: &Keys, text: String| {
        EventBuilder::new(Kind::TextNote, text)
            .finalize(keys)
            .unwrap()
    };
    let stranger = publish(&mut ws, &note(&Keys::generate(), "hello".into())).await;
    assert_eq!(stranger[2], false);
    assert!(
        stranger[3].as_str().unwrap().starts_with("restricted:"),
        "{stranger}"
    );
    let long = "x".repeat(3000);
    assert_eq!(publish(&mut ws, &note(&owner, long.clone())).await[2], true);

    // Tighten the limit in the file, SIGHUP: the open connection follows it.
    std::fs::write(&config, "[limits]\nmax_content_length = 1000\n").unwrap();
    let kill = |signal: &str| {
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
    };
    assert!(kill("-HUP").success());
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("config reloaded"), "{line}");
    let refused = publish(&mut ws, &note(&owner, format!("{long} again"))).await;
    assert!(
        refused[3].as_str().unwrap().contains("limit of 1000"),
        "{refused}"
    );
    // The flags still apply after the reload.
    let stranger = publish(&mut ws, &note(&Keys::generate(), "again".into())).await;
    assert!(
        stranger[3].as_str().unwrap().starts_with("restricted:"),
        "{stranger}"
    );

    // A broken file on SIGHUP: reported, the running config stays.
    std::fs::write(&config, "[limits]\nmax_content_length = \"lots\"\n").unwrap();
    assert!(kill("-HUP").success());
    let refused = publish(&mut ws, &note(&owner, format!("{long} third"))).await;
    assert!(
        refused[3].as_str().unwrap().contains("limit of 1000"),
        "{refused}"
    );
    assert!(kill("-TERM").success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_restricted_policy_without_an_owner_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = samizdat()
        .args([
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            "owner",
            "--db",
        ])
        .arg(dir.path().join("r.sqlite"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs at least one owner"), "{err}");
    let out = samizdat()
        .args([
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--owner",
            "npub1wrong",
            "--db",
        ])
        .arg(dir.path().join("r.sqlite"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("npub1wrong"), "{err}");
}
