//! Crash matrix: SIGKILL at seeded random points during a sync, a post's
//! delivery, follow-list edits, list changes waiting for a relay and being
//! applied, DM sends, a store migration and the relay's group commit. After
//! every kill the store is reopened (the restart) and checked: SQLite's
//! `integrity_check`, the full-text index, one current version of each
//! replaceable, no queued delivery without its event; then
//! what the scenario promises (every acknowledged event present, every
//! queued delivery delivered after a restart, a follow list old or new and
//! never half-applied, every acknowledged follow either waiting or applied,
//! a migration at a whole step).
//!
//! `SAMIZDAT_CRASH_KILLS` kills per scenario (default 3, `bench/crash-matrix.sh`
//! runs many more) and `SAMIZDAT_CRASH_SEED` (default 1) choose the run;
//! each scenario prints `kills survived / kills tried`.

mod common;
mod crash_support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{free_port, samizdat, RelayProcess};
use crash_support::*;
use nostr::prelude::*;
use samizdat_store::{Store, StoreConfig};

#[test]
fn sync_killed_anywhere_leaves_a_sound_store_and_a_clean_sync_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.sqlite");
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let authors: Vec<Keys> = (0..5).map(|_| Keys::generate()).collect();
    preload(&db, &authors, 400, &url);
    let relay = RelayProcess::start_on(&db, port, &[]);
    let killed = Client::new(dir.path().join("killed"), &relay);
    let control = Client::new(dir.path().join("control"), &relay);
    for a in &authors {
        let npub = a.public_key().to_bech32().unwrap();
        killed.ok(&["follow", &npub]);
        control.ok(&["follow", &npub]);
    }
    // Each kill starts from the profile as it was before its first sync, so
    // every kill lands in a full download.
    let template = dir.path().join("template");
    copy_dir(&killed.home, &template);
    let window = duration_of(|| {
        killed.ok(&["sync"]);
    });
    let mut dice = Dice::new(1);
    let mut matrix = Matrix::new("sync");
    for _ in 0..kills() {
        std::fs::remove_dir_all(&killed.home).unwrap();
        copy_dir(&template, &killed.home);
        let running = kill_after(killed.spawn(&["sync"]), dice.millis(0, window));
        matrix.record(running, check_store(&killed.store_path()));
    }
    killed.ok(&["sync"]);
    control.ok(&["sync"]);
    let notes = |c: &Client| {
        let filter = Filter::new()
            .authors(authors.iter().map(Keys::public_key))
            .kind(Kind::TextNote);
        Store::open(c.store_path())
            .and_then(|s| s.count(&[filter], &[]))
            .unwrap()
    };
    let (after_kills, never_killed) = (notes(&killed), notes(&control));
    assert_eq!(after_kills, never_killed, "the killed profile caught up");
    assert!(never_killed > 0);
    matrix.finish();
}

#[test]
fn post_killed_anywhere_is_stored_queued_and_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (db1, db2) = (dir.path().join("r1.sqlite"), dir.path().join("r2.sqlite"));
    let r1 = RelayProcess::start(&db1, &[]);
    let r2 = RelayProcess::start(&db2, &[]);
    let client = Client::new(dir.path().join("home"), &r1);
    client.ok(&["relays", "add", &r2.url(), "--write"]);
    let window = duration_of(|| {
        client.ok(&["post", "timing note"]);
    });
    let mut dice = Dice::new(2);
    let mut matrix = Matrix::new("post delivery");
    for i in 0..kills() {
        let running = kill_after(
            client.spawn(&["post", &format!("crash note {i}")]),
            dice.millis(0, window),
        );
        let mut problems = check_store(&client.store_path());
        // Whatever a relay acknowledged, the client has.
        let mine = client.own(Kind::TextNote);
        for db in [&db1, &db2] {
            for e in on_relay(db, client.keys.public_key(), Kind::TextNote) {
                if !mine.iter().any(|m| m.id == e.id) {
                    problems.push(format!("{} on a relay but not in the client's store", e.id));
                }
            }
        }
        matrix.record(running, problems);
    }
    // A restart retries what is due: every stored note reaches both relays.
    let mine = client.own(Kind::TextNote);
    let delivered_everywhere = || {
        [&db1, &db2].iter().all(|db| {
            let held = on_relay(db, client.keys.public_key(), Kind::TextNote);
            mine.iter().all(|m| held.iter().any(|h| h.id == m.id))
        })
    };
    for _ in 0..5 {
        if delivered_everywhere() {
            break;
        }
        client.ok(&["status"]);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        delivered_everywhere(),
        "{} stored notes not on both relays after restarts",
        mine.len()
    );
    println!(
        "crash matrix: post delivery: {} notes stored and delivered to both relays",
        mine.len()
    );
    matrix.finish();
}

#[test]
fn follow_edits_killed_anywhere_leave_the_old_list_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("relay.sqlite"), &[]);
    let client = Client::new(dir.path().join("home"), &relay);
    let people: Vec<Keys> = (0..kills()).map(|_| Keys::generate()).collect();
    let follows = |c: &Client| -> Vec<PublicKey> {
        c.own(Kind::ContactList)
            .first()
            .map(|list| list.tags.public_keys().collect())
            .unwrap_or_default()
    };
    let window = duration_of(|| {
        client.ok(&[
            "follow",
            &Keys::generate().public_key().to_bech32().unwrap(),
        ]);
    });
    let mut dice = Dice::new(3);
    let mut matrix = Matrix::new("follow-list edits");
    // Each kill leaves the old list or a new one holding it whole: one
    // person more, plus any follow an earlier kill left waiting as a change
    // (the next edit applies every waiting change of the list).
    let mut before = follows(&client);
    for person in &people {
        let npub = person.public_key().to_bech32().unwrap();
        let waiting = Store::open(client.store_path())
            .and_then(|s| s.list_changes(None))
            .unwrap()
            .len();
        let running = kill_after(client.spawn(&["follow", &npub]), dice.millis(0, window));
        let mut problems = check_store(&client.store_path());
        let now = follows(&client);
        if before.iter().any(|p| !now.contains(p)) {
            problems.push(format!(
                "follow list lost people: {} to {}",
                before.len(),
                now.len()
            ));
        }
        if now.len() > before.len() + 1 + waiting {
            problems.push(format!(
                "follow list went from {} to {} people ({waiting} waiting)",
                before.len(),
                now.len()
            ));
        }
        before = now;
        matrix.record(running, problems);
    }
    // A follow killed after it was kept as a change is applied by the next
    // edit of the list, so each is looked up again before following.
    for person in &people {
        if !follows(&client).contains(&person.public_key()) {
            client.ok(&["follow", &person.public_key().to_bech32().unwrap()]);
        }
    }
    let all = follows(&client);
    assert!(
        people.iter().all(|p| all.contains(&p.public_key())),
        "every follow made it in the end"
    );
    matrix.finish();
}

#[test]
fn dm_sends_killed_anywhere_leave_a_sound_store_and_arrive_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("relay.sqlite"), &[]);
    let dm_relay = RelayProcess::start(&dir.path().join("dm.sqlite"), &[]);
    let alice = Client::new(dir.path().join("alice"), &relay);
    let bob = Client::new(dir.path().join("bob"), &relay);
    for c in [&alice, &bob] {
        c.ok(&["dm", "relays", "set", &dm_relay.url()]);
    }
    let bob_npub = bob.keys.public_key().to_bech32().unwrap();
    let alice_npub = alice.keys.public_key().to_bech32().unwrap();
    let window = duration_of(|| {
        alice.ok(&["dm", "send", &bob_npub, "timing"]);
    });
    let mut dice = Dice::new(4);
    let mut matrix = Matrix::new("DM sends");
    for i in 0..kills() {
        let running = kill_after(
            alice.spawn(&["dm", "send", &bob_npub, &format!("secret {i}")]),
            dice.millis(0, window),
        );
        matrix.record(running, check_store(&alice.store_path()));
    }
    alice.ok(&["status"]);
    // Every message alice's side holds as sent reaches bob.
    let texts = |who: &Client, peer: &str| -> Vec<String> {
        let out = who.ok(&["dm", "read", peer, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["text"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let sent = texts(&alice, &bob_npub);
    let received = texts(&bob, &alice_npub);
    for text in &sent {
        assert!(
            received.contains(text),
            "{text:?} sent but not received: {received:?}"
        );
    }
    matrix.finish();
}

#[test]
fn a_migration_killed_anywhere_stops_at_a_whole_step_and_finishes_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A store as the release before full-text search left it (schema 3),
    // with enough events that building the search index takes a while.
    let template = dir.path().join("v3.sqlite");
    {
        let store = Store::open_with(&template, StoreConfig::relay()).unwrap();
        let authors: Vec<Keys> = (0..4).map(|_| Keys::generate()).collect();
        let events: Vec<Event> = (0..20_000)
            .map(|i| {
                EventBuilder::new(
                    Kind::TextNote,
                    format!("migration note {i} with searchable words"),
                )
                .finalize(&authors[i % authors.len()])
                .unwrap()
            })
            .collect();
        store.insert_batch(&events).unwrap();
    }
    downgrade_to_v3(&template);
    let mut dice = Dice::new(5);
    let mut matrix = Matrix::new("store migration");
    // How long a whole migration takes here: kills land within 1.5 times that.
    let work = dir.path().join("work.sqlite");
    std::fs::copy(&template, &work).unwrap();
    let t0 = Instant::now();
    drop(Store::open(&work).unwrap());
    let full = t0.elapsed();
    for _ in 0..kills() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
        }
        std::fs::copy(&template, &work).unwrap();
        let child = samizdat()
            .args(["--log", "error", "relay", "--listen", "127.0.0.1:0", "--db"])
            .arg(&work)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let running = kill_after(
            child,
            dice.millis(0, (full.as_millis() as u64 * 3 / 2).max(50)),
        );
        let mut problems = Vec::new();
        let version: i64 = rusqlite::Connection::open(&work)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap_or(-1);
        if !(3..=samizdat_store::SCHEMA_VERSION).contains(&version) {
            problems.push(format!("schema version {version} after the kill"));
        }
        problems.extend(check_store(&work));
        if let Ok(store) = Store::open(&work) {
            let count = store
                .count(&[Filter::new().kind(Kind::TextNote)], &[])
                .unwrap_or(0);
            let found = store
                .query(&[Filter::new().search("searchable").limit(5)])
                .map(|e| e.len())
                .ok();
            if count != 20_000 {
                problems.push(format!("{count} of 20000 events after the migration"));
            }
            if found.unwrap_or(0) != 5 {
                problems.push(format!("search after the migration: {found:?}"));
            }
        }
        matrix.record(running, problems);
    }
    matrix.finish();
}

/// Turns a current store back into what schema 3 was: drops what steps
/// 4 and later added and sets the version.
fn downgrade_to_v3(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TABLE events_fts; DROP TABLE publish_queue; DROP TABLE own_keys;
         DROP TABLE replaced_history; DROP TABLE delivery_stats; DROP TABLE privacy_ledger;
         DROP TABLE relay_hints; DROP TABLE moderation; DROP TABLE list_changes;
         DROP TABLE list_answers; PRAGMA user_version = 3; VACUUM;",
    )
    .unwrap();
}

#[test]
fn the_relay_killed_during_group_commits_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.sqlite");
    let port = free_port();
    let mut dice = Dice::new(6);
    let mut matrix = Matrix::new("relay group commit");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut acked_total = 0;
    for round in 0..kills() {
        let relay = RelayProcess::start_on(
            &db,
            port,
            &[
                "--config",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/relay-bench.toml"),
            ],
        );
        let url = relay.url();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let publishers: Vec<_> = (0..4)
            .map(|p| {
                runtime.spawn(publish_until_gone(
                    url.clone(),
                    format!("{round}/{p}"),
                    stop.clone(),
                ))
            })
            .collect();
        let mut relay = relay;
        std::thread::sleep(dice.millis(200, 1_500));
        let running = matches!(relay.child.try_wait(), Ok(None));
        let _ = relay.child.kill();
        let _ = relay.child.wait();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let acked: Vec<EventId> = publishers
            .into_iter()
            .flat_map(|p| runtime.block_on(p).unwrap_or_default())
            .collect();
        acked_total += acked.len();
        let mut problems = check_store(&db);
        let store = Store::open_with(&db, StoreConfig::relay()).unwrap();
        let held = store
            .query(&[Filter::new().ids(acked.iter().copied())])
            .map(|e| e.len())
            .unwrap_or(0);
        if held != acked.len() {
            problems.push(format!(
                "{} of {} acknowledged events missing",
                acked.len() - held,
                acked.len()
            ));
        }
        matrix.record(running, problems);
    }
    assert!(acked_total > 0, "the relay acknowledged nothing");
    println!("crash matrix: relay group commit: {acked_total} acknowledged events checked");
    matrix.finish();
}

/// Publishes notes as fast as the relay acknowledges them, until the relay
/// dies; the ids it acknowledged.
async fn publish_until_gone(
    url: String,
    label: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<EventId> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut acked = Vec::new();
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
        return acked;
    };
    let keys = Keys::generate();
    let mut n = 0;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        n += 1;
        let Ok(event) =
            EventBuilder::new(Kind::TextNote, format!("commit {label} {n}")).finalize(&keys)
        else {
            break;
        };
        let frame = serde_json::json!(["EVENT", event]).to_string();
        if ws.send(Message::text(frame)).await.is_err() {
            break;
        }
        // Skip the AUTH challenge and anything else until this event's OK.
        let id = event.id.to_hex();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) if t.starts_with("[\"OK\"") && t.contains(&id) => {
                    if t.contains("true") {
                        acked.push(event.id);
                    }
                    break;
                }
                Ok(Some(Ok(_))) => {}
                _ => return acked,
            }
        }
    }
    acked
}

#[test]
fn waiting_list_changes_killed_anywhere_are_kept_or_applied_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.sqlite");
    let relay = RelayProcess::start(&db, &[]);
    let port = relay.port;
    let client = Client::new(dir.path().join("home"), &relay);
    let npub = |k: &PublicKey| k.to_bech32().unwrap();
    let first: Vec<PublicKey> = (0..2).map(|_| Keys::generate().public_key()).collect();
    for p in &first {
        client.ok(&["follow", &npub(p)]);
    }
    drop(relay);
    let follows = |c: &Client| -> Vec<PublicKey> {
        c.own(Kind::ContactList)
            .first()
            .map(|list| list.tags.public_keys().collect())
            .unwrap_or_default()
    };
    let waiting = |c: &Client| -> Vec<String> {
        Store::open(c.store_path())
            .and_then(|s| s.list_changes(None))
            .unwrap()
            .into_iter()
            .map(|r| r.change)
            .collect()
    };
    // Every follow whose command finished must end up waiting or applied.
    let mut acknowledged: Vec<PublicKey> = Vec::new();
    let check = |c: &Client, acknowledged: &[PublicKey]| -> Vec<String> {
        let mut problems = check_store(&c.store_path());
        let (list, waits) = (follows(c), waiting(c));
        for p in first.iter().filter(|p| !list.contains(p)) {
            problems.push(format!("{} left the follow list", p.to_hex()));
        }
        for p in acknowledged {
            if !list.contains(p) && !waits.iter().any(|w| w.contains(&p.to_hex())) {
                problems.push(format!("the follow of {} was lost", p.to_hex()));
            }
        }
        problems
    };
    let mut dice = Dice::new(7);
    let mut matrix = Matrix::new("waiting list changes");
    // Follows made while the relay is down, killed anywhere.
    let window = duration_of(|| {
        let p = Keys::generate().public_key();
        client.ok(&["follow", &npub(&p)]);
        acknowledged.push(p);
    });
    assert_eq!(waiting(&client).len(), 1, "the relay is down: it waits");
    for _ in 0..kills() {
        let p = Keys::generate().public_key();
        let running = kill_after(client.spawn(&["follow", &npub(&p)]), dice.millis(0, window));
        if !running {
            acknowledged.push(p);
        }
        matrix.record(running, check(&client, &acknowledged));
    }
    // The relay comes back; applying is killed anywhere (a change queued
    // with the relay down before each kill, so something always waits).
    let relay = RelayProcess::start_on(&db, port, &[]);
    let window = duration_of(|| {
        client.ok(&["changes", "apply"]);
    });
    assert!(waiting(&client).is_empty(), "applied once a relay answered");
    drop(relay);
    for _ in 0..kills() {
        let p = Keys::generate().public_key();
        client.ok(&["follow", &npub(&p)]);
        acknowledged.push(p);
        let relay = RelayProcess::start_on(&db, port, &[]);
        let running = kill_after(client.spawn(&["changes", "apply"]), dice.millis(0, window));
        matrix.record(running, check(&client, &acknowledged));
        drop(relay);
    }
    // Once a run finishes, the newest list holds every follow (none was
    // lost to a list built in ignorance) and it is on the relay, or queued
    // for it (a kill after the version was queued leaves its delivery to
    // the retry schedule).
    let _relay = RelayProcess::start_on(&db, port, &[]);
    client.ok(&["changes", "apply"]);
    client.ok(&["status"]);
    assert!(waiting(&client).is_empty());
    let newest = client.own(Kind::ContactList).into_iter().next().unwrap();
    let list: Vec<PublicKey> = newest.tags.public_keys().collect();
    for p in first.iter().chain(&acknowledged) {
        assert!(
            list.contains(p),
            "{} missing from the follow list",
            p.to_hex()
        );
    }
    let on = on_relay(&db, client.keys.public_key(), Kind::ContactList);
    let queued = Store::open(client.store_path())
        .and_then(|s| s.publish_status(50))
        .unwrap()
        .into_iter()
        .any(|q| q.event.id == newest.id && !q.deliveries.is_empty());
    assert!(
        on.iter().any(|e| e.id == newest.id) || queued,
        "the newest follow list is neither on the relay nor queued for it"
    );
    matrix.finish();
}
