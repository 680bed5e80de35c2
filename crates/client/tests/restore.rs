//! A new device restores everything, over our relays on 127.0.0.1: the user
//! once wrote to relay R2 and advertised on discovery relay D2, then moved to
//! R1 and D1. A fresh profile with the same key and both discovery relays
//! finds both relay lists, reads every relay they name, and ends with both
//! follow-list versions (the older one as history), both notes, the mute
//! list and bookmarks, and the DM gift wrap (after AUTH on the DM relay).
//! Then export → import into another fresh profile loses nothing, and a
//! backup with bad lines keeps the good ones and names the bad by number.

mod common;

use std::collections::BTreeSet;
use std::io::Write;

use common::{local_session, url};
use nostr::prelude::*;
use samizdat_client::backup;
use samizdat_client::lists::{ListItem, ListKind};
use samizdat_client::{RelayRoles, Session};

/// Everything of `me`'s a session holds: own events, list versions, wraps.
fn own_data(s: &Session) -> BTreeSet<EventId> {
    backup::own_events(s.engine().store(), s.me())
        .unwrap()
        .0
        .iter()
        .map(|e| e.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_restores_history_lists_and_dms_and_backups_are_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let (d1, _) = common::relay(&dir, "d1").await;
    let (d2, _) = common::relay(&dir, "d2").await;
    let (r1, _) = common::relay(&dir, "r1").await;
    let (r2, _) = common::relay(&dir, "r2").await;
    let (dm, dm_store) = common::relay(&dir, "dm").await;
    let me = Keys::generate();
    let (p1, p2, muted) = (
        Keys::generate().public_key(),
        Keys::generate().public_key(),
        Keys::generate().public_key(),
    );

    // The old setup: R2 and D2.
    let a = local_session(
        &dir.path().join("device-a"),
        &me,
        &[(&url(&r2), true, true)],
        &url(&d2),
    );
    a.follow(p1, true).await.unwrap();
    a.publish_relay_list().await.unwrap();
    a.post("an old note, only on R2").await.unwrap();
    // The move: R1 and D1 from now on.
    a.add_relay(
        &url(&r1),
        RelayRoles {
            read: true,
            write: true,
        },
        true,
    )
    .unwrap();
    a.remove_relay(&url(&r2)).unwrap();
    a.remove_relay(&url(&d2)).unwrap();
    a.shutdown().await;
    let a = local_session(
        &dir.path().join("device-a"),
        &me,
        &[(&url(&r1), true, true)],
        &url(&d1),
    );
    a.follow(p2, true).await.unwrap();
    a.publish_relay_list().await.unwrap();
    let new_note = a.post("a new note, on R1").await.unwrap().event;
    a.edit_list(
        ListKind::Mutes,
        ListItem::Person(muted.to_hex()),
        true,
        true,
    )
    .await
    .unwrap();
    a.edit_list(
        ListKind::Bookmarks,
        ListItem::Event(new_note.id.to_hex()),
        true,
        false,
    )
    .await
    .unwrap();
    a.set_dm_relays(&[url(&dm)]).await.unwrap();
    let wrap = EventBuilder::new(Kind::GiftWrap, "sealed for me")
        .tag(Tag::public_key(me.public_key()))
        .finalize(&Keys::generate())
        .unwrap();
    dm_store.insert_batch(std::slice::from_ref(&wrap)).unwrap();
    a.shutdown().await;

    // A new device: the same key, both discovery relays, no relays yet.
    let signer = std::sync::Arc::new(samizdat_client::LocalSigner::new(me.clone()));
    let c = common::session_at(
        &dir.path().join("device-c"),
        signer,
        &[],
        &[&url(&d1), &url(&d2)],
        &[],
    );
    let report = c.restore(|_| {}).await.unwrap();
    let follow_versions = c.follow_list_versions().unwrap();
    assert_eq!(follow_versions.len(), 2, "{report:#?}");
    let newest: Vec<PublicKey> = follow_versions[0].tags.public_keys().collect();
    assert!(newest.contains(&p1) && newest.contains(&p2));
    let notes: Vec<String> = c
        .engine()
        .store()
        .query(&[Filter::new()
            .author(me.public_key())
            .kind(Kind::TextNote)
            .limit(10)])
        .unwrap()
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(report.versions.get(&10002), Some(&2), "{report:#?}");
    assert_eq!(report.by_kind.get(&10000), Some(&1), "mute list");
    assert_eq!(report.by_kind.get(&10003), Some(&1), "bookmarks");
    assert_eq!(report.by_kind.get(&10050), Some(&1), "DM relays");
    assert_eq!(report.dm_wraps, 1, "the DM wrap, after AUTH");
    assert!(report.adopted_relays);
    assert!(c.settings().relays.contains_key(&url(&r1)));
    let from = |relay: &str| report.relays.iter().find(|r| r.relay == relay).unwrap();
    assert_eq!(from(&url(&r2)).found_through, "relay list");
    assert!(from(&url(&r2)).events >= 2, "{report:#?}");
    assert_eq!(from(&url(&dm)).found_through, "dm relays");
    assert!(
        c.mute_set().people.contains(&muted.to_hex()),
        "private mute decrypted"
    );

    // Export → import into another fresh profile: nothing lost.
    let file = dir.path().join("backup.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    let written = c.export_backup(None, &mut out).unwrap();
    drop(out);
    let before = own_data(&c);
    assert_eq!(written.events, before.len());
    c.shutdown().await;
    let e = local_session(&dir.path().join("device-e"), &me, &[], &url(&d1));
    let imported = e
        .import_backup(&mut std::io::BufReader::new(
            std::fs::File::open(&file).unwrap(),
        ))
        .unwrap();
    assert!(imported.bad.is_empty(), "{:?}", imported.bad);
    assert_eq!(own_data(&e), before, "lossless");
    assert_eq!(e.follow_list_versions().unwrap().len(), 2);

    // Bad lines are named, good ones kept.
    let mut lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let tampered = lines[2].replace("\"content\":\"", "\"content\":\"x");
    lines.insert(2, "this is not json".into());
    lines.insert(3, tampered);
    let stranger = EventBuilder::new(Kind::TextNote, "not mine")
        .finalize(&Keys::generate())
        .unwrap();
    lines.push(stranger.as_json());
    let broken = dir.path().join("broken.jsonl");
    let mut f = std::fs::File::create(&broken).unwrap();
    writeln!(f, "{}", lines.join("\n")).unwrap();
    drop(f);
    let g = local_session(&dir.path().join("device-g"), &me, &[], &url(&d1));
    let r = g
        .import_backup(&mut std::io::BufReader::new(
            std::fs::File::open(&broken).unwrap(),
        ))
        .unwrap();
    let bad_lines: Vec<usize> = r.bad.iter().map(|(n, _)| *n).collect();
    assert_eq!(bad_lines, vec![3, 4, lines.len()], "{:?}", r.bad);
    assert!(r.bad[1].1.contains("verify"), "{:?}", r.bad);
    assert_eq!(own_data(&g), before, "every good line kept");
    e.shutdown().await;
    g.shutdown().await;
}
