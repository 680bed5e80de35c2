//! Our engine's network layer against an independent relay, the Python
//! `nostr-relay` (installed into a virtualenv by the suite): publish,
//! subscribe, replaceable events replaced, deleted events gone, and its error
//! messages handled (it answers a rejection with an empty id, after ~2 s).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_interop::{python_relay_bin, python_relay_config};
use samizdat_net::{NetConfig, PolicyBook, Pool, PoolEvent, PublishOutcome, RelayUrl};
use samizdat_store::Store;
use tokio::sync::mpsc;

struct PyRelay(Child);

impl Drop for PyRelay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn eose(rx: &mut mpsc::Receiver<PoolEvent>, sub: &str) -> Vec<Event> {
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(PoolEvent::Events { sub: s, events, .. })) if s == sub => got.extend(events),
            Ok(Some(PoolEvent::Eose { sub: s, .. })) if s == sub => return got,
            Ok(Some(_)) => {}
            other => panic!("no EOSE for {sub}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_engine_against_the_python_relay() {
    let bin = tokio::task::spawn_blocking(python_relay_bin).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = python_relay_config(port, data.path());
    let _relay = PyRelay(
        Command::new(bin)
            .arg("-c")
            .arg(&config)
            .arg("serve")
            .current_dir(data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the Python nostr-relay"),
    );
    let mut up = false;
    for _ in 0..150 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(up, "the Python relay did not start on port {port}");

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("client.sqlite")).unwrap());
    let config = NetConfig {
        ok_timeout: Duration::from_secs(8),
        ..NetConfig::default()
    };
    let (pool, mut rx) = Pool::new(config, store, PolicyBook::new(), None);
    let url = RelayUrl::parse(&format!("ws://127.0.0.1:{port}")).unwrap();
    let me = Keys::generate();
    let now = Timestamp::now().as_secs();
    let at = |s: u64| Timestamp::from_secs(now - s);

    // Publish and read back.
    let note = EventBuilder::new(Kind::TextNote, "hello python relay")
        .custom_created_at(at(30))
        .finalize(&me)
        .unwrap();
    assert_eq!(
        pool.publish(&url, note.clone()).await,
        PublishOutcome::Accepted
    );
    pool.subscribe(
        &url,
        "mine",
        vec![Filter::new().author(me.public_key()).kind(Kind::TextNote)],
    )
    .unwrap();
    let got = eose(&mut rx, "mine").await;
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), vec![note.id]);

    // Replaceable: the newer profile replaces the older one.
    let v1 = EventBuilder::new(Kind::Metadata, "{\"name\":\"one\"}")
        .custom_created_at(at(20))
        .finalize(&me)
        .unwrap();
    let v2 = EventBuilder::new(Kind::Metadata, "{\"name\":\"two\"}")
        .custom_created_at(at(10))
        .finalize(&me)
        .unwrap();
    assert!(pool.publish(&url, v1.clone()).await.delivered());
    assert!(pool.publish(&url, v2.clone()).await.delivered());
    pool.subscribe(
        &url,
        "profile",
        vec![Filter::new().author(me.public_key()).kind(Kind::Metadata)],
    )
    .unwrap();
    let got = eose(&mut rx, "profile").await;
    assert_eq!(
        got.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![v2.id],
        "only the newest profile"
    );

    // Deletion: the deleted note is gone from the relay.
    let deletion = EventBuilder::new(Kind::EventDeletion, "")
        .tag(Tag::event(note.id))
        .custom_created_at(at(5))
        .finalize(&me)
        .unwrap();
    assert!(pool.publish(&url, deletion).await.delivered());
    let dir2 = tempfile::tempdir().unwrap();
    let (pool2, mut rx2) = Pool::new(
        NetConfig::default(),
        Arc::new(Store::open(dir2.path().join("fresh.sqlite")).unwrap()),
        PolicyBook::new(),
        None,
    );
    pool2
        .subscribe(&url, "gone", vec![Filter::new().id(note.id)])
        .unwrap();
    assert!(
        eose(&mut rx2, "gone").await.is_empty(),
        "the deleted note is still served"
    );

    // Its error message: a forged event is rejected (OK with an empty id, late).
    let mut forged = EventBuilder::new(Kind::TextNote, "original")
        .finalize(&me)
        .unwrap();
    forged.content = "forged".into();
    match pool.publish(&url, forged).await {
        PublishOutcome::Rejected(reason) => assert!(!reason.is_empty()),
        other => panic!("expected the forgery to be rejected, got {other:?}"),
    }
    pool.shutdown().await;
    pool2.shutdown().await;
}
