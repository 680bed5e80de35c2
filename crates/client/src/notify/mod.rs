//! What deserves an OS notification, decided here so every UI agrees:
//! mentions, replies and reactions addressed to the user, and private
//! messages, from people at or above the notifications threshold of the
//! web of trust, not muted, new since the session armed its notifications,
//! each once. The profile's [`NotifySettings`] choose off / on / messages
//! only and quiet hours; a message's text is in its notification only when
//! the user chose that. The UI only delivers what this returns.

use std::collections::HashSet;
use std::sync::Mutex;

use nostr::prelude::*;
use serde::Serialize;

pub use crate::base::notify::{NotifyMode, NotifySettings};
use crate::dm::DmMessage;
use crate::session::trust::Surface;
use crate::session::{Session, SessionError};

/// How long a notification's body may be (characters).
const BODY_CHARS: usize = 140;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A note that names the user.
    Mention,
    /// A reply to one of the user's notes.
    Reply,
    /// A reaction to one of the user's notes.
    Reaction,
    /// A private message.
    Message,
}

/// One notification, ready to be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// What it is about.
    pub kind: NotificationKind,
    /// Who caused it.
    pub from: PublicKey,
    /// The note, reaction or message (a rumor's id for NIP-17).
    pub about: EventId,
    /// "Reply from NAME", "New message from NAME", …
    pub title: String,
    /// The note's start, or for a message its text only when the user chose
    /// that.
    pub body: String,
}

/// The session's memory of what was notified.
#[derive(Default)]
struct NotifyState {
    /// Nothing older than this notifies (set when armed).
    since: Mutex<Option<Timestamp>>,
    /// Each event notifies once.
    done: Mutex<HashSet<EventId>>,
}

impl Session {
    /// The profile's notification settings.
    pub fn notify_settings(&self) -> NotifySettings {
        self.settings().notify
    }

    /// Saves the notification settings.
    pub fn set_notify_settings(&self, notify: NotifySettings) -> Result<(), SessionError> {
        self.change_settings(|s| {
            s.notify = notify;
            Ok(())
        })
    }

    /// From now on, new items notify; what is older (what the first refresh
    /// brings in) never does. Calling it again keeps the first time.
    pub fn arm_notifications(&self) {
        if let Ok(mut since) = self.feature::<NotifyState>().since.lock() {
            since.get_or_insert_with(Timestamp::now);
        }
    }

    /// The notifications `events` (arrived on the inbox subscription) raise
    /// at local hour `hour`: replies, mentions and reactions to the user from
    /// people the web of trust lets through. Empty when off, messages only,
    /// quiet, or not armed.
    pub fn notifications_of(
        &self,
        events: &[Event],
        hour: u8,
    ) -> Result<Vec<Notification>, SessionError> {
        let settings = self.notify_settings();
        if settings.mode != NotifyMode::On || settings.is_quiet(hour) {
            return Ok(Vec::new());
        }
        let Some(since) = self.notify_since() else {
            return Ok(Vec::new());
        };
        let me = self.me;
        let candidates: Vec<Event> = events
            .iter()
            .filter(|e| e.pubkey != me && e.created_at >= since)
            .filter(|e| matches!(e.kind, Kind::TextNote | Kind::Reaction))
            .filter(|e| e.tags.public_keys().any(|p| p == me))
            .cloned()
            .collect();
        let shown = self.without_muted(
            self.screen(Surface::Notifications, candidates, |e| e.pubkey)?
                .shown,
        );
        let fresh: Vec<Event> = shown
            .into_iter()
            .filter(|e| self.first_time(e.id))
            .collect();
        let names = self.names(&fresh.iter().map(|e| e.pubkey).collect::<Vec<_>>())?;
        Ok(fresh
            .iter()
            .map(|e| {
                let name = display_name(&names, e.pubkey);
                let kind = self.kind_of(e);
                let title = match kind {
                    NotificationKind::Reply => format!("Reply from {name}"),
                    NotificationKind::Reaction => format!("{name} reacted {}", reaction(e)),
                    _ => format!("{name} mentioned you"),
                };
                let body = match kind {
                    NotificationKind::Reaction => self.reacted_to(e),
                    _ => shorten(&e.content),
                };
                Notification {
                    kind,
                    from: e.pubkey,
                    about: e.id,
                    title,
                    body,
                }
            })
            .collect())
    }

    /// The notifications private messages opened since the last call raise
    /// at local hour `hour` (wraps are opened through the signer here, once
    /// a session; strangers' wraps stay in the requests folder unopened and
    /// never notify).
    pub async fn message_notifications(&self, hour: u8) -> Result<Vec<Notification>, SessionError> {
        let settings = self.notify_settings();
        if settings.mode == NotifyMode::Off || settings.is_quiet(hour) {
            return Ok(Vec::new());
        }
        let Some(since) = self.notify_since() else {
            return Ok(Vec::new());
        };
        let me = self.me;
        let messages: Vec<DmMessage> = self
            .dm_messages()
            .await?
            .into_iter()
            .filter(|m| m.author != me && m.created_at >= since)
            .collect();
        let shown = self
            .screen(Surface::Notifications, messages, |m| m.author)?
            .shown;
        let muted = self.mute_set();
        let fresh: Vec<DmMessage> = shown
            .into_iter()
            .filter(|m| !muted.people.contains(&m.author.to_hex()) && self.first_time(m.id))
            .collect();
        let names = self.names(&fresh.iter().map(|m| m.author).collect::<Vec<_>>())?;
        Ok(fresh
            .into_iter()
            .map(|m| {
                let name = display_name(&names, m.author);
                let group = m.participants.len() > 2;
                Notification {
                    kind: NotificationKind::Message,
                    from: m.author,
                    about: m.id,
                    title: if group {
                        format!("New message from {name} (group)")
                    } else {
                        format!("New message from {name}")
                    },
                    body: if settings.show_dm_text {
                        shorten(&m.text)
                    } else {
                        "Open Samizdat to read it.".into()
                    },
                }
            })
            .collect())
    }

    fn notify_since(&self) -> Option<Timestamp> {
        self.feature::<NotifyState>()
            .since
            .lock()
            .ok()
            .and_then(|s| *s)
    }

    fn first_time(&self, id: EventId) -> bool {
        self.feature::<NotifyState>()
            .done
            .lock()
            .map(|mut d| d.insert(id))
            .unwrap_or(false)
    }

    fn kind_of(&self, e: &Event) -> NotificationKind {
        if e.kind == Kind::Reaction {
            return NotificationKind::Reaction;
        }
        let to_mine = crate::engine::feeds::parent_of(e).is_some_and(|parent| {
            self.engine
                .event(parent)
                .ok()
                .flatten()
                .is_some_and(|p| p.pubkey == self.me)
        });
        if to_mine {
            NotificationKind::Reply
        } else {
            NotificationKind::Mention
        }
    }

    fn reacted_to(&self, reaction: &Event) -> String {
        reaction
            .tags
            .event_ids()
            .last()
            .and_then(|id| self.engine.event(id).ok().flatten())
            .map(|note| shorten(&note.content))
            .unwrap_or_default()
    }
}

fn display_name(names: &std::collections::HashMap<PublicKey, String>, who: PublicKey) -> String {
    names.get(&who).cloned().unwrap_or_else(|| {
        let npub = who.to_bech32().unwrap_or_else(|_| who.to_hex());
        format!("{}…", &npub[..npub.len().min(14)])
    })
}

fn reaction(e: &Event) -> String {
    match e.content.as_str() {
        "" | "+" => "❤".into(),
        "-" => "👎".into(),
        other => other.chars().take(8).collect(),
    }
}

/// The text on one line, cut at [`BODY_CHARS`].
fn shorten(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= BODY_CHARS {
        line
    } else {
        let mut cut: String = line.chars().take(BODY_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}
