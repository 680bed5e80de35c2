//! NIP-51 lists over our relay on 127.0.0.1: a muted person's notes vanish
//! from the feed, the inbox and threads; a mute added on another device
//! survives a local mute; a private bookmark is ciphertext to everyone else
//! and readable on a second device with the key; a read-only session still
//! hides what a signing session muted.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::lists::{ListItem, ListKind};
use samizdat_client::{LocalSigner, LockedSigner, Session, Signer};

fn session(dir: &Path, signer: Arc<dyn Signer>, own: &str) -> Arc<Session> {
    common::session_at(dir, signer, &[(own, true, true)], &[own], &[])
}

fn note(keys: &Keys, text: &str, tags: Vec<Tag>, ago: u64) -> Event {
    EventBuilder::new(Kind::TextNote, text)
        .tags(tags)
        .custom_created_at(Timestamp::from_secs(Timestamp::now().as_secs() - ago))
        .finalize(keys)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutes_apply_everywhere_survive_other_devices_and_private_bookmarks_stay_private() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, relay_store) = common::relay(&dir, "relay").await;
    let url = samizdat_net::RelayUrl::parse(&relay.url())
        .unwrap()
        .to_string();
    let (me, troll, friend) = (Keys::generate(), Keys::generate(), Keys::generate());
    let follows = EventBuilder::new(Kind::ContactList, "")
        .tags([
            Tag::public_key(troll.public_key()),
            Tag::public_key(friend.public_key()),
        ])
        .finalize(&me)
        .unwrap();
    let root = note(&friend, "a thread", vec![], 300);
    let troll_reply = note(
        &troll,
        "troll reply",
        vec![Tag::event(root.id), Tag::public_key(me.public_key())],
        200,
    );
    let friend_note = note(&friend, "friendly note", vec![], 100);
    let troll_note = note(&troll, "troll note", vec![], 50);
    let spam = note(&friend, "buy CRYPTO SCAM now", vec![], 40);
    let list = |k: &Keys| {
        EventBuilder::new(Kind::RelayList, "")
            .tag(Tag::parse(["r", &url]).unwrap())
            .finalize(k)
            .unwrap()
    };
    relay_store
        .insert_batch(&[list(&troll), list(&friend), list(&me)])
        .unwrap();
    relay_store
        .insert_batch(&[
            follows,
            root.clone(),
            troll_reply,
            friend_note.clone(),
            troll_note,
            spam,
        ])
        .unwrap();
    let profiles = dir.path().join("profiles");
    let a = session(
        &profiles.join("a"),
        Arc::new(LocalSigner::new(me.clone())),
        &url,
    );
    a.fetch_own().await.unwrap();
    a.sync(|_| {}).await.unwrap();
    a.fetch_inbox(50).await.unwrap();
    assert_eq!(a.following_feed(50, None).unwrap().len(), 5);

    // A second device (same key) mutes a word; then this one mutes the troll
    // privately: the word survives, and both apply.
    let b = session(
        &profiles.join("b"),
        Arc::new(LocalSigner::new(me.clone())),
        &url,
    );
    b.edit_list(
        ListKind::Mutes,
        ListItem::Word("crypto scam".into()),
        true,
        false,
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.edit_list(
        ListKind::Mutes,
        ListItem::Person(troll.public_key().to_hex()),
        true,
        true,
    )
    .await
    .unwrap();
    let mutes = a.list(ListKind::Mutes).await.unwrap();
    assert!(
        mutes.public.contains(&ListItem::Word("crypto scam".into())),
        "{mutes:?}"
    );
    assert!(mutes
        .private
        .contains(&ListItem::Person(troll.public_key().to_hex())));
    let on_relay = relay_store
        .query(&[Filter::new()
            .author(me.public_key())
            .kind(Kind::MuteList)
            .limit(1)])
        .unwrap();
    assert!(
        !on_relay[0].content.contains(&troll.public_key().to_hex()),
        "private part is encrypted"
    );

    let feed: Vec<String> = a
        .following_feed(50, None)
        .unwrap()
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert_eq!(
        feed,
        ["friendly note", "a thread"],
        "muted person and word are gone"
    );
    assert!(
        a.inbox(50)
            .unwrap()
            .iter()
            .all(|e| e.pubkey != troll.public_key()),
        "inbox too"
    );
    let thread: Vec<String> = a
        .thread(root.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert_eq!(thread, ["a thread"], "and threads");

    // A read-only session of the same profile (no key) still hides them.
    let read_only = session(
        &profiles.join("a"),
        Arc::new(LockedSigner(me.public_key())),
        &url,
    );
    assert_eq!(read_only.following_feed(50, None).unwrap().len(), 2);

    // A private bookmark: ciphertext on the relay, unreadable with another
    // key, readable on the second device.
    a.edit_list(
        ListKind::Bookmarks,
        ListItem::Event(friend_note.id.to_hex()),
        true,
        true,
    )
    .await
    .unwrap();
    let stored = relay_store
        .query(&[Filter::new()
            .author(me.public_key())
            .kind(Kind::Bookmarks)
            .limit(1)])
        .unwrap();
    assert!(!stored[0].content.contains(&friend_note.id.to_hex()));
    assert!(stored[0].tags.is_empty(), "no public item");
    let stranger = LocalSigner::new(Keys::generate());
    assert!(stranger
        .nip44_decrypt(&me.public_key(), &stored[0].content)
        .await
        .is_err());
    b.fetch_own().await.unwrap();
    let at_b = b.list(ListKind::Bookmarks).await.unwrap();
    assert_eq!(at_b.private.len(), 1);
    assert!(at_b
        .private
        .contains(&ListItem::Event(friend_note.id.to_hex())));

    // Unmuting brings the troll back; the word stays muted.
    a.edit_list(
        ListKind::Mutes,
        ListItem::Person(troll.public_key().to_hex()),
        false,
        true,
    )
    .await
    .unwrap();
    assert_eq!(a.following_feed(50, None).unwrap().len(), 4);
    // Follow sets: named (NIP-51 kind 30000, the name in `d`), each its own list.
    let rust = ListKind::FollowSet("rust devs".into());
    a.edit_list(
        rust.clone(),
        ListItem::Person(friend.public_key().to_hex()),
        true,
        false,
    )
    .await
    .unwrap();
    a.edit_list(
        ListKind::FollowSet("trolls".into()),
        ListItem::Person(troll.public_key().to_hex()),
        true,
        true,
    )
    .await
    .unwrap();
    assert_eq!(a.follow_set_names().unwrap(), ["rust devs", "trolls"]);
    let set = a.list(rust).await.unwrap();
    assert_eq!(
        set.public.iter().collect::<Vec<_>>(),
        [&ListItem::Person(friend.public_key().to_hex())]
    );
    b.fetch_own().await.unwrap();
    assert_eq!(
        b.follow_set_names().unwrap().len(),
        2,
        "both sets reach the other device"
    );
    for s in [a, b, read_only] {
        s.shutdown().await;
    }
}
