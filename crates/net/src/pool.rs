//! The pool: one actor task per relay, a shared validation pipeline, and one
//! stream of [`PoolEvent`]s for the engine. State is owned here and passed to
//! the actors; nothing is global.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nostr::prelude::*;
use samizdat_store::{FailureClass, Store};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::backoff::BackoffConfig;
use crate::negentropy::{NegError, NegOutcome, NegSync};
use crate::policy::PolicyBook;
use crate::relay::{Command, RelayActor};
use crate::transport::TransportConfig;
use crate::url::{RelayUrl, UrlError};
use crate::validate::{Rejection, SeenIds, ValidationConfig};

/// Signs NIP-42 AUTH events. The engine's signer implements it; the pool only
/// calls it for relays whose AUTH policy allows it.
pub trait AuthSigner: Send + Sync {
    /// Signs the given unsigned kind-22242 event.
    fn sign_auth(
        &self,
        unsigned: UnsignedEvent,
    ) -> Pin<Box<dyn Future<Output = Result<Event, String>> + Send + '_>>;
    /// The key that will be revealed.
    fn public_key(&self) -> PublicKey;
}

/// A local key as an [`AuthSigner`] (tests, bots).
pub struct KeysAuthSigner(pub Keys);

impl AuthSigner for KeysAuthSigner {
    fn sign_auth(
        &self,
        unsigned: UnsignedEvent,
    ) -> Pin<Box<dyn Future<Output = Result<Event, String>> + Send + '_>> {
        Box::pin(async move { SignEvent::sign_event(&self.0, unsigned).map_err(|e| e.to_string()) })
    }

    fn public_key(&self) -> PublicKey {
        self.0.public_key()
    }
}

/// Everything about how the pool talks to relays.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Proxy, timeouts and message size.
    pub transport: TransportConfig,
    /// Bounds on received events.
    pub validation: ValidationConfig,
    /// Reconnect timing.
    pub backoff: BackoffConfig,
    /// Allow `ws://` to public hosts.
    pub allow_plain_ws: bool,
    /// How long to wait for OK after publishing.
    pub ok_timeout: Duration,
    /// How long to wait for EOSE before reporting it timed out.
    pub eose_timeout: Duration,
    /// Event ids remembered across relays so duplicates are not re-verified.
    pub seen_capacity: usize,
    /// Events verified together (and stored in one transaction).
    pub batch_size: usize,
    /// Malformed messages tolerated from a relay before it is dropped.
    pub max_malformed: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            transport: TransportConfig::default(),
            validation: ValidationConfig::default(),
            backoff: BackoffConfig::default(),
            allow_plain_ws: false,
            ok_timeout: Duration::from_secs(10),
            eose_timeout: Duration::from_secs(15),
            seen_capacity: 200_000,
            batch_size: 512,
            max_malformed: 50,
        }
    }
}

/// What happened to a published event at one relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// The relay stored it.
    Accepted,
    /// The relay already had it.
    Duplicate,
    /// The relay refused it, with its reason.
    Rejected(String),
    /// The relay asked us to slow down.
    RateLimited(String),
    /// The relay wants AUTH and our policy declined (or AUTH failed).
    AuthRequired(String),
    /// No OK within the timeout.
    Timeout,
    /// Our policy denies connecting to this relay.
    Denied,
    /// The connection failed or the pool stopped before an answer.
    Failed(String),
}

impl PublishOutcome {
    /// Classifies an OK message.
    pub fn from_ok(accepted: bool, reason: &str) -> Self {
        let prefix = reason.split(':').next().unwrap_or("").trim();
        match (accepted, prefix) {
            (true, "duplicate") => Self::Duplicate,
            (true, _) => Self::Accepted,
            (false, "duplicate") => Self::Duplicate,
            (false, "rate-limited") => Self::RateLimited(reason.into()),
            (false, "auth-required") => Self::AuthRequired(reason.into()),
            (false, _) => Self::Rejected(reason.into()),
        }
    }

    /// True when the relay has the event.
    pub fn delivered(&self) -> bool {
        matches!(self, Self::Accepted | Self::Duplicate)
    }
}

/// Something the engine may want to know, in the order it happened per relay.
#[derive(Debug, Clone)]
pub enum PoolEvent {
    /// Verified events that arrived on a subscription: newly stored ones, and
    /// ephemeral ones (never stored, reported once).
    Events {
        /// From where.
        relay: RelayUrl,
        /// Subscription id.
        sub: String,
        /// The events (already in the store).
        events: Vec<Event>,
    },
    /// Verified events from a relay that the local store could not take
    /// (a full disk, a read-only file): they are not kept, and whoever
    /// asked for them must say so.
    NotStored {
        /// From where.
        relay: RelayUrl,
        /// How many.
        events: usize,
        /// The store's error, as a sentence.
        error: String,
    },
    /// The relay finished sending stored events for a subscription.
    Eose {
        /// From where.
        relay: RelayUrl,
        /// Subscription id.
        sub: String,
        /// True when we gave up waiting rather than the relay saying EOSE.
        timed_out: bool,
    },
    /// The relay closed a subscription.
    Closed {
        /// From where.
        relay: RelayUrl,
        /// Subscription id.
        sub: String,
        /// The relay's reason.
        reason: String,
    },
    /// A NOTICE.
    Notice {
        /// From where.
        relay: RelayUrl,
        /// The text (untrusted).
        text: String,
    },
    /// Connected (websocket open).
    Connected {
        /// Which relay.
        relay: RelayUrl,
    },
    /// Disconnected or failed to connect; a retry is scheduled.
    Disconnected {
        /// Which relay.
        relay: RelayUrl,
        /// How it failed.
        class: FailureClass,
        /// Why.
        error: String,
        /// When the next attempt is.
        retry_in: Duration,
    },
    /// Our policy denies this relay; nothing was sent to it.
    Denied {
        /// Which relay.
        relay: RelayUrl,
    },
    /// Events from this relay were dropped.
    Rejected {
        /// Which relay.
        relay: RelayUrl,
        /// Why.
        reason: Rejection,
        /// How many.
        count: usize,
    },
    /// The relay asked for AUTH and we declined (policy, or no signer).
    AuthDeclined {
        /// Which relay.
        relay: RelayUrl,
    },
    /// We authenticated to the relay.
    Authenticated {
        /// Which relay.
        relay: RelayUrl,
    },
}

/// What every actor shares.
pub(crate) struct PoolShared {
    pub config: NetConfig,
    pub store: Arc<Store>,
    pub policies: PolicyBook,
    pub signer: Option<Arc<dyn AuthSigner>>,
    pub events: mpsc::Sender<PoolEvent>,
    pub seen: Mutex<SeenIds>,
    /// Counts shutdowns: a delayed REQ scheduled before one is dropped.
    pub generation: std::sync::atomic::AtomicU64,
}

/// Why a pool call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The relay URL is not acceptable.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The pool has stopped.
    #[error("the relay pool has stopped")]
    Stopped,
}

struct ActorHandle {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

/// Sends `command` to `url`'s actor, starting one (and its connection) if
/// there is none.
fn send_to(
    relays: &Mutex<Actors>,
    shared: &Arc<PoolShared>,
    url: &RelayUrl,
    command: Command,
) -> Result<(), NetError> {
    let mut relays = relays.lock().map_err(|_| NetError::Stopped)?;
    let handle = relays.entry(url.clone()).or_insert_with(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        let actor = RelayActor::new(url.clone(), Arc::clone(shared), rx);
        ActorHandle {
            commands: tx,
            task: tokio::spawn(tracing::Instrument::instrument(
                actor.run(),
                tracing::info_span!("relay", url = %url),
            )),
        }
    });
    if handle.commands.send(command).is_err() {
        // The actor ended (shutdown): drop it so a new one starts next time.
        relays.remove(url);
        return Err(NetError::Stopped);
    }
    Ok(())
}

/// Connections to many relays at once.
pub struct Pool {
    shared: Arc<PoolShared>,
    relays: Arc<Mutex<Actors>>,
}

/// Each relay's connection actor.
type Actors = HashMap<RelayUrl, ActorHandle>;

impl Pool {
    /// A pool that stores verified events in `store` and reports to the
    /// returned receiver (bounded: a slow consumer slows ingestion down, it
    /// does not grow memory).
    pub fn new(
        config: NetConfig,
        store: Arc<Store>,
        policies: PolicyBook,
        signer: Option<Arc<dyn AuthSigner>>,
    ) -> (Self, mpsc::Receiver<PoolEvent>) {
        let (tx, rx) = mpsc::channel(1_024);
        let shared = Arc::new(PoolShared {
            seen: Mutex::new(SeenIds::new(config.seen_capacity)),
            generation: std::sync::atomic::AtomicU64::new(0),
            config,
            store,
            policies,
            signer,
            events: tx,
        });
        (
            Self {
                shared,
                relays: Arc::new(Mutex::new(HashMap::new())),
            },
            rx,
        )
    }

    /// Parses a relay URL under this pool's plain-websocket rule.
    pub fn relay_url(&self, input: &str) -> Result<RelayUrl, NetError> {
        Ok(RelayUrl::parse_checked(
            input,
            self.shared.config.allow_plain_ws,
        )?)
    }

    /// The policies in force (change them at any time).
    pub fn policies(&self) -> &PolicyBook {
        &self.shared.policies
    }

    fn send(&self, url: &RelayUrl, command: Command) -> Result<(), NetError> {
        send_to(&self.relays, &self.shared, url, command)
    }

    /// Opens (or replaces) subscription `id` on one relay. It is re-sent after
    /// every reconnect until [`Pool::unsubscribe`].
    pub fn subscribe(
        &self,
        url: &RelayUrl,
        id: &str,
        filters: Vec<Filter>,
    ) -> Result<(), NetError> {
        self.send(
            url,
            Command::Subscribe {
                id: id.to_owned(),
                filters,
            },
        )
    }

    /// Like [`Pool::subscribe`], the REQ sent `delay` from now (the relay's
    /// connection opens then too, if it is not open yet). A background
    /// refresh gives each relay a delay of its own, so relays comparing
    /// logs do not see all of one user's connections asked in the same
    /// second.
    pub fn subscribe_after(
        &self,
        url: &RelayUrl,
        id: &str,
        filters: Vec<Filter>,
        delay: std::time::Duration,
    ) -> Result<(), NetError> {
        if delay.is_zero() {
            return self.subscribe(url, id, filters);
        }
        let command = Command::Subscribe {
            id: id.to_owned(),
            filters,
        };
        let (relays, shared, url) = (
            Arc::clone(&self.relays),
            Arc::clone(&self.shared),
            url.clone(),
        );
        let generation = shared.generation.load(Ordering::SeqCst);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // A shutdown in between cancels it (no connection after close).
            if shared.generation.load(Ordering::SeqCst) == generation {
                let _ = send_to(&relays, &shared, &url, command);
            }
        });
        Ok(())
    }

    /// Closes subscription `id` on one relay.
    pub fn unsubscribe(&self, url: &RelayUrl, id: &str) -> Result<(), NetError> {
        self.send(url, Command::Unsubscribe { id: id.to_owned() })
    }

    /// Publishes an event to one relay and waits for its answer (or the timeout).
    pub async fn publish(&self, url: &RelayUrl, event: Event) -> PublishOutcome {
        let (reply, answer) = oneshot::channel();
        if let Err(e) = self.send(url, Command::Publish { event, reply }) {
            return PublishOutcome::Failed(e.to_string());
        }
        answer
            .await
            .unwrap_or_else(|_| PublishOutcome::Failed("the relay connection ended".into()))
    }

    /// Reconciles our events matching `filter` (`items`: their created_at
    /// and id) with what `relay` holds, by NIP-77 negentropy: which of ours
    /// it lacks and which of its we lack. A relay without NIP-77 answers
    /// [`NegError::Unsupported`]; the whole exchange ends within `timeout`.
    pub async fn negentropy(
        &self,
        url: &RelayUrl,
        filter: Filter,
        items: Vec<(Timestamp, EventId)>,
        timeout: std::time::Duration,
    ) -> Result<NegOutcome, NegError> {
        let (reply, answer) = oneshot::channel();
        let deadline = std::time::Instant::now() + timeout;
        let sync = match NegSync::new(filter, items, reply, deadline) {
            Ok(sync) => sync,
            Err((e, _)) => return Err(e),
        };
        let sub = crate::session::random_sub_id();
        self.send(
            url,
            Command::Negentropy {
                sub,
                sync: Box::new(sync),
            },
        )
        .map_err(|e| NegError::Failed(e.to_string()))?;
        // The actor answers by the deadline while connected; a relay that
        // never connects is answered here.
        match tokio::time::timeout(timeout + std::time::Duration::from_secs(1), answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(NegError::Failed("the relay connection ended".into())),
            Err(_) => Err(NegError::TimedOut),
        }
    }

    /// Closes the connection to one relay and forgets its subscriptions.
    pub async fn disconnect(&self, url: &RelayUrl) {
        let handle = self.relays.lock().ok().and_then(|mut r| r.remove(url));
        if let Some(h) = handle {
            let _ = h.commands.send(Command::Shutdown);
            let _ = h.task.await;
        }
    }

    /// Relays with a live actor (connected or retrying).
    pub fn relays(&self) -> Vec<RelayUrl> {
        self.relays
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Closes every connection and waits for the actors to finish.
    pub async fn shutdown(&self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        let handles: Vec<ActorHandle> = self
            .relays
            .lock()
            .map(|mut r| r.drain().map(|(_, h)| h).collect())
            .unwrap_or_default();
        for h in &handles {
            let _ = h.commands.send(Command::Shutdown);
        }
        for h in handles {
            let _ = h.task.await;
        }
    }
}
