//! What a user asks the session to do. Each write builds its event
//! ([`crate::compose`]), signs it through the session's signer, picks its
//! relays (own outbox, tagged people's inboxes, discovery relays for the
//! user's lists) and queues it durably; each settings change is saved and
//! applied to the running engine at once.

use nostr::prelude::*;
use samizdat_net::{PublishOutcome, RelayUrl};

use crate::changes::{Change, ListEdit, ListItem, OwnList};
use crate::compose;
use crate::session::{own_and_discovery, Session, SessionError};
use crate::settings::{RelayPolicy, RelayRoles, Settings};
use crate::sync::SyncReport;

/// An intent: everything a button or a command can ask for.
#[derive(Debug, Clone)]
pub enum Intent {
    /// Publish a note.
    Post {
        /// The text.
        text: String,
    },
    /// Reply to a stored note (NIP-10).
    Reply {
        /// The note replied to.
        to: EventId,
        /// The text.
        text: String,
    },
    /// React to a stored note (NIP-25).
    React {
        /// The note.
        to: EventId,
        /// `+`, `-` or an emoji.
        content: String,
    },
    /// Repost a stored note (NIP-18).
    Repost {
        /// The note.
        of: EventId,
    },
    /// Ask relays to delete one of the user's events (NIP-09).
    Delete {
        /// The event.
        event: EventId,
        /// Why (may be empty).
        reason: String,
    },
    /// Follow someone.
    Follow(PublicKey),
    /// Stop following someone.
    Unfollow(PublicKey),
    /// Publish an earlier follow-list version again.
    RestoreFollows {
        /// Index from [`Session::follow_list_versions`] (0 is current).
        version: usize,
    },
    /// Change profile fields (name, about, picture, nip05, …); others are kept.
    SetProfile(Vec<(String, String)>),
    /// Add a relay with roles, and/or as a discovery relay.
    AddRelay {
        /// URL.
        url: String,
        /// Read / write roles.
        roles: RelayRoles,
        /// Also a discovery relay.
        discovery: bool,
    },
    /// Set a relay's read / write roles exactly (no role removes it from
    /// the user's relays; a discovery entry is kept).
    SetRoles {
        /// URL.
        url: String,
        /// The roles it has from now on.
        roles: RelayRoles,
    },
    /// Remove a relay from every role.
    RemoveRelay {
        /// URL.
        url: String,
    },
    /// Change a relay's connect / AUTH policy or the whitelist-only mode.
    SetPolicy {
        /// URL.
        url: String,
        /// `allow`, `deny` or `ask` for connecting.
        connect: Option<String>,
        /// `allow`, `deny` or `ask` for NIP-42 AUTH.
        auth: Option<String>,
        /// Whitelist-only mode on or off.
        whitelist_only: Option<bool>,
    },
    /// Publish the relay list (kind 10002) from the settings.
    PublishRelayList,
    /// Re-plan and read everyone followed, and the inbox.
    Refresh,
    /// Older notes of the following feed (a time window before `before`).
    LoadMore {
        /// Only notes strictly older than this.
        before: Timestamp,
        /// How many.
        limit: usize,
    },
    /// Open a thread (fetches what is missing).
    Thread(EventId),
    /// Open a person's page (fetches their notes from their relays).
    Person(PublicKey),
    /// Retry every delivery that is due.
    RetryDeliveries,
    /// Try every waiting list change now (see [`Session::change_list`]).
    ApplyWaitingChanges,
    /// Send a private message (NIP-17) to one person or a group.
    SendDm {
        /// Everyone it is for (the user aside).
        to: Vec<PublicKey>,
        /// The text.
        text: String,
        /// An optional subject.
        subject: Option<String>,
    },
    /// Publish the user's DM relays (kind 10050).
    SetDmRelays(Vec<String>),
    /// Add or remove an item of the mute list or the bookmarks (NIP-51).
    EditList {
        /// Which list.
        which: crate::lists::ListKind,
        /// The item.
        item: crate::lists::ListItem,
        /// Add (else remove).
        add: bool,
        /// As a private (encrypted) item.
        private: bool,
    },
    /// Post (or reply) with NIP-13 proof of work, mined on every core;
    /// `progress` counts hashes and cancels (then nothing is published).
    PostWithPow {
        /// The text.
        text: String,
        /// Reply to this stored note, if any.
        reply_to: Option<EventId>,
        /// Leading zero bits wanted.
        difficulty: u8,
        /// Shared with the UI: hashes so far, and the cancel switch.
        progress: std::sync::Arc<crate::pow::PowProgress>,
    },
}

/// An own event and where it went.
#[derive(Debug, Clone)]
pub struct Published {
    /// The signed event.
    pub event: Event,
    /// Each target relay's answer to the first attempt.
    pub deliveries: Vec<(String, PublishOutcome)>,
}

/// What an intent produced.
#[derive(Debug, Clone)]
pub enum IntentOutcome {
    /// An event was signed, queued and sent.
    Published(Published),
    /// A refresh finished.
    Synced(Box<SyncReport>),
    /// Events to show (load more, a thread, a person).
    Events(Vec<Event>),
    /// Settings were changed and saved.
    SettingsSaved,
    /// Deliveries were retried.
    Delivered(Vec<(String, PublishOutcome)>),
    /// A private message was wrapped and sent.
    MessageSent(crate::dm::DmSent),
    /// A list was changed: a new version went out, or the change waits.
    ListEdited(Box<crate::changes::ListEdit>),
    /// Waiting changes were tried, one edit per list.
    ListsEdited(Vec<crate::changes::ListEdit>),
}

impl Session {
    /// Runs one intent to its end.
    pub async fn run(&self, intent: Intent) -> Result<IntentOutcome, SessionError> {
        use IntentOutcome as O;
        Ok(match intent {
            Intent::Post { text } => O::Published(self.post(&text).await?),
            Intent::Reply { to, text } => O::Published(self.reply(to, &text).await?),
            Intent::React { to, content } => O::Published(self.react(to, &content).await?),
            Intent::Repost { of } => O::Published(self.repost(of).await?),
            Intent::Delete { event, reason } => O::Published(self.delete(event, &reason).await?),
            Intent::Follow(who) => O::ListEdited(Box::new(self.follow(who, true).await?)),
            Intent::Unfollow(who) => O::ListEdited(Box::new(self.follow(who, false).await?)),
            Intent::RestoreFollows { version } => {
                O::Published(self.restore_follows(version).await?)
            }
            Intent::SetProfile(changes) => {
                O::ListEdited(Box::new(self.set_profile(&changes).await?))
            }
            Intent::AddRelay {
                url,
                roles,
                discovery,
            } => {
                self.add_relay(&url, roles, discovery)?;
                O::SettingsSaved
            }
            Intent::SetRoles { url, roles } => {
                self.set_roles(&url, roles)?;
                O::SettingsSaved
            }
            Intent::RemoveRelay { url } => {
                self.remove_relay(&url)?;
                O::SettingsSaved
            }
            Intent::SetPolicy {
                url,
                connect,
                auth,
                whitelist_only,
            } => {
                self.set_policy(&url, connect, auth, whitelist_only)?;
                O::SettingsSaved
            }
            Intent::PublishRelayList => O::Published(self.publish_relay_list().await?),
            Intent::Refresh => O::Synced(Box::new(self.refresh().await?)),
            Intent::LoadMore { before, limit } => {
                O::Events(self.following_feed(limit, Some(before))?)
            }
            Intent::Thread(id) => O::Events(self.thread(id).await?),
            Intent::Person(who) => O::Events(self.person(who, 50).await?),
            Intent::RetryDeliveries => O::Delivered(self.engine.deliver_due().await?),
            Intent::ApplyWaitingChanges => O::ListsEdited(self.apply_waiting_changes().await?),
            Intent::SendDm { to, text, subject } => {
                O::MessageSent(self.send_dm(&to, &text, subject.as_deref()).await?)
            }
            Intent::SetDmRelays(urls) => O::ListEdited(Box::new(self.set_dm_relays(&urls).await?)),
            Intent::EditList {
                which,
                item,
                add,
                private,
            } => O::ListEdited(Box::new(self.edit_list(which, item, add, private).await?)),
            Intent::PostWithPow {
                text,
                reply_to,
                difficulty,
                progress,
            } => O::Published(
                self.post_with_pow(&text, reply_to, difficulty, progress)
                    .await?,
            ),
        })
    }

    fn write_relays(&self) -> Result<Vec<RelayUrl>, SessionError> {
        let own = self.settings().write_relays();
        if own.is_empty() {
            return Err(SessionError::NoWriteRelay);
        }
        Ok(own)
    }

    /// Signs `unsigned` through the session's signer, queues it for
    /// `targets` and makes the first delivery attempt.
    pub(crate) async fn sign_and_publish(
        &self,
        unsigned: UnsignedEvent,
        targets: &[RelayUrl],
    ) -> Result<Published, SessionError> {
        let event = self.signer.sign_event(unsigned).await?;
        self.note_published_list(&event);
        let deliveries = self.engine.publish(&event, targets).await?;
        Ok(Published { event, deliveries })
    }

    /// The user's write relays plus the inboxes of everyone `event` tags
    /// (their relay lists fetched first).
    async fn conversation_targets(
        &self,
        unsigned: &UnsignedEvent,
    ) -> Result<Vec<RelayUrl>, SessionError> {
        let own = self.write_relays()?;
        let tagged: Vec<PublicKey> = unsigned
            .tags
            .public_keys()
            .filter(|p| *p != self.me)
            .collect();
        if tagged.is_empty() {
            return Ok(own);
        }
        self.engine.fetch_relay_lists(&tagged).await?;
        Ok(self.engine.publish_targets_for(&own, &tagged)?)
    }

    /// Where the user's own lists go (their relays and the discovery relays),
    /// after fetching the newest copies from there so a change starts from
    /// them. Needs a write relay.
    pub(crate) async fn own_list_targets(&self) -> Result<Vec<RelayUrl>, SessionError> {
        self.write_relays()?;
        let targets = own_and_discovery(&self.settings());
        self.engine.fetch_own(self.me, &targets).await?;
        Ok(targets)
    }

    fn stored(&self, id: EventId) -> Result<Event, SessionError> {
        self.engine
            .event(id)?
            .ok_or_else(|| SessionError::NotInStore(id.to_bech32().unwrap_or_else(|_| id.to_hex())))
    }

    /// Posts a note to the user's write relays.
    pub async fn post(&self, text: &str) -> Result<Published, SessionError> {
        if text.trim().is_empty() {
            return Err(SessionError::NothingToPost);
        }
        let targets = self.write_relays()?;
        self.sign_and_publish(compose::note(self.me, text), &targets)
            .await
    }

    /// Posts (or, with `reply_to`, replies) with proof of work of
    /// `difficulty` bits, mined on every core before signing; cancelled
    /// through `progress`, it publishes nothing.
    pub async fn post_with_pow(
        &self,
        text: &str,
        reply_to: Option<EventId>,
        difficulty: u8,
        progress: std::sync::Arc<crate::pow::PowProgress>,
    ) -> Result<Published, SessionError> {
        if text.trim().is_empty() {
            return Err(SessionError::NothingToPost);
        }
        let (unsigned, targets) = match reply_to {
            Some(to) => {
                let parent = self.stored(to)?;
                let unsigned = compose::reply(self.me, &parent, text);
                let targets = self.conversation_targets(&unsigned).await?;
                (unsigned, targets)
            }
            None => (compose::note(self.me, text), self.write_relays()?),
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mined = tokio::task::spawn_blocking(move || {
            crate::pow::mine(&unsigned, difficulty, threads, &progress)
        })
        .await
        .map_err(|_| SessionError::Pow(crate::pow::PowError::Cancelled))??;
        self.sign_and_publish(mined, &targets).await
    }

    /// Replies to a stored note; delivered to the user's relays and the
    /// inboxes of everyone in the conversation.
    pub async fn reply(&self, to: EventId, text: &str) -> Result<Published, SessionError> {
        if text.trim().is_empty() {
            return Err(SessionError::NothingToPost);
        }
        let parent = self.stored(to)?;
        let unsigned = compose::reply(self.me, &parent, text);
        let targets = self.conversation_targets(&unsigned).await?;
        self.sign_and_publish(unsigned, &targets).await
    }

    /// Reacts to a stored note (also delivered to its author's inbox).
    pub async fn react(&self, to: EventId, content: &str) -> Result<Published, SessionError> {
        let subject = self.stored(to)?;
        let unsigned = compose::reaction(self.me, &subject, content);
        let targets = self.conversation_targets(&unsigned).await?;
        self.sign_and_publish(unsigned, &targets).await
    }

    /// Reposts a stored note (also delivered to its author's inbox).
    pub async fn repost(&self, of: EventId) -> Result<Published, SessionError> {
        let subject = self.stored(of)?;
        let unsigned = compose::repost(self.me, &subject);
        let targets = self.conversation_targets(&unsigned).await?;
        self.sign_and_publish(unsigned, &targets).await
    }

    /// Asks the user's write relays to delete one of the user's own events.
    pub async fn delete(&self, event: EventId, reason: &str) -> Result<Published, SessionError> {
        let subject = self.stored(event)?;
        let unsigned =
            compose::deletion(self.me, &subject, reason).ok_or(SessionError::NotYours)?;
        let targets = self.write_relays()?;
        self.sign_and_publish(unsigned, &targets).await
    }

    /// Follows (`add`) or unfollows `who`: a change to the follow list,
    /// applied to the newest copy a relay returns (it waits while none
    /// answers; see [`Session::change_list`]).
    pub async fn follow(&self, who: PublicKey, add: bool) -> Result<ListEdit, SessionError> {
        let item = ListItem::Person(who.to_hex());
        let change = if add {
            Change::Add {
                item,
                private: false,
            }
        } else {
            Change::Remove { item }
        };
        self.change_list(OwnList::Follows, change).await
    }

    /// Publishes follow-list version `version` again, as a new newest list.
    pub async fn restore_follows(&self, version: usize) -> Result<Published, SessionError> {
        let targets = self.own_list_targets().await?;
        let versions = self.follow_list_versions()?;
        let old = versions.get(version).ok_or(SessionError::NoSuchVersion {
            wanted: version,
            available: versions.len(),
        })?;
        if version == 0 {
            return Err(SessionError::AlreadyCurrent);
        }
        let unsigned = compose::republish(self.me, old, versions.first());
        self.sign_and_publish(unsigned, &targets).await
    }

    /// Changes profile fields, keeping every other field of the newest
    /// copy: one change per field, applied together (they wait while no
    /// relay answers).
    pub async fn set_profile(
        &self,
        changes: &[(String, String)],
    ) -> Result<ListEdit, SessionError> {
        let Some(((last_name, last_value), rest)) = changes.split_last() else {
            return Err(SessionError::NothingToChange);
        };
        if self.settings().write_relays().is_empty() {
            return Err(SessionError::NoWriteRelay);
        }
        for (name, value) in rest {
            let json = serde_json::to_string(&Change::SetField {
                name: name.clone(),
                value: value.clone(),
            })
            .unwrap_or_default();
            let base = self.engine.versions(self.me, Kind::Metadata)?;
            self.engine.store().queue_list_change(
                &OwnList::Profile.key(),
                &json,
                base.first().map(|e| e.id.to_hex()).as_deref(),
            )?;
        }
        let last = Change::SetField {
            name: last_name.clone(),
            value: last_value.clone(),
        };
        self.change_list(OwnList::Profile, last).await
    }

    /// Publishes the relay list where people look, merged first with the
    /// newest copy on the network (see [`Session::advertise_relay_list`]).
    pub async fn publish_relay_list(&self) -> Result<Published, SessionError> {
        Ok(self.advertise_relay_list().await?.published)
    }

    /// Changes the settings with `change`, saves them, and applies them.
    pub(crate) fn change_settings(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<(), SessionError>,
    ) -> Result<(), SessionError> {
        let mut settings = self.settings();
        change(&mut settings)?;
        settings.save(&self.settings_path)?;
        settings.apply_policies(self.engine.policies());
        if let Ok(mut s) = self.settings.lock() {
            *s = settings;
        }
        Ok(())
    }

    /// Adds a relay with roles (and/or as a discovery relay).
    pub fn add_relay(
        &self,
        url: &str,
        roles: RelayRoles,
        discovery: bool,
    ) -> Result<(), SessionError> {
        if !(roles.read || roles.write || discovery) {
            return Err(SessionError::NoRole);
        }
        let url = RelayUrl::parse_checked(url, false)?.to_string();
        self.change_settings(|s| {
            if roles.read || roles.write {
                let r = s.relays.entry(url.clone()).or_default();
                r.read |= roles.read;
                r.write |= roles.write;
            }
            if discovery && !s.discovery.contains(&url) {
                s.discovery.push(url.clone());
            }
            Ok(())
        })
    }

    /// Changes the network setting (saved; it applies when the profile is
    /// opened next, since open connections keep their path).
    pub fn set_network(&self, setting: crate::network::NetworkSetting) -> Result<(), SessionError> {
        setting
            .proxy_config()
            .map_err(|e| SessionError::Settings(crate::settings::SettingsError::Network(e)))?;
        self.change_settings(|s| {
            s.network = setting;
            Ok(())
        })
    }

    /// Reaches `url` directly even with a proxy set (`direct`), or through
    /// the proxy again. An exception is only ever made by name: the relay
    /// then sees the IP address, and the ledger says so.
    pub fn set_direct(&self, url: &str, direct: bool) -> Result<(), SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        self.change_settings(|s| {
            s.network.set_direct(&url, direct);
            Ok(())
        })
    }

    /// Sets the exposure cap for reading (percent of the follow list one
    /// relay may be asked about, 1–100; `None`: no cap) and whether relays
    /// are probed about people they have no evidence for. Saved in the
    /// profile; a session opened after this uses them.
    pub fn set_reading_privacy(
        &self,
        cap_percent: Option<u8>,
        explore: bool,
    ) -> Result<(), SessionError> {
        self.change_settings(|s| {
            s.max_exposure_percent = cap_percent.filter(|p| *p > 0).map(|p| p.min(100));
            s.no_exploration = !explore;
            Ok(())
        })
    }

    /// Sets (or with `None` clears) the profile's default proof of work.
    pub fn set_pow_default(&self, bits: Option<u8>) -> Result<(), SessionError> {
        if let Some(b) = bits.filter(|b| *b > 64) {
            return Err(SessionError::Pow(crate::pow::PowError::TooHard(b)));
        }
        self.change_settings(|s| {
            s.pow = bits.filter(|b| *b > 0);
            Ok(())
        })
    }

    /// Sets a relay's read / write roles exactly.
    pub fn set_roles(&self, url: &str, roles: RelayRoles) -> Result<(), SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        self.change_settings(|s| {
            if roles.read || roles.write {
                s.relays.insert(url.clone(), roles);
            } else if s.relays.remove(&url).is_none() {
                return Err(SessionError::UnknownRelay(url.clone()));
            }
            Ok(())
        })
    }

    /// Removes a relay from every role.
    pub fn remove_relay(&self, url: &str) -> Result<(), SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        self.change_settings(|s| {
            let before = s.relays.len() + s.discovery.len();
            s.relays.remove(&url);
            s.discovery.retain(|d| *d != url);
            if s.relays.len() + s.discovery.len() == before {
                return Err(SessionError::UnknownRelay(url.clone()));
            }
            Ok(())
        })
    }

    /// Sets a relay's connect / AUTH policy and the whitelist-only mode.
    pub fn set_policy(
        &self,
        url: &str,
        connect: Option<String>,
        auth: Option<String>,
        whitelist_only: Option<bool>,
    ) -> Result<RelayPolicy, SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        let mut result = RelayPolicy::default();
        self.change_settings(|s| {
            let entry = s.policies.entry(url.clone()).or_default();
            if connect.is_some() {
                entry.connect = connect;
            }
            if auth.is_some() {
                entry.auth = auth;
            }
            result = entry.clone();
            if let Some(w) = whitelist_only {
                s.whitelist_only = w;
            }
            Ok(())
        })?;
        Ok(result)
    }
}
