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

pub mod coalition;
pub mod load;
mod media;
mod moderation;
mod network;
pub mod proxy;
mod trust;

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use samizdat_relay::RelayHandle;
use samizdat_store::{Store, StoreConfig};

pub use media::http_of;
pub use network::{populate, DemoRelay, Person};
pub use trust::Strangers;

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
    /// Every relay that is up logs what it sees here (a coalition that
    /// compares notes, for `samizdat bench privacy`); `None`: no logging.
    pub tap: Option<Arc<coalition::Log>>,
    /// A spammer, an impostor and a friend of a friend write to the demo
    /// user (mentions, a thread reply, private messages), for the web of
    /// trust to screen.
    pub strangers: bool,
    /// Content relays serve Blossom and a few followed people post
    /// pictures (and one of them is shown without a click).
    pub media: bool,
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
            tap: None,
            strangers: true,
            media: true,
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
    /// A NIP-66 monitor (keys from the seed) the demo user trusts: on the
    /// discovery relay it reports the relays that are up as up a few
    /// minutes ago, and the ones that are down as last up two days ago (the
    /// hanging ones it never reports: unknown).
    pub monitor: Keys,
    /// Who writes to the demo user from outside their network (with
    /// `DemoOptions::strangers`).
    pub strangers: Option<Strangers>,
    /// Who posted the demo's pictures (with `DemoOptions::media`); the
    /// first one's pictures load without a click.
    pub picture_posters: Vec<PublicKey>,
    handles: Vec<RelayHandle>,
    listeners: Vec<proxy::Listener>,
    tap: Option<Arc<coalition::Log>>,
    dir: tempfile::TempDir,
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
        let user = Keys::new(ev(SecretKey::from_slice(
            &StdRng::seed_from_u64(options.seed ^ 0x05e1f).random::<[u8; 32]>(),
        ))?);
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
            let delay = options
                .latency_ms
                .filter(|_| i > 0)
                .map(|(lo, hi)| Duration::from_millis(rng.random_range(lo..=hi.max(lo))));
            // The tap reads websocket frames: media only without it.
            let mut config = if options.media && options.tap.is_none() && i > 0 {
                media::relay_config(dir.path(), &name)
            } else {
                samizdat_relay::RelayConfig::default()
            };
            if i == 1 {
                // The home relay is the one the demo user runs: they manage
                // it over NIP-86 (the desktop's "My relay" tab).
                config.policy.admins = vec![ev(user.public_key().to_bech32())?];
            }
            let (url, handle) = serve_relay(
                front,
                &name,
                config,
                Arc::clone(&store),
                delay,
                options.tap.as_ref(),
                &mut listeners,
            )
            .await?;
            relays.push(DemoRelay {
                name,
                url,
                store: Some(store),
                latency: delay,
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
                latency: None,
            });
        }
        for i in 0..options.hanging {
            let h = proxy::hanging_on(next_address()?)?;
            relays.push(DemoRelay {
                name: format!("{} (hangs)", letter_name(options.up + options.down + i)),
                url: format!("ws://{}", h.addr),
                store: None,
                latency: None,
            });
            listeners.push(h);
        }
        let people = populate(options.seed, options.people, &relays)?;
        let mut followed: Vec<usize> = (0..people.len()).collect();
        followed.shuffle(&mut StdRng::seed_from_u64(options.seed ^ 0xf011));
        followed.truncate(options.follow.min(people.len()));
        let monitor = Keys::new(ev(SecretKey::from_slice(
            &StdRng::seed_from_u64(options.seed ^ 0x3031_7e55).random::<[u8; 32]>(),
        ))?);
        let mut network = Self {
            strangers: None,
            picture_posters: Vec::new(),
            relays,
            people,
            followed,
            user,
            monitor,
            handles,
            listeners,
            tap: options.tap.clone(),
            dir,
        };
        network.publish_user_lists()?;
        network.publish_liveness(options.up, options.down)?;
        network.publish_report(options.seed)?;
        let lists = network.publish_follow_lists(options.seed)?;
        if options.strangers {
            network.strangers = network.publish_strangers(options.seed, &lists).await?;
        }
        if options.media && options.tap.is_none() {
            network.picture_posters = network.publish_pictures(options.seed).await?;
        }
        Ok(network)
    }

    /// The monitor's NIP-66 announcement and reports, on the discovery relay.
    fn publish_liveness(&self, up: usize, down: usize) -> Result<(), DemoError> {
        let now = Timestamp::now().as_secs();
        let mut events = vec![ev(EventBuilder::new(Kind::Custom(10166), "")
            .tag(ev(Tag::parse(["frequency", "3600"]))?)
            .tag(ev(Tag::parse(["c", "open"]))?)
            .custom_created_at(Timestamp::from_secs(now - 86_400))
            .finalize(&self.monitor))?];
        for (i, relay) in self.relays.iter().enumerate().skip(1).take(up + down) {
            let at = if i <= up { now - 600 } else { now - 2 * 86_400 };
            events.push(ev(EventBuilder::new(Kind::Custom(30166), "")
                .tag(Tag::identifier(normal_url(relay.url.clone())))
                .tag(ev(Tag::parse(["n", "clearnet"]))?)
                .custom_created_at(Timestamp::from_secs(at))
                .finalize(&self.monitor))?);
        }
        if let Some(store) = &self.relays[0].store {
            store.insert_batch(&events)?;
        }
        Ok(())
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

    /// Starts one more relay on this network, named `name`, with `config`
    /// (logged like the others when the network has a tap); returns its
    /// index in [`DemoNetwork::relays`]. Nobody lists it until the caller
    /// writes events that do.
    pub async fn add_relay(
        &mut self,
        name: &str,
        config: samizdat_relay::RelayConfig,
    ) -> Result<usize, DemoError> {
        let store = Arc::new(Store::open_with(
            self.dir.path().join(format!("{name}.sqlite")),
            StoreConfig::relay(),
        )?);
        let front = std::net::TcpListener::bind("127.0.0.1:0")?;
        let (url, handle) = serve_relay(
            front,
            name,
            config,
            Arc::clone(&store),
            None,
            self.tap.as_ref(),
            &mut self.listeners,
        )
        .await?;
        self.relays.push(DemoRelay {
            name: name.to_owned(),
            url,
            store: Some(store),
            latency: None,
        });
        self.handles.push(handle);
        Ok(self.relays.len() - 1)
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

    /// The share of followed people's notes since `since` that a client
    /// asking every relay about everyone at once could hold by `at`: a note
    /// counts once a relay that has it has answered, two round trips after
    /// the client starts (the websocket upgrade, then REQ to EOSE) plus
    /// `start` (the client's own work before it asks). A bound for
    /// time-to-feed figures on this network.
    pub fn bound_at(
        &self,
        since: Timestamp,
        start: std::time::Duration,
        at: std::time::Duration,
    ) -> f64 {
        let answered = |r: usize| {
            self.relays[r].store.is_some()
                && start + self.relays[r].latency.unwrap_or_default() * 4 <= at
        };
        let (mut all, mut got) = (0usize, 0usize);
        for p in self.followed.iter().map(|&i| &self.people[i]) {
            let n = p.notes.iter().filter(|n| n.created_at >= since).count();
            all += n;
            if p.writes.iter().any(|&r| answered(r)) {
                got += n;
            }
        }
        got as f64 / all.max(1) as f64
    }

    /// Notes of followed people created at or after `since` that some relay
    /// that is up holds (what any client could reach).
    pub fn reachable_notes_since(&self, since: Timestamp) -> Vec<&Event> {
        self.followed
            .iter()
            .map(|&i| &self.people[i])
            .filter(|p| p.writes.iter().any(|&r| self.relays[r].store.is_some()))
            .flat_map(|p| p.notes.iter())
            .filter(|n| n.created_at >= since)
            .collect()
    }

    /// Notes of followed people created at or after `since`.
    pub fn followed_notes_since(&self, since: Timestamp) -> Vec<&Event> {
        self.followed
            .iter()
            .flat_map(|&i| self.people[i].notes.iter())
            .filter(|n| n.created_at >= since)
            .collect()
    }

    /// The demo user's settings: the discovery relay, the home relay to
    /// read and write, everything else as a new profile has it.
    pub fn settings(&self) -> samizdat_client::Settings {
        let mut settings = samizdat_client::Settings {
            discovery: vec![normal_url(self.discovery_url())],
            monitors: vec![self.monitor.public_key().to_hex()],
            ..Default::default()
        };
        settings.relays.insert(
            normal_url(self.home_relay()),
            samizdat_client::RelayRoles {
                read: true,
                write: true,
            },
        );
        if self.strangers.is_some() {
            // The home relay is the user's DM relay too: it serves their
            // gift wraps only after AUTH.
            settings.policies.insert(
                normal_url(self.home_relay()),
                samizdat_client::RelayPolicy {
                    connect: None,
                    auth: Some("allow".into()),
                },
            );
        }
        if let Some(first) = self.picture_posters.first() {
            settings
                .media
                .people
                .insert(first.to_hex(), samizdat_client::media::MediaChoice::Always);
        }
        settings
    }

    /// A session for the demo user, its profile (store and settings) in
    /// `dir`: [`DemoNetwork::settings`], the user's key unlocked in memory.
    pub fn open_session(
        &self,
        dir: &std::path::Path,
        config: samizdat_client::SessionConfig,
    ) -> Result<Arc<samizdat_client::Session>, samizdat_client::SessionError> {
        self.settings().save(&dir.join("settings.json"))?;
        self.reopen_session(dir, config)
    }

    /// A session for the demo user on the profile already in `dir` (its
    /// settings as saved there): a second run of the same profile.
    pub fn reopen_session(
        &self,
        dir: &std::path::Path,
        config: samizdat_client::SessionConfig,
    ) -> Result<Arc<samizdat_client::Session>, samizdat_client::SessionError> {
        let settings_path = dir.join("settings.json");
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

/// `url` as the client spells it (normalised), or as given if it is not one.
pub fn normal_url(url: String) -> String {
    samizdat_net::RelayUrl::parse(&url).map_or(url, |r| r.to_string())
}

/// Starts a relay on `store` and gives it `front`, the address clients
/// use: the relay itself, or a latency forwarder and/or a tap in front of
/// it (kept alive in `listeners`). Returns its URL and handle.
async fn serve_relay(
    front: std::net::TcpListener,
    name: &str,
    config: samizdat_relay::RelayConfig,
    store: Arc<Store>,
    delay: Option<Duration>,
    tap: Option<&Arc<coalition::Log>>,
    listeners: &mut Vec<proxy::Listener>,
) -> Result<(String, RelayHandle), DemoError> {
    let start = |listen: std::net::SocketAddr| async move {
        samizdat_relay::start(config, store, listen)
            .await
            .map_err(|e| DemoError::Relay(e.to_string()))
    };
    if delay.is_none() && tap.is_none() {
        // The relay itself takes the reserved port (released just before it
        // binds it again).
        let addr = front.local_addr()?;
        drop(front);
        let handle = start(addr).await?;
        return Ok((handle.url(), handle));
    }
    let handle = start(([127, 0, 0, 1], 0).into()).await?;
    let relay = handle.local_addr();
    // Clients reach the front listener; behind it the tap, then the delay.
    let (front_of, upstream) = match delay {
        Some(delay) if tap.is_some() => {
            let delayed = proxy::delayed(relay, delay).await?;
            let addr = delayed.addr;
            listeners.push(delayed);
            (front, addr)
        }
        Some(delay) => {
            let delayed = proxy::delayed_on(front, relay, delay)?;
            let url = format!("ws://{}", delayed.addr);
            listeners.push(delayed);
            return Ok((url, handle));
        }
        None => (front, relay),
    };
    let tapped = match tap {
        Some(log) => coalition::tap_on(front_of, name.to_owned(), upstream, Arc::clone(log))?,
        // Unreachable: without a delay or a tap the relay took the front port.
        None => proxy::delayed_on(front_of, upstream, Duration::ZERO)?,
    };
    let url = format!("ws://{}", tapped.addr);
    listeners.push(tapped);
    Ok((url, handle))
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
