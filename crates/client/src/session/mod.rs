//! The client session every UI drives: one profile, one signer, one engine.
//!
//! Intents go down (post, reply, follow, refresh, …), updates come up (the
//! engine's broadcast stream), and queries read the store. A UI either awaits
//! an intent's method (the CLI) or fires it with [`Session::send`] and hears
//! the result as [`EngineUpdate::IntentDone`] (the desktop app, whose UI
//! thread must never wait). Every event is built, signed through the
//! session's [`Signer`], targeted and queued here, never in a UI.
//!
//! With [`Session::start`], the session also works in the background: the
//! live feed and inbox stay subscribed (new notes arrive without a new
//! sync), it re-plans every `refresh_every`, and it retries due deliveries
//! every `deliver_every`.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use samizdat_store::{QueuedEvent, Store};
use tokio::task::JoinHandle;

use crate::base::profile::{Profile, ProfileError};
use crate::base::settings::{Settings, SettingsError};
use crate::base::signer::{Signer, SignerError};
use crate::engine::sync::SyncReport;
use crate::engine::{Engine, EngineConfig, EngineError, EngineUpdate};

pub mod advertise;
pub mod changes;
pub mod hints;
pub mod mutes;
pub mod privacy;
pub mod queries;
mod settings_edit;
mod state;
pub mod trust;
pub(crate) mod writes;

pub use writes::Published;

/// How a session runs.
#[derive(Clone)]
pub struct SessionConfig {
    /// The engine's settings; empty discovery relays are taken from the profile.
    pub engine: EngineConfig,
    /// How often due deliveries are retried in the background.
    pub deliver_every: Duration,
    /// How often the background re-plans and refreshes the live feed.
    pub refresh_every: Duration,
    /// How often the background checks that the user's relays still hold
    /// their events and re-sends what is missing (see `replicate`).
    pub replicate_every: Duration,
    /// Who answers "ask" connect / AUTH policies (the desktop's dialog);
    /// without one, "ask" means no.
    pub approver: Option<Arc<dyn samizdat_net::Approver>>,
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("engine", &self.engine)
            .field("deliver_every", &self.deliver_every)
            .field("refresh_every", &self.refresh_every)
            .field("replicate_every", &self.replicate_every)
            .field("approver", &self.approver.is_some())
            .finish()
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            engine: EngineConfig::default(),
            deliver_every: Duration::from_secs(15),
            refresh_every: Duration::from_secs(15 * 60),
            replicate_every: Duration::from_secs(6 * 3600),
            approver: None,
        }
    }
}

/// Why an intent or a query failed; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The engine (store or pool) failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] samizdat_store::StoreError),
    /// The signer refused or could not be reached.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// The profile's settings could not be read or written.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The profile directory is unusable.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Publishing needs a relay the user writes to.
    #[error("add a relay you write to first: samizdat relays add URL --write")]
    NoWriteRelay,
    /// Reading the inbox needs a relay the user reads from.
    #[error("add a relay you read from first: samizdat relays add URL --read")]
    NoReadRelay,
    /// The event an action is about is not in the local store.
    #[error("event {0} is not in the local store; run samizdat sync (or inbox) first")]
    NotInStore(String),
    /// Only the author's own events can be deleted.
    #[error("only your own events can be deleted (NIP-09)")]
    NotYours,
    /// Following someone already followed.
    #[error("already following {0}")]
    AlreadyFollowing(String),
    /// Unfollowing someone not followed.
    #[error("not following {0}")]
    NotFollowing(String),
    /// A follow-list version that does not exist.
    #[error("there is no version #{wanted}; `samizdat follows history` lists {available}")]
    NoSuchVersion {
        /// The version asked for.
        wanted: usize,
        /// How many there are.
        available: usize,
    },
    /// Restoring the version that is current.
    #[error("version #0 is the current follow list already")]
    AlreadyCurrent,
    /// An empty note.
    #[error("nothing to post")]
    NothingToPost,
    /// A note that carries a secret key.
    #[error("not posted: the text contains what looks like a secret key ({0}…); anyone could read it and act as you. Remove it; if it was your key, consider it seen")]
    SecretInText(&'static str),
    /// A picture could not be loaded or attached.
    #[error(transparent)]
    Media(#[from] crate::base::media::MediaError),
    /// A NIP-86 management call failed (refused, or the method failed).
    #[error(transparent)]
    Manage(#[from] samizdat_net::manage::ManageError),
    /// A pattern mute that cannot be used.
    #[error(transparent)]
    BadPattern(#[from] crate::base::pattern::PatternError),
    /// A profile change without fields.
    #[error("nothing to change: give --name, --about, --picture or --nip05")]
    NothingToChange,
    /// A relay URL that cannot be used.
    #[error("{0}")]
    BadRelay(#[from] samizdat_net::UrlError),
    /// Removing a relay that is not configured.
    #[error("{0} is not one of this profile's relays")]
    UnknownRelay(String),
    /// Adding a relay without a role.
    #[error("say what the relay is for: --read, --write and/or --discovery")]
    NoRole,
    /// Someone (or the user) has no DM relays (kind 10050): NIP-17 messages
    /// go only there, never to general relays.
    #[error("{0} has no DM relays (kind 10050); a private message cannot be delivered")]
    NoDmRelays(String),
    /// A message to no one.
    #[error("say who the message is for")]
    NoRecipient,
    /// A list edit that would change nothing.
    #[error("{0}")]
    ListUnchanged(&'static str),
    /// A new version of a list would lose entries nobody asked to remove.
    #[error("refused: your {list} would lose {unasked} entries you did not remove (it had {before} when you last saw it, it would have {after}); nothing was sent and the change was dropped. Look at `samizdat follows history`; `samizdat follows restore N` goes back on purpose, and the same change made again starts from the list as it is now")]
    ShrinkRefused {
        /// Which list.
        list: String,
        /// Entries in the copy the user last saw.
        before: usize,
        /// Entries in the version refused.
        after: usize,
        /// Entries it would lose that no change asked to remove.
        unasked: usize,
    },
    /// The relay list cannot go out before a relay has answered once.
    #[error("your relay list waits: none of your relays or discovery relays has answered yet, so the list they hold is unknown; it goes out when one answers (run this again, or leave the app running)")]
    RelayListWaiting,
    /// Cancelling a waiting change that does not exist.
    #[error("no waiting change #{0}; `samizdat changes` lists them")]
    NoSuchChange(i64),
    /// Proof of work was cancelled (nothing published) or impossible.
    #[error(transparent)]
    Pow(#[from] crate::base::pow::PowError),
}

/// One profile's client: engine, signer, settings and background work.
pub struct Session {
    pub(crate) engine: Engine,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) me: PublicKey,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) settings_path: PathBuf,
    pub(crate) config: SessionConfig,
    pub(crate) next_intent: AtomicU64,
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    /// State the features keep (see `state.rs`).
    pub(crate) features: state::FeatureState,
    pub(crate) mutes: mutes::MuteCache,
    /// One list change settled at a time (an intent and the background).
    pub(crate) settling: tokio::sync::Mutex<()>,
}

impl Session {
    /// Opens `profile` with `signer` (local key, remote NIP-46 signer, or a
    /// [`crate::LockedSigner`] for reading only). The signer also answers
    /// NIP-42 AUTH where the profile's AUTH policy allows it. Nothing is sent
    /// to any relay until an intent or [`Session::start`] asks for it.
    pub fn open(
        profile: &Profile,
        signer: Arc<dyn Signer>,
        config: SessionConfig,
    ) -> Result<Arc<Self>, SessionError> {
        profile.create_dir()?;
        let store = Arc::new(Store::open(profile.store_path())?);
        Self::with_store(store, profile.settings_path(), signer, config)
    }

    /// A session over an already open store, with the settings kept at
    /// `settings_path` (created when absent). Used when the store is shared
    /// with something else (a remote signer's connection statistics) and by
    /// demos that build a profile on the fly.
    pub fn with_store(
        store: Arc<Store>,
        settings_path: PathBuf,
        signer: Arc<dyn Signer>,
        config: SessionConfig,
    ) -> Result<Arc<Self>, SessionError> {
        let me = signer.public_key();
        let mut settings = Settings::load(&settings_path)?;
        if settings.pubkey.as_deref() != Some(me.to_hex().as_str()) {
            settings.pubkey = Some(me.to_hex());
            settings.save(&settings_path)?;
        }
        let mut engine_config = config.engine.clone();
        settings
            .network
            .apply(&mut engine_config.net.transport)
            .map_err(|e| SessionError::Settings(SettingsError::Network(e)))?;
        if settings.no_exploration {
            engine_config.explore = false;
        }
        if settings.network.no_stagger {
            engine_config.stagger_ms = None;
        }
        if engine_config.max_exposure.is_none() {
            engine_config.max_exposure = settings
                .max_exposure_percent
                .map(|p| f64::from(p.clamp(1, 100)) / 100.0);
        }
        if engine_config.discovery.is_empty() {
            engine_config.discovery = settings.discovery_relays();
        }
        if engine_config.monitors.is_empty() {
            engine_config.monitors = settings
                .monitors
                .iter()
                .filter_map(|m| PublicKey::from_hex(m).ok())
                .collect();
        }
        let mut policies = settings.policy_book();
        if let Some(approver) = &config.approver {
            policies = policies.with_approver(Arc::clone(approver));
        }
        let engine = Engine::new(store, engine_config, policies, Some(Arc::clone(&signer)));
        engine.keep_history_for(me)?;
        Ok(Arc::new(Self {
            engine,
            signer,
            me,
            settings: Mutex::new(settings),
            settings_path,
            config,
            next_intent: AtomicU64::new(1),
            tasks: Mutex::new(Vec::new()),
            features: Default::default(),
            mutes: Default::default(),
            settling: tokio::sync::Mutex::new(()),
        }))
    }

    /// Whose session this is.
    pub fn me(&self) -> PublicKey {
        self.me
    }

    /// The engine underneath (for queries the session does not wrap).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The signer every event, AUTH and encryption goes through.
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// The user's read relays (their inbox): where replies to them are
    /// read, and, with the discovery relays, where followed people with no
    /// relay list are read.
    pub fn own_read_relays(&self) -> Vec<RelayUrl> {
        read_relays(&self.settings())
    }

    /// A copy of the profile's settings as they are now.
    pub fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Updates as they happen; see [`Engine::subscribe`].
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<EngineUpdate> {
        self.engine.subscribe()
    }

    /// Stops the background work and closes every relay connection. What is
    /// queued stays queued (in the store) for the next session.
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = self
            .tasks
            .lock()
            .map(|mut t| t.drain(..).collect())
            .unwrap_or_default();
        for t in tasks {
            t.abort();
        }
        self.engine.shutdown().await;
    }

    // ---- reading from the network, results in the store ----

    /// Like [`Session::refresh`] for the following feed only, telling
    /// `progress` each phase (the CLI's spinner).
    ///
    /// Local first: the notes phase does not wait for every relay to send
    /// back the user's own lists. It starts from the follow list in the
    /// store (a returning user) or the first copy any relay delivers (a new
    /// device), while the rest of the fetch goes on beside it; if that
    /// brings a different follow list, the sync runs again for it.
    pub async fn sync(&self, progress: impl Fn(&str) + Sync) -> Result<SyncReport, SessionError> {
        let fetching = self.fetch_own();
        tokio::pin!(fetching);
        let mut fetched: Option<Result<(), SessionError>> = None;
        while fetched.is_none() && self.engine.contact_list(self.me)?.is_none() {
            tokio::select! {
                done = &mut fetching => fetched = Some(done),
                _ = tokio::time::sleep(std::time::Duration::from_millis(10)) => {}
            }
        }
        let follows = self.follows()?;
        let own_read = self.own_read_relays();
        let (report, own) = tokio::join!(self.engine.sync(&follows, &own_read, &progress), async {
            match fetched.take() {
                Some(done) => done,
                None => (&mut fetching).await,
            }
        });
        own?;
        let now = self.follows()?;
        if now != follows {
            progress("the follow list changed elsewhere: reading again");
            return Ok(self.engine.sync(&now, &own_read, progress).await?);
        }
        Ok(report?)
    }

    /// A thread (root first, then replies oldest first), fetching what is
    /// missing from hinted relays and the author's write relays; relays
    /// named only by strangers are asked only through the proxy (or after
    /// the desktop asked the user): see [`Session::thread_read`].
    pub async fn thread(&self, id: EventId) -> Result<Vec<Event>, SessionError> {
        Ok(self.thread_read(id, false).await?.events)
    }

    /// A person's newest notes, fetched from their own write relays.
    pub async fn person(&self, who: PublicKey, limit: usize) -> Result<Vec<Event>, SessionError> {
        Ok(self.engine.person(who, limit).await?)
    }

    // ---- queries on the store (no network, fast) ----

    /// The people followed, from the newest follow list in the store.
    pub fn follows(&self) -> Result<Vec<PublicKey>, SessionError> {
        Ok(self.engine.follows_of(self.me)?)
    }

    /// The following feed, newest first; `before` pages back in time.
    pub fn following_feed(
        &self,
        limit: usize,
        before: Option<Timestamp>,
    ) -> Result<Vec<Event>, SessionError> {
        let follows = self.follows()?;
        Ok(self.without_muted(match before {
            Some(t) => self.engine.following_feed_before(&follows, t, limit)?,
            None => self.engine.following_feed(&follows, limit)?,
        }))
    }

    /// The home feed: the following feed plus the user's own notes, newest
    /// first; `before` pages back in time.
    pub fn home_feed(
        &self,
        limit: usize,
        before: Option<Timestamp>,
    ) -> Result<Vec<Event>, SessionError> {
        let mut people = self.follows()?;
        people.push(self.me);
        Ok(self.without_muted(match before {
            Some(t) => self.engine.following_feed_before(&people, t, limit)?,
            None => self.engine.following_feed(&people, limit)?,
        }))
    }

    /// Where recent own events landed, per relay.
    pub fn publish_status(&self, limit: usize) -> Result<Vec<QueuedEvent>, SessionError> {
        Ok(self.engine.publish_status(limit)?)
    }

    /// Every kept version of the user's follow list, newest first.
    pub fn follow_list_versions(&self) -> Result<Vec<Event>, SessionError> {
        Ok(self.engine.versions(self.me, Kind::ContactList)?)
    }

    /// The user's profile fields (kind 0), from the newest copy in the store.
    pub fn own_profile(&self) -> Result<serde_json::Map<String, serde_json::Value>, SessionError> {
        let current = self.engine.versions(self.me, Kind::Metadata)?;
        Ok(crate::base::compose::profile_fields(current.first()))
    }

    /// Fetches the user's own profile, follow list and relay list from
    /// their relays and the discovery relays (the newest copy wins).
    pub async fn fetch_own(&self) -> Result<(), SessionError> {
        let relays = own_and_discovery(&self.settings());
        self.engine.fetch_own(self.me, &relays).await?;
        Ok(())
    }
}

/// The user's relays plus the discovery relays, once each.
pub fn own_and_discovery(settings: &Settings) -> Vec<RelayUrl> {
    let mut all: Vec<RelayUrl> = settings
        .relays
        .keys()
        .filter_map(|u| RelayUrl::parse(u).ok())
        .collect();
    for d in settings.discovery_relays() {
        if !all.contains(&d) {
            all.push(d);
        }
    }
    all
}

/// The relays the user reads their inbox from.
pub fn read_relays(settings: &Settings) -> Vec<RelayUrl> {
    settings
        .relays
        .iter()
        .filter(|(_, r)| r.read)
        .filter_map(|(u, _)| RelayUrl::parse(u).ok())
        .collect()
}
