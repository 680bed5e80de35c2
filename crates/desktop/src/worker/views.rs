//! Session commands: each is one client call (run as its own task when it
//! touches the network) whose answer becomes a view for the UI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nostr::prelude::*;
use samizdat_client::engine::liveness::Reported;
use samizdat_client::{Intent, Session, SessionError};

use super::sentences::{intent_name, pending_sentence};

use super::{FeedState, PAGE};
use crate::bridge::UpdateSink;
use crate::protocol::{Command, Update};
use crate::view::{
    self, ConversationView, HealthView, MessageView, MessagesView, Naming, NoteView, PersonView,
    RelaysView,
};

/// What a session command needs.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub session: Arc<Session>,
    pub sink: UpdateSink,
    pub feed: Arc<Mutex<FeedState>>,
}

impl Ctx {
    pub fn handle(&self, command: Command) {
        match command {
            Command::Intent(intent) => self.intent(intent),
            Command::ShowFeed => self.show_feed(),
            Command::LoadMore { before } => {
                let page = self.session.home_feed(PAGE, Some(before));
                self.answer(page.map(|events| Update::More(self.cards(&events))));
            }
            Command::ShowInbox => self.show_inbox(),
            Command::AcceptRequests(who) => self.accept_requests(who),
            Command::SetTrust(trust) => {
                self.sink
                    .send(match self.session.set_trust_settings(trust) {
                        Ok(()) => Update::Alert("web of trust saved".into()),
                        Err(e) => Update::Alert(e.to_string()),
                    });
                self.show_inbox();
                self.show_conversations();
            }
            Command::ShowAlerts => self.show_alerts(),
            Command::Media(media) => self.media(media),
            Command::RelayOverview(relay) => self.relay_overview(relay),
            Command::ManageRelay {
                relay,
                method,
                params,
            } => self.manage_relay(relay, method, params),
            Command::CancelChange(id) => {
                let cancelled = self.session.cancel_change(id);
                self.answer(
                    cancelled
                        .map(|c| Update::Done(Ok(format!("cancelled: {}", c.change.describe())))),
                );
                self.show_alerts();
            }
            Command::OpenThread(id) => self.open_thread(id),
            Command::OpenPerson(who) => self.open_person(who),
            Command::Search(text) => self.search(text),
            Command::ShowRelays => {
                self.answer(self.relays().map(|r| Update::Relays(Box::new(r))));
                self.answer(
                    self.session
                        .privacy_report()
                        .map(|p| Update::Privacy(Box::new(p))),
                );
            }
            Command::ShowConversations => self.show_conversations(),
            Command::SetNetwork(proxy) => {
                // Only the proxy changes: direct exceptions, isolation and
                // staggering stay as the user set them.
                let setting = samizdat_client::network::NetworkSetting {
                    proxy,
                    ..self.session.settings().network
                };
                let said = setting.describe();
                self.sink.send(match self.session.set_network(setting) {
                    Ok(()) => Update::Network(format!("{said} (from the next unlock on)")),
                    Err(e) => Update::Alert(e.to_string()),
                });
            }
            Command::SetNotify(notify) => {
                let line = notify.describe();
                self.sink.send(Update::Alert(
                    match self.session.set_notify_settings(notify) {
                        Ok(()) => format!("notifications: {line}"),
                        Err(e) => format!("notifications not saved: {e}"),
                    },
                ));
            }
            Command::SetNip05Checks(on) => {
                self.sink.send(match self.session.set_nip05_checks(on) {
                    Ok(()) => Update::Alert(format!(
                        "NIP-05 checks {}",
                        if on {
                            "on: a person page asks the name's domain"
                        } else {
                            "off"
                        }
                    )),
                    Err(e) => Update::Alert(e.to_string()),
                });
            }
            Command::SetDirect(url, direct) => {
                self.sink.send(match self.session.set_direct(&url, direct) {
                    Ok(()) => Update::Network(format!(
                        "{} (from the next unlock on)",
                        self.session.settings().network.describe()
                    )),
                    Err(e) => Update::Alert(e.to_string()),
                });
            }
            Command::SetReadingPrivacy {
                cap_percent,
                explore,
            } => {
                self.sink.send(
                    match self.session.set_reading_privacy(cap_percent, explore) {
                        Ok(()) => Update::Alert(
                            "reading privacy saved: it applies from the next unlock on".into(),
                        ),
                        Err(e) => Update::Alert(e.to_string()),
                    },
                );
                self.answer(self.relays().map(|r| Update::Relays(Box::new(r))));
            }
            Command::OpenConversation(with) => self.open_conversation(with),
            Command::OwnData(what) => self.own_data(what),
            Command::BenchFeed(n) => {
                let events = samizdat_demo::load::signed_notes(n);
                self.sink.send(Update::Feed(self.cards(&events)));
            }
            _ => {}
        }
    }

    pub(crate) fn answer(&self, result: Result<Update, SessionError>) {
        self.sink.send(match result {
            Ok(update) => update,
            Err(e) => Update::Alert(e.to_string()),
        });
    }

    /// Cards for `events`, names resolved in one query, reposted originals
    /// taken from the store.
    pub fn cards(&self, events: &[Event]) -> Vec<NoteView> {
        let reposted: Vec<EventId> = events
            .iter()
            .filter(|e| e.kind == Kind::Repost)
            .filter_map(|e| e.tags.event_ids().next())
            .collect();
        let originals: HashMap<EventId, Event> = if reposted.is_empty() {
            HashMap::new()
        } else {
            self.session
                .engine()
                .store()
                .query(&[Filter::new().ids(reposted.iter().copied())])
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.id, e))
                .collect()
        };
        let mut people = view::people_in(events);
        people.extend(originals.values().map(|e| e.pubkey));
        let names = self.session.names(&people).unwrap_or_default();
        let imitators = self.imitators(events);
        let naming = Naming {
            names: &names,
            me: self.session.me(),
        };
        events
            .iter()
            .map(|e| {
                let original = e
                    .tags
                    .event_ids()
                    .next()
                    .and_then(|id| originals.get(&id))
                    .filter(|_| e.kind == Kind::Repost);
                let mut card = view::note_view(e, original, &naming);
                card.imitates = imitators.get(&e.pubkey).cloned();
                card.media = self.media_cards(original.unwrap_or(e));
                card
            })
            .collect()
    }

    /// The newest page of the home feed; what is unseen becomes seen.
    pub fn show_feed(&self) {
        match self.session.home_feed(PAGE, None) {
            Ok(events) => {
                if let Ok(mut f) = self.feed.lock() {
                    f.head = events.first().map(|e| e.created_at);
                    f.unseen.clear();
                }
                self.sink.send(Update::Feed(self.cards(&events)));
            }
            Err(e) => {
                self.sink.send(Update::Alert(e.to_string()));
            }
        }
    }

    /// Where own events were delivered, per relay.
    pub fn show_deliveries(&self) {
        if let Ok(d) = self.session.deliveries(200) {
            let views = d
                .iter()
                .map(|(id, q)| (*id, view::delivery_views(q)))
                .collect();
            self.sink.send(Update::Deliveries(views));
        }
    }

    /// Sends `intent` to the session; its result comes back through the
    /// listener as [`Update::Done`].
    pub fn intent(&self, intent: Intent) {
        let what = intent_name(&intent);
        let id = self.session.send(intent);
        if let Ok(mut f) = self.feed.lock() {
            f.intents.insert(id, what);
        }
    }

    fn person_view(&self, who: PublicKey, notes: &[Event], loading: bool) -> PersonView {
        let trust = self.session.explain_trust(who).ok().map(|report| {
            let mut people = report.followed_by.clone();
            people.extend(&report.muted_by);
            people.extend(report.lookalike_of);
            let names = self.session.names(&people).unwrap_or_default();
            (report, names)
        });
        let follows = self.session.follows().unwrap_or_default();
        let relays = self
            .session
            .engine()
            .person_relays(who, &follows, &self.session.own_read_relays())
            .ok();
        PersonView {
            stale_list: relays.as_ref().is_some_and(|r| r.stale_list),
            relays: relays.map(|r| r.relays).unwrap_or_default(),
            pubkey: who,
            profile: self.session.profile_of(who).unwrap_or_default(),
            notes: self.cards(notes),
            followed: self
                .session
                .follows()
                .map(|f| f.contains(&who))
                .unwrap_or(false),
            muted: self.session.mute_set().people.contains(&who.to_hex()),
            loading,
            nip05: None,
            trust: trust.as_ref().map(|(r, names)| {
                use samizdat_client::session::trust::Distance;
                match r.trust.distance {
                    Distance::Me | Distance::Followed => r.sentence(names),
                    _ => format!("{}; score {}", r.sentence(names), r.trust.score),
                }
            }),
            imitates: trust
                .as_ref()
                .and_then(|(r, names)| r.lookalike_of.and_then(|p| names.get(&p).cloned())),
            media_choice: self
                .session
                .media_settings()
                .people
                .get(&who.to_hex())
                .copied(),
        }
    }

    /// A person's page from the store alone (`loading`: a fetch follows).
    pub fn stored_person(&self, who: PublicKey, loading: bool) {
        let stored = self
            .session
            .engine()
            .store()
            .query(&[Filter::new()
                .author(who)
                .kinds([Kind::TextNote, Kind::Repost])
                .limit(PAGE)])
            .unwrap_or_default();
        self.sink.send(Update::Person(Box::new(
            self.person_view(who, &stored, loading),
        )));
    }

    fn open_person(&self, who: PublicKey) {
        if let Ok(mut f) = self.feed.lock() {
            f.person = Some(who);
        }
        // What the store has at once, then what their relays have.
        self.stored_person(who, true);
        let ctx = self.clone();
        tokio::spawn(async move {
            let notes = match ctx.session.person(who, PAGE).await {
                Ok(notes) => notes,
                Err(e) => return ctx.answer(Err(e)),
            };
            let mut view = ctx.person_view(who, &notes, false);
            ctx.sink.send(Update::Person(Box::new(view.clone())));
            if let Some(claim) = view.profile.nip05.clone() {
                view.nip05 = Some(ctx.session.nip05_badge(who, &claim).await);
                ctx.sink.send(Update::Person(Box::new(view)));
            }
        });
    }

    fn relays(&self) -> Result<RelaysView, SessionError> {
        let settings = self.session.settings();
        let (plan, follows) = self.session.coverage()?;
        let mut people: Vec<PublicKey> = plan
            .assignments
            .values()
            .chain(plan.probes.values())
            .chain(plan.unlisted.values())
            .flatten()
            .chain(plan.orphans.iter().map(|o| &o.pubkey))
            .filter_map(|p| PublicKey::from_hex(p).ok())
            .collect();
        people.sort();
        people.dedup();
        let names = self.session.names(&people)?;
        let name = |hex: &str| {
            PublicKey::from_hex(hex)
                .ok()
                .and_then(|p| names.get(&p).cloned())
                .unwrap_or_else(|| hex.chars().take(8).collect())
        };
        let mut coverage: Vec<(String, Vec<String>)> = plan
            .assignments
            .iter()
            .map(|(url, who)| (url.clone(), who.iter().map(|p| name(p)).collect()))
            .collect();
        coverage.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let probes = plan
            .probes
            .iter()
            .map(|(url, who)| (url.clone(), who.iter().map(|p| name(p)).collect()))
            .collect();
        let orphans = plan
            .orphans
            .iter()
            .map(|o| {
                let reason = serde_json::to_value(o.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (name(&o.pubkey), reason.replace('_', " "))
            })
            .collect();
        let stale = self
            .session
            .engine()
            .stale_fallbacks(&plan)?
            .into_iter()
            .map(|s| {
                let from: Vec<String> = s
                    .read_from
                    .iter()
                    .map(|(url, why)| format!("{} ({})", short_url(url), why.join(", ")))
                    .collect();
                let from = if from.is_empty() {
                    "nowhere".to_owned()
                } else {
                    from.join(", ")
                };
                (name(&s.person), from)
            })
            .collect();
        let now = Timestamp::now().as_secs();
        let ago = |at: u64| {
            let secs = now.saturating_sub(at);
            match secs {
                s if s < 3_600 => format!("{} min ago", s / 60),
                s if s < 2 * 86_400 => format!("{} h ago", s / 3_600),
                s => format!("{} days ago", s / 86_400),
            }
        };
        let health = self.session.relay_health()?;
        let urls: Vec<String> = health.iter().map(|s| s.url.clone()).collect();
        let reports = self.session.engine().liveness(&urls)?;
        let health = health
            .into_iter()
            .map(|s| HealthView {
                success_rate: s.success_rate(),
                monitors_say: reports.get(&s.url).map(|r| match r.state {
                    Reported::Alive => format!("up ({})", ago(r.last_seen_up)),
                    Reported::Dead => format!("dead (last up {})", ago(r.last_seen_up)),
                }),
                url: s.url,
                attempts: s.attempts,
                latency_ms: s.latency_ms,
                invalid: s.invalid_events,
                last_error: s.last_error,
            })
            .collect();
        let skipped_dead = self
            .session
            .skipped_as_dead()?
            .into_iter()
            .map(|(url, r)| {
                let said = format!(
                    "last seen up {} by {} monitor{}",
                    ago(r.last_seen_up),
                    r.monitors,
                    if r.monitors == 1 { "" } else { "s" }
                );
                (url, said)
            })
            .collect();
        let unlisted = plan
            .unlisted
            .iter()
            .map(|(url, who)| (url.clone(), who.iter().map(|p| name(p)).collect()))
            .collect();
        let word = |w: &Option<String>, default: &str| w.clone().unwrap_or_else(|| default.into());
        Ok(RelaysView {
            own: settings
                .relays
                .iter()
                .map(|(u, r)| (u.clone(), r.read, r.write))
                .collect(),
            discovery: settings.discovery.clone(),
            policies: settings
                .policies
                .iter()
                .map(|(u, p)| {
                    (
                        u.clone(),
                        (word(&p.connect, "allow"), word(&p.auth, "deny")),
                    )
                })
                .collect(),
            whitelist_only: settings.whitelist_only,
            cap_percent: settings.max_exposure_percent,
            explore: !settings.no_exploration,
            follows,
            covered: plan.coverage(follows),
            max_exposure: plan.max_exposure(follows),
            coverage,
            probes,
            unlisted,
            orphans,
            monitors: settings.monitors.len(),
            skipped_dead,
            stale,
            health,
        })
    }
}

impl Ctx {
    /// What needs attention, and the list changes that wait (each can be
    /// cancelled).
    fn show_alerts(&self) {
        self.answer(
            self.session
                .alerts()
                .map(|a| Update::Pending(a.iter().map(pending_sentence).collect())),
        );
        // Private changes are opened through the signer (a remote one
        // answers over the network), so on their own task.
        let ctx = self.clone();
        tokio::spawn(async move {
            let waiting = ctx.session.waiting_changes_opened().await;
            ctx.answer(
                waiting.map(|w| Update::Waiting(w.iter().map(|c| (c.id, c.describe())).collect())),
            );
        });
    }
}

impl Ctx {
    /// The conversations page, as its own task (opening wraps asks the signer).
    pub fn show_conversations(&self) {
        let ctx = self.clone();
        tokio::spawn(async move {
            let result = ctx.conversations().await;
            ctx.answer(result.map(|v| Update::Conversations(Box::new(v))));
        });
    }

    async fn conversations(&self) -> Result<MessagesView, SessionError> {
        let list = self.session.conversations().await?;
        let gate = self.session.dm_requests().await?;
        let mut people: Vec<PublicKey> = list.iter().flat_map(|c| c.with.clone()).collect();
        people.extend(gate.requests.iter().map(|r| r.from));
        let unknown: Vec<PublicKey> = people
            .iter()
            .copied()
            .filter(|p| !self.session.profile_of(*p).is_ok_and(|pr| pr.known))
            .collect();
        if !unknown.is_empty() {
            self.session.fetch_profiles_of(&unknown).await?;
        }
        let names = self.session.names(&people)?;
        let requests = self.request_views(&gate, &names)?;
        let join = |with: &[PublicKey]| {
            if with.is_empty() {
                "notes to self".to_owned()
            } else {
                with.iter()
                    .map(|p| names.get(p).cloned().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        Ok(MessagesView {
            conversations: list
                .iter()
                .map(|c| ConversationView {
                    names: join(&c.with),
                    with: c.with.clone(),
                    preview: c.preview.clone(),
                    last_at: c.last_at,
                    unread: c.unread,
                    subject: c.subject.clone(),
                    legacy: c.legacy,
                })
                .collect(),
            dm_relays: self
                .session
                .dm_relays_of(self.session.me())?
                .iter()
                .map(|r| r.to_string())
                .collect(),
            dropped: self
                .session
                .dm_drops()
                .into_iter()
                .map(|(k, v)| (k.replace('_', " "), v))
                .collect(),
            requests,
            waiting: gate.waiting,
        })
    }

    /// One conversation, as its own task; remembered so new messages
    /// refresh it.
    pub fn open_conversation(&self, with: Vec<PublicKey>) {
        if let Ok(mut f) = self.feed.lock() {
            f.conversation = Some(with.clone());
        }
        let ctx = self.clone();
        tokio::spawn(async move {
            let result = ctx.session.conversation(&with).await.and_then(|messages| {
                let names = ctx
                    .session
                    .names(&messages.iter().map(|m| m.author).collect::<Vec<_>>())?;
                let me = ctx.session.me();
                let views = messages
                    .iter()
                    .map(|m| MessageView {
                        sender: if m.author == me {
                            "you".to_owned()
                        } else {
                            names.get(&m.author).cloned().unwrap_or_default()
                        },
                        own: m.author == me,
                        created_at: m.created_at,
                        text: m.text.clone(),
                        legacy: m.legacy,
                    })
                    .collect();
                Ok(Update::Conversation(with.clone(), views))
            });
            ctx.answer(result);
            // Reading marks it read: the list's counts change.
            ctx.show_conversations();
        });
    }
}

/// A relay URL without its scheme, for compact lines.
fn short_url(url: &str) -> &str {
    url.trim_start_matches("wss://").trim_start_matches("ws://")
}
