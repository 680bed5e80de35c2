//! The worker: the async side of the app. It owns the open session (and the
//! demo network in demo mode), turns each [`Command`] into one client call,
//! and each answer or engine update into an [`Update`] for the UI. Slow
//! calls run as their own tasks, so a thread fetch never holds up a post.

mod bench_fill;
mod listen;
mod media;
mod open;
mod operator;
mod own_data;
mod screened;
mod sentences;
mod views;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nostr::prelude::*;
use samizdat_client::{Intent, Profiles, Session};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use crate::approver::DialogApprover;
use crate::bridge::{UpdateSink, WorkerConfig};
use crate::prefs::Prefs;
use crate::protocol::{Command, Update};

/// How many notes a feed page holds.
pub const PAGE: usize = 50;

/// What the worker knows of the feed the UI shows.
#[derive(Default)]
pub(crate) struct FeedState {
    /// The newest note shown (new ones after it are counted, not shown).
    pub head: Option<Timestamp>,
    /// Until the first refresh is done, new notes are shown as they come.
    pub initial: bool,
    /// New notes not shown yet.
    pub unseen: std::collections::HashSet<EventId>,
    /// Intents in flight: their number and what they were.
    pub intents: HashMap<u64, &'static str>,
    /// The person whose page was opened last (re-read after a follow).
    pub person: Option<PublicKey>,
    /// The conversation open (re-read when messages arrive).
    pub conversation: Option<Vec<PublicKey>>,
    /// People whose profiles were fetched for the inbox (once a session).
    pub profiles_asked: std::collections::HashSet<PublicKey>,
}

/// An open profile.
pub(crate) struct Open {
    pub session: Arc<Session>,
    pub prefs_path: PathBuf,
    pub feed: Arc<Mutex<FeedState>>,
    pub listener: JoinHandle<()>,
    /// The demo network and its profile directory, in demo mode.
    pub demo: Option<(samizdat_demo::DemoNetwork, Option<tempfile::TempDir>)>,
}

/// The async side of the app.
pub struct Worker {
    config: WorkerConfig,
    sink: UpdateSink,
    profiles: Profiles,
    approver: Arc<DialogApprover>,
    notifier: Arc<crate::notifier::OsNotifier>,
    open: Option<Open>,
}

impl Worker {
    /// A worker posting to `sink`.
    pub fn new(config: WorkerConfig, sink: UpdateSink) -> Self {
        let approver = DialogApprover::new(sink.clone(), config.ask_timeout);
        Self {
            notifier: Arc::new(crate::notifier::OsNotifier::new(config.notify_bus.clone())),
            profiles: Profiles::at(config.home.clone()),
            config,
            sink,
            approver,
            open: None,
        }
    }

    /// Runs until the UI drops its end.
    pub async fn run(mut self, mut commands: UnboundedReceiver<Command>) {
        self.list_profiles();
        while let Some(command) = commands.recv().await {
            self.handle(command).await;
        }
        self.close().await;
    }

    fn send(&self, update: Update) {
        self.sink.send(update);
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::ListProfiles => self.list_profiles(),
            Command::Create {
                name,
                key,
                passphrase,
            } => self.create(name, key, passphrase).await,
            Command::Unlock { name, passphrase } => self.unlock(name, passphrase).await,
            Command::Demo => self.demo().await,
            Command::Lock => {
                self.close().await;
                self.send(Update::Locked);
                self.list_profiles();
            }
            Command::Answer { id, allow } => self.approver.answer(id, allow),
            Command::SavePrefs(prefs) => self.save_prefs(prefs),
            other => {
                let Some(open) = &self.open else {
                    self.send(Update::StartFailed("no profile is open".into()));
                    return;
                };
                let ctx = views::Ctx {
                    session: Arc::clone(&open.session),
                    sink: self.sink.clone(),
                    feed: Arc::clone(&open.feed),
                };
                ctx.handle(other);
            }
        }
    }

    fn save_prefs(&self, prefs: Prefs) {
        if let Some(open) = &self.open {
            if let Err(e) = prefs.save(&open.prefs_path) {
                self.send(Update::Alert(format!(
                    "could not save preferences to {}: {e}",
                    open.prefs_path.display()
                )));
            }
        }
    }

    /// Closes the open session, if any (deliveries stay queued).
    async fn close(&mut self) {
        if let Some(open) = self.open.take() {
            open.listener.abort();
            open.session.shutdown().await;
            if let Some((network, _dir)) = open.demo {
                network.shutdown().await;
            }
        }
    }

    /// Opens `session` for the UI: starts listening, runs the first refresh
    /// as an intent (so the worker hears when it is done), then leaves the
    /// background work running.
    fn opened(
        &mut self,
        profile: String,
        session: Arc<Session>,
        prefs_path: PathBuf,
        demo: Option<(samizdat_demo::DemoNetwork, Option<tempfile::TempDir>)>,
    ) {
        let feed = Arc::new(Mutex::new(FeedState {
            initial: true,
            ..FeedState::default()
        }));
        session.arm_notifications();
        let listener = tokio::spawn(listen::run(
            Arc::clone(&session),
            self.sink.clone(),
            Arc::clone(&feed),
            Arc::clone(&self.notifier),
        ));
        let me = session.me();
        let name = session
            .names(&[me])
            .ok()
            .and_then(|mut n| n.remove(&me))
            .unwrap_or_default();
        let needs_relays = session.settings().relays.is_empty();
        let network = session.settings().network.describe();
        let nip05_checks = !session.settings().no_nip05_checks;
        let trust = session.trust_settings();
        let media = session.media_settings();
        let notify = session.notify_settings();
        self.send(Update::Opened {
            profile,
            me,
            name,
            prefs: Prefs::load(&prefs_path),
            needs_relays,
            network,
            nip05_checks,
            trust,
            media,
            notify,
        });
        let ctx = views::Ctx {
            session: Arc::clone(&session),
            sink: self.sink.clone(),
            feed: Arc::clone(&feed),
        };
        ctx.show_feed();
        ctx.show_deliveries();
        ctx.show_conversations();
        if needs_relays {
            // The first run recommends Tor: look whether it answers here.
            let sink = self.sink.clone();
            tokio::spawn(async move {
                let found = samizdat_client::network::find_tor().await;
                sink.send(Update::TorFound(found));
            });
        }
        if !needs_relays || !session.settings().discovery.is_empty() {
            ctx.intent(Intent::Refresh);
        } else if let Ok(mut f) = feed.lock() {
            f.initial = false;
        }
        session.start_background(false);
        self.open = Some(Open {
            session,
            prefs_path,
            feed,
            listener,
            demo,
        });
    }
}
