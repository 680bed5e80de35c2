//! # samizdat-demo
//!
//! The seeded demo network, in a library so that `samizdat demo`, the
//! desktop app's demo mode and the benchmarks use the very same one: our
//! relay started several times on 127.0.0.1 (one of them the discovery
//! relay), some relay addresses dead or hanging, optional per-relay latency,
//! a generated social network written into the relays' stores, and a demo
//! user (keys from the seed) whose follow list and relay list are published
//! on the discovery relay like anyone's.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod load;
mod network;
pub mod proxy;

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use samizdat_relay::RelayHandle;
use samizdat_store::{Store, StoreConfig};

pub use network::{populate, DemoRelay, Person};

/// Why the demo network could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A relay's store failed.
    #[error(transparent)]
    Store(#[from] samizdat_store::StoreError),
    /// Binding a loopback port or a temp dir failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Building or signing an event failed.
    #[error("building the demo's events: {0}")]
    Event(String),
    /// The relay server did not start.
    #[error("starting a relay: {0}")]
    Relay(String),
}

/// Turns a protocol-library error into a [`DemoError`].
pub(crate) fn ev<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, DemoError> {
    r.map_err(|e| DemoError::Event(e.to_string()))
}

/// How a demo session runs (`samizdat demo`, the desktop's demo mode): short
/// time-outs, since two relay addresses are dead on purpose.
pub fn session_config() -> samizdat_client::SessionConfig {
    let mut config = samizdat_client::SessionConfig::default();
    config.engine.net.transport.connect_timeout = Duration::from_secs(2);
    config.engine.net.eose_timeout = Duration::from_secs(5);
    config.engine.phase_timeout = Duration::from_secs(10);
    config
}

/// The shape of the network.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Seed of everything generated.
    pub seed: u64,
    /// People in the network.
    pub people: usize,
    /// People the demo user follows.
    pub follow: usize,
    /// Content relays that are up (besides the discovery relay).
    pub up: usize,
    /// Relay addresses where nothing listens.
    pub down: usize,
    /// Relays that accept TCP and never answer.
    pub hanging: usize,
    /// One-way latency per content relay, drawn uniformly in this range
    /// (milliseconds); `None` for none.
    pub latency_ms: Option<(u64, u64)>,
}

impl Default for DemoOptions {
    /// The network `samizdat demo` shows: 120 people, 40 followed, five
    /// relays up, two down.
    fn default() -> Self {
        Self {
            seed: 7,
            people: 120,
            follow: 40,
            up: 5,
            down: 2,
            hanging: 0,
            latency_ms: None,
        }
    }
}

/// A running demo network. Dropping it stops the proxies; call
/// [`DemoNetwork::shutdown`] to stop the relays cleanly.
pub struct DemoNetwork {
    /// Every relay: index 0 is the discovery relay, then content relays up,
    /// then down, then hanging.
    pub relays: Vec<DemoRelay>,
    /// Everyone generated.
    pub people: Vec<Person>,
    /// Indexes into `people` of those the demo user follows.
    pub followed: Vec<usize>,
    /// The demo user (keys from the seed): follows `followed`, writes to
    /// the first content relay.
    pub user: Keys,
    handles: Vec<RelayHandle>,
    _listeners: Vec<proxy::Listener>,
    _dir: tempfile::TempDir,
}

fn letter_name(i: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    if i < letters.len() {
        format!("relay-{}", letters[i] as char)
    } else {
        format!("relay-{i:02}")
    }
}

impl DemoNetwork {
    /// Starts the relays, generates the network and publishes the demo
    /// user's lists on the discovery relay.
    pub async fn start(options: &DemoOptions) -> Result<Self, DemoError> {
        let dir = tempfile::tempdir()?;
        let mut rng = StdRng::seed_from_u64(options.seed ^ 0x1a7e);
        let mut relays = Vec::new();
        let mut handles = Vec::new();
        let mut listeners = Vec::new();
        // Relay addresses in relay order (see `proxy::ordered_listeners`).
        let mut addresses =
            proxy::ordered_listeners(options.up + 1 + options.down + options.hanging)?.into_iter();
        let mut next_address = || {
            addresses
                .next()
                .ok_or_else(|| std::io::Error::other("no address reserved"))
        };
        for i in 0..=options.up {
            let name = if i == 0 {
                "indexer".to_owned()
            } else {
                letter_name(i - 1)
            };
            let store = Arc::new(Store::open_with(
                dir.path().join(format!("{name}.sqlite")),
                StoreConfig::relay(),
            )?);
            let front = next_address()?;
            let delayed = options.latency_ms.filter(|_| i > 0);
            // Without a delay the relay itself takes the reserved port
            // (released just before it binds it again).
            let (listen, mut front) = if delayed.is_some() {
                (([127, 0, 0, 1], 0).into(), Some(front))
            } else {
                let addr = front.local_addr()?;
                drop(front);
                (addr, None)
            };
            let handle = samizdat_relay::start(Default::default(), store.clone(), listen)
                .await
                .map_err(|e| DemoError::Relay(e.to_string()))?;
            let url = match (delayed, front.take()) {
                (Some((lo, hi)), Some(front)) => {
                    let delay = Duration::from_millis(rng.random_range(lo..=hi.max(lo)));
                    let proxy = proxy::delayed_on(front, handle.local_addr(), delay)?;
                    let url = format!("ws://{}", proxy.addr);
                    listeners.push(proxy);
                    url
                }
                _ => handle.url(),
            };
            relays.push(DemoRelay {
                name,
                url,
                store: Some(store),
            });
            handles.push(handle);
        }
        for i in 0..options.down {
            // Released at once: nothing listens there.
            let addr = next_address()?.local_addr()?;
            relays.push(DemoRelay {
                name: format!("{} (down)", letter_name(options.up + i)),
                url: format!("ws://{addr}"),
                store: None,
            });
        }
        for i in 0..options.hanging {
            let h = proxy::hanging_on(next_address()?)?;
            relays.push(DemoRelay {
                name: format!("{} (hangs)", letter_name(options.up + options.down + i)),
                url: format!("ws://{}", h.addr),
                store: None,
            });
            listeners.push(h);
        }
        let people = populate(options.seed, options.people, &relays)?;
        let mut followed: Vec<usize> = (0..people.len()).collect();
        followed.shuffle(&mut StdRng::seed_from_u64(options.seed ^ 0xf011));
        followed.truncate(options.follow.min(people.len()));
        let user = Keys::new(ev(SecretKey::from_slice(
            &StdRng::seed_from_u64(options.seed ^ 0x05e1f).random::<[u8; 32]>(),
        ))?);
        let network = Self {
            relays,
            people,
            followed,
            user,
            handles,
            _listeners: listeners,
            _dir: dir,
        };
        network.publish_user_lists()?;
        Ok(network)
    }

    /// The demo user's follow list and relay list (write and read on the
    /// first content relay), on the discovery relay and that relay.
    fn publish_user_lists(&self) -> Result<(), DemoError> {
        let an_hour_ago = Timestamp::from_secs(Timestamp::now().as_secs() - 3_600);
        let follows = ev(EventBuilder::new(Kind::ContactList, "")
            .tags(self.follows().into_iter().map(Tag::public_key))
            .custom_created_at(an_hour_ago)
            .finalize(&self.user))?;
        let relay_list = ev(EventBuilder::new(Kind::RelayList, "")
            .tag(ev(Tag::parse(["r", self.home_relay().as_str()]))?)
            .custom_created_at(an_hour_ago)
            .finalize(&self.user))?;
        let profile = ev(EventBuilder::new(Kind::Metadata, r#"{"name":"demo user"}"#)
            .custom_created_at(an_hour_ago)
            .finalize(&self.user))?;
        for relay in self.relays.iter().take(2) {
            if let Some(store) = &relay.store {
                store.insert_batch(&[follows.clone(), relay_list.clone(), profile.clone()])?;
            }
        }
        Ok(())
    }

    /// The discovery relay's URL.
    pub fn discovery_url(&self) -> String {
        self.relays[0].url.clone()
    }

    /// The demo user's own relay (the first content relay).
    pub fn home_relay(&self) -> String {
        self.relays
            .get(1)
            .map_or_else(|| self.discovery_url(), |r| r.url.clone())
    }

    /// The public keys the demo user follows.
    pub fn follows(&self) -> Vec<PublicKey> {
        self.followed
            .iter()
            .map(|&i| self.people[i].keys.public_key())
            .collect()
    }

    /// A readable name for a public key (hex), if it is someone generated.
    pub fn name_of(&self, hex: &str) -> Option<&str> {
        self.people
            .iter()
            .find(|p| p.keys.public_key().to_hex() == hex)
            .map(|p| p.name.as_str())
    }

    /// Notes of followed people created at or after `since`.
    pub fn followed_notes_since(&self, since: Timestamp) -> Vec<&Event> {
        self.followed
            .iter()
            .flat_map(|&i| self.people[i].notes.iter())
            .filter(|n| n.created_at >= since)
            .collect()
    }

    /// A session for the demo user, its profile (store and settings) in
    /// `dir`: the discovery relay, the home relay to read and write, the
    /// user's key unlocked in memory.
    pub fn open_session(
        &self,
        dir: &std::path::Path,
        config: samizdat_client::SessionConfig,
    ) -> Result<Arc<samizdat_client::Session>, samizdat_client::SessionError> {
        let normal = |u: String| samizdat_net::RelayUrl::parse(&u).map_or(u, |r| r.to_string());
        let mut settings = samizdat_client::Settings {
            discovery: vec![normal(self.discovery_url())],
            ..Default::default()
        };
        settings.relays.insert(
            normal(self.home_relay()),
            samizdat_client::RelayRoles {
                read: true,
                write: true,
            },
        );
        let settings_path = dir.join("settings.json");
        settings.save(&settings_path)?;
        let store = Arc::new(Store::open(dir.join("events.sqlite"))?);
        let signer = Arc::new(samizdat_client::LocalSigner::new(self.user.clone()));
        samizdat_client::Session::with_store(store, settings_path, signer, config)
    }

    /// Stops the relays (gracefully).
    pub async fn shutdown(self) {
        for h in self.handles {
            h.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_seed_gives_the_same_people_and_follows() {
        let a = DemoNetwork::start(&DemoOptions::default()).await.unwrap();
        let b = DemoNetwork::start(&DemoOptions::default()).await.unwrap();
        assert_eq!(a.follows(), b.follows());
        assert_eq!(a.user.public_key(), b.user.public_key());
        assert_eq!(a.follows().len(), 40);
        assert_eq!(a.relays.len(), 8);
        a.shutdown().await;
        b.shutdown().await;
    }
}
