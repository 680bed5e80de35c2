//! Everyday safety and search: spam-safe relays (replies and mentions from
//! people not followed are taken only from relays marked spam-safe), NIP-50
//! search at one chosen relay, and the alerts a user must see.

pub mod nip05;

use std::collections::BTreeMap;

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use serde::Serialize;

use crate::session::writes::WATCHED;
use crate::session::{read_relays, Session, SessionError};

/// What was held back from the inbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeldBack {
    /// Relay → how many items from strangers it alone delivered (relays not
    /// spam-safe; asked only when the inbox threshold lets strangers in).
    pub by_relay: BTreeMap<String, usize>,
    /// In all.
    pub total: usize,
    /// Items from people below the inbox's trust threshold ("N from people
    /// outside your network"), counted in `total` too.
    pub outside_network: usize,
    /// Everything held back, newest first (a UI's "show them").
    #[serde(skip)]
    pub items: Vec<Event>,
}

/// Something that needs the user's attention (`samizdat alerts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// An own event is not on all its relays yet.
    NotEverywhere {
        /// The event (hex).
        event: String,
        /// Relays still missing it, with the last error.
        missing: Vec<(String, Option<String>)>,
    },
    /// A relay will ask before connecting or before AUTH.
    AsksFirst {
        /// The relay.
        relay: String,
        /// `connect` or `auth`.
        what: String,
    },
    /// A list of the user's changed somewhere else since this profile last
    /// published it (another device or app).
    ChangedElsewhere {
        /// `follow list`, `relay list`, `DM relays`, `mute list`, `bookmarks`.
        list: String,
        /// When the newer copy was made (unix time).
        at: u64,
    },
    /// Edits of a list wait: no relay has answered since they were made
    /// (`samizdat changes`).
    ChangesWaiting {
        /// Which list.
        list: String,
        /// How many changes wait.
        count: usize,
        /// How long the oldest has waited, in seconds.
        oldest_secs: u64,
    },
    /// The key was once seen in plain form (imported as nsec or exported).
    WeakKey,
    /// The user has no DM relays: nobody can send them private messages.
    NoDmRelays,
}

impl Session {
    /// Replies, mentions, reposts and reactions of others, newest first
    /// (what the web of trust and spam-safe relays let through).
    pub fn inbox(&self, limit: usize) -> Result<Vec<Event>, SessionError> {
        Ok(self.inbox_with_held(limit)?.0)
    }

    /// The inbox (muted items removed) and what was held back: items from
    /// people below the inbox's trust threshold, and items from strangers
    /// the threshold lets in that no spam-safe relay delivered.
    pub fn inbox_with_held(&self, limit: usize) -> Result<(Vec<Event>, HeldBack), SessionError> {
        let items = self.without_muted(self.engine.inbox_feed(self.me, limit)?);
        self.spam_filter(items)
    }

    /// Everything in the inbox but what the user muted (`inbox --all`).
    pub fn inbox_all(&self, limit: usize) -> Result<Vec<Event>, SessionError> {
        Ok(self.without_muted(self.engine.inbox_feed(self.me, limit)?))
    }

    /// Fetches the inbox from the user's read relays (kept subscribed) and
    /// returns its newest `limit` items.
    pub async fn fetch_inbox(&self, limit: usize) -> Result<Vec<Event>, SessionError> {
        let read = read_relays(&self.settings());
        if read.is_empty() {
            return Err(SessionError::NoReadRelay);
        }
        self.engine.sync_inbox(self.me, &read).await?;
        self.sync_legacy_dms().await?;
        self.inbox(limit)
    }

    /// Whether `relay` is spam-safe: marked so, or (when none is marked)
    /// one of the user's own write relays.
    pub fn is_spam_safe(&self, relay: &str) -> bool {
        let settings = self.settings();
        let relay = RelayUrl::parse(relay).map_or_else(|_| relay.to_owned(), |r| r.to_string());
        if settings.spam_safe.is_empty() {
            return settings.relays.get(&relay).is_some_and(|r| r.write);
        }
        settings.spam_safe.contains(&relay)
    }

    /// Marks `relay` spam-safe (or not).
    pub fn set_spam_safe(&self, relay: &str, safe: bool) -> Result<(), SessionError> {
        let url = RelayUrl::parse(relay)?.to_string();
        self.change_settings(|s| {
            if s.spam_safe.is_empty() {
                // Turn the implicit default into an explicit list first.
                s.spam_safe = s
                    .relays
                    .iter()
                    .filter(|(_, r)| r.write)
                    .map(|(u, _)| u.clone())
                    .collect();
            }
            s.spam_safe.retain(|u| *u != url);
            if safe {
                s.spam_safe.push(url.clone());
            }
            Ok(())
        })
    }

    /// Splits inbox items into those shown and what was held back. The user
    /// and the people followed always show; people below the inbox's trust
    /// threshold are held back as outside the network; friends of friends
    /// at or above it show; strangers the threshold lets in (a threshold of
    /// 0 or less) show only when a spam-safe relay delivered them.
    pub fn spam_filter(&self, events: Vec<Event>) -> Result<(Vec<Event>, HeldBack), SessionError> {
        use crate::session::trust::{Distance, Surface};
        let threshold = self.threshold(Surface::Inbox);
        let authors: Vec<PublicKey> = events.iter().map(|e| e.pubkey).collect();
        let trust = self.trust_of_many(&authors)?;
        let mut shown = Vec::new();
        let mut held = HeldBack::default();
        for e in events {
            let Some(t) = trust.get(&e.pubkey) else {
                continue;
            };
            let keep = match t.distance {
                Distance::Me | Distance::Followed => true,
                _ if !t.passes(threshold) => {
                    held.outside_network += 1;
                    false
                }
                Distance::FriendOfFriend => true,
                Distance::Unknown => {
                    let seen = self.engine.store().seen_on(&e.id)?;
                    let safe = seen.iter().any(|s| self.is_spam_safe(&s.relay));
                    if !safe {
                        for s in seen {
                            *held.by_relay.entry(s.relay).or_default() += 1;
                        }
                    }
                    safe
                }
            };
            if keep {
                shown.push(e);
            } else {
                held.total += 1;
                held.items.push(e);
            }
        }
        Ok((shown, held))
    }

    /// Notes matching `text` at one search relay (NIP-50): only that relay
    /// sees the query. What it sends is verified and stored, then the
    /// answer is read from the store (mutes applied).
    pub async fn search_relay(
        &self,
        text: &str,
        relay: &str,
        limit: usize,
    ) -> Result<Vec<Event>, SessionError> {
        let relay = RelayUrl::parse_checked(relay, false)?;
        let filter = Filter::new().kind(Kind::TextNote).search(text).limit(limit);
        let outcomes = self
            .engine
            .fetch("search", std::slice::from_ref(&relay), vec![filter])
            .await?;
        if outcomes
            .get(&relay.to_string())
            .is_some_and(|o| o.finished || o.events > 0)
        {
            self.engine.store().record_learned(
                &relay.to_string(),
                crate::engine::ledger::SEARCH,
                &[text.to_owned()],
            )?;
        }
        self.search_local(text, limit)
    }

    /// Everything that needs the user's attention now.
    pub fn alerts(&self) -> Result<Vec<Pending>, SessionError> {
        let mut out = Vec::new();
        for q in self.publish_status(100)? {
            let missing: Vec<(String, Option<String>)> = q
                .deliveries
                .iter()
                .filter(|d| d.state != samizdat_store::DeliveryState::Delivered)
                .map(|d| (d.relay.clone(), d.last_error.clone()))
                .collect();
            if !missing.is_empty() {
                out.push(Pending::NotEverywhere {
                    event: q.event.id.to_hex(),
                    missing,
                });
            }
        }
        let settings = self.settings();
        for (relay, p) in &settings.policies {
            for (what, word) in [("connect", &p.connect), ("auth", &p.auth)] {
                if word.as_deref() == Some("ask") {
                    out.push(Pending::AsksFirst {
                        relay: relay.clone(),
                        what: what.to_owned(),
                    });
                }
            }
        }
        for (kind, name) in WATCHED {
            let Some(mine) = settings.published_lists.get(&kind.as_u16().to_string()) else {
                continue;
            };
            let newest = self
                .engine
                .store()
                .query(&[Filter::new().author(self.me).kind(kind).limit(1)])?;
            if let Some(n) = newest.first().filter(|n| n.id.to_hex() != *mine) {
                out.push(Pending::ChangedElsewhere {
                    list: name.to_owned(),
                    at: n.created_at.as_secs(),
                });
            }
        }
        let waiting = self.waiting_changes()?;
        let mut lists: Vec<&crate::session::changes::OwnList> =
            waiting.iter().map(|w| &w.list).collect();
        lists.sort();
        lists.dedup();
        for list in lists {
            let of_list: Vec<_> = waiting.iter().filter(|w| &w.list == list).collect();
            out.push(Pending::ChangesWaiting {
                list: list.name(),
                count: of_list.len(),
                oldest_secs: of_list.iter().map(|w| w.age_secs()).max().unwrap_or(0),
            });
        }
        let key = self.settings_path.with_file_name("key.ncryptsec");
        if let Ok(info) = crate::base::keystore::info(&key) {
            if info.security == nostr::nips::nip49::KeySecurity::Weak {
                out.push(Pending::WeakKey);
            }
        }
        if self.dm_relays_of(self.me)?.is_empty() {
            out.push(Pending::NoDmRelays);
        }
        Ok(out)
    }
}
