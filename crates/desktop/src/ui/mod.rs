//! The app's screens. All state here is what is shown; every change the
//! user asks for is a [`Command`] to the worker, and every change from
//! outside arrives as an [`Update`] drained at the start of a frame.

mod accounts;
mod list;
mod main_view;
mod media;
mod messages;
mod note;
mod operator;
mod pages;
mod relays;
mod settings;
mod start;
mod updates;

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use nostr::prelude::*;
use samizdat_net::Question;

use crate::bridge::{Bridge, WorkerConfig};
use crate::prefs::Prefs;
use crate::protocol::{Command, Update};
use crate::view::{DeliveryView, NoteView, PersonView, RelaysView, ScreenedCards};

pub use accounts::Account;
pub use list::ListState;
pub use note::NoteAction;

/// The top-level tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Following feed.
    Feed,
    /// Replies and mentions.
    Inbox,
    /// Private messages.
    Messages,
    /// Local search.
    Search,
    /// Relays, coverage, policies.
    Relays,
    /// The relay the user runs (NIP-86).
    MyRelay,
    /// Alerts.
    Alerts,
    /// App settings.
    Settings,
}

/// A page opened over the tabs (Esc goes back).
#[derive(Debug, Clone)]
pub enum Page {
    /// A thread: root first, replies nested (and those the web of trust hid).
    Thread(EventId, Option<ScreenedCards>),
    /// A person's page.
    Person(Box<PersonView>),
}

/// The signed-in part of the app.
pub struct Main {
    /// Profile name.
    pub profile: String,
    /// The user.
    pub me: PublicKey,
    /// The user's display name.
    pub name: String,
    /// Preferences.
    pub prefs: Prefs,
    /// The tab shown.
    pub tab: Tab,
    /// Pages opened over the tab, newest last.
    pub pages: Vec<Page>,
    /// The feed.
    pub feed: Vec<(NoteView, usize)>,
    /// Its scroll state.
    pub feed_list: ListState,
    /// Selected card (keyboard).
    pub selected: Option<usize>,
    /// New notes not shown.
    pub new_notes: usize,
    /// An older page is on its way.
    pub loading_more: bool,
    /// No older notes in the store.
    pub feed_end: bool,
    /// The inbox (and what the web of trust hid).
    pub inbox: ScreenedCards,
    /// Inbox scroll state.
    pub inbox_list: ListState,
    /// Search field.
    pub search: String,
    /// Give the search field focus next frame.
    pub focus_search: bool,
    /// Search results (query, cards).
    pub results: Option<(String, ScreenedCards)>,
    /// Results scroll state.
    pub results_list: ListState,
    /// Page scroll state (thread, person).
    pub page_list: ListState,
    /// Relays page.
    pub relays: Option<RelaysView>,
    /// The exposure cap (percent, 0: none) and exploration switch being
    /// edited on the relays page; `None` until the page shows the saved ones.
    pub reading_edit: Option<(u8, bool)>,
    /// Add-relay form.
    pub new_relay: (String, bool, bool, bool),
    /// Where own events were delivered.
    pub deliveries: HashMap<EventId, Vec<DeliveryView>>,
    /// Alerts, newest last.
    pub alerts: Vec<String>,
    /// Alerts the user has seen.
    pub alerts_seen: usize,
    /// The status line.
    pub status: String,
    /// The last finished action.
    pub last_done: Option<(Result<String, String>, Instant)>,
    /// The compose box.
    pub compose: String,
    /// Reply being written: to which note, and the text.
    pub reply: Option<(NoteView, String)>,
    /// Give the compose box focus next frame.
    pub focus_compose: bool,
    /// First run: no relays yet.
    pub needs_relays: bool,
    /// Own relay URL typed on the first-run card.
    pub own_relay: String,
    /// Where Tor answers (the first run): not looked yet, nowhere, or where.
    pub tor: Option<Option<String>>,
    /// A person page asked for and not shown yet.
    pub pending_person: Option<PublicKey>,
    /// Relays this session authenticated to (each now knows the key).
    pub authenticated: Vec<String>,
    /// The messages page.
    pub messages: Option<crate::view::MessagesView>,
    /// The Messages tab shows message requests instead of conversations.
    pub show_requests: bool,
    /// The open chat: with whom, and its messages.
    pub chat: Option<(Vec<PublicKey>, Vec<crate::view::MessageView>)>,
    /// The chat's compose box.
    pub dm_text: String,
    /// "Message to" field.
    pub new_dm_to: String,
    /// DM relays field.
    pub dm_relays_field: String,
    /// Inbox items held back, per relay.
    pub held_back: Vec<String>,
    /// What needs attention now.
    pub pending: Vec<String>,
    /// List changes waiting for a relay (number, line).
    pub waiting: Vec<(i64, String)>,
    /// What each relay learned.
    pub privacy: Option<samizdat_client::PrivacyReport>,
    /// The network setting, in a sentence.
    pub network: String,
    /// Whether NIP-05 names are checked (Settings).
    pub nip05_checks: bool,
    /// The web of trust's settings as edited (Settings; saved on "Save").
    pub trust: samizdat_client::base::settings::TrustSettings,
    /// A link the user clicked, waiting for "open in the browser?".
    pub link_to_open: Option<String>,
    /// The proxy field.
    pub proxy_field: String,
    /// The field naming a relay to reach directly despite the proxy.
    pub direct_field: String,
    /// The backup file field ("Your data").
    pub backup_path: String,
    /// What the last own-data operation said (`Some(empty)`: running).
    pub own_data: Option<Vec<String>>,
    /// Proof of work for the next post (bits; 0 for none).
    pub pow_bits: u8,
    /// A post being mined: its progress, when it started, its target.
    pub mining: Option<(
        std::sync::Arc<samizdat_client::pow::PowProgress>,
        Instant,
        u8,
    )>,
    /// Pictures: loaded ones, the viewer, attachments, the settings.
    pub pictures: media::Pictures,
    /// Notification settings as edited (saved on each change).
    pub notify: samizdat_client::notify::NotifySettings,
    /// The "My relay" tab.
    pub operator: operator::OperatorState,
}

impl Main {
    fn new(profile: String, me: PublicKey, name: String, prefs: Prefs, needs_relays: bool) -> Self {
        Self {
            profile,
            me,
            name,
            prefs,
            tab: Tab::Feed,
            pages: Vec::new(),
            feed: Vec::new(),
            feed_list: ListState::default(),
            selected: None,
            new_notes: 0,
            loading_more: false,
            feed_end: false,
            inbox: ScreenedCards::default(),
            inbox_list: ListState::default(),
            search: String::new(),
            focus_search: false,
            results: None,
            results_list: ListState::default(),
            page_list: ListState::default(),
            relays: None,
            reading_edit: None,
            new_relay: (String::new(), true, true, false),
            deliveries: HashMap::new(),
            alerts: Vec::new(),
            alerts_seen: 0,
            status: String::new(),
            last_done: None,
            compose: String::new(),
            reply: None,
            focus_compose: false,
            needs_relays,
            own_relay: String::new(),
            tor: None,
            pending_person: None,
            authenticated: Vec::new(),
            messages: None,
            show_requests: false,
            chat: None,
            dm_text: String::new(),
            new_dm_to: String::new(),
            dm_relays_field: String::new(),
            pow_bits: 0,
            held_back: Vec::new(),
            pending: Vec::new(),
            waiting: Vec::new(),
            privacy: None,
            network: String::new(),
            nip05_checks: true,
            trust: Default::default(),
            link_to_open: None,
            proxy_field: String::new(),
            direct_field: String::new(),
            backup_path: String::new(),
            own_data: None,
            mining: None,
            pictures: Default::default(),
            notify: Default::default(),
            operator: Default::default(),
        }
    }
}

impl Start {
    /// Overwrites every secret field with zeros, then empties it.
    pub fn wipe_secrets(&mut self) {
        use secrecy::zeroize::Zeroize;
        self.passphrase.zeroize();
        self.new_pass.0.zeroize();
        self.new_pass.1.zeroize();
        self.import.zeroize();
        self.import_pass.zeroize();
    }
}

impl Drop for Start {
    fn drop(&mut self) {
        self.wipe_secrets();
    }
}

/// The start screen's fields. The secret ones (passphrases, a pasted key)
/// are wiped — overwritten, not just emptied — as soon as they are sent,
/// when a profile opens, and when this is dropped.
#[derive(Default)]
pub struct Start {
    /// Profiles on this machine.
    pub profiles: Vec<crate::protocol::ProfileEntry>,
    /// Chosen profile to unlock.
    pub chosen: Option<String>,
    /// Passphrase typed to unlock.
    pub passphrase: String,
    /// New profile's name.
    pub new_name: String,
    /// New passphrase, twice.
    pub new_pass: (String, String),
    /// How the new key comes: 0 generate, 1 import, 2 bunker.
    pub source: usize,
    /// Key (nsec/ncryptsec) or bunker URI.
    pub import: String,
    /// The ncryptsec's own passphrase.
    pub import_pass: String,
    /// A slow operation under way.
    pub busy: Option<String>,
    /// The last error.
    pub error: Option<String>,
}

/// Options the binary passes in.
#[derive(Clone)]
pub struct AppOptions {
    /// The worker's configuration.
    pub worker: WorkerConfig,
    /// Start the demo at once.
    pub demo: bool,
    /// Benchmark: after the first feed, load this many notes and scroll.
    pub bench: Option<crate::bench::BenchConfig>,
}

/// The whole app: the start screen or a signed-in session, plus the
/// questions waiting for the user.
pub struct DesktopApp {
    options: AppOptions,
    pub(crate) bridge: Option<Bridge>,
    /// The start screen's state.
    pub start: Start,
    /// The signed-in state of the account shown, once a profile is open.
    pub main: Option<Main>,
    /// The other accounts open (in the background, still syncing).
    pub others: Vec<Account>,
    /// "Ask" questions waiting for an answer.
    pub asks: VecDeque<(u64, Question)>,
    /// Benchmark state.
    pub bench: Option<crate::bench::Bench>,
    /// When the app started (for time to first feed).
    pub started: Instant,
    /// When the first non-empty feed was painted.
    pub first_feed: Option<std::time::Duration>,
    /// When the first frame was drawn (the window is up).
    pub first_frame: Option<std::time::Duration>,
    /// When the first session opened (the worker said so).
    pub opened_at: Option<std::time::Duration>,
    /// The scale, theme and contrast last applied.
    zoom_applied: Option<(f32, bool, bool)>,
    /// The last keyboard or pointer input (for the idle lock).
    last_input: Instant,
    /// The demo was asked for once (an added account does not start another).
    demo_started: bool,
    /// Tests: lock after this long idle instead of the preference.
    pub idle_lock_override: Option<std::time::Duration>,
}

impl DesktopApp {
    /// Locks the open profile after the idle time the user chose (Settings;
    /// 15 minutes unless changed, never in the demo): the session closes
    /// and the key leaves memory, as with the Lock button.
    fn idle_lock(&mut self, ctx: &egui::Context) {
        let active = ctx.input(|i| !i.events.is_empty() || i.pointer.any_down());
        if active || (self.main.is_none() && self.others.is_empty()) {
            self.last_input = Instant::now();
            return;
        }
        let Some(main) = self.main.as_ref().or(self.others.first().map(|a| &a.main)) else {
            return;
        };
        let limit = self.idle_lock_override.or_else(|| {
            (main.prefs.idle_lock_minutes > 0 && !self.options.demo && self.bench.is_none()).then(
                || std::time::Duration::from_secs(60 * u64::from(main.prefs.idle_lock_minutes)),
            )
        });
        let Some(limit) = limit else { return };
        let idle = self.last_input.elapsed();
        if idle >= limit {
            self.last_input = Instant::now();
            self.send(Command::Lock);
            for account in &self.others {
                account.bridge.send(Command::Lock);
            }
        } else {
            // Wake up to check again even if nothing happens.
            ctx.request_repaint_after(limit - idle);
        }
    }

    /// An app with these options; the worker starts on the first frame.
    pub fn new(options: AppOptions) -> Self {
        Self {
            bench: options.bench.clone().map(crate::bench::Bench::new),
            options,
            bridge: None,
            start: Start::default(),
            main: None,
            others: Vec::new(),
            asks: VecDeque::new(),
            started: Instant::now(),
            first_feed: None,
            first_frame: None,
            opened_at: None,
            zoom_applied: None,
            last_input: Instant::now(),
            demo_started: false,
            idle_lock_override: None,
        }
    }

    /// The link to the worker, once started.
    pub fn bridge_handle(&self) -> Option<&Bridge> {
        self.bridge.as_ref()
    }

    /// Sends a command to the worker.
    pub fn send(&self, command: Command) {
        if let Some(b) = &self.bridge {
            b.send(command);
        }
    }

    /// One frame: drain updates, then draw. Never blocks.
    pub fn ui(&mut self, ctx: &egui::Context) {
        if self.first_frame.is_none() {
            self.first_frame = Some(self.started.elapsed());
        }
        if self.bridge.is_none() {
            match Bridge::start(ctx.clone(), self.options.worker.clone()) {
                Ok(b) => {
                    if self.options.demo && !self.demo_started {
                        self.demo_started = true;
                        b.send(Command::Demo);
                    }
                    self.bridge = Some(b);
                }
                Err(e) => self.start.error = Some(format!("could not start the worker: {e}")),
            }
        }
        self.drain_others(ctx);
        let updates = self.bridge.as_ref().map(Bridge::drain).unwrap_or_default();
        for u in updates {
            match (u, &mut self.main) {
                (Update::Picture(url, result), Some(main)) => {
                    main.pictures.arrived(ctx, url, result);
                }
                (u, _) => self.apply(u),
            }
        }
        if let Some(main) = &self.main {
            let scale = main.prefs.ui_scale;
            let look = (scale, main.prefs.dark, main.prefs.high_contrast);
            if self.zoom_applied != Some(look) {
                ctx.set_zoom_factor(scale);
                ctx.set_visuals(settings::visuals(main.prefs.dark, main.prefs.high_contrast));
                self.zoom_applied = Some(look);
            }
        }
        accounts::sidebar(self, ctx);
        match self.main.is_some() {
            false => start::show(self, ctx),
            true => main_view::show(self, ctx),
        }
        self.ask_dialog(ctx);
        self.idle_lock(ctx);
        if let Some(main) = &self.main {
            if self.first_feed.is_none() && !main.feed.is_empty() {
                self.first_feed = Some(self.started.elapsed());
                let ms = |d: Option<std::time::Duration>| d.map_or(0, |d| d.as_millis());
                println!(
                    "samizdat-desktop: first feed painted after {} ms ({} notes; window at {} ms, session open at {} ms)",
                    ms(self.first_feed),
                    main.feed.len(),
                    ms(self.first_frame),
                    ms(self.opened_at),
                );
            }
        }
        crate::bench::frame(self, ctx);
    }

    fn apply(&mut self, update: Update) {
        match update {
            Update::Profiles(p) => {
                let open = self.open_profiles();
                if self.start.chosen.as_ref().is_none_or(|c| open.contains(c)) {
                    self.start.chosen = p
                        .iter()
                        .find(|e| !open.contains(&e.name))
                        .or(p.first())
                        .map(|e| e.name.clone());
                }
                self.start.profiles = p;
            }
            Update::Busy(b) => self.start.busy = b,
            Update::StartFailed(e) => {
                self.start.busy = None;
                self.start.error = Some(e);
            }
            Update::Opened {
                profile,
                me,
                name,
                prefs,
                needs_relays,
                network,
                nip05_checks,
                trust,
                media,
                notify,
            } => {
                self.start.wipe_secrets();
                self.start.error = None;
                if self.opened_at.is_none() {
                    self.opened_at = Some(self.started.elapsed());
                }
                self.zoom_applied = None;
                let mut main = Main::new(profile, me, name, prefs, needs_relays);
                main.network = network;
                main.nip05_checks = nip05_checks;
                main.trust = trust;
                main.pictures.settings = media;
                main.notify = notify;
                self.main = Some(main);
            }
            Update::Locked => self.main = None,
            Update::Ask(id, q) => self.asks.push_back((id, q)),
            other => {
                if let Some(main) = &mut self.main {
                    main.apply(other);
                }
            }
        }
    }

    fn ask_dialog(&mut self, ctx: &egui::Context) {
        let Some((id, question)) = self.asks.front().cloned() else {
            return;
        };
        let (title, text) = match &question {
            Question::Auth(url) => (
                "A relay asks you to authenticate",
                format!(
                    "{url} asks for NIP-42 AUTH. Allowing it tells this relay your public key \
                     (it can then link this connection to you)."
                ),
            ),
            Question::Connect(url) => (
                "Connect to a relay?",
                format!("Samizdat wants to connect to {url}. It will see your IP address unless a proxy is set."),
            ),
        };
        let mut answer = None;
        let mut remember = false;
        egui::Modal::new(egui::Id::new(("ask", id))).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading(title);
            ui.label(text);
            ui.horizontal(|ui| {
                if ui.button("Allow once").clicked() {
                    answer = Some(true);
                }
                if ui.button("Deny").clicked() {
                    answer = Some(false);
                }
                if ui.button("Always allow").clicked() {
                    (answer, remember) = (Some(true), true);
                }
                if ui.button("Always deny").clicked() {
                    (answer, remember) = (Some(false), true);
                }
            });
        });
        if let Some(allow) = answer {
            self.asks.pop_front();
            self.send(Command::Answer { id, allow });
            if remember {
                let (url, is_auth) = match &question {
                    Question::Auth(u) => (u.to_string(), true),
                    Question::Connect(u) => (u.to_string(), false),
                };
                let word = Some(if allow { "allow" } else { "deny" }.to_owned());
                let (connect, auth) = if is_auth { (None, word) } else { (word, None) };
                self.send(Command::Intent(samizdat_client::Intent::SetPolicy {
                    url,
                    connect,
                    auth,
                    whitelist_only: None,
                }));
            }
        }
    }
}
