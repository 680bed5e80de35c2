//! Our Blossom client against our relay's Blossom server, on loopback:
//! upload, fetch with hash checks, mirror between two relays, list,
//! delete, and the refusals (no authorization, a stranger on a personal
//! relay, the quota, a wrong hash).

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_media::BlobHash;
use samizdat_net::blossom::{self, BlossomError, BlossomServer, BlossomVerb};
use samizdat_net::TransportConfig;
use samizdat_relay::{MediaConfig, PolicyConfig, RelayConfig};
use samizdat_store::Store;

const T: Duration = Duration::from_secs(10);

async fn media_relay(
    dir: &std::path::Path,
    owner: &Keys,
    quota_mib: u64,
) -> samizdat_relay::RelayHandle {
    let store = Arc::new(Store::open(dir.join("relay.sqlite")).unwrap());
    let config = RelayConfig {
        policy: PolicyConfig::personal(&owner.public_key().to_hex()),
        media: MediaConfig {
            quota_mib,
            ..MediaConfig::in_dir(dir.join("blobs"))
        },
        ..Default::default()
    };
    samizdat_relay::start(config, store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn auth(keys: &Keys, verb: BlossomVerb, hash: Option<&BlobHash>) -> String {
    let event = blossom::auth_template(verb, hash, Duration::from_secs(300))
        .finalize(keys)
        .unwrap();
    blossom::auth_header(&event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_fetch_mirror_list_delete_and_refusals() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let owner = Keys::generate();
    let a = media_relay(d1.path(), &owner, 1).await;
    let b = media_relay(d2.path(), &owner, 1).await;
    let server_a = BlossomServer::parse(&format!("http://{}", a.local_addr())).unwrap();
    let server_b = BlossomServer::parse(&format!("http://{}", b.local_addr())).unwrap();
    let net = TransportConfig::default();
    let png = samizdat_media::samples::gradient_png(64, 48, 7);
    let hash = BlobHash::of(&png);

    // Without authorization, and as a stranger: refused, nothing stored.
    let stranger = Keys::generate();
    for header in ["", &auth(&stranger, BlossomVerb::Upload, Some(&hash))] {
        let err = blossom::upload(
            &server_a,
            png.clone().into(),
            "image/png",
            header,
            &net,
            None,
            T,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                BlossomError::Refused {
                    status: 401 | 403,
                    ..
                }
            ),
            "{err}"
        );
    }
    // An authorization for another blob: refused.
    let wrong = auth(&owner, BlossomVerb::Upload, Some(&BlobHash::of(b"other")));
    assert!(blossom::upload(
        &server_a,
        png.clone().into(),
        "image/png",
        &wrong,
        &net,
        None,
        T
    )
    .await
    .is_err());

    // The owner uploads, with progress counted.
    let progress = samizdat_http::Progress::default();
    let up = auth(&owner, BlossomVerb::Upload, Some(&hash));
    let d = blossom::upload(
        &server_a,
        png.clone().into(),
        "application/x-whatever",
        &up,
        &net,
        Some(&progress),
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        (d.sha256.as_str(), d.size, d.mime.as_deref()),
        (hash.to_hex().as_str(), png.len() as u64, Some("image/png"))
    );
    assert!(d.url.ends_with(&format!("/{hash}.png")), "{}", d.url);
    assert_eq!(progress.sent(), png.len() as u64);

    // Fetched and verified; an unknown blob is a 404.
    let mut contacted = Vec::new();
    let url = samizdat_http::HttpUrl::parse(&d.url).unwrap();
    let got = blossom::fetch(&url, Some(&hash), &net, 1 << 20, T, &mut contacted)
        .await
        .unwrap();
    assert_eq!(&got[..], &png[..]);
    assert_eq!(contacted, vec![server_a.origin()]);
    let missing = BlobHash::of(b"nothing");
    let err = blossom::fetch(
        &server_a.blob_url(&missing),
        Some(&missing),
        &net,
        1 << 20,
        T,
        &mut contacted,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BlossomError::Refused { status: 404, .. }),
        "{err}"
    );
    // Asking for a blob under another hash's name is a mismatch.
    let err = blossom::fetch(&url, Some(&missing), &net, 1 << 20, T, &mut contacted)
        .await
        .unwrap_err();
    assert!(matches!(err, BlossomError::HashMismatch { .. }), "{err}");

    // Mirrored from A to B (B fetches it itself), then listed on B.
    let m = blossom::mirror(&server_b, &d.url, &hash, &up, &net, T)
        .await
        .unwrap();
    assert_eq!(m.sha256, hash.to_hex());
    let listed = blossom::list(
        &server_b,
        &owner.public_key(),
        Some(&auth(&owner, BlossomVerb::List, None)),
        &net,
        T,
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 1);
    // Nobody else may list the owner's uploads.
    let err = blossom::list(
        &server_b,
        &owner.public_key(),
        Some(&auth(&stranger, BlossomVerb::List, None)),
        &net,
        T,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BlossomError::Refused { status: 403, .. }),
        "{err}"
    );
    assert!(
        b.metrics().contains("samizdat_relay_blobs 1"),
        "{}",
        b.metrics()
    );

    // Deleted on A: gone.
    blossom::delete(
        &server_a,
        &hash,
        &auth(&owner, BlossomVerb::Delete, Some(&hash)),
        &net,
        T,
    )
    .await
    .unwrap();
    assert!(
        blossom::fetch(&url, Some(&hash), &net, 1 << 20, T, &mut contacted)
            .await
            .is_err()
    );
    assert!(a.metrics().contains("samizdat_relay_blobs 0"));

    // The quota (1 MiB): a 2 MiB blob does not fit.
    let big = vec![7u8; 2 << 20];
    let big_hash = BlobHash::of(&big);
    let err = blossom::upload(
        &server_a,
        big.into(),
        "application/octet-stream",
        &auth(&owner, BlossomVerb::Upload, Some(&big_hash)),
        &net,
        None,
        T,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BlossomError::Refused { status: 507, .. }),
        "{err}"
    );
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn svg_and_html_are_served_inert() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Keys::generate();
    let relay = media_relay(dir.path(), &owner, 10).await;
    let server = BlossomServer::parse(&format!("http://{}", relay.local_addr())).unwrap();
    let net = TransportConfig::default();
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    let hash = BlobHash::of(&svg);
    let d = blossom::upload(
        &server,
        svg.into(),
        "image/svg+xml",
        &auth(&owner, BlossomVerb::Upload, Some(&hash)),
        &net,
        None,
        T,
    )
    .await
    .unwrap();
    assert_eq!(d.mime.as_deref(), Some("application/octet-stream"));
    relay.shutdown().await;
}
