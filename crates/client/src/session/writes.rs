//! The session's writes. Each builds its event ([`crate::base::compose`]),
//! signs it through the session's signer, picks its relays (own outbox,
//! tagged people's inboxes, discovery relays for the user's lists) and
//! queues it durably; list edits go through [`crate::session::changes`].

use nostr::prelude::*;
use samizdat_net::{PublishOutcome, RelayUrl};

use crate::base::compose;
use crate::session::changes::{Change, ListEdit, ListItem, OwnList};
use crate::session::{own_and_discovery, Session, SessionError};

/// An own event and where it went.
#[derive(Debug, Clone)]
pub struct Published {
    /// The signed event.
    pub event: Event,
    /// Each target relay's answer to the first attempt.
    pub deliveries: Vec<(String, PublishOutcome)>,
}

/// Lists whose edits elsewhere are worth an alert.
pub(crate) const WATCHED: [(Kind, &str); 5] = [
    (Kind::ContactList, "follow list"),
    (Kind::RelayList, "relay list"),
    (Kind::InboxRelays, "DM relays"),
    (Kind::MuteList, "mute list"),
    (Kind::Bookmarks, "bookmarks"),
];

/// A note must have text, and must not carry a secret key: pasting an
/// `nsec1…` (or an `ncryptsec1…`) into a note is a common accident, and a
/// published note cannot be taken back.
fn check_text(text: &str) -> Result<(), SessionError> {
    if text.trim().is_empty() {
        return Err(SessionError::NothingToPost);
    }
    let lower = text.to_lowercase();
    for prefix in ["nsec1", "ncryptsec1"] {
        let found = lower.match_indices(prefix).any(|(at, _)| {
            let rest = &lower[at + prefix.len()..];
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count()
                >= 50
        });
        if found {
            return Err(SessionError::SecretInText(prefix));
        }
    }
    Ok(())
}

impl Session {
    /// Remembers that this profile published `event` (a watched list), so
    /// a newer copy made elsewhere can be pointed out.
    pub(crate) fn note_published_list(&self, event: &Event) {
        if !WATCHED.iter().any(|(k, _)| *k == event.kind) {
            return;
        }
        let key = event.kind.as_u16().to_string();
        let id = event.id.to_hex();
        let _ = self.change_settings(|s| {
            s.published_lists.insert(key.clone(), id.clone());
            Ok(())
        });
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
        self.post_unsigned(compose::note(self.me, text)).await
    }

    /// Posts a note already built (its text checked here) to the user's
    /// write relays.
    pub(crate) async fn post_unsigned(
        &self,
        unsigned: UnsignedEvent,
    ) -> Result<Published, SessionError> {
        check_text(&unsigned.content)?;
        let targets = self.write_relays()?;
        self.sign_and_publish(unsigned, &targets).await
    }

    /// Posts (or, with `reply_to`, replies) with proof of work of
    /// `difficulty` bits, mined on every core before signing; cancelled
    /// through `progress`, it publishes nothing.
    pub async fn post_with_pow(
        &self,
        text: &str,
        reply_to: Option<EventId>,
        difficulty: u8,
        progress: std::sync::Arc<crate::base::pow::PowProgress>,
    ) -> Result<Published, SessionError> {
        check_text(text)?;
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
            crate::base::pow::mine(&unsigned, difficulty, threads, &progress)
        })
        .await
        .map_err(|_| SessionError::Pow(crate::base::pow::PowError::Cancelled))??;
        self.sign_and_publish(mined, &targets).await
    }

    /// Replies to a stored note; delivered to the user's relays and the
    /// inboxes of everyone in the conversation.
    pub async fn reply(&self, to: EventId, text: &str) -> Result<Published, SessionError> {
        check_text(text)?;
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
        // Every field but the last waits; the last one's change_list applies
        // them all as one version.
        for (name, value) in rest {
            let field = Change::SetField {
                name: name.clone(),
                value: value.clone(),
            };
            self.queue_change(&OwnList::Profile, &field).await?;
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
}
