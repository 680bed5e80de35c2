//! What raises an OS notification, end to end over our relays on
//! 127.0.0.1: a private message from someone the user follows notifies
//! without its text (with it only when the user chose that), a stranger's
//! does not (it waits unopened in the requests folder); replies, mentions
//! and reactions notify under "on" and not under "messages only"; a
//! stranger's mention, a muted person, the user's own notes, what came
//! before the session armed its notifications, quiet hours and "off" never
//! do; each item notifies once.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::url;
use nostr::prelude::*;
use samizdat_client::notify::{NotificationKind, NotifyMode, NotifySettings};
use samizdat_client::{LocalSigner, Session};

fn session(dir: &Path, keys: &Keys, own: &str, discovery: &str) -> Arc<Session> {
    let signer = Arc::new(LocalSigner::new(keys.clone()));
    common::session_at(dir, signer, &[(own, true, true)], &[discovery], &[])
}

fn note(keys: &Keys, text: &str, tags: Vec<Tag>, at: Timestamp) -> Event {
    EventBuilder::new(Kind::TextNote, text)
        .tags(tags)
        .custom_created_at(at)
        .finalize(keys)
        .unwrap()
}

const NOON: u8 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_people_notify_strangers_do_not_and_message_text_stays_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let (indexer, _) = common::relay(&dir, "indexer").await;
    let (home, _) = common::relay(&dir, "home").await;
    let (dm, _) = common::relay(&dir, "dm").await;
    let (me, friend, stranger) = (Keys::generate(), Keys::generate(), Keys::generate());
    let profiles = dir.path().join("profiles");
    let s = session(&profiles.join("me"), &me, &url(&home), &url(&indexer));
    let sf = session(
        &profiles.join("friend"),
        &friend,
        &url(&home),
        &url(&indexer),
    );
    let ss = session(
        &profiles.join("stranger"),
        &stranger,
        &url(&home),
        &url(&indexer),
    );
    for x in [&s, &sf, &ss] {
        x.set_dm_relays(&[url(&dm)]).await.unwrap();
    }
    s.follow(friend.public_key(), true).await.unwrap();
    let mine = s.post("my note").await.unwrap().event;

    // Before arming, nothing notifies.
    let early = note(
        &friend,
        "early",
        vec![Tag::public_key(me.public_key())],
        Timestamp::now(),
    );
    assert!(s.notifications_of(&[early], NOON).unwrap().is_empty());
    s.arm_notifications();
    let now = Timestamp::now();
    let before = note(
        &friend,
        "from yesterday",
        vec![Tag::public_key(me.public_key())],
        now - Duration::from_secs(86_400),
    );

    // Messages: the friend's notifies without its text, the stranger's not.
    sf.send_dm(&[me.public_key()], "the secret plan", None)
        .await
        .unwrap();
    ss.send_dm(&[me.public_key()], "buy my coin", None)
        .await
        .unwrap();
    s.sync_dms().await.unwrap();
    let got = s.message_notifications(NOON).await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, NotificationKind::Message);
    assert_eq!(got[0].from, friend.public_key());
    assert!(
        got[0].title.starts_with("New message from"),
        "{}",
        got[0].title
    );
    assert!(!got[0].body.contains("secret"), "{}", got[0].body);
    assert!(
        s.message_notifications(NOON).await.unwrap().is_empty(),
        "each message notifies once"
    );
    // With the text chosen, the next message shows it.
    s.set_notify_settings(NotifySettings {
        show_dm_text: true,
        ..Default::default()
    })
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sf.send_dm(&[me.public_key()], "second, with text", None)
        .await
        .unwrap();
    s.sync_dms().await.unwrap();
    let got = s.message_notifications(NOON).await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].body, "second, with text");

    // Notes: reply, reaction, mention from the friend; a stranger's mention,
    // the user's own note, an old one.
    let at = Timestamp::now();
    let reply = note(
        &friend,
        "nice   note\nindeed",
        vec![Tag::event(mine.id), Tag::public_key(me.public_key())],
        at,
    );
    let mention = note(
        &friend,
        "hey you",
        vec![Tag::public_key(me.public_key())],
        at,
    );
    let reaction = EventBuilder::new(Kind::Reaction, "+")
        .tags([Tag::event(mine.id), Tag::public_key(me.public_key())])
        .finalize(&friend)
        .unwrap();
    let spam = note(
        &stranger,
        "look at me",
        vec![Tag::public_key(me.public_key())],
        at,
    );
    let own = note(
        &me,
        "talking to myself",
        vec![Tag::public_key(me.public_key())],
        at,
    );
    let all = [reply, mention, reaction, spam, own, before];

    // Quiet hours and "messages only" and "off": none.
    s.set_notify_settings(NotifySettings {
        quiet: Some((22, 7)),
        ..Default::default()
    })
    .unwrap();
    assert!(s.notifications_of(&all, 23).unwrap().is_empty());
    for mode in [NotifyMode::DmsOnly, NotifyMode::Off] {
        s.set_notify_settings(NotifySettings {
            mode,
            ..Default::default()
        })
        .unwrap();
        assert!(
            s.notifications_of(&all, NOON).unwrap().is_empty(),
            "{mode:?}"
        );
    }
    s.set_notify_settings(NotifySettings {
        quiet: Some((22, 7)),
        ..Default::default()
    })
    .unwrap();
    let got = s.notifications_of(&all, NOON).unwrap();
    let kinds: Vec<NotificationKind> = got.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            NotificationKind::Reply,
            NotificationKind::Mention,
            NotificationKind::Reaction
        ],
        "{got:?}"
    );
    assert_eq!(got[0].body, "nice note indeed", "one line");
    assert_eq!(got[2].body, "my note", "a reaction shows what it reacts to");
    assert!(got[2].title.contains("reacted ❤"), "{}", got[2].title);
    assert!(s.notifications_of(&all, NOON).unwrap().is_empty(), "once");

    for x in [s, sf, ss] {
        x.shutdown().await;
    }
}
