//! Pictures as a user handles them with `samizdat` against two `samizdat
//! relay` processes that also serve Blossom: servers published, a phone
//! photo with GPS attached (the bytes on both servers' disks carry no EXIF
//! and no GPS), the note read and its picture loaded by someone else, and
//! the bad inputs refused with a clear error and nothing posted.

mod common;

use std::path::{Path, PathBuf};

use common::{Profile, RelayProcess};

fn npub_of(p: &Profile) -> String {
    p.ok(&["unlock"])
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned()
}

/// Every blob file under a relay's media folder.
fn blobs(dir: &Path) -> Vec<PathBuf> {
    common::walk(dir)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.len() == 64))
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn attach_strip_mirror_read_and_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Profile {
        home: dir.path().join("alice"),
    };
    alice.ok(&["init", "--log-n", "8"]);
    let npub = npub_of(&alice);
    let (db_a, db_b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
    let owner = ["--policy", "personal", "--owner", npub.as_str()];
    let a = RelayProcess::start(&db_a, &owner);
    let b = RelayProcess::start(&db_b, &owner);
    alice.ok(&["relays", "add", &a.url(), "--read", "--write"]);
    alice.ok(&["relays", "add", &a.url(), "--discovery"]);
    let (http_a, http_b) = (
        format!("http://127.0.0.1:{}", a.port),
        format!("http://127.0.0.1:{}", b.port),
    );

    // Bad inputs first: each refused, nothing posted.
    let err = alice.fails(&["blossom", "servers", "set", "ftp://files.example"]);
    assert!(err.contains("not a Blossom server URL"), "{err}");
    let err = alice.fails(&["post", "x", "--attach", "/nonexistent.jpg"]);
    assert!(err.contains("/nonexistent.jpg"), "{err}");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a picture").unwrap();
    let err = alice.fails(&["post", "x", "--attach", text.to_str().unwrap()]);
    assert!(
        err.contains("no Blossom servers") || err.contains("not a supported image"),
        "{err}"
    );
    let err = alice.fails(&["media", "show", "sometimes"]);
    assert!(err.contains("never, click, follows or always"), "{err}");

    let out = alice.ok(&["blossom", "servers", "set", &http_a, &http_b]);
    assert!(out.contains("published your Blossom servers"), "{out}");
    assert_eq!(
        alice
            .ok(&["blossom", "servers"])
            .lines()
            .collect::<Vec<_>>(),
        vec![http_a.as_str(), http_b.as_str()]
    );
    let err = alice.fails(&["post", "x", "--attach", text.to_str().unwrap()]);
    assert!(err.contains("not a supported image"), "{err}");

    // A phone photo with GPS in its EXIF.
    let photo = dir.path().join("holiday.jpg");
    let original = samizdat_media::samples::photo_jpeg_with_gps(320, 240);
    assert!(contains(&original, samizdat_media::samples::GPS_MARKER));
    std::fs::write(&photo, &original).unwrap();
    let out = alice.ok(&["post", "at the lake", "--attach", photo.to_str().unwrap()]);
    assert!(
        out.contains("320×240 image/jpeg") && out.contains("removed EXIF"),
        "{out}"
    );
    assert!(out.contains(&format!("uploaded: {http_a}/")), "{out}");
    assert!(out.contains(&format!("mirrored: {http_b}/")), "{out}");
    assert!(out.contains("posted note1"), "{out}");
    // What the servers keep: no EXIF, no GPS, still a JPEG.
    for db in [&db_a, &db_b] {
        let stored = blobs(&db.with_file_name(format!(
            "{}-blobs",
            db.file_stem().unwrap().to_str().unwrap()
        )));
        assert_eq!(stored.len(), 1, "{stored:?}");
        let bytes = std::fs::read(&stored[0]).unwrap();
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert!(
            !contains(&bytes, b"Exif") && !contains(&bytes, b"GPS"),
            "metadata reached the server"
        );
        assert!(bytes.len() < original.len());
    }

    // Bob reads the note and loads the picture (the terminal's click).
    let bob = Profile {
        home: dir.path().join("bob"),
    };
    bob.ok(&["init", "--log-n", "8"]);
    let c = RelayProcess::start(&dir.path().join("c.sqlite"), &["--no-media"]);
    bob.ok(&["relays", "add", &a.url(), "--read", "--discovery"]);
    bob.ok(&["relays", "add", &c.url(), "--write"]);
    bob.ok(&["follow", &npub]);
    bob.ok(&["sync"]);
    let feed: serde_json::Value = serde_json::from_str(&bob.ok(&["feed", "--json"])).unwrap();
    let note = feed
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["content"].as_str().unwrap().starts_with("at the lake"))
        .expect("the note");
    let id = note["id"].as_str().unwrap().to_owned();
    let imeta = note["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == "imeta")
        .expect("an imeta tag");
    let imeta: Vec<&str> = imeta
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        imeta.contains(&"dim 320x240") && imeta.iter().any(|v| v.starts_with("blurhash ")),
        "{imeta:?}"
    );
    assert!(
        imeta
            .iter()
            .any(|v| v.starts_with(&format!("fallback {http_b}/"))),
        "{imeta:?}"
    );
    let saved = dir.path().join("saved");
    let out = bob.ok(&["media", "load", &id, "--out", saved.to_str().unwrap()]);
    assert!(
        out.contains("JPEG 320×240") && out.contains("hash verified"),
        "{out}"
    );
    assert_eq!(blobs(&saved).len(), 0, "saved with an extension");
    assert_eq!(common::walk(&saved).len(), 1);
    let privacy = bob.ok(&["privacy"]);
    assert!(
        privacy.contains(&http_a) && privacy.contains("viewed 1 picture"),
        "{privacy}"
    );
    // Never for Alice: the click does nothing.
    bob.ok(&["media", "person", &npub, "never"]);
    let err = bob.fails(&["media", "load", &id]);
    assert!(err.contains("no picture could be loaded"), "{err}");
    let out = bob.ok(&["media", "show"]);
    assert!(
        out.contains("pictures: click") && out.contains(": never"),
        "{out}"
    );
}
