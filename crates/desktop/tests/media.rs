//! Pictures in the desktop app, driven like a person would: a followed
//! person's picture waits behind "Load picture from HOST" (the server sees
//! nothing) and shows, hash verified, after the click; a server that sends
//! other bytes is refused and the card says so; a decompression bomb is
//! refused within the caps and the app keeps going; the choices are in
//! Settings and on person pages.

mod common;

use std::time::Duration;

use common::*;
use egui_kittest::kittest::Queryable;
use nostr::prelude::*;
use samizdat_media::BlobHash;
use samizdat_net::blossom::{self, BlossomServer};
use samizdat_relay::{MediaConfig, RelayConfig};

fn media_config(dir: &std::path::Path, name: &str) -> RelayConfig {
    RelayConfig {
        media: MediaConfig {
            public_uploads: true,
            ..MediaConfig::in_dir(dir.join(format!("{name}-blobs")))
        },
        ..Default::default()
    }
}

/// Uploads `bytes` as `keys`; the blob's URL.
fn upload(
    rt: &tokio::runtime::Runtime,
    relay: &samizdat_relay::RelayHandle,
    keys: &Keys,
    bytes: Vec<u8>,
) -> String {
    let server = BlossomServer::parse(&format!("http://{}", relay.local_addr())).unwrap();
    rt.block_on(blossom::upload_signed(
        &server,
        keys,
        bytes,
        "image/png",
        &Default::default(),
        Duration::from_secs(10),
    ))
    .unwrap()
    .url
}

fn picture_note(keys: &Keys, text: &str, url: &str, hash: &BlobHash, ago: u64) -> Event {
    let imeta = samizdat_media::imeta_tag(
        url,
        hash,
        "image/png",
        (96, 64),
        Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj"),
        &[],
    );
    event(
        keys,
        Kind::TextNote,
        &format!("{text}\n{url}"),
        vec![Tag::parse(imeta).unwrap()],
        ago,
    )
}

fn gets(relay: &samizdat_relay::RelayHandle) -> u64 {
    relay
        .metrics()
        .lines()
        .find(|l| l.starts_with("samizdat_relay_blob_requests_total{verb=\"get\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// An HTTP server answering every request with bytes that match no hash.
fn liar(rt: &tokio::runtime::Runtime) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = b"\x89PNG\r\n\x1a\nsomething else";
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(body).await;
        }
    });
    addr
}

#[test]
fn pictures_wait_for_the_click_are_checked_and_bombs_are_refused() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) =
        relay(&rt, dir.path(), "indexer", RelayConfig::default());
    let (home_relay, home_store, home_url) =
        relay(&rt, dir.path(), "home", media_config(dir.path(), "home"));
    let (bombs, _, _) = relay(&rt, dir.path(), "bombs", media_config(dir.path(), "bombs"));
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let png = samizdat_media::samples::gradient_png(96, 64, 5);
    let hash = BlobHash::of(&png);
    let url = upload(&rt, &home_relay, &bob, png);
    let bomb = samizdat_media::samples::png_bomb(100_000, 100_000);
    let bomb_hash = BlobHash::of(&bomb);
    let bomb_url = upload(&rt, &bombs, &bob, bomb);
    let lie = liar(&rt);
    // Another blob (the same hash would come from the cache, verified).
    let lie_hash = BlobHash::of(&samizdat_media::samples::gradient_png(8, 8, 9));
    let lie_url = format!("http://{lie}/{lie_hash}.png");
    indexer_store
        .insert_batch(&[
            relay_list(&bob, &home_url),
            relay_list(&alice, &home_url),
            event(
                &alice,
                Kind::ContactList,
                "",
                vec![Tag::public_key(bob.public_key())],
                1000,
            ),
            event(&bob, Kind::Metadata, r#"{"name":"Bob"}"#, vec![], 900),
        ])
        .unwrap();
    home_store
        .insert_batch(&[
            picture_note(&bob, "the lake at dawn", &url, &hash, 300),
            picture_note(&bob, "a lying server", &lie_url, &lie_hash, 400),
            picture_note(&bob, "a bomb", &bomb_url, &bomb_hash, 500),
        ])
        .unwrap();
    let home = dir.path().join("home");
    profile(&rt, &home, "alice", &alice, &[&home_url], &[&indexer], &[]);

    let mut h = app(&home);
    unlock(&mut h);
    let good_button = format!("Load picture from {}", home_relay.local_addr());
    wait_for(&mut h, "the pictures' notes, waiting for a click", |h| {
        shows(h, "the lake at dawn") && shows(h, &good_button)
    });
    std::thread::sleep(Duration::from_millis(300));
    h.step();
    assert_eq!(gets(&home_relay), 0, "nothing fetched before the click");
    click(&mut h, &good_button);
    wait_for(&mut h, "the picture, verified", |h| {
        shows(h, "✔ hash verified · 96×64")
    });
    assert_eq!(gets(&home_relay), 1);

    click(&mut h, &format!("Load picture from {lie}"));
    wait_for(&mut h, "the lie refused", |h| {
        shows(h, "do not match the picture's hash")
    });

    click(&mut h, &format!("Load picture from {}", bombs.local_addr()));
    wait_for(&mut h, "the bomb refused", |h| {
        shows(h, "100000×100000 pixels is more than")
    });
    // The app goes on: the viewer opens the good picture.
    // What clicking the picture does (the image has no text to find it by).
    h.state_mut().main.as_mut().unwrap().pictures.viewer = Some((url.clone(), 1.0));
    wait_for(&mut h, "the viewer", |h| {
        shows(h, "Fit") && shows(h, "hash verified ·")
    });

    // Settings: the choices.
    h.state_mut().main.as_mut().unwrap().pictures.viewer = None;
    click(&mut h, "Settings");
    wait_for(&mut h, "the pictures settings", |h| {
        shows(h, "click: loaded when you click")
    });
    click(&mut h, "always: always loaded");
    click(&mut h, "Save pictures");
    wait_for(&mut h, "saved", |h| {
        h.state()
            .main
            .as_ref()
            .unwrap()
            .alerts
            .iter()
            .any(|a| a.starts_with("pictures: always loaded"))
    });
    // Bob's page has his switch.
    click(&mut h, "Feed");
    wait_for(&mut h, "the feed again", |h| shows(h, "the lake at dawn"));
    let name = h.state().main.as_ref().unwrap().feed[0]
        .0
        .author_name
        .clone();
    h.query_all_by_label(&name).next().unwrap().click();
    h.step();
    wait_for(&mut h, "Bob's page", |h| shows(h, "Their pictures:"));
}
