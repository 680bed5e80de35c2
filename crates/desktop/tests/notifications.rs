//! OS notifications against a real session D-Bus (`dbus-run-session`) with
//! a listener that owns `org.freedesktop.Notifications` and records every
//! `Notify` call: a private message from someone the user follows notifies
//! without its text; a stranger's does not notify at all.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use nostr::prelude::*;
use samizdat_relay::RelayConfig;

/// A session bus for this test; killed when dropped.
struct Bus(Child, String);

impl Bus {
    fn start() -> Option<Self> {
        let mut child = Command::new("dbus-run-session")
            .args([
                "--",
                "sh",
                "-c",
                "echo \"$DBUS_SESSION_BUS_ADDRESS\"; exec sleep 600",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take()?)
            .read_line(&mut line)
            .ok()?;
        Some(Self(child, line.trim().to_owned()))
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type Calls = Arc<Mutex<Vec<(String, String, String)>>>;

/// The notification service: records (app, summary, body).
struct Recorder(Calls);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut calls = self.0.lock().unwrap();
        calls.push((app_name, summary, body));
        calls.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }
}

#[test]
fn a_followed_persons_message_notifies_without_its_text_and_a_strangers_does_not() {
    let Some(bus) = Bus::start() else {
        panic!("dbus-run-session is needed (apt-get install dbus)");
    };
    let calls: Calls = Arc::default();
    let _service = zbus::blocking::connection::Builder::address(bus.1.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at("/org/freedesktop/Notifications", Recorder(calls.clone()))
        .unwrap()
        .build()
        .unwrap();

    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (_home, home_store, home_url) = relay(&rt, dir.path(), "home", RelayConfig::default());
    let (_dm, _, dm_url) = relay(&rt, dir.path(), "dm", RelayConfig::default());
    let (alice, bob, carol) = (Keys::generate(), Keys::generate(), Keys::generate());
    let follows = event(
        &alice,
        Kind::ContactList,
        "",
        vec![Tag::public_key(bob.public_key())],
        600,
    );
    let dm_list = event(
        &alice,
        Kind::InboxRelays,
        "",
        vec![Tag::parse(["relay", &dm_url]).unwrap()],
        600,
    );
    let name = event(&bob, Kind::Metadata, r#"{"name":"bob"}"#, vec![], 600);
    indexer_store
        .insert_batch(&[follows.clone(), dm_list.clone(), name])
        .unwrap();
    home_store.insert_batch(&[follows, dm_list]).unwrap();
    let home = dir.path().join("home");
    // The DM relay serves wraps only to their recipient, after AUTH.
    let allow = samizdat_client::RelayPolicy {
        connect: None,
        auth: Some("allow".into()),
    };
    profile(
        &rt,
        &home,
        "alice",
        &alice,
        &[&home_url],
        &[&indexer],
        &[(&dm_url, allow)],
    );

    let mut h = app_with(&home, |w| w.notify_bus = Some(bus.1.clone()));
    unlock(&mut h);
    wait_for(&mut h, "the first refresh", |h| {
        h.state()
            .main
            .as_ref()
            .is_some_and(|m| m.last_done.is_some())
    });
    std::thread::sleep(Duration::from_millis(1100));
    let senders = rt.block_on(async {
        let mut senders = Vec::new();
        for (who, keys, text) in [
            ("bob", &bob, "meet at the usual place"),
            ("carol", &carol, "claim your prize"),
        ] {
            let s = client_session(&dir.path().join(who), keys, &home_url, &[&indexer]);
            s.set_dm_relays(std::slice::from_ref(&dm_url))
                .await
                .unwrap();
            s.send_dm(&[alice.public_key()], text, None).await.unwrap();
            senders.push(s);
        }
        senders
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while calls.lock().unwrap().is_empty() && Instant::now() < deadline {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Give a second notification (the stranger's) time to be wrongly raised.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (app, summary, body) = &calls[0];
    assert_eq!(app, "Samizdat");
    assert_eq!(summary, "New message from bob");
    assert!(!body.contains("usual place"), "{body}");
    assert!(
        calls
            .iter()
            .all(|c| !c.1.contains("carol") && !c.2.contains("prize")),
        "{calls:?}"
    );
    rt.block_on(async {
        for s in senders {
            s.shutdown().await;
        }
    });
}
