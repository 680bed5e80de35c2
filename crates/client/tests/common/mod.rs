//! Helpers shared by the client's integration tests.

#![allow(dead_code)]

use std::sync::Arc;

use samizdat_relay::{RelayConfig, RelayHandle};
use samizdat_store::Store;

/// Our relay on 127.0.0.1 with `config`, over a store file named `name` in `dir`.
pub async fn relay_with(
    dir: &tempfile::TempDir,
    name: &str,
    config: RelayConfig,
) -> (RelayHandle, Arc<Store>) {
    let store = Arc::new(Store::open(dir.path().join(format!("{name}.sqlite"))).unwrap());
    let handle = samizdat_relay::start(config, store.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (handle, store)
}

/// Our relay on 127.0.0.1 with the default configuration.
pub async fn relay(dir: &tempfile::TempDir, name: &str) -> (RelayHandle, Arc<Store>) {
    relay_with(dir, name, RelayConfig::default()).await
}

/// A session in `dir` (created, settings written): `relays` as (URL, read,
/// write), discovery relays, and AUTH policy words per relay; short
/// time-outs, since tests run on loopback.
pub fn session_at(
    dir: &std::path::Path,
    signer: Arc<dyn samizdat_client::Signer>,
    relays: &[(&str, bool, bool)],
    discovery: &[&str],
    auth: &[(&str, &str)],
) -> Arc<samizdat_client::Session> {
    session_with(dir, signer, relays, discovery, auth, |_| {})
}

/// Like [`session_at`], with `tweak` applied to the session's configuration.
pub fn session_with(
    dir: &std::path::Path,
    signer: Arc<dyn samizdat_client::Signer>,
    relays: &[(&str, bool, bool)],
    discovery: &[&str],
    auth: &[(&str, &str)],
    tweak: impl FnOnce(&mut samizdat_client::SessionConfig),
) -> Arc<samizdat_client::Session> {
    std::fs::create_dir_all(dir).unwrap();
    let mut settings = samizdat_client::Settings {
        discovery: discovery.iter().map(|d| (*d).to_owned()).collect(),
        ..Default::default()
    };
    for (url, read, write) in relays {
        settings.relays.insert(
            (*url).to_owned(),
            samizdat_client::RelayRoles {
                read: *read,
                write: *write,
            },
        );
    }
    for (url, word) in auth {
        settings.policies.insert(
            (*url).to_owned(),
            samizdat_client::RelayPolicy {
                connect: None,
                auth: Some((*word).to_owned()),
            },
        );
    }
    settings.save(&dir.join("settings.json")).unwrap();
    let mut config = samizdat_client::SessionConfig::default();
    config.engine.phase_timeout = std::time::Duration::from_secs(5);
    config.engine.net.ok_timeout = std::time::Duration::from_secs(2);
    config.engine.net.transport.connect_timeout = std::time::Duration::from_secs(1);
    // Tests read a sent message's own copy from the relay at once.
    config.engine.self_copy_delay_secs = (0, 0);
    config.engine.wrap_gap_ms = None;
    tweak(&mut config);
    samizdat_client::Session::with_store(
        Arc::new(Store::open(dir.join("events.sqlite")).unwrap()),
        dir.join("settings.json"),
        signer,
        config,
    )
    .unwrap()
}

/// A relay's URL in normalised form (as settings and relay lists hold it).
pub fn url(h: &RelayHandle) -> String {
    samizdat_net::RelayUrl::parse(&h.url()).unwrap().to_string()
}

/// A loopback address where nothing listens (connections are refused).
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("ws://127.0.0.1:{port}")
}

/// A session with a local key in `dir`: `relays` as (URL, read, write), one
/// discovery relay, no AUTH policies.
pub fn local_session(
    dir: &std::path::Path,
    keys: &nostr::prelude::Keys,
    relays: &[(&str, bool, bool)],
    discovery: &str,
) -> Arc<samizdat_client::Session> {
    let signer = Arc::new(samizdat_client::LocalSigner::new(keys.clone()));
    session_at(dir, signer, relays, &[discovery], &[])
}

/// Relays a profile ever contacted, per its privacy ledger.
pub fn contacted(store: &Store) -> std::collections::BTreeSet<String> {
    ledger_facts(store, |e| e.fact == "contact", |e| e.relay.clone())
}

/// Whom `relay` was asked about, per the privacy ledger.
pub fn asked_about(store: &Store, relay: &str) -> std::collections::BTreeSet<String> {
    ledger_facts(
        store,
        |e| e.relay == relay && e.fact == "asked",
        |e| e.detail.clone(),
    )
}

fn ledger_facts(
    store: &Store,
    keep: impl Fn(&samizdat_store::LedgerEntry) -> bool,
    take: impl Fn(&samizdat_store::LedgerEntry) -> String,
) -> std::collections::BTreeSet<String> {
    store
        .ledger()
        .unwrap()
        .iter()
        .filter(|e| keep(e))
        .map(take)
        .collect()
}

/// The texts of the session's following feed, newest first.
pub fn feed_texts(s: &samizdat_client::Session) -> Vec<String> {
    s.following_feed(100, None)
        .unwrap()
        .into_iter()
        .map(|e| e.content)
        .collect()
}
