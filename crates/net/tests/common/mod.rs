//! Shared parts of the net tests: our relay on 127.0.0.1, a client store in a
//! temp dir, a pool with short timeouts, and helpers to wait for pool events.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_net::{BackoffConfig, NetConfig, PolicyBook, Pool, PoolEvent, RelayUrl};
use samizdat_relay::{RelayConfig, RelayHandle};
use samizdat_store::Store;
use tokio::sync::mpsc;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: Arc<Store>,
}

pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("client.sqlite")).unwrap());
    Env { dir, store }
}

pub fn fast_config() -> NetConfig {
    let mut c = NetConfig::default();
    c.transport.connect_timeout = Duration::from_millis(800);
    c.ok_timeout = Duration::from_millis(800);
    c.eose_timeout = Duration::from_millis(800);
    c.backoff = BackoffConfig {
        base: Duration::from_millis(100),
        max: Duration::from_secs(2),
        jitter: 0.2,
    };
    c
}

pub fn pool(
    env: &Env,
    config: NetConfig,
    policies: PolicyBook,
    signer: Option<Arc<dyn samizdat_net::AuthSigner>>,
) -> (Pool, mpsc::Receiver<PoolEvent>) {
    Pool::new(config, Arc::clone(&env.store), policies, signer)
}

pub async fn our_relay(config: RelayConfig) -> (RelayHandle, Arc<Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("relay.sqlite")).unwrap());
    let handle = samizdat_relay::start(config, store.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (handle, store, dir)
}

pub fn url(s: &str) -> RelayUrl {
    RelayUrl::parse(s).unwrap()
}

pub fn keys(n: u8) -> Keys {
    let mut b = [0u8; 32];
    b[0] = 9;
    b[31] = n;
    Keys::new(SecretKey::from_slice(&b).unwrap())
}

pub fn note(keys: &Keys, content: &str, age: u64) -> Event {
    EventBuilder::new(Kind::TextNote, content)
        .custom_created_at(Timestamp::from_secs(Timestamp::now().as_secs() - age))
        .finalize(keys)
        .unwrap()
}

/// Collects pool events until `done` says so or `wait` passes; returns them all.
pub async fn collect_until(
    rx: &mut mpsc::Receiver<PoolEvent>,
    wait: Duration,
    mut done: impl FnMut(&[PoolEvent]) -> bool,
) -> Vec<PoolEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) => seen.push(e),
            _ => break,
        }
    }
    seen
}

pub fn eose_for(events: &[PoolEvent], relay: &RelayUrl, sub: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, PoolEvent::Eose { relay: r, sub: s, .. } if r == relay && s == sub))
}

pub fn stored_ids(store: &Store) -> Vec<EventId> {
    store
        .query(&[Filter::new().limit(100_000)])
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}
