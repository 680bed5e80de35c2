//! What a user can ask for, from any UI: each [`Intent`] is one call into
//! the session or a feature, run to its end by [`Session::run`] (the CLI
//! awaits it) or in the background by `Session::send` (the desktop hears the
//! result as `EngineUpdate::IntentDone`). This is the one place that names
//! every feature.

use nostr::prelude::*;
use samizdat_net::PublishOutcome;

use crate::base::settings::RelayRoles;
use crate::engine::sync::SyncReport;
use crate::session::{Published, Session, SessionError};

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
        progress: std::sync::Arc<crate::base::pow::PowProgress>,
    },
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
    ListEdited(Box<crate::session::changes::ListEdit>),
    /// Waiting changes were tried, one edit per list.
    ListsEdited(Vec<crate::session::changes::ListEdit>),
}

impl IntentOutcome {
    /// The outcome an [`EngineUpdate::IntentDone`](crate::EngineUpdate)
    /// carries.
    pub fn of(result: &crate::engine::IntentResult) -> Option<&IntentOutcome> {
        result.get()
    }
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
}
