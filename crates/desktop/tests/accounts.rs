//! Two accounts open at once in one app, each through its own SOCKS5 proxy
//! (the demo's logging proxy), on one shared relay fronted by a tap that
//! logs every connection's REQs and AUTHs: no connection carries both
//! accounts' subscriptions or AUTHs, and the two never share a circuit.
//! Switching is a swap, locking one leaves the other open, a profile
//! cannot be opened twice. With both accounts direct, the Relays tab warns
//! that the shared relay sees both come from one IP.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use egui_kittest::kittest::Queryable;
use nostr::prelude::*;
use samizdat_client::{RelayPolicy, Settings};
use samizdat_demo::coalition::{socks_proxy, tap_on, Log, What};
use samizdat_relay::RelayConfig;

/// Our relay behind a logging tap; returns the tap's URL and what to keep.
fn tapped_relay(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    log: &Arc<Log>,
) -> (
    samizdat_relay::RelayHandle,
    samizdat_demo::proxy::Listener,
    Arc<samizdat_store::Store>,
    String,
) {
    let (handle, store, url) = relay(rt, dir, "shared", RelayConfig::default());
    let upstream: SocketAddr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let front = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = front.local_addr().unwrap();
    let tap = rt
        .block_on(async { tap_on(front, "shared".into(), upstream, Arc::clone(log)) })
        .unwrap();
    (handle, tap, store, format!("ws://{addr}"))
}

fn set_proxy(home: &std::path::Path, name: &str, proxy: Option<SocketAddr>) {
    let path = home.join(name).join("settings.json");
    let mut settings = Settings::load(&path).unwrap();
    settings.network.proxy = proxy.map(|p| p.to_string());
    settings.save(&path).unwrap();
}

fn dm_relays(keys: &Keys, url: &str) -> Event {
    event(
        keys,
        Kind::InboxRelays,
        "",
        vec![Tag::parse(["relay", url]).unwrap()],
        600,
    )
}

/// Opens `name` from the start screen (another account may be open).
fn open(h: &mut egui_kittest::Harness<'static, samizdat_desktop::DesktopApp>, name: &str) {
    wait_for(h, "the profile list", |h| {
        shows(h, "Unlock a profile") && shows(h, name)
    });
    h.state_mut().start.chosen = Some(name.to_owned());
    fill(h, "Passphrase", PASS);
    click(h, "Unlock");
    wait_for(h, "the account to open", |h| {
        h.state()
            .main
            .as_ref()
            .is_some_and(|m| m.profile == name && m.last_done.is_some())
    });
}

fn two_profiles(
    rt: &tokio::runtime::Runtime,
    home: &std::path::Path,
    url: &str,
    store: &samizdat_store::Store,
) -> (Keys, Keys) {
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let allow = RelayPolicy {
        connect: None,
        auth: Some("allow".into()),
    };
    for (name, keys) in [("alice", &alice), ("bob", &bob)] {
        profile(
            rt,
            home,
            name,
            keys,
            &[url],
            &[url],
            &[(url, allow.clone())],
        );
        store
            .insert_batch(&[relay_list(keys, url), dm_relays(keys, url)])
            .unwrap();
    }
    (alice, bob)
}

#[test]
fn two_accounts_never_share_a_connection_or_a_circuit() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::default());
    let (_relay, _tap, store, url) = tapped_relay(&rt, dir.path(), &log);
    let home = dir.path().join("home");
    let (alice, bob) = two_profiles(&rt, &home, &url, &store);
    let (p1, p2) = rt.block_on(async {
        (
            socks_proxy(Arc::clone(&log)).await.unwrap(),
            socks_proxy(Arc::clone(&log)).await.unwrap(),
        )
    });
    set_proxy(&home, "alice", Some(p1.addr));
    set_proxy(&home, "bob", Some(p2.addr));

    let mut h = app(&home);
    open(&mut h, "alice");
    click(&mut h, "Add account");
    assert!(
        h.state().main.is_none(),
        "the start screen, alice in the background"
    );
    assert_eq!(h.state().open_profiles(), ["alice"]);
    // alice cannot be opened a second time.
    wait_for(&mut h, "the profile list", |h| shows(h, "Unlock a profile"));
    h.state_mut().start.chosen = Some("alice".into());
    fill(&mut h, "Passphrase", PASS);
    click(&mut h, "Unlock");
    assert!(shows(&h, "alice is already open"), "refused");
    open(&mut h, "bob");
    assert_eq!(h.state().open_profiles(), ["bob", "alice"]);
    // Let both read their messages (AUTH on the shared relay) and settle.
    let settle = std::time::Instant::now() + std::time::Duration::from_secs(4);
    while std::time::Instant::now() < settle {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // Every connection the relay saw: whose keys its REQs and AUTHs named.
    let (me_a, me_b) = (alice.public_key(), bob.public_key());
    let circuit_of: HashMap<SocketAddr, String> = log
        .circuits()
        .into_iter()
        .map(|c| (c.outbound, c.user.unwrap_or_default()))
        .collect();
    let mut keys: HashMap<u64, BTreeSet<PublicKey>> = HashMap::new();
    let mut circuit: HashMap<u64, String> = HashMap::new();
    let mut auths = Vec::new();
    for seen in log.seen() {
        let named = keys.entry(seen.conn).or_default();
        match seen.what {
            What::Connected { peer, websocket } => {
                let user = circuit_of.get(&peer).cloned();
                assert!(
                    user.is_some() || !websocket,
                    "a websocket not through a proxy: {peer}"
                );
                circuit.insert(seen.conn, user.unwrap_or_default());
            }
            What::Req { filters, .. } => {
                for f in filters {
                    for k in ["authors", "#p"] {
                        for v in f[k].as_array().into_iter().flatten() {
                            if let Some(pk) = v.as_str().and_then(|s| PublicKey::from_hex(s).ok()) {
                                named.insert(pk);
                            }
                        }
                    }
                }
            }
            What::Auth(pk) => {
                auths.push((seen.conn, pk));
                named.insert(pk);
            }
            What::Event(e) => {
                named.insert(e.pubkey);
            }
        }
    }
    let with = |pk: PublicKey| -> Vec<u64> {
        keys.iter()
            .filter(|(_, k)| k.contains(&pk))
            .map(|(c, _)| *c)
            .collect()
    };
    let (conns_a, conns_b) = (with(me_a), with(me_b));
    assert!(
        !conns_a.is_empty() && !conns_b.is_empty(),
        "both accounts used the relay"
    );
    for c in &conns_a {
        assert!(
            !conns_b.contains(c),
            "connection {c} carried both accounts: {:?}",
            keys[c]
        );
    }
    for pk in [me_a, me_b] {
        assert!(auths.iter().any(|(_, k)| *k == pk), "{pk} authenticated");
    }
    let circuits =
        |conns: &[u64]| -> BTreeSet<String> { conns.iter().map(|c| circuit[c].clone()).collect() };
    let (ca, cb) = (circuits(&conns_a), circuits(&conns_b));
    assert!(ca.is_disjoint(&cb), "circuits shared: {ca:?} {cb:?}");
    println!(
        "{} connections for alice ({} circuits), {} for bob ({} circuits), none shared; {} AUTHs",
        conns_a.len(),
        ca.len(),
        conns_b.len(),
        cb.len(),
        auths.len()
    );

    // Switching is a swap, in one frame; locking bob leaves alice open.
    let start = std::time::Instant::now();
    h.state_mut().switch_to(0);
    h.step();
    println!("switch: {:?} (one frame)", start.elapsed());
    assert_eq!(h.state().open_profiles(), ["alice", "bob"]);
    assert!(shows(&h, "Accounts"));
    h.get_by_label("Lock bob").click();
    wait_for(&mut h, "bob locked", |h| {
        h.state().open_profiles() == ["alice"]
    });
    assert!(h
        .state()
        .main
        .as_ref()
        .is_some_and(|m| m.profile == "alice"));
}

#[test]
fn the_relays_tab_warns_when_two_direct_accounts_share_a_relay() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (_relay, store, url) = relay(&rt, dir.path(), "shared", RelayConfig::default());
    let home = dir.path().join("home");
    two_profiles(&rt, &home, &url, &store);
    let mut h = app(&home);
    open(&mut h, "alice");
    click(&mut h, "Add account");
    open(&mut h, "bob");
    click(&mut h, "Relays");
    wait_for(&mut h, "the warning", |h| {
        shows(h, "this relay can see both accounts come from one IP")
    });
    assert!(shows(&h, "shared with alice while direct"));
}
