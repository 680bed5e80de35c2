//! The engine: one store, one relay pool, one stream of updates.
//!
//! A background task (the *pump*) owns the pool's event receiver from the
//! moment the engine exists, so ingest never stalls waiting for a caller:
//! every pool event is re-broadcast on an internal bus (for operations
//! waiting on EOSE) and, where a UI cares, as an [`EngineUpdate`]. Neither
//! broadcast ever blocks; verified events are already in the store when
//! they are announced, so a slow listener loses notifications, never data.
//!
//! Every method takes `&self`, so one engine serves many concurrent
//! operations (a session runs intents in parallel); subscription ids are
//! unique per operation, except the live ones (`feed`, `inbox`) that stay
//! open between refreshes.

mod asked;
pub mod discovery;
pub mod evidence;
pub mod feeds;
pub mod ledger;
pub mod liveness;
pub mod own;
pub mod publisher;
mod requests;
pub mod sync;
pub mod targets;
pub mod updates;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook, Pool, PoolEvent, RelayUrl};
use samizdat_outbox::RelayList;
use samizdat_store::{Store, StoreError};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::base::signer::{AuthThroughSigner, Signer};
pub use crate::engine::updates::{Alert, EngineUpdate, IntentResult};

/// How the engine reads.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Relays that index relay lists ("indexers").
    pub discovery: Vec<RelayUrl>,
    /// NIP-66 monitors whose liveness reports are trusted (fetched from the
    /// discovery relays; relays they report dead are not planned).
    pub monitors: Vec<PublicKey>,
    /// Relays to read from at most.
    pub max_connections: usize,
    /// Relays per followed person.
    pub per_person: usize,
    /// Which relay-selection algorithm plans the reads (ours by default;
    /// the baselines exist for benchmarks).
    pub algorithm: samizdat_outbox::Algorithm,
    /// How far back to fetch notes.
    pub window: Duration,
    /// Notes asked per relay subscription at most.
    pub limit: usize,
    /// Longest wait for one phase (relay lists, then notes).
    pub phase_timeout: Duration,
    /// Network settings.
    pub net: NetConfig,
    /// First wait before retrying a failed delivery (doubles each attempt, at most an hour).
    pub retry_base: Duration,
    /// The exposure cap: no relay asked about more than this share of the
    /// follow list (`None`: no cap).
    pub max_exposure: Option<f64>,
    /// Probe relays already connected about followed people they have no
    /// evidence for (within the exposure cap), to learn where those people
    /// write; off: only relays with evidence are asked about anyone.
    pub explore: bool,
    /// Random gap between the copies of a profile or list update sent to
    /// different relays, in milliseconds (`None`: all at once).
    pub stagger_ms: Option<(u64, u64)>,
    /// How long the copy of a sent private message to the user's own DM
    /// relays waits, in seconds (a random time in this range), so the DM
    /// relay cannot pair it with the copy to the recipient by arrival time.
    pub self_copy_delay_secs: (u64, u64),
    /// Gift wraps leave one at a time, at least this long apart (a random
    /// gap in this range, milliseconds), so a DM relay never sees a wrap to
    /// the sender (her copy) arrive close to a wrap to someone else and
    /// pair them by time; `None`: as soon as due (tests).
    pub wrap_gap_ms: Option<(u64, u64)>,
    /// During a background refresh each relay's REQ waits a random time up
    /// to this long, its own, so relays comparing logs do not see all of the
    /// user's connections asked in the same second on every refresh (a
    /// shared clock ties circuits together). Interactive reads go at once.
    pub background_spread: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            discovery: Vec::new(),
            monitors: Vec::new(),
            max_connections: 20,
            per_person: 2,
            algorithm: samizdat_outbox::Algorithm::Samizdat,
            window: Duration::from_secs(7 * 24 * 3600),
            limit: 500,
            phase_timeout: Duration::from_secs(20),
            net: NetConfig::default(),
            retry_base: Duration::from_secs(30),
            max_exposure: None,
            explore: true,
            stagger_ms: Some((150, 700)),
            self_copy_delay_secs: (5, 30),
            wrap_gap_ms: Some((3_000, 5_000)),
            background_spread: Duration::from_secs(60),
        }
    }
}

/// What happened at one relay during a sync.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelayOutcome {
    /// People it was asked about.
    pub asked: usize,
    /// New events it delivered.
    pub events: usize,
    /// People it delivered at least one event for.
    pub delivered_for: usize,
    /// Whether it finished (EOSE) before the timeout.
    pub finished: bool,
    /// The last connection error, if any.
    pub error: Option<String>,
    /// Events it sent that the local store could not keep, with the
    /// store's error (a full disk, a read-only profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_stored: Option<(usize, String)>,
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Events arrived but the local store could not keep them.
    #[error("{events} events arrived but could not be stored: {error}")]
    NotStored {
        /// How many.
        events: usize,
        /// The store's error.
        error: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The pool refused a relay.
    #[error(transparent)]
    Net(#[from] samizdat_net::NetError),
}

/// Capacity of the internal pool-event bus. Operations waiting for EOSE read
/// it as fast as events come; a lagging reader skips, it never blocks.
const BUS_CAPACITY: usize = 4_096;

/// The engine over one store: reading, publishing, and a stream of updates.
pub struct Engine {
    pub(crate) store: Arc<Store>,
    pub(crate) config: EngineConfig,
    pub(crate) pool: Pool,
    /// The pool gift wraps leave by: it never authenticates (no signer) and
    /// has proxy circuits of its own, so a DM relay never receives a wrap
    /// on a connection that told it who the sender is (NIP-17's point).
    pub(crate) wraps_pool: Pool,
    bus: broadcast::Sender<PoolEvent>,
    pub(crate) updates: broadcast::Sender<EngineUpdate>,
    pumps: [JoinHandle<()>; 2],
    /// One delivery round at a time, so no delivery is attempted twice at once.
    pub(crate) delivering: tokio::sync::Mutex<()>,
    /// Background refreshes running (their REQs are spread, see
    /// `EngineConfig::background_spread`).
    background: std::sync::atomic::AtomicUsize,
    /// The user (the signer's key), if the engine has a signer.
    pub(crate) me: Option<PublicKey>,
    /// When the last gift wrap left (see `EngineConfig::wrap_gap_ms`).
    pub(crate) last_wrap: tokio::sync::Mutex<Option<std::time::Instant>>,
    next_sub: AtomicU64,
    /// Live subscription `feed`: per relay, the people it is asked about.
    pub(crate) live: Mutex<HashMap<RelayUrl, BTreeSet<PublicKey>>>,
    /// Per relay, when its `feed` last asked for the follow and mute lists
    /// of the people it reads (the web of trust's input) and for whom, so
    /// the next sync asks only for newer copies of those people's lists.
    pub(crate) trust_lists_asked: Mutex<HashMap<RelayUrl, (Timestamp, BTreeSet<PublicKey>)>>,
}

impl Engine {
    /// An engine over `store`. With a `signer`, relays whose AUTH policy
    /// allows it get NIP-42 AUTH signed by it; without one, AUTH is never
    /// answered. Must be called inside a tokio runtime (it starts the pump).
    pub fn new(
        store: Arc<Store>,
        config: EngineConfig,
        policies: PolicyBook,
        signer: Option<Arc<dyn Signer>>,
    ) -> Self {
        let ledger = crate::engine::ledger::LedgerWriter {
            store: Arc::clone(&store),
            path: crate::engine::ledger::path_of(&config.net.transport),
            direct: config.net.transport.direct.clone(),
            me: signer.as_ref().map(|s| s.public_key()),
        };
        let me = signer.as_ref().map(|s| s.public_key());
        let auth = signer
            .map(|s| Arc::new(AuthThroughSigner(s)) as Arc<dyn samizdat_net::AuthSigner + 'static>);
        let mut wraps_net = config.net.clone();
        wraps_net.transport.isolation_nonce = format!("{:016x}", rand::random::<u64>());
        let wraps_ledger = crate::engine::ledger::LedgerWriter {
            path: crate::engine::ledger::path_of(&wraps_net.transport),
            ..ledger.clone()
        };
        let (pool, events) = Pool::new(
            config.net.clone(),
            Arc::clone(&store),
            policies.clone(),
            auth,
        );
        let (wraps_pool, wraps_events) = Pool::new(wraps_net, Arc::clone(&store), policies, None);
        let (updates, _) = broadcast::channel(1_024);
        let (bus, _) = broadcast::channel(BUS_CAPACITY);
        let pumps = [
            tokio::spawn(pump(events, bus.clone(), updates.clone(), ledger)),
            tokio::spawn(pump(
                wraps_events,
                bus.clone(),
                updates.clone(),
                wraps_ledger,
            )),
        ];
        Self {
            store,
            config,
            pool,
            wraps_pool,
            bus,
            updates,
            pumps,
            delivering: tokio::sync::Mutex::new(()),
            last_wrap: tokio::sync::Mutex::new(None),
            trust_lists_asked: Mutex::new(HashMap::new()),
            background: std::sync::atomic::AtomicUsize::new(0),
            me,
            next_sub: AtomicU64::new(1),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// The store the engine reads and writes.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The connect/AUTH policies in force; changes apply at once.
    pub fn policies(&self) -> &PolicyBook {
        self.pool.policies()
    }

    /// Updates as they happen (new events, deliveries, failures, alerts). A
    /// UI subscribes once and redraws from them; a slow subscriber misses
    /// the oldest updates, never blocks the engine.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineUpdate> {
        self.updates.subscribe()
    }

    pub(crate) fn announce(&self, update: EngineUpdate) {
        // No subscriber is fine.
        let _ = self.updates.send(update);
    }

    /// A subscription id used by no other operation of this engine.
    pub(crate) fn unique_sub(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.next_sub.fetch_add(1, Ordering::Relaxed))
    }

    /// Starts listening to pool events. Call before subscribing, so that no
    /// EOSE can arrive before the listener exists.
    pub(crate) fn listen(&self) -> broadcast::Receiver<PoolEvent> {
        self.bus.subscribe()
    }

    /// Fetches the kind-10002 relay lists of `people` from the discovery relays into the store.
    pub async fn fetch_relay_lists(&self, people: &[PublicKey]) -> Result<(), EngineError> {
        self.fetch_relay_lists_from_discovery(people).await?;
        Ok(())
    }

    /// Reads replies, mentions, reposts and reactions addressed to `me` from
    /// the user's read relays (their inbox) into the store, and keeps the
    /// subscription open so new ones arrive while the engine runs.
    pub async fn sync_inbox(
        &self,
        me: PublicKey,
        read_relays: &[RelayUrl],
    ) -> Result<(), EngineError> {
        let filter = Filter::new()
            .pubkey(me)
            .kinds([Kind::TextNote, Kind::Repost, Kind::Reaction])
            .limit(self.config.limit);
        // Legacy NIP-04 messages ride along in the same REQ: a relay that
        // serves kind 4 only after AUTH leaves them out without asking (the
        // REQ is not private-only), so reading the inbox never prompts.
        let legacy_to_me = Filter::new()
            .pubkey(me)
            .kind(Kind::EncryptedDirectMessage)
            .limit(self.config.limit);
        let legacy_from_me = Filter::new()
            .author(me)
            .kind(Kind::EncryptedDirectMessage)
            .limit(self.config.limit);
        // (Where the user allows AUTH, the DM feature also asks for them on
        // their own: `Session::sync_legacy_dms`.)
        self.live(
            "inbox",
            read_relays,
            vec![filter, legacy_to_me, legacy_from_me],
        )
        .await
    }

    /// Replies, mentions, reposts and reactions addressed to `me`, newest
    /// first (the user's own events excluded).
    pub fn inbox_feed(&self, me: PublicKey, limit: usize) -> Result<Vec<Event>, EngineError> {
        let filter = Filter::new()
            .pubkey(me)
            .kinds([Kind::TextNote, Kind::Repost, Kind::Reaction])
            .limit(limit);
        Ok(self
            .store
            .query(&[filter])?
            .into_iter()
            .filter(|e| e.pubkey != me)
            .collect())
    }

    /// One stored event by id.
    pub fn event(&self, id: EventId) -> Result<Option<Event>, EngineError> {
        Ok(self
            .store
            .query(&[Filter::new().id(id)])?
            .into_iter()
            .next())
    }

    /// Newest notes and reposts of the people followed.
    pub fn following_feed(
        &self,
        follows: &[PublicKey],
        limit: usize,
    ) -> Result<Vec<Event>, EngineError> {
        let filter = Filter::new()
            .authors(follows.iter().copied())
            .kinds([Kind::TextNote, Kind::Repost])
            .limit(limit);
        Ok(self.store.query(&[filter])?)
    }

    /// Closes every relay connection.
    pub async fn shutdown(&self) {
        self.pool.shutdown().await;
        self.wraps_pool.shutdown().await;
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for pump in &self.pumps {
            pump.abort();
        }
    }
}

/// Drains the pool's events for as long as the pool lives: re-broadcasts
/// each on the internal bus and tells UIs what they care about.
async fn pump(
    mut events: mpsc::Receiver<PoolEvent>,
    bus: broadcast::Sender<PoolEvent>,
    updates: broadcast::Sender<EngineUpdate>,
    ledger: crate::engine::ledger::LedgerWriter,
) {
    while let Some(event) = events.recv().await {
        ledger.on_pool_event(&event, &updates);
        match &event {
            // Copying a batch costs only when some UI is listening.
            PoolEvent::Events { relay, sub, events } if updates.receiver_count() > 0 => {
                let _ = updates.send(EngineUpdate::NewEvents {
                    relay: relay.to_string(),
                    sub: sub.clone(),
                    events: events.clone(),
                });
            }
            PoolEvent::Disconnected { relay, error, .. } => {
                let _ = updates.send(EngineUpdate::RelayFailed {
                    relay: relay.to_string(),
                    error: error.clone(),
                });
            }
            PoolEvent::Authenticated { relay } => {
                let _ = updates.send(EngineUpdate::Authenticated {
                    relay: relay.to_string(),
                });
            }
            PoolEvent::NotStored { events, error, .. } => {
                let _ = updates.send(EngineUpdate::Alert(
                    crate::engine::updates::Alert::NotStored {
                        events: *events,
                        error: error.clone(),
                    },
                ));
            }
            _ => {}
        }
        // Nobody listening is fine: the events are stored already.
        let _ = bus.send(event);
    }
}

/// Reads a kind-10002 event: `r` tags, marker `read`, `write` or none (both).
pub fn relay_list(event: &Event) -> RelayList {
    let mut list = RelayList::default();
    for tag in event.tags.iter() {
        let s = tag.as_slice();
        if s.first().map(String::as_str) != Some("r") {
            continue;
        }
        let Some(url) = s.get(1).and_then(|u| RelayUrl::parse(u).ok()) else {
            continue;
        };
        match s.get(2).map(String::as_str) {
            Some("read") => list.read.push(url.to_string()),
            Some("write") => list.write.push(url.to_string()),
            _ => {
                list.read.push(url.to_string());
                list.write.push(url.to_string());
            }
        }
    }
    list
}
