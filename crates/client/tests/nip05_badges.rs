//! NIP-05 badges against a small HTTP server on 127.0.0.1: a listed name
//! verifies, a name listed with another key is a mismatch, an unknown name
//! or a dead domain is unverified with a reason; answers are cached (the
//! server counts its requests).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nostr::prelude::*;
use samizdat_client::{LockedSigner, Nip05Badge, Session, SessionConfig};
use samizdat_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_verify_mismatch_and_fail_with_reasons_and_are_cached() {
    let (bob, mallory) = (Keys::generate().public_key(), Keys::generate().public_key());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body =
        serde_json::json!({"names": {"bob": bob.to_hex(), "eve": mallory.to_hex()}}).to_string();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("events.sqlite")).unwrap());
    let session = Session::with_store(
        store,
        dir.path().join("settings.json"),
        Arc::new(LockedSigner(Keys::generate().public_key())),
        SessionConfig::default(),
    )
    .unwrap();
    let domain = format!("127.0.0.1:{port}");
    assert_eq!(
        session.nip05_badge(bob, &format!("bob@{domain}")).await,
        Nip05Badge::Verified
    );
    assert_eq!(
        session.nip05_badge(bob, &format!("eve@{domain}")).await,
        Nip05Badge::Mismatch,
        "a name listed with someone else's key"
    );
    assert!(matches!(
        session.nip05_badge(bob, &format!("nobody@{domain}")).await,
        Nip05Badge::Unverified(reason) if reason.contains("not listed")
    ));
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(matches!(
        session.nip05_badge(bob, &format!("bob@{dead}")).await,
        Nip05Badge::Unverified(_)
    ));
    let asked = requests.load(Ordering::SeqCst);
    assert_eq!(
        session.nip05_badge(bob, &format!("BOB@{domain}")).await,
        Nip05Badge::Verified
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        asked,
        "answered from the cache"
    );

    // The ledger says what the domain learned, and by which path.
    let report = session.privacy_report().unwrap();
    let site = report
        .relays
        .iter()
        .find(|r| r.relay == format!("https://{domain}"))
        .expect("the domain is in the ledger");
    assert!(
        site.nip05_names.contains(&format!("bob@{domain}")),
        "{site:?}"
    );
    assert!(site.summary.contains("NIP-05"), "{}", site.summary);
    assert!(site.saw_ip, "a direct lookup showed the IP");

    // Switched off: no lookup, and it says why.
    session.set_nip05_checks(false).unwrap();
    let before = requests.load(Ordering::SeqCst);
    let off = session.nip05_badge(bob, &format!("alice@{domain}")).await;
    assert!(
        matches!(&off, Nip05Badge::Unverified(why) if why.contains("off")),
        "{off:?}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), before, "nothing was asked");
    let posture = session.privacy_report().unwrap().posture;
    for part in [
        "network: direct",
        "exposure cap: 25%",
        "NIP-05 checks: off",
        "AUTH: never",
    ] {
        assert!(posture.contains(part), "{posture}");
    }
}
