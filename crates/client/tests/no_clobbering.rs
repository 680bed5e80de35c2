//! No clobbering, over our relay on 127.0.0.1: device A edits its lists;
//! device B (a fresh profile with the same key) edits while the relay is
//! down. B's edits wait as changes (never applied to an empty list), and
//! when the relay comes back they are applied to A's newest copy: the follow
//! list, the mute list and the bookmarks each end up holding both devices'
//! entries. Several waiting changes go out as one version; one that no
//! longer applies is dropped and reported; a cancelled one never goes out;
//! a private change rests encrypted; a version that would lose more than
//! was asked is refused.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use nostr::prelude::*;
use samizdat_client::changes::{Change, OwnList};
use samizdat_client::lists::{ListItem, ListKind};
use samizdat_client::{Session, SessionError};
use samizdat_relay::RelayHandle;
use samizdat_store::Store;

/// A device with the key `keys` using one relay; it retries a relay that
/// was down within a second (the default backoff grows to minutes).
fn device(dir: &Path, keys: &Keys, url: &str) -> Arc<Session> {
    let signer = Arc::new(samizdat_client::LocalSigner::new(keys.clone()));
    common::session_with(dir, signer, &[(url, true, true)], &[url], &[], |c| {
        c.engine.net.backoff.max = std::time::Duration::from_millis(500);
    })
}

/// Our relay on `addr` over the store file `path` (the same file each time,
/// so a restarted relay still holds what it had).
async fn relay_at(path: &Path, addr: SocketAddr) -> (RelayHandle, Arc<Store>) {
    let store = Arc::new(Store::open(path).unwrap());
    let handle = samizdat_relay::start(Default::default(), store.clone(), addr)
        .await
        .unwrap();
    (handle, store)
}

/// The newest copy of `filter`'s list the relay holds.
fn newest(store: &Store, filter: Filter) -> Event {
    store
        .query(&[filter.limit(1)])
        .unwrap()
        .into_iter()
        .next()
        .expect("the relay holds the list")
}

/// Where a relay's store file lives, and a free loopback address it can be
/// started on again and again.
fn relay_file_and_address(dir: &tempfile::TempDir) -> (std::path::PathBuf, SocketAddr) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    (dir.path().join("relay.sqlite"), addr)
}

fn people(event: &Event) -> Vec<PublicKey> {
    event.tags.public_keys().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_device_offline_adds_to_the_lists_instead_of_replacing_them() {
    let dir = tempfile::tempdir().unwrap();
    let (relay_file, addr) = relay_file_and_address(&dir);
    let (relay, _) = relay_at(&relay_file, addr).await;
    let url = common::url(&relay);
    let me = Keys::generate();
    let friends: Vec<PublicKey> = (0..3).map(|_| Keys::generate().public_key()).collect();
    let newcomer = Keys::generate().public_key();

    // Device A: three follows, three muted words, three bookmarks.
    let a = device(&dir.path().join("a"), &me, &url);
    for f in &friends {
        a.follow(*f, true).await.unwrap();
    }
    let notes: Vec<String> = (0..4).map(|i| format!("{:064x}", i + 1)).collect();
    for (i, note) in notes.iter().take(3).enumerate() {
        a.edit_list(
            ListKind::Mutes,
            ListItem::Word(format!("word{i}")),
            true,
            false,
        )
        .await
        .unwrap();
        a.edit_list(
            ListKind::Bookmarks,
            ListItem::Event(note.clone()),
            true,
            false,
        )
        .await
        .unwrap();
    }
    a.shutdown().await;
    relay.shutdown().await;

    // Device B, fresh, same key, while the relay is down: every edit waits.
    let b = device(&dir.path().join("b"), &me, &url);
    let edit = b.follow(newcomer, true).await.unwrap();
    assert!(edit.published.is_none(), "nothing built from an empty list");
    assert_eq!(edit.waiting.len(), 1);
    assert!(
        edit.summary()
            .contains("1 change to your follow list waiting: your relays have not answered"),
        "{}",
        edit.summary()
    );
    b.edit_list(
        ListKind::Mutes,
        ListItem::Word("secretword".into()),
        true,
        true,
    )
    .await
    .unwrap();
    b.edit_list(
        ListKind::Bookmarks,
        ListItem::Event(notes[3].clone()),
        true,
        false,
    )
    .await
    .unwrap();
    // Unfollowing someone B's device never saw followed also waits (it is
    // not refused as "not following": B does not know the list yet).
    b.follow(friends[0], false).await.unwrap();
    b.follow(Keys::generate().public_key(), false)
        .await
        .unwrap();
    let waiting = b.waiting_changes().unwrap();
    assert_eq!(waiting.len(), 5, "{waiting:?}");
    assert!(waiting.iter().all(|w| w.describe().contains("(waiting ")));
    // The private mute word rests sealed: not in B's store in plain form.
    let b_db = std::fs::read(dir.path().join("b").join("events.sqlite")).unwrap();
    let b_wal = std::fs::read(dir.path().join("b").join("events.sqlite-wal")).unwrap_or_default();
    for bytes in [&b_db, &b_wal] {
        assert!(
            !String::from_utf8_lossy(bytes).contains("secretword"),
            "a private change is never written in plain form"
        );
    }
    assert!(matches!(waiting[1].change, Change::Sealed(_)));
    // Nothing was published: B's queue holds no list version.
    assert!(b.publish_status(10).unwrap().is_empty());

    // The relay comes back; B's waiting changes drain.
    let (relay, relay_store) = relay_at(&relay_file, addr).await;
    let edits = b.apply_waiting_changes().await.unwrap();
    assert_eq!(edits.len(), 3, "one new version per list: {edits:?}");
    assert!(b.waiting_changes().unwrap().is_empty());

    let follows = newest(
        &relay_store,
        Filter::new()
            .author(me.public_key())
            .kind(Kind::ContactList),
    );
    let mut expected = vec![friends[1], friends[2], newcomer];
    expected.sort();
    let mut got = people(&follows);
    got.sort();
    assert_eq!(
        got, expected,
        "A's follows kept, B's follow and unfollow applied"
    );
    let follow_edit = edits.iter().find(|e| e.list == OwnList::Follows).unwrap();
    assert_eq!(
        follow_edit.applied.len(),
        2,
        "follow and unfollow in one version"
    );
    assert_eq!(
        follow_edit.dropped.len(),
        1,
        "the unfollow of a stranger is dropped"
    );
    assert_eq!(follow_edit.dropped[0].1, "not followed any more");
    let kind3_versions = b
        .publish_status(20)
        .unwrap()
        .into_iter()
        .filter(|q| q.event.kind == Kind::ContactList)
        .count();
    assert_eq!(
        kind3_versions, 1,
        "waiting changes go out as one new version"
    );

    // Mutes: A's three public words and B's private one.
    let mutes = b.list(ListKind::Mutes).await.unwrap();
    let words: Vec<String> = mutes
        .all()
        .filter_map(|i| match i {
            ListItem::Word(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(words.len(), 4, "{words:?}");
    assert!(mutes.private.contains(&ListItem::Word("secretword".into())));
    assert!(
        b.mute_set().words.contains("secretword"),
        "the session hides it at once"
    );
    let on_relay = newest(
        &relay_store,
        Filter::new().author(me.public_key()).kind(Kind::MuteList),
    );
    assert_eq!(on_relay.tags.len(), 3, "the public part holds A's three");
    assert!(!on_relay.content.contains("secretword"));

    // Bookmarks: A's three and B's one.
    let bookmarks = newest(
        &relay_store,
        Filter::new().author(me.public_key()).kind(Kind::Bookmarks),
    );
    assert_eq!(bookmarks.tags.len(), 4);

    b.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_changes_never_go_out_and_lone_stale_ones_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (relay_file, addr) = relay_file_and_address(&dir);
    let url = format!("ws://{addr}");
    let me = Keys::generate();
    let s = device(&dir.path().join("me"), &me, &url);
    let someone = Keys::generate().public_key();
    let edit = s.follow(someone, true).await.unwrap();
    let id = edit.waiting[0].id;
    assert!(matches!(
        s.cancel_change(id + 100),
        Err(SessionError::NoSuchChange(_))
    ));
    let cancelled = s.cancel_change(id).unwrap();
    assert_eq!(cancelled.list, OwnList::Follows);
    let (relay, relay_store) = relay_at(&relay_file, addr).await;
    assert!(s.apply_waiting_changes().await.unwrap().is_empty());
    assert!(relay_store
        .query(&[Filter::new().kind(Kind::ContactList).limit(10)])
        .unwrap()
        .is_empty());

    // With the relay up, a lone change that no longer applies is an error,
    // as it always was, and nothing is sent.
    s.follow(someone, true).await.unwrap();
    let err = s.follow(someone, true).await.unwrap_err();
    assert!(matches!(err, SessionError::AlreadyFollowing(_)), "{err}");
    let err = s
        .follow(Keys::generate().public_key(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::NotFollowing(_)), "{err}");
    assert!(s.waiting_changes().unwrap().is_empty());
    s.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfollow_that_would_shrink_the_list_past_the_guard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, relay_store) = common::relay(&dir, "relay").await;
    let url = common::url(&relay);
    let me = Keys::generate();
    let thirty: Vec<PublicKey> = (0..30).map(|_| Keys::generate().public_key()).collect();
    let list = EventBuilder::new(Kind::ContactList, "")
        .tags(thirty.iter().map(|p| Tag::public_key(*p)))
        .custom_created_at(Timestamp::from_secs(Timestamp::now().as_secs() - 100))
        .finalize(&me)
        .unwrap();
    relay_store
        .insert_batch(std::slice::from_ref(&list))
        .unwrap();
    let s = device(&dir.path().join("me"), &me, &url);
    s.fetch_own().await.unwrap();
    assert_eq!(s.follows().unwrap().len(), 30, "the device has seen all 30");

    // Another app clobbers the list on the relay: two entries left.
    let clobbered = EventBuilder::new(Kind::ContactList, "")
        .tags([Tag::public_key(thirty[0]), Tag::public_key(thirty[1])])
        .custom_created_at(Timestamp::from_secs(Timestamp::now().as_secs() - 10))
        .finalize(&me)
        .unwrap();
    relay_store
        .insert_batch(std::slice::from_ref(&clobbered))
        .unwrap();

    // One unfollow asked; applied to what the relay now holds it would
    // leave one of thirty: refused, nothing sent, the change dropped.
    let err = s.follow(thirty[0], false).await.unwrap_err();
    let SessionError::ShrinkRefused {
        before,
        after,
        unasked,
        ..
    } = err
    else {
        panic!("expected a refusal, got {err}");
    };
    assert_eq!((before, after, unasked), (30, 1, 28));
    assert!(err_text(before, after, unasked).contains("follows restore"));
    assert_eq!(
        newest(
            &relay_store,
            Filter::new()
                .author(me.public_key())
                .kind(Kind::ContactList)
        )
        .id,
        clobbered.id,
        "nothing was sent"
    );
    assert!(s.waiting_changes().unwrap().is_empty());
    // Going back on purpose stays possible: the version with thirty.
    let versions = s.follow_list_versions().unwrap();
    let thirty_at = versions.iter().position(|v| v.id == list.id).unwrap();
    s.restore_follows(thirty_at).await.unwrap();
    assert_eq!(s.follows().unwrap().len(), 30);
    s.shutdown().await;
}

fn err_text(before: usize, after: usize, unasked: usize) -> String {
    SessionError::ShrinkRefused {
        list: "follow list".into(),
        before,
        after,
        unasked,
    }
    .to_string()
}
