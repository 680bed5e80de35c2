//! The client commands end to end, as separate processes over three
//! `samizdat relay` processes on 127.0.0.1: A and B share no relay; A follows
//! B and reads B's post through B's relay list on the discovery relay; A's
//! follow list changed on another device first is not lost by A's next follow.

mod common;

use std::path::Path;
use std::process::Output;

use common::{samizdat, RelayProcess};

fn run(home: &Path, profile: &str, args: &[&str]) -> Output {
    let out = samizdat()
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["--log", "warn", "--profile", profile])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{profile} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn npub_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned()
}

fn setup(home: &Path, profile: &str, own: &str, discovery: &str, import: Option<&str>) -> String {
    let init = match import {
        None => run(home, profile, &["init", "--log-n", "10"]),
        Some(key) => {
            let out = common::output_with_stdin(
                samizdat()
                    .env("SAMIZDAT_HOME", home)
                    .env("SAMIZDAT_PASSPHRASE", "pw")
                    .args(["--log", "warn", "--profile", profile])
                    .args(["init", "--log-n", "10", "--import"]),
                key,
            );
            assert!(out.status.success(), "{out:?}");
            out
        }
    };
    let npub = npub_of(&init);
    run(home, profile, &["relays", "add", own, "--read", "--write"]);
    run(home, profile, &["relays", "add", discovery, "--discovery"]);
    run(home, profile, &["relays", "publish"]);
    npub
}

#[test]
fn follow_post_sync_feed_and_no_clobbering() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let discovery = RelayProcess::start(&h.join("d.sqlite"), &[]);
    let relay_a = RelayProcess::start(&h.join("ra.sqlite"), &[]);
    let relay_b = RelayProcess::start(&h.join("rb.sqlite"), &[]);

    let b = setup(h, "b", &relay_b.url(), &discovery.url(), None);
    let posted = run(h, "b", &["post", "hello from B, on B's relay only"]);
    assert!(String::from_utf8_lossy(&posted.stdout).contains("Accepted"));
    let status = run(h, "b", &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(
        status.as_array().unwrap().iter().all(|p| p["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered")),
        "{status}"
    );

    let a = setup(h, "a", &relay_a.url(), &discovery.url(), None);
    run(h, "a", &["follow", &b]);
    run(h, "a", &["sync"]);
    let feed = run(h, "a", &["feed", "--json"]);
    assert!(
        String::from_utf8_lossy(&feed.stdout).contains("hello from B, on B's relay only"),
        "A reads B through the outbox model"
    );

    // B replies to A; the reply reaches A's inbox (A's read relay, found
    // through A's relay list), though B never writes to A's relay otherwise.
    let posted =
        String::from_utf8_lossy(&run(h, "a", &["post", "hello from A"]).stdout).into_owned();
    let a_note = posted
        .split_whitespace()
        .find(|w| w.starts_with("note1"))
        .unwrap()
        .to_owned();
    run(h, "b", &["follow", &a]);
    run(h, "b", &["sync"]);
    let replied = String::from_utf8_lossy(&run(h, "b", &["reply", &a_note, "welcome, A"]).stdout)
        .into_owned();
    assert!(
        replied.contains(&relay_a.url()),
        "the reply went to A's inbox relay: {replied}"
    );
    let inbox = String::from_utf8_lossy(&run(h, "a", &["inbox", "--json"]).stdout).into_owned();
    let inbox: serde_json::Value = serde_json::from_str(&inbox).unwrap();
    let reply = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["content"] == "welcome, A")
        .expect("B's reply in A's inbox");
    assert!(
        reply["tags"].to_string().contains("root"),
        "NIP-10 markers: {reply}"
    );

    // The whole conversation, root first; one person from their own relays.
    let thread = String::from_utf8_lossy(
        &run(h, "a", &["thread", reply["id"].as_str().unwrap(), "--json"]).stdout,
    )
    .into_owned();
    let thread: serde_json::Value = serde_json::from_str(&thread).unwrap();
    let contents: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["content"].as_str())
        .collect();
    assert_eq!(contents, vec!["hello from A", "welcome, A"]);
    let bystander = setup(h, "x", &relay_a.url(), &discovery.url(), None);
    assert!(!bystander.is_empty());
    let person =
        String::from_utf8_lossy(&run(h, "x", &["person", &b, "--json"]).stdout).into_owned();
    assert!(
        person.contains("hello from B, on B's relay only"),
        "{person}"
    );
    // A relay denied by policy is never contacted.
    setup(h, "y", &relay_a.url(), &discovery.url(), None);
    run(
        h,
        "y",
        &["relays", "policy", &relay_b.url(), "--connect", "deny"],
    );
    let denied =
        String::from_utf8_lossy(&run(h, "y", &["person", &b, "--json"]).stdout).into_owned();
    assert_eq!(denied.trim(), "[]", "B's relay is denied: {denied}");
    run(
        h,
        "y",
        &["relays", "policy", &relay_b.url(), "--connect", "allow"],
    );
    let allowed =
        String::from_utf8_lossy(&run(h, "y", &["person", &b, "--json"]).stdout).into_owned();
    assert!(allowed.contains("hello from B"), "{allowed}");
    let older = String::from_utf8_lossy(&run(h, "a", &["feed", "--before", "1", "--json"]).stdout)
        .into_owned();
    assert_eq!(older.trim(), "[]", "load more past the beginning is empty");

    // Reactions, reposts and deletions of one's own notes.
    let reply_id = reply["id"].as_str().unwrap().to_owned();
    assert!(
        String::from_utf8_lossy(&run(h, "a", &["react", &reply_id]).stdout).contains("Accepted")
    );
    assert!(
        String::from_utf8_lossy(&run(h, "a", &["repost", &reply_id]).stdout).contains("reposted")
    );
    assert!(
        String::from_utf8_lossy(&run(h, "a", &["delete", &a_note, "--reason", "typo"]).stdout)
            .contains("deletion requested")
    );
    let refused = samizdat()
        .env("SAMIZDAT_HOME", h)
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["--profile", "a", "delete", &reply_id])
        .output()
        .unwrap();
    assert!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("only your own")
    );

    // Another device with the same key follows C; A's next follow keeps C.
    let nsec = String::from_utf8_lossy(&run(h, "a", &["key", "export", "--i-understand"]).stdout)
        .trim()
        .to_owned();
    let a2 = setup(h, "a2", &relay_a.url(), &discovery.url(), Some(&nsec));
    assert_eq!(a2, a);
    let c = setup(h, "c", &relay_b.url(), &discovery.url(), None);
    let e = setup(h, "e", &relay_b.url(), &discovery.url(), None);
    run(h, "a2", &["follow", &c]);
    run(h, "a", &["follow", &e]);
    let follows = String::from_utf8_lossy(&run(h, "a", &["follows"]).stdout).into_owned();
    for who in [&b, &c, &e] {
        assert!(
            follows.contains(who.as_str()),
            "{who} missing from {follows}"
        );
    }
    // Every version was kept; an earlier one can be restored.
    let history =
        String::from_utf8_lossy(&run(h, "a", &["follows", "history"]).stdout).into_owned();
    assert!(
        history.contains("#0 (current)") && history.contains("#2"),
        "{history}"
    );
    run(h, "a", &["follows", "restore", "2"]);
    let follows = String::from_utf8_lossy(&run(h, "a", &["follows"]).stdout).into_owned();
    assert!(
        follows.contains(b.as_str()) && !follows.contains(e.as_str()),
        "restored the one-person list: {follows}"
    );

    // The coverage picture, from what the profile knows.
    let picture =
        String::from_utf8_lossy(&run(h, "a", &["outbox", "show", "--json"]).stdout).into_owned();
    let picture: serde_json::Value = serde_json::from_str(&picture).unwrap();
    let b_hex = nostr::prelude::PublicKey::parse(&b).unwrap().to_hex();
    let rb = nostr::prelude::RelayUrl::parse(&relay_b.url())
        .unwrap()
        .to_string();
    assert_eq!(
        picture["assignments"][rb.as_str()],
        serde_json::json!([b_hex]),
        "{picture}"
    );

    // Profile fields change one at a time; the others stay.
    run(h, "a", &["profile", "set", "--name", "Alice"]);
    run(h, "a", &["profile", "set", "--about", "testing samizdat"]);
    let shown = String::from_utf8_lossy(&run(h, "a", &["profile", "show"]).stdout).into_owned();
    assert!(
        shown.contains("Alice") && shown.contains("testing samizdat"),
        "{shown}"
    );

    let out = samizdat()
        .env("SAMIZDAT_HOME", h)
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["--profile", "a", "follow", &b])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("already following")
    );
}

#[test]
fn a_follow_made_while_the_relays_are_down_waits_and_can_be_cancelled() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let port = common::free_port();
    let db = h.join("r.sqlite");
    let relay = RelayProcess::start_on(&db, port, &[]);
    let url = relay.url();
    setup(h, "me", &url, &url, None);
    let early = run(h, "me", &["follow", &keys_npub()]);
    assert!(String::from_utf8_lossy(&early.stdout).contains("following"));
    drop(relay);

    let out = run(h, "me", &["follow", &keys_npub()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("1 change to your follow list waiting: your relays have not answered"),
        "{text}"
    );
    let second = keys_npub();
    run(h, "me", &["follow", &second]);
    let status = String::from_utf8_lossy(&run(h, "me", &["status"]).stdout).to_string();
    assert!(
        status.contains("2 changes to your follow list waiting"),
        "{status}"
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&run(h, "me", &["changes", "--json"]).stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[1]["change"].as_str().unwrap().contains(&second));
    let id = listed[1]["id"].as_i64().unwrap().to_string();
    let cancelled = run(h, "me", &["changes", "cancel", &id]);
    assert!(String::from_utf8_lossy(&cancelled.stdout).contains("cancelled"));
    let bad = samizdat()
        .env("SAMIZDAT_HOME", h)
        .args([
            "--log",
            "warn",
            "--profile",
            "me",
            "changes",
            "cancel",
            "9999",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no waiting change #9999"));

    // The relay is back: the one change left goes out over the first follow.
    let _relay = RelayProcess::start_on(&db, port, &[]);
    let applied = String::from_utf8_lossy(&run(h, "me", &["changes", "apply"]).stdout).to_string();
    assert!(applied.contains("follow list"), "{applied}");
    let follows: serde_json::Value =
        serde_json::from_slice(&run(h, "me", &["follows", "--json"]).stdout).unwrap();
    assert_eq!(
        follows.as_array().unwrap().len(),
        2,
        "the first follow kept, the cancelled one not added"
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&run(h, "me", &["changes", "--json"]).stdout).unwrap();
    assert!(listed.as_array().unwrap().is_empty());
}

fn keys_npub() -> String {
    use nostr::prelude::*;
    Keys::generate().public_key().to_bech32().unwrap()
}
