//! People without a relay list, as a new user meets them: someone followed
//! who never published a kind 10002 and whose notes sit only on the user's
//! own relay is read from there after `sync` (no new connection, the ask in
//! the privacy ledger), and once found is read like anyone else.

mod common;

use common::{asked_about, contacted, feed_texts, local_session, url};
use nostr::prelude::*;

fn note(k: &Keys, text: &str) -> Event {
    EventBuilder::new(Kind::TextNote, text).finalize(k).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_without_a_relay_list_is_read_from_the_users_own_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, _disc_store) = common::relay(&dir, "discovery").await;
    let (home, home_store) = common::relay(&dir, "home").await;
    // A relay no one lists, holding a copy too: it must not be contacted.
    let (elsewhere, elsewhere_store) = common::relay(&dir, "elsewhere").await;
    let (me, old_timer) = (Keys::generate(), Keys::generate());
    home_store
        .insert(&note(
            &old_timer,
            "written by a client that never made a relay list",
        ))
        .unwrap();
    elsewhere_store
        .insert(&note(&old_timer, "a copy on a relay nobody named"))
        .unwrap();

    let profile = dir.path().join("me");
    let s = local_session(&profile, &me, &[(&url(&home), true, true)], &url(&disc));
    s.follow(old_timer.public_key(), true).await.unwrap();
    let report = s.sync(|_| {}).await.unwrap();

    let who = old_timer.public_key().to_hex();
    assert_eq!(report.plan.unlisted[&url(&home)], vec![who.clone()]);
    assert!(report.plan.orphans.is_empty(), "{:?}", report.plan.orphans);
    assert_eq!(report.plan.connections, 0, "no connection opened for them");
    assert_eq!(
        feed_texts(&s),
        vec!["written by a client that never made a relay list"]
    );
    let store = s.engine().store();
    assert!(
        !contacted(store).contains(&url(&elsewhere)),
        "{:?}",
        contacted(store)
    );
    assert!(asked_about(store, &url(&home)).contains(&who));
    // The discovery relay is in use too, and was asked (it holds nothing).
    assert!(report.plan.unlisted[&url(&disc)].contains(&who));
    // The coverage picture says where they are read from.
    let (plan, _) = s.coverage().unwrap();
    assert!(plan.orphans.is_empty(), "{:?}", plan.orphans);

    // Found: the next plan reads them from where their notes were seen,
    // as an ordinary assignment.
    let again = s.sync(|_| {}).await.unwrap();
    assert_eq!(again.plan.assignments[&url(&home)], vec![who.clone()]);
    assert!(!again.plan.unlisted_people().contains(who.as_str()));
    s.shutdown().await;
    disc.shutdown().await;
    home.shutdown().await;
    elsewhere.shutdown().await;
}
