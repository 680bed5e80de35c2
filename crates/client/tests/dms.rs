//! NIP-17 private messages end to end over our relay on 127.0.0.1: A and B
//! with different DM relays exchange messages both ways; B's copy to
//! itself opens on a second device; a DM relay serves wraps only after
//! AUTH (and not at all when AUTH is denied); a forged seal, garbage,
//! a wrap for someone else and an oversized rumor are dropped with a
//! counted reason while the rest stays readable; someone without DM relays
//! is an error and an alert; no message text is on disk afterwards.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::dm::wrap;
use samizdat_client::{Alert, EngineUpdate, LocalSigner, Session, SessionError};

fn session(
    dir: &Path,
    keys: &Keys,
    own: &str,
    discovery: &str,
    auth: Option<(&str, &str)>,
) -> Arc<Session> {
    let auth: Vec<(&str, &str)> = auth.into_iter().collect();
    let signer = Arc::new(LocalSigner::new(keys.clone()));
    let session = common::session_at(dir, signer, &[(own, true, true)], &[discovery], &auth);
    // These people do not follow each other: let strangers' messages in
    // (the web of trust's gate has its own test, `dm_requests.rs`).
    let mut trust = session.trust_settings();
    trust.dms = 0;
    session.set_trust_settings(trust).unwrap();
    session
}

use common::url;

fn texts(messages: &[samizdat_client::dm::DmMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

fn files_contain(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_contain(&path, needle));
        } else if String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default())
            .contains(needle)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_both_ways_second_device_auth_forgeries_and_no_plaintext_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (indexer, _) = common::relay(&dir, "indexer").await;
    let (a_home, _) = common::relay(&dir, "a-home").await;
    let (b_home, b_home_store) = common::relay(&dir, "b-home").await;
    let (a_dm, _) = common::relay(&dir, "a-dm").await;
    let (b_dm, b_dm_store) = common::relay(&dir, "b-dm").await;
    let (a, b, c) = (Keys::generate(), Keys::generate(), Keys::generate());
    let profiles = dir.path().join("profiles");
    let sa = session(&profiles.join("a"), &a, &url(&a_home), &url(&indexer), None);
    let sb = session(&profiles.join("b"), &b, &url(&b_home), &url(&indexer), None);
    sa.set_dm_relays(&[url(&a_dm)]).await.unwrap();
    sb.set_dm_relays(&[url(&b_dm)]).await.unwrap();

    // Someone without DM relays: an error and an alert, nothing sent.
    let mut updates = sa.subscribe();
    let err = sa
        .send_dm(&[c.public_key()], "to nowhere", None)
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::NoDmRelays(_)), "{err}");
    let alerted = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let Ok(EngineUpdate::Alert(Alert::NoDmRelays { person })) = updates.recv().await {
                return person;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(alerted, c.public_key());

    // A → B, B → A.
    let sent = sa
        .send_dm(&[b.public_key()], "hello B, this is secret", Some("plans"))
        .await
        .unwrap();
    assert_eq!(
        sent.deliveries.len(),
        2,
        "one wrap to B, one to A's own DM relay"
    );
    sb.sync_dms().await.unwrap();
    let list = sb.conversations().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].with, vec![a.public_key()]);
    assert_eq!(list[0].unread, 1);
    assert_eq!(list[0].subject.as_deref(), Some("plans"));
    let read = sb.conversation(&[a.public_key()]).await.unwrap();
    assert_eq!(texts(&read), ["hello B, this is secret"]);
    assert_eq!(read[0].author, a.public_key());
    assert_eq!(sb.conversations().await.unwrap()[0].unread, 0, "read now");
    // Rumors carry their real time in seconds: let a second pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sb.send_dm(&[a.public_key()], "hi A, got it", None)
        .await
        .unwrap();
    sa.sync_dms().await.unwrap();
    let at_a = sa.conversation(&[b.public_key()]).await.unwrap();
    assert_eq!(texts(&at_a), ["hello B, this is secret", "hi A, got it"]);

    // B's second device: same key, a fresh profile; its DM relays come from
    // its own kind 10050 on the network, the history from the copies to self.
    let sb2 = session(
        &profiles.join("b2"),
        &b,
        &url(&b_home),
        &url(&indexer),
        Some((&url(&b_dm), "allow")),
    );
    sb2.fetch_own().await.unwrap();
    sb2.sync_dms().await.unwrap();
    let on_b2 = sb2.conversation(&[a.public_key()]).await.unwrap();
    assert_eq!(texts(&on_b2), ["hello B, this is secret", "hi A, got it"]);

    // With AUTH denied on the DM relay, it serves nothing.
    let sb3 = session(
        &profiles.join("b3"),
        &b,
        &url(&b_home),
        &url(&indexer),
        Some((&url(&b_dm), "deny")),
    );
    sb3.fetch_own().await.unwrap();
    sb3.sync_dms().await.unwrap();
    assert!(
        sb3.dm_messages().await.unwrap().is_empty(),
        "no AUTH, no wraps"
    );

    // Hostile wraps placed on B's DM relay behind its back.
    let mallory = Keys::generate();
    let forged_rumor = wrap::rumor(
        a.public_key(),
        &[b.public_key()],
        "send money to mallory",
        None,
    );
    let forged = wrap::gift_wrap(
        &LocalSigner::new(mallory.clone()),
        &forged_rumor,
        b.public_key(),
    )
    .await
    .unwrap();
    let junk = EventBuilder::new(Kind::GiftWrap, "not a payload")
        .tag(Tag::public_key(b.public_key()))
        .finalize(&Keys::generate())
        .unwrap();
    let for_c = {
        let r = wrap::rumor(a.public_key(), &[c.public_key()], "for c only", None);
        let w = wrap::gift_wrap(&LocalSigner::new(a.clone()), &r, c.public_key())
            .await
            .unwrap();
        // Re-addressed to B by tag by a third party (a new wrap with the same content).
        EventBuilder::new(Kind::GiftWrap, w.content.clone())
            .tag(Tag::public_key(b.public_key()))
            .finalize(&Keys::generate())
            .unwrap()
    };
    let huge = {
        let r = wrap::rumor(
            a.public_key(),
            &[b.public_key()],
            &"x".repeat(wrap::MAX_RUMOR_BYTES),
            None,
        );
        wrap::gift_wrap(&LocalSigner::new(a.clone()), &r, b.public_key())
            .await
            .unwrap()
    };
    b_dm_store
        .insert_batch(&[forged, junk, for_c, huge])
        .unwrap();
    sb.sync_dms().await.unwrap();
    let after = sb.conversation(&[a.public_key()]).await.unwrap();
    assert_eq!(
        texts(&after),
        ["hello B, this is secret", "hi A, got it"],
        "nothing else lost"
    );
    let drops = sb.dm_drops();
    assert_eq!(drops.get("forged_author"), Some(&1), "{drops:?}");
    assert_eq!(drops.get("undecryptable"), Some(&2), "{drops:?}");
    assert_eq!(drops.get("oversized"), Some(&1), "{drops:?}");

    // A legacy NIP-04 message from an older client, on B's read relay
    // (served after AUTH, which B allows there): shown, marked legacy.
    let legacy_text = "old-style hello";
    let payload =
        nostr::nips::nip04::encrypt(c.secret_key(), &b.public_key(), legacy_text).unwrap();
    let legacy = EventBuilder::new(Kind::EncryptedDirectMessage, payload)
        .tag(Tag::public_key(b.public_key()))
        .finalize(&c)
        .unwrap();
    b_home_store.insert_batch(&[legacy]).unwrap();
    sb.set_policy(&url(&b_home), None, Some("allow".into()), None)
        .unwrap();
    sb.sync_dms().await.unwrap();
    let old = sb.conversation(&[c.public_key()]).await.unwrap();
    assert_eq!(texts(&old), [legacy_text]);
    assert!(old[0].legacy, "marked as legacy NIP-04");
    assert!(sb.conversations().await.unwrap().iter().any(|c| c.legacy));

    // No plaintext at rest, in any profile.
    for s in [&sa, &sb, &sb2, &sb3] {
        s.shutdown().await;
    }
    for text in [
        "hello B, this is secret",
        "hi A, got it",
        "plans",
        "old-style hello",
    ] {
        assert_eq!(
            files_contain(&profiles, text),
            Vec::<String>::new(),
            "{text:?} on disk"
        );
    }
}
