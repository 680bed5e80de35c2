//! Relay lists done right, over our relay on 127.0.0.1: people are found
//! from every source of evidence (a hint in a reply, where their events were
//! seen, the legacy map in a kind-3 follow list, a newer list on their own
//! relay), a dead list falls back to the other evidence and the coverage
//! picture says so, and `relays publish` merges a list edited on another
//! device instead of clobbering it, then advertises where followers look.

mod common;

use common::{dead_url, feed_texts, local_session, url};
use nostr::prelude::*;
use samizdat_client::advertise::roles_of;
use samizdat_client::RelayRoles;
use samizdat_store::Store;

fn note(k: &Keys, text: &str) -> Event {
    EventBuilder::new(Kind::TextNote, text).finalize(k).unwrap()
}

fn relay_list_event(k: &Keys, write: &[&str], at: u64) -> Event {
    let tags: Vec<Tag> = write
        .iter()
        .map(|u| Tag::parse(["r", u, "write"]).unwrap())
        .collect();
    EventBuilder::new(Kind::RelayList, "")
        .tags(tags)
        .custom_created_at(Timestamp::from(at))
        .finalize(k)
        .unwrap()
}

fn put(store: &Store, events: &[Event]) {
    for o in store.insert_batch(events).unwrap() {
        assert!(o.is_stored(), "{o:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_found_through_hints_sightings_kind3_and_their_own_relays() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, disc_store) = common::relay(&dir, "discovery").await;
    let (home, home_store) = common::relay(&dir, "home").await;
    let (bobs, bobs_store) = common::relay(&dir, "bobs").await;
    let (davs, davs_store) = common::relay(&dir, "davs").await;
    let (erin_old, erin_old_store) = common::relay(&dir, "erin-old").await;
    let (erin_new, erin_new_store) = common::relay(&dir, "erin-new").await;
    let (me, carol, bob, cleo, dave, erin) = (
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
    );
    let now = Timestamp::now().as_secs();
    // Carol writes on the home relay and says so on the discovery relay.
    put(
        &disc_store,
        &[relay_list_event(&carol, &[&url(&home)], now - 100)],
    );
    // Bob has no list anywhere but on his own relay; carol's reply to him
    // carries the hint where he is.
    let bob_note = note(&bob, "bob on his own relay");
    let reply = EventBuilder::new(Kind::TextNote, "replying to bob")
        .tag(Tag::parse(["e", &bob_note.id.to_hex(), &url(&bobs), "root"]).unwrap())
        .tag(Tag::parse(["p", &bob.public_key().to_hex(), &url(&bobs)]).unwrap())
        .finalize(&carol)
        .unwrap();
    put(&home_store, &[reply]);
    put(
        &bobs_store,
        &[bob_note, relay_list_event(&bob, &[&url(&bobs)], now - 50)],
    );
    // Cleo has no list at all; her reply to me reached my inbox relay,
    // where she also writes.
    let cleo_reply = EventBuilder::new(Kind::TextNote, "cleo mentions me")
        .tag(Tag::public_key(me.public_key()))
        .finalize(&cleo)
        .unwrap();
    put(&home_store, &[cleo_reply, note(&cleo, "cleo's own note")]);
    // Dave never made a 10002: only the legacy map in his kind-3 content.
    let legacy = format!(
        r#"{{"{}":{{"read":true,"write":true}},"wss://read-only.example":{{"read":true,"write":false}}}}"#,
        url(&davs)
    );
    put(
        &disc_store,
        &[EventBuilder::new(Kind::ContactList, legacy)
            .finalize(&dave)
            .unwrap()],
    );
    put(&davs_store, &[note(&dave, "dave from his kind-3 relay")]);
    // Erin's list on the discovery relay is old; her own relay has a newer
    // one pointing elsewhere, where her notes are.
    put(
        &disc_store,
        &[relay_list_event(&erin, &[&url(&erin_old)], now - 1_000)],
    );
    put(
        &erin_old_store,
        &[relay_list_event(&erin, &[&url(&erin_new)], now - 10)],
    );
    put(
        &erin_new_store,
        &[note(&erin, "erin where her new list says")],
    );

    let s = local_session(
        &dir.path().join("me"),
        &me,
        &[(&url(&home), true, true)],
        &url(&disc),
    );
    s.follow(carol.public_key(), true).await.unwrap();
    s.sync(|_| {}).await.unwrap();
    s.fetch_inbox(50).await.unwrap();
    for who in [&bob, &cleo, &dave, &erin] {
        s.follow(who.public_key(), true).await.unwrap();
    }
    let report = s.sync(|_| {}).await.unwrap();
    let texts = feed_texts(&s);
    for expected in [
        "bob on his own relay",
        "cleo's own note",
        "dave from his kind-3 relay",
        "erin where her new list says",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected:?} missing from {texts:?}; plan {:?}",
            report.plan
        );
    }
    // Erin's newer list replaced the discovery relay's copy.
    let erin_list = s
        .engine()
        .store()
        .query(&[Filter::new()
            .author(erin.public_key())
            .kind(Kind::RelayList)
            .limit(5)])
        .unwrap();
    assert_eq!(erin_list.len(), 1);
    assert!(roles_of(&erin_list[0]).contains_key(&url(&erin_new)));

    // The evidence per relay, as `samizdat person --relays` shows it.
    let sources = |who: &Keys, relay: &str| -> Vec<&'static str> {
        let r = s
            .engine()
            .person_relays(who.public_key(), &[], &[])
            .unwrap();
        r.relays
            .iter()
            .filter(|x| x.relay == relay)
            .flat_map(|x| x.evidence.iter().map(|e| e.source))
            .collect()
    };
    let bob_sources = sources(&bob, &url(&bobs));
    assert!(bob_sources.contains(&"hint-tag"), "{bob_sources:?}");
    assert!(bob_sources.contains(&"nip65"), "{bob_sources:?}");
    assert!(bob_sources.contains(&"seen"), "{bob_sources:?}");
    assert!(sources(&cleo, &url(&home)).contains(&"seen"));
    assert_eq!(sources(&dave, &url(&davs))[0], "kind3");
    assert!(
        sources(&dave, "wss://read-only.example").is_empty(),
        "read-only legacy entries are not where he writes"
    );
    let dave_report = s.person_relays(dave.public_key()).await.unwrap();
    assert_eq!(dave_report.relay_list_at, None);
    assert!(dave_report
        .relays
        .iter()
        .any(|r| r.planned && r.delivered > 0));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_list_falls_back_to_where_events_were_seen() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, disc_store) = common::relay(&dir, "discovery").await;
    let (home, home_store) = common::relay(&dir, "home").await;
    let (me, frank) = (Keys::generate(), Keys::generate());
    let dead = dead_url();
    let now = Timestamp::now().as_secs();
    put(
        &disc_store,
        &[relay_list_event(&frank, &[&dead], now - 100)],
    );
    let mention = EventBuilder::new(Kind::TextNote, "frank mentions me")
        .tag(Tag::public_key(me.public_key()))
        .finalize(&frank)
        .unwrap();
    put(&home_store, &[mention]);
    let s = local_session(
        &dir.path().join("me"),
        &me,
        &[(&url(&home), true, true)],
        &url(&disc),
    );
    s.fetch_inbox(50).await.unwrap();
    s.follow(frank.public_key(), true).await.unwrap();
    // His next note lands where he was seen, not on his listed relay.
    put(&home_store, &[note(&frank, "frank, still around")]);
    s.sync(|_| {}).await.unwrap();
    assert!(feed_texts(&s).iter().any(|t| t == "frank, still around"));
    let (plan, _) = s.coverage().unwrap();
    let hex = frank.public_key().to_hex();
    assert_eq!(plan.stale_lists, vec![hex.clone()]);
    let stale = s.engine().stale_fallbacks(&plan).unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].person, hex);
    assert_eq!(stale[0].read_from, vec![(url(&home), vec!["seen"])]);
    let report = s.person_relays(frank.public_key()).await.unwrap();
    assert!(report.stale_list);
    let dead_row = report.relays.iter().find(|r| r.relay == dead).unwrap();
    assert!(!dead_row.reachable && !dead_row.planned);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_merges_a_list_edited_elsewhere_and_advertises_where_followers_read() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, disc_store) = common::relay(&dir, "discovery").await;
    let (home, home_store) = common::relay(&dir, "home").await;
    let (extra, _) = common::relay(&dir, "extra").await;
    let (third, _) = common::relay(&dir, "third").await;
    let (gina_inbox, gina_inbox_store) = common::relay(&dir, "gina-inbox").await;
    let (me, gina) = (Keys::generate(), Keys::generate());
    // Gina follows and mentions me; she reads on her own inbox relay.
    let gina_list = EventBuilder::new(Kind::RelayList, "")
        .tag(Tag::parse(["r", &url(&gina_inbox), "read"]).unwrap())
        .finalize(&gina)
        .unwrap();
    put(&disc_store, &[gina_list]);
    let mention = EventBuilder::new(Kind::TextNote, "gina mentions me")
        .tag(Tag::public_key(me.public_key()))
        .finalize(&gina)
        .unwrap();
    put(&home_store, &[mention]);

    let a = local_session(
        &dir.path().join("device-a"),
        &me,
        &[(&url(&home), true, true)],
        &url(&disc),
    );
    let first = a.advertise_relay_list().await.unwrap();
    assert!(first.new_version && !first.merge.from_elsewhere);
    // Device B (same key) adds a read relay and publishes.
    let b = local_session(
        &dir.path().join("device-b"),
        &me,
        &[(&url(&home), true, true), (&url(&extra), true, false)],
        &url(&disc),
    );
    let from_b = b.advertise_relay_list().await.unwrap();
    assert!(
        from_b.merge.from_elsewhere,
        "A's list was made elsewhere for B"
    );
    b.shutdown().await;
    // Device A adds a write relay, then publishes: B's relay survives.
    a.add_relay(
        &url(&third),
        RelayRoles {
            read: false,
            write: true,
        },
        false,
    )
    .unwrap();
    a.fetch_inbox(50).await.unwrap();
    let merged = a.advertise_relay_list().await.unwrap();
    assert!(merged.merge.from_elsewhere);
    assert_eq!(merged.merge.added, vec![url(&extra)]);
    let roles = roles_of(&merged.published.event);
    assert_eq!(roles.len(), 3, "{roles:?}");
    assert!(roles[&url(&extra)].read && !roles[&url(&extra)].write);
    assert!(roles[&url(&third)].write);
    assert!(
        a.settings().relays.contains_key(&url(&extra)),
        "adopted locally"
    );
    // Advertised where gina reads (she mentioned me), and on the discovery relay.
    let targets: Vec<String> = merged
        .published
        .deliveries
        .iter()
        .map(|(r, _)| r.clone())
        .collect();
    assert!(targets.contains(&url(&gina_inbox)), "{targets:?}");
    assert!(targets.contains(&url(&disc)), "{targets:?}");
    let on_gina = gina_inbox_store
        .query(&[Filter::new()
            .author(me.public_key())
            .kind(Kind::RelayList)
            .limit(5)])
        .unwrap();
    assert_eq!(
        on_gina.first().map(|e| e.id),
        Some(merged.published.event.id)
    );
    // Nothing changed since: the newest copy is sent again, no new version,
    // and the background check has nothing to do.
    let again = a.advertise_relay_list().await.unwrap();
    assert!(!again.new_version);
    assert_eq!(again.published.event.id, merged.published.event.id);
    assert!(!a.readvertise_if_changed().await.unwrap());
    // A relay removed locally is advertised again by the session itself.
    a.remove_relay(&url(&third)).unwrap();
    assert!(a.readvertise_if_changed().await.unwrap());
    let newest = home_store
        .query(&[Filter::new()
            .author(me.public_key())
            .kind(Kind::RelayList)
            .limit(5)])
        .unwrap();
    assert!(!roles_of(&newest[0]).contains_key(&url(&third)));
    a.shutdown().await;
}
