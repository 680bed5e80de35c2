//! NIP-05 resolution against a small HTTP server on 127.0.0.1.

use nostr::prelude::*;
use samizdat_net::{resolve_nip05, Nip05Error, TransportConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn names_resolve_to_keys_and_relays() {
    let bob = Keys::generate().public_key();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = serde_json::json!({
        "names": {"bob": bob.to_hex()},
        "relays": {bob.to_hex(): ["wss://bob.relay.example"]}
    })
    .to_string();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                assert!(
                    request.starts_with("GET /.well-known/nostr.json?name="),
                    "{request}"
                );
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    let config = TransportConfig::default();
    let (key, relays) = resolve_nip05(&format!("Bob@127.0.0.1:{port}"), &config)
        .await
        .unwrap();
    assert_eq!(
        (key, relays),
        (bob, vec!["wss://bob.relay.example".to_string()])
    );
    assert_eq!(
        resolve_nip05(&format!("alice@127.0.0.1:{port}"), &config).await,
        Err(Nip05Error::NotListed(format!("alice@127.0.0.1:{port}")))
    );
    assert!(matches!(
        resolve_nip05("no-at-sign", &config).await,
        Err(Nip05Error::NotAnIdentifier(_))
    ));
    assert!(matches!(
        resolve_nip05("a b@x", &config).await,
        Err(Nip05Error::NotAnIdentifier(_))
    ));
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(matches!(
        resolve_nip05(&format!("bob@127.0.0.1:{dead}"), &config).await,
        Err(Nip05Error::NoDocument(_))
    ));
}
