//! Media, privately, through the client's API against real parts: our
//! relays serving Blossom on 127.0.0.1, the demo's logging SOCKS5 proxy
//! standing in for Tor, a server that lies about a blob, and a
//! decompression bomb.
//!
//! - A stranger's picture under "click to load": the media server sees no
//!   request until the click; then the request goes through the proxy
//!   only, and the ledger names the server and the blob.
//! - A dead proxy fails closed: nothing reaches the media server.
//! - Bytes that do not match the hash are refused and said; a PNG
//!   declaring 100,000 × 100,000 pixels fails within the caps.

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::media::{MediaChoice, MediaError, MediaRef};
use samizdat_client::{LocalSigner, Session, SessionConfig, Settings};
use samizdat_media::BlobHash;
use samizdat_net::blossom::{self, BlossomServer};
use samizdat_net::{ProxyConfig, TransportConfig};
use samizdat_relay::{MediaConfig, PolicyConfig, RelayConfig, RelayHandle};
use samizdat_store::Store;

const T: Duration = Duration::from_secs(10);

/// A relay serving Blossom, its uploads open to `owner`.
async fn media_relay(dir: &std::path::Path, owner: &Keys) -> RelayHandle {
    let store = Arc::new(Store::open(dir.join("media-relay.sqlite")).unwrap());
    let config = RelayConfig {
        policy: PolicyConfig::personal(&owner.public_key().to_hex()),
        media: MediaConfig::in_dir(dir.join("blobs")),
        ..Default::default()
    };
    samizdat_relay::start(config, store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// `keys` uploads `bytes` to `relay` (as its owner); the blob's URL.
async fn upload(relay: &RelayHandle, keys: &Keys, bytes: Vec<u8>) -> (String, BlobHash) {
    let server = BlossomServer::parse(&format!("http://{}", relay.local_addr())).unwrap();
    let hash = BlobHash::of(&bytes);
    let d = blossom::upload_signed(
        &server,
        keys,
        bytes,
        "image/png",
        &TransportConfig::default(),
        T,
    )
    .await
    .unwrap();
    (d.url, hash)
}

/// The user's session, with `proxy` as its network; no relays needed.
fn session(dir: &std::path::Path, proxy: Option<std::net::SocketAddr>) -> Arc<Session> {
    Settings::default()
        .save(&dir.join("settings.json"))
        .unwrap();
    let mut config = SessionConfig::default();
    config.engine.net.transport.proxy = proxy.map(|addr| ProxyConfig {
        addr,
        isolate: true,
    });
    config.engine.net.transport.connect_timeout = Duration::from_secs(2);
    Session::with_store(
        Arc::new(Store::open(dir.join("events.sqlite")).unwrap()),
        dir.join("settings.json"),
        Arc::new(LocalSigner::new(Keys::generate())),
        config,
    )
    .unwrap()
}

/// A stranger's note with the picture in an `imeta` tag, and their
/// Blossom server list, as the user's store would hold them after a sync.
fn strangers_note(
    session: &Session,
    stranger: &Keys,
    url: &str,
    hash: &BlobHash,
    server: &str,
) -> Event {
    let imeta = samizdat_media::imeta_tag(url, hash, "image/png", (64, 48), None, &[]);
    let note = EventBuilder::new(Kind::TextNote, format!("look {url}"))
        .tag(Tag::parse(imeta).unwrap())
        .finalize(stranger)
        .unwrap();
    let servers = EventBuilder::new(Kind::Custom(10063), "")
        .tag(Tag::parse(["server", server]).unwrap())
        .finalize(stranger)
        .unwrap();
    session
        .engine()
        .store()
        .insert_batch(&[note.clone(), servers])
        .unwrap();
    note
}

fn gets(relay: &RelayHandle) -> u64 {
    relay
        .metrics()
        .lines()
        .find(|l| l.starts_with("samizdat_relay_blob_requests_total{verb=\"get\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_picture_waits_for_the_click_and_goes_through_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let stranger = Keys::generate();
    let media = media_relay(dir.path(), &stranger).await;
    let origin = format!("http://{}", media.local_addr());
    let png = samizdat_media::samples::gradient_png(64, 48, 1);
    let (url, hash) = upload(&media, &stranger, png.clone()).await;
    let log = Arc::new(samizdat_demo::coalition::Log::default());
    let proxy = samizdat_demo::coalition::socks_proxy(Arc::clone(&log))
        .await
        .unwrap();
    let home = dir.path().join("user");
    std::fs::create_dir_all(&home).unwrap();
    let s = session(&home, Some(proxy.addr));
    assert_eq!(s.media_settings().show, MediaChoice::Click, "the default");
    let note = strangers_note(&s, &stranger, &url, &hash, &origin);
    let refs = s.media_of(&note);
    assert_eq!(
        refs.len(),
        1,
        "the imeta and the link are one picture: {refs:?}"
    );

    // Before the click: an answer without a single request.
    let err = s
        .load_media(&stranger.public_key(), &refs[0], false)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::NeedsClick), "{err}");
    assert_eq!(gets(&media), 0, "the media server saw nothing");
    assert!(
        log.circuits().is_empty(),
        "nothing went through the proxy either"
    );
    assert!(s.privacy_report().unwrap().relays.is_empty());

    // The click: fetched through the proxy, verified, cached.
    let loaded = s
        .load_media(&stranger.public_key(), &refs[0], true)
        .await
        .unwrap();
    assert!(loaded.verified());
    assert_eq!((&loaded.bytes[..], loaded.size), (&png[..], (64, 48)));
    assert_eq!(loaded.from.as_deref(), Some(origin.as_str()));
    assert_eq!(gets(&media), 1);
    let circuits = log.circuits();
    assert_eq!(circuits.len(), 1, "{circuits:?}");
    assert_eq!(circuits[0].target, media.local_addr().to_string());
    assert!(
        circuits[0].user.is_some(),
        "its own circuit (SOCKS credentials)"
    );
    // The ledger names the server, what it learned and how it was reached.
    let report = s.privacy_report().unwrap();
    let entry = report
        .relays
        .iter()
        .find(|r| r.relay == origin)
        .expect("the server is in the ledger");
    assert_eq!(entry.media_fetched, vec![format!("blob {hash}")]);
    assert!(
        !entry.saw_ip && entry.paths[0].starts_with("proxy"),
        "{entry:?}"
    );
    assert!(
        entry.summary.contains("viewed 1 picture"),
        "{}",
        entry.summary
    );

    // A second look comes from the cache: no request at all.
    let again = s
        .load_media(&stranger.public_key(), &refs[0], true)
        .await
        .unwrap();
    assert_eq!((again.from, gets(&media)), (None, 1));

    // "Always show their media": no click needed; "never": not even a click.
    s.media_cache().evict();
    s.set_person_media(stranger.public_key(), Some(MediaChoice::Never))
        .unwrap();
    assert!(matches!(
        s.load_media(&stranger.public_key(), &refs[0], true).await,
        Err(MediaError::NotLoaded(_))
    ));
    s.set_person_media(stranger.public_key(), Some(MediaChoice::Always))
        .unwrap();
    assert!(s
        .load_media(&stranger.public_key(), &refs[0], false)
        .await
        .is_ok());
    s.shutdown().await;
    media.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_proxy_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let stranger = Keys::generate();
    let media = media_relay(dir.path(), &stranger).await;
    let (url, hash) = upload(
        &media,
        &stranger,
        samizdat_media::samples::gradient_png(8, 8, 2),
    )
    .await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let home = dir.path().join("user");
    std::fs::create_dir_all(&home).unwrap();
    let s = session(&home, Some(dead));
    let note = strangers_note(
        &s,
        &stranger,
        &url,
        &hash,
        &format!("http://{}", media.local_addr()),
    );
    let err = s
        .load_media(&stranger.public_key(), &s.media_of(&note)[0], true)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Unreachable(_)), "{err}");
    assert!(err.to_string().contains("SOCKS5"), "{err}");
    assert_eq!(gets(&media), 0, "nothing went around the proxy");
    s.shutdown().await;
    media.shutdown().await;
}

/// An HTTP server that answers every request with `body`.
async fn liar(body: &'static [u8]) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: image/png\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(body).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_hash_is_refused_and_a_bomb_fails_within_caps() {
    let dir = tempfile::tempdir().unwrap();
    let stranger = Keys::generate();
    let s = session(dir.path(), None);
    s.set_media_choice(MediaChoice::Always).unwrap();

    // The note names one blob; the server sends other bytes.
    let real = samizdat_media::samples::gradient_png(16, 16, 3);
    let hash = BlobHash::of(&real);
    let addr = liar(b"\x89PNG\r\n\x1a\nnot the picture you asked for").await;
    let url = format!("http://{addr}/{hash}.png");
    let note = strangers_note(&s, &stranger, &url, &hash, &format!("http://{addr}"));
    let err = s
        .load_media(&stranger.public_key(), &s.media_of(&note)[0], false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::HashMismatch { server } if *server == format!("http://{addr}")),
        "{err}"
    );
    assert!(err.to_string().contains("do not match"), "{err}");
    assert_eq!(s.media_cache().evict().files, 0, "nothing cached");

    // A bomb: a valid PNG of 60 bytes declaring 10^10 pixels.
    let media = media_relay(dir.path(), &stranger).await;
    let bomb = samizdat_media::samples::png_bomb(100_000, 100_000);
    assert!(bomb.len() < 100);
    let (url, hash) = upload(&media, &stranger, bomb).await;
    let note = strangers_note(
        &s,
        &stranger,
        &url,
        &hash,
        &format!("http://{}", media.local_addr()),
    );
    let started = std::time::Instant::now();
    let err = s
        .load_media(&stranger.public_key(), &s.media_of(&note)[0], false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::Refused(samizdat_media::MediaError::TooManyPixels { width: 100_000, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("100000×100000"), "{err}");
    eprintln!("bomb refused in {:?}", started.elapsed());
    // The session goes on: a good picture still loads.
    let (url, hash) = upload(&media, &stranger, real.clone()).await;
    let note = strangers_note(
        &s,
        &stranger,
        &url,
        &hash,
        &format!("http://{}", media.local_addr()),
    );
    let good = s
        .load_media(&stranger.public_key(), &s.media_of(&note)[0], false)
        .await
        .unwrap();
    let decoded = s.decode_media(&good, Default::default()).await.unwrap();
    assert_eq!(decoded.shown, (16, 16));
    s.shutdown().await;
    media.shutdown().await;
}

#[test]
fn media_refs_ignore_what_is_not_a_picture() {
    let r = MediaRef::from_link("https://example.org/page.html");
    assert!(r.is_none());
}
