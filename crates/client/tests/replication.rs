//! Own data everywhere, over our relays on 127.0.0.1: one relay loses half
//! of the user's notes behind its back (rows deleted from its database),
//! another is new and empty, a third refuses them; `replicate` finds out by
//! negentropy (or by ids where the relay has NIP-77 off), re-sends what is
//! missing, reports the refusals without retrying them forever, and a second
//! run re-sends nothing. DM wraps are checked on the DM relay after AUTH.

mod common;

use common::{local_session, url};
use nostr::prelude::*;
use samizdat_client::replicate::{Method, RelayReplication, ReplicationReport};
use samizdat_client::RelayRoles;
use samizdat_relay::{Limits, RelayConfig};
use samizdat_store::Store;

/// Deletes events from a relay's database file behind its back.
fn lose(path: &std::path::Path, ids: &[EventId]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    for id in ids {
        let n = conn
            .execute(
                "DELETE FROM events WHERE id = ?1",
                [id.as_bytes().as_slice()],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
}

fn row<'a>(report: &'a ReplicationReport, relay: &str, scope: &str) -> &'a RelayReplication {
    report
        .relays
        .iter()
        .find(|r| r.relay == relay && r.scope == scope)
        .unwrap_or_else(|| panic!("no row for {relay} {scope}: {report:#?}"))
}

fn holds(store: &Store, ids: &[EventId]) -> usize {
    store.existing_ids(ids).unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicate_restores_lost_and_missing_events_and_reports_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let (full, full_store) = common::relay(&dir, "full").await;
    let (half, half_store) = common::relay_with(
        &dir,
        "half",
        RelayConfig {
            negentropy: false,
            ..RelayConfig::default()
        },
    )
    .await;
    let (fresh, fresh_store) = common::relay(&dir, "fresh").await;
    let (picky, picky_store) = common::relay_with(
        &dir,
        "picky",
        RelayConfig {
            limits: Limits {
                max_content_length: 4,
                ..Limits::default()
            },
            ..RelayConfig::default()
        },
    )
    .await;
    let (dms, dms_store) = common::relay(&dir, "dms").await;
    let me = Keys::generate();
    let s = local_session(
        &dir.path().join("me"),
        &me,
        &[(&url(&full), true, true), (&url(&half), false, true)],
        &url(&full),
    );
    let mut notes = Vec::new();
    for i in 0..20 {
        notes.push(s.post(&format!("note number {i}")).await.unwrap().event.id);
    }
    assert_eq!(holds(&half_store, &notes), 20);
    // DM relays, and two gift wraps to me held there and here.
    s.set_dm_relays(&[url(&dms)]).await.unwrap();
    let wraps: Vec<Event> = (0..2)
        .map(|i| {
            EventBuilder::new(Kind::GiftWrap, format!("sealed {i}"))
                .tag(Tag::public_key(me.public_key()))
                .finalize(&Keys::generate())
                .unwrap()
        })
        .collect();
    s.engine().store().insert_batch(&wraps).unwrap();
    dms_store.insert_batch(&wraps).unwrap();

    // Behind their backs: half of the notes vanish from one relay, a wrap
    // from the DM relay; two new relays are added.
    let lost: Vec<EventId> = notes.iter().step_by(2).copied().collect();
    lose(&dir.path().join("half.sqlite"), &lost);
    lose(&dir.path().join("dms.sqlite"), &[wraps[1].id]);
    for relay in [&fresh, &picky] {
        s.add_relay(
            &url(relay),
            RelayRoles {
                read: false,
                write: true,
            },
            false,
        )
        .unwrap();
    }

    let first = s.replicate(|_| {}).await.unwrap();
    let own = first.own_events;
    assert!(own >= 20, "{first:#?}");
    let f = row(&first, &url(&full), "outbox");
    assert_eq!(
        (f.method, f.missing, f.requeued),
        (Some(Method::Negentropy), 0, 0)
    );
    let h = row(&first, &url(&half), "outbox");
    assert_eq!(h.method, Some(Method::Ids), "NIP-77 off there: ids");
    assert_eq!((h.missing, h.delivered), (10, 10), "{h:#?}");
    let n = row(&first, &url(&fresh), "outbox");
    assert_eq!((n.missing, n.delivered), (own, own), "{n:#?}");
    // It takes the short ones (the DM relay list) and refuses every note.
    let p = row(&first, &url(&picky), "outbox");
    assert_eq!(p.missing, own);
    assert_eq!(p.delivered, own - 20, "{p:#?}");
    assert_eq!(p.refused.len(), 20, "{p:#?}");
    assert!(p.refused[0].1.contains("content"), "{p:#?}");
    let d = row(&first, &url(&dms), "dm");
    assert_eq!(
        (d.method, d.missing, d.delivered),
        (Some(Method::Negentropy), 1, 1),
        "{d:#?}"
    );
    assert!(
        f.bytes < h.bytes,
        "negentropy exchanges less than the id fallback: {} vs {}",
        f.bytes,
        h.bytes
    );
    assert_eq!(holds(&half_store, &notes), 20);
    assert_eq!(holds(&fresh_store, &notes), 20);
    assert_eq!(holds(&picky_store, &notes), 0);
    assert_eq!(holds(&dms_store, &[wraps[1].id]), 1);
    assert_eq!(holds(&full_store, &notes), 20);

    // Nothing is re-sent the second time; the refusing relay is reported,
    // not retried.
    let second = s.replicate(|_| {}).await.unwrap();
    for r in &second.relays {
        assert_eq!(r.requeued, 0, "{r:#?}");
        assert_eq!(r.delivered, 0, "{r:#?}");
    }
    let p = row(&second, &url(&picky), "outbox");
    assert_eq!((p.missing, p.refused.len()), (20, 20));
    assert_eq!(p.losing_runs, 2, "it lacks them run after run");
    assert_eq!(row(&second, &url(&half), "outbox").losing_runs, 0);
    s.shutdown().await;
}
