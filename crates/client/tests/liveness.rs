//! NIP-66 liveness over our relay on 127.0.0.1: a relay a trusted monitor
//! stopped reporting is not connected to, and is still tried once this
//! client's own connections say it is alive; an untrusted monitor's word
//! counts for nothing.

mod common;

use common::{contacted, url};
use nostr::prelude::*;
use samizdat_client::Session;

fn note(k: &Keys, text: &str) -> Event {
    EventBuilder::new(Kind::TextNote, text).finalize(k).unwrap()
}

fn relay_list(k: &Keys, write: &[String]) -> Event {
    EventBuilder::new(Kind::RelayList, "")
        .tags(write.iter().map(|u| Tag::parse(["r", u, "write"]).unwrap()))
        .finalize(k)
        .unwrap()
}

/// A monitor's report that `relay` was up at `at`.
fn report(monitor: &Keys, relay: &str, at: u64) -> Event {
    EventBuilder::new(Kind::Custom(30166), "")
        .tag(Tag::identifier(relay))
        .tag(Tag::parse(["rtt-open", "120"]).unwrap())
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(monitor)
        .unwrap()
}

fn session(
    dir: &std::path::Path,
    me: &Keys,
    home: &str,
    discovery: &str,
    monitors: Vec<PublicKey>,
) -> std::sync::Arc<Session> {
    let signer = std::sync::Arc::new(samizdat_client::LocalSigner::new(me.clone()));
    common::session_with(dir, signer, &[(home, true, true)], &[discovery], &[], |c| {
        c.engine.monitors = monitors;
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_reported_dead_is_skipped_unless_our_own_record_says_alive() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, disc_store) = common::relay(&dir, "discovery").await;
    let (quiet, quiet_store) = common::relay(&dir, "quiet").await;
    let (up, up_store) = common::relay(&dir, "up").await;
    let (home, _) = common::relay(&dir, "home").await;
    let (me, writer, monitor, liar) = (
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
        Keys::generate(),
    );
    let now = Timestamp::now().as_secs();
    // The monitor checks hourly; it last found `quiet` up two days ago.
    let announcement = EventBuilder::new(Kind::Custom(10166), "")
        .tag(Tag::parse(["frequency", "3600"]).unwrap())
        .finalize(&monitor)
        .unwrap();
    for e in [
        announcement,
        report(&monitor, &format!("{}/", url(&quiet)), now - 2 * 86_400),
        report(&monitor, &url(&up), now - 300),
        // A monitor the user does not trust calls `up` dead too.
        report(&liar, &url(&up), now - 30 * 86_400),
        relay_list(&writer, &[url(&quiet), url(&up)]),
    ] {
        disc_store.insert(&e).unwrap();
    }
    quiet_store
        .insert(&note(&writer, "on the quiet relay"))
        .unwrap();
    up_store
        .insert(&note(&writer, "on the live relay"))
        .unwrap();

    // Trusting the monitor: the quiet relay is never contacted.
    let trusting = dir.path().join("trusting");
    let s = session(
        &trusting,
        &me,
        &url(&home),
        &url(&disc),
        vec![monitor.public_key()],
    );
    s.follow(writer.public_key(), true).await.unwrap();
    let report = s.sync(|_| {}).await.unwrap();
    let store = s.engine().store();
    assert!(
        !contacted(store).contains(&url(&quiet)),
        "{:?}",
        contacted(store)
    );
    assert!(contacted(store).contains(&url(&up)));
    assert!(!report.plan.asked().contains_key(url(&quiet).as_str()));
    let texts: Vec<String> = s
        .following_feed(10, None)
        .unwrap()
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert_eq!(texts, vec!["on the live relay"]);
    let judged = s.engine().liveness(&[url(&quiet), url(&up)]).unwrap();
    assert_eq!(
        judged[&url(&quiet)].state,
        samizdat_client::engine::liveness::Reported::Dead
    );
    assert_eq!(judged[&url(&up)].monitors, 1, "the liar is not counted");
    let skipped: Vec<String> = s
        .skipped_as_dead()
        .unwrap()
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    assert_eq!(skipped, vec![url(&quiet)]);
    s.shutdown().await;

    // A profile that reached the quiet relay itself (no monitors yet) keeps
    // trying it after it starts trusting the monitor.
    let own = dir.path().join("own-record");
    let s = session(&own, &me, &url(&home), &url(&disc), Vec::new());
    // (The same user: the follow list comes back from their relay.)
    s.follow(writer.public_key(), true).await.ok();
    s.sync(|_| {}).await.unwrap();
    assert!(contacted(s.engine().store()).contains(&url(&quiet)));
    s.shutdown().await;
    let s = session(
        &own,
        &me,
        &url(&home),
        &url(&disc),
        vec![monitor.public_key()],
    );
    let report = s.sync(|_| {}).await.unwrap();
    assert!(
        report.plan.asked().contains_key(url(&quiet).as_str()),
        "{:?}",
        report.plan
    );
    assert!(report.relays[&url(&quiet)].finished);
    s.shutdown().await;
    for r in [disc, quiet, up, home] {
        r.shutdown().await;
    }
}
