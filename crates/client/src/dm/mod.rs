//! Private messages: NIP-17 (kind-14 rumors, sealed and gift-wrapped per
//! NIP-59, sent only to each person's kind-10050 DM relays, one wrap per
//! recipient and one to ourselves) and, for reading only, legacy NIP-04
//! (kind 4, marked as such: its relay sees who talks to whom and when).
//!
//! The store keeps only the wraps (ciphertext). Opened messages are cached
//! in memory for the session's life; the only DM state on disk besides the
//! wraps is when each conversation was last read, NIP-44-encrypted to
//! ourselves (`dm-read.nip44`). So message text never touches the disk.

pub mod gate;
pub mod wrap;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use nostr::prelude::*;
use samizdat_net::{PublishOutcome, RelayUrl};

use crate::engine::updates::EngineUpdate;
use crate::engine::Alert;
use crate::session::{read_relays, Session, SessionError};
pub use gate::{DmRequest, GateReport, RequestFolder};
pub use wrap::Dropped;

/// The live subscription for gift wraps on the user's DM relays.
pub const DM_SUB: &str = "dms";
/// The live subscription for legacy kind-4 messages on read relays where
/// AUTH is allowed (elsewhere they ride along in the inbox subscription).
pub const LEGACY_SUB: &str = "dms-legacy";

/// One message, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmMessage {
    /// The rumor's id (NIP-17), or the kind-4 event's id.
    pub id: EventId,
    /// Who wrote it.
    pub author: PublicKey,
    /// When the author says it was written (the rumor's date).
    pub created_at: Timestamp,
    /// The text.
    pub text: String,
    /// The conversation's subject, if the message sets one.
    pub subject: Option<String>,
    /// Everyone in the conversation, the author included.
    pub participants: BTreeSet<PublicKey>,
    /// A NIP-04 message: its relay saw sender, recipient and time.
    pub legacy: bool,
}

/// A conversation: everyone in it but the user, newest first in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The other participants (empty: notes to self).
    pub with: Vec<PublicKey>,
    /// The newest message's date.
    pub last_at: Timestamp,
    /// The newest message's text, shortened.
    pub preview: String,
    /// Messages in it.
    pub messages: usize,
    /// Messages from others since the user last read it.
    pub unread: usize,
    /// The newest subject set.
    pub subject: Option<String>,
    /// Whether any message in it is legacy NIP-04.
    pub legacy: bool,
}

/// What a send did.
#[derive(Debug, Clone)]
pub struct DmSent {
    /// The rumor's id.
    pub id: EventId,
    /// Per recipient: each DM relay's answer to the first attempt.
    pub deliveries: Vec<(PublicKey, Vec<(String, PublishOutcome)>)>,
    /// The copy to the user's own DM relays goes out this many seconds
    /// later (queued durably), so the DM relay cannot pair it with the
    /// recipient's copy by arrival time; `None` when it went out at once.
    pub self_copy_in: Option<u64>,
}

/// The session's DM state: what was opened, what was dropped and why, when
/// each conversation was last read.
#[derive(Default)]
pub(crate) struct DmState {
    opened: Mutex<HashMap<EventId, Result<DmMessage, Dropped>>>,
    drops: Mutex<BTreeMap<Dropped, u64>>,
    read: Mutex<Option<HashMap<String, u64>>>,
}

/// The conversation key: the other participants' hex keys, sorted.
pub(crate) fn key_of(with: &[PublicKey]) -> String {
    let mut v: Vec<String> = with.iter().map(|p| p.to_hex()).collect();
    v.sort();
    v.join(",")
}

/// The relays of a kind-10050 list.
pub fn dm_relays_in(event: &Event) -> Vec<RelayUrl> {
    event
        .tags
        .iter()
        .filter_map(|t| {
            let s = t.as_slice();
            (s.first().map(String::as_str) == Some("relay"))
                .then(|| s.get(1))
                .flatten()
                .and_then(|u| RelayUrl::parse(u).ok())
        })
        .collect()
}

impl Session {
    fn read_markers_path(&self) -> PathBuf {
        self.settings_path.with_file_name("dm-read.nip44")
    }

    /// A person's DM relays (kind 10050) from the store.
    pub fn dm_relays_of(&self, who: PublicKey) -> Result<Vec<RelayUrl>, SessionError> {
        let lists = self
            .engine
            .store()
            .query(&[Filter::new().author(who).kind(Kind::InboxRelays).limit(1)])?;
        Ok(lists.first().map(dm_relays_in).unwrap_or_default())
    }

    /// Fetches the DM relay lists of `people` from the user's relays, each
    /// person's own write relays and the discovery relays. Under an exposure
    /// cap only the discovery relays are asked about others, each about its
    /// share of them (as for relay lists), and the user's relays only about
    /// the user: looking up whom the user writes to tells no relay more
    /// than the cap allows.
    pub async fn fetch_dm_relays(&self, people: &[PublicKey]) -> Result<(), SessionError> {
        self.engine.fetch_relay_lists(people).await?;
        let mut asks = self.lookup_asks(people)?;
        // Without a cap, each person's own write relays are asked too.
        if self.engine.config().max_exposure.is_none() {
            for p in people {
                for relay in self.engine.write_relays_of(*p)? {
                    asks.entry(relay).or_default().insert(*p);
                }
            }
        }
        self.engine
            .fetch_each("dm-relays", &asks, |who| {
                Filter::new()
                    .authors(who.iter().copied())
                    .kind(Kind::InboxRelays)
            })
            .await?;
        Ok(())
    }

    /// Allows NIP-42 AUTH on `relays` where the user set no AUTH policy:
    /// the user's own DM relays serve gift wraps only after AUTH.
    pub(crate) fn allow_auth_unless_set<'a>(
        &self,
        relays: impl Iterator<Item = &'a RelayUrl>,
    ) -> Result<(), SessionError> {
        let relays: Vec<String> = relays.map(|r| r.to_string()).collect();
        self.change_settings(|s| {
            for r in &relays {
                let entry = s.policies.entry(r.clone()).or_default();
                if entry.auth.is_none() {
                    entry.auth = Some("allow".into());
                }
            }
            Ok(())
        })
    }

    /// Publishes the user's DM relays (kind 10050) where people look (their
    /// relays, the discovery relays, the inboxes of followers). Those relays
    /// may ask for AUTH to serve the user's wraps; AUTH is allowed there
    /// unless the user set a policy already.
    pub async fn set_dm_relays(
        &self,
        urls: &[String],
    ) -> Result<crate::session::changes::ListEdit, SessionError> {
        let parsed: Vec<RelayUrl> = urls
            .iter()
            .map(|u| RelayUrl::parse_checked(u, false))
            .collect::<Result<_, _>>()?;
        if parsed.is_empty() {
            return Err(SessionError::NoDmRelays("you".into()));
        }
        self.allow_auth_unless_set(parsed.iter())?;
        // A change like any list edit: it goes where people look for it
        // (the user's relays, the discovery relays and the inboxes of those
        // who follow or mention the user) once a relay has answered.
        let change = crate::session::changes::Change::SetRelays {
            relays: parsed.iter().map(|r| r.to_string()).collect(),
        };
        self.change_list(crate::session::changes::OwnList::DmRelays, change)
            .await
    }

    /// Sends `text` to `to` (one person, or several for a group): one wrap
    /// per recipient to their DM relays, and one to the user's own. A
    /// recipient without DM relays is an error (and an alert), never a
    /// fallback to their general relays.
    pub async fn send_dm(
        &self,
        to: &[PublicKey],
        text: &str,
        subject: Option<&str>,
    ) -> Result<DmSent, SessionError> {
        if text.trim().is_empty() {
            return Err(SessionError::NothingToPost);
        }
        let mut to: Vec<PublicKey> = to.iter().copied().filter(|p| *p != self.me).collect();
        to.sort();
        to.dedup();
        if to.is_empty() {
            return Err(SessionError::NoRecipient);
        }
        let mut everyone = to.clone();
        everyone.push(self.me);
        self.fetch_dm_relays(&everyone).await?;
        let mut targets = Vec::new();
        for p in &everyone {
            let relays = self.dm_relays_of(*p)?;
            if relays.is_empty() {
                let name = if *p == self.me {
                    "you (samizdat dm relays set URL…)".to_owned()
                } else {
                    p.to_bech32().unwrap_or_else(|_| p.to_hex())
                };
                if *p != self.me {
                    self.engine
                        .announce(EngineUpdate::Alert(Alert::NoDmRelays { person: *p }));
                }
                return Err(SessionError::NoDmRelays(name));
            }
            targets.push((*p, relays));
        }
        let rumor = wrap::rumor(self.me, &to, text, subject);
        let id = rumor.id.ok_or(SessionError::NothingToPost)?;
        let mut deliveries = Vec::new();
        let mut self_copy_in = None;
        for (p, relays) in targets {
            // Work on wraps to others only (the setting; none by default).
            let pow = if p == self.me {
                0
            } else {
                self.settings().trust.wrap_pow
            };
            let wrapped = wrap::gift_wrap_with_pow(self.signer.as_ref(), &rumor, p, pow).await?;
            if p == self.me {
                self.remember(wrapped.id, message_of(&rumor, false));
                let delay = self.engine.publish_later(&wrapped, &relays)?;
                if delay > 0 {
                    self_copy_in = Some(delay);
                    continue;
                }
                deliveries.push((p, self.engine.deliver_due().await?));
                continue;
            }
            deliveries.push((p, self.engine.publish(&wrapped, &relays).await?));
        }
        Ok(DmSent {
            id,
            deliveries,
            self_copy_in,
        })
    }

    pub(crate) fn remember(&self, wrap: EventId, message: Result<DmMessage, Dropped>) {
        if let Err(reason) = &message {
            if let Ok(mut d) = self.feature::<DmState>().drops.lock() {
                *d.entry(*reason).or_default() += 1;
            }
        }
        if let Ok(mut o) = self.feature::<DmState>().opened.lock() {
            o.insert(wrap, message);
        }
    }

    /// Subscribes (and stays subscribed) to the user's wraps on their DM
    /// relays and waits for what is stored there. Legacy kind-4 messages
    /// come with the inbox subscription on the read relays.
    pub async fn sync_dms(&self) -> Result<(), SessionError> {
        self.sync_dm_wraps().await?;
        let read = read_relays(&self.settings());
        if !read.is_empty() {
            self.engine.sync_inbox(self.me, &read).await?;
            self.sync_legacy_dms().await?;
        }
        Ok(())
    }

    /// Where the user allows AUTH on a read relay, legacy kind-4 messages
    /// are also asked for on their own there (a private-only REQ, which such
    /// a relay answers after AUTH), and the subscription stays open. The
    /// inbox REQ carries them too, without prompting for AUTH.
    pub(crate) async fn sync_legacy_dms(&self) -> Result<(), SessionError> {
        let authed: Vec<RelayUrl> = read_relays(&self.settings())
            .into_iter()
            .filter(|r| self.engine.policies().auth_decision(r) == samizdat_net::Decision::Allow)
            .collect();
        if authed.is_empty() {
            return Ok(());
        }
        let limit = self.engine.config().limit;
        let kind4 = || {
            Filter::new()
                .kind(Kind::EncryptedDirectMessage)
                .limit(limit)
        };
        self.engine
            .live(
                LEGACY_SUB,
                &authed,
                vec![kind4().pubkey(self.me), kind4().author(self.me)],
            )
            .await?;
        Ok(())
    }

    /// The wraps part of [`Session::sync_dms`] (the refresh reads the inbox
    /// itself).
    pub(crate) async fn sync_dm_wraps(&self) -> Result<(), SessionError> {
        let dm_relays = self.dm_relays_of(self.me)?;
        if !dm_relays.is_empty() {
            let wraps = Filter::new().kind(Kind::GiftWrap).pubkey(self.me);
            self.engine.live(DM_SUB, &dm_relays, vec![wraps]).await?;
        }
        Ok(())
    }

    /// Every message the store holds for the user, opened (wraps through
    /// the signer, once per session), oldest first.
    pub async fn dm_messages(&self) -> Result<Vec<DmMessage>, SessionError> {
        let store = self.engine.store();
        let wraps = store.query(&[Filter::new()
            .kind(Kind::GiftWrap)
            .pubkey(self.me)
            .limit(10_000)])?;
        let legacy = store.query(&[
            Filter::new()
                .kind(Kind::EncryptedDirectMessage)
                .pubkey(self.me)
                .limit(10_000),
            Filter::new()
                .kind(Kind::EncryptedDirectMessage)
                .author(self.me)
                .limit(10_000),
        ])?;
        let mut pass = gate::Pass::new(self);
        self.release_requests(&mut pass).await?;
        for e in wraps.iter().chain(&legacy) {
            if self.feature::<DmState>().knows(&e.id) || self.is_request(&e.id) {
                continue; // waiting wraps are tried again: the hour may have turned
            }
            let gated = if e.kind == Kind::GiftWrap {
                self.gate_wrap(&mut pass, e).await?
            } else {
                match self.gate_legacy(&mut pass, e).await? {
                    Some(g) => g,
                    None => gate::Gated::Open(self.open_legacy(e).await),
                }
            };
            let gate::Gated::Open(opened) = gated else {
                continue;
            };
            if opened == Err(Dropped::SignerUnavailable) {
                continue; // try again later
            }
            self.remember(e.id, opened);
        }
        Ok(self.opened_messages())
    }

    /// The messages opened so far, oldest first (no wrap read or opened).
    fn opened_messages(&self) -> Vec<DmMessage> {
        let opened = self
            .feature::<DmState>()
            .opened
            .lock()
            .map(|o| o.clone())
            .unwrap_or_default();
        let mut by_id: BTreeMap<EventId, DmMessage> = BTreeMap::new();
        for m in opened.into_values().flatten() {
            by_id.insert(m.id, m);
        }
        let mut all: Vec<DmMessage> = by_id.into_values().collect();
        all.sort_by_key(|m| (m.created_at, m.id));
        all
    }

    pub(crate) async fn open_legacy(&self, e: &Event) -> Result<DmMessage, Dropped> {
        let peer = if e.pubkey == self.me {
            e.tags.public_keys().next().ok_or(Dropped::BadRumor)?
        } else {
            e.pubkey
        };
        if e.content.len() > wrap::MAX_RUMOR_BYTES {
            return Err(Dropped::Oversized);
        }
        let text = self
            .signer
            .nip04_decrypt(&peer, &e.content)
            .await
            .map_err(|err| match err {
                crate::base::signer::SignerError::Crypto(_) => Dropped::Undecryptable,
                _ => Dropped::SignerUnavailable,
            })?;
        Ok(DmMessage {
            id: e.id,
            author: e.pubkey,
            created_at: e.created_at,
            text,
            subject: None,
            participants: [e.pubkey, peer].into_iter().collect(),
            legacy: true,
        })
    }

    /// Conversations, newest first, with unread counts.
    pub async fn conversations(&self) -> Result<Vec<Conversation>, SessionError> {
        let all = self.dm_messages().await?;
        let read = self.read_markers().await;
        let mut groups: BTreeMap<String, Vec<DmMessage>> = BTreeMap::new();
        for m in all {
            groups.entry(self.conversation_key(&m)).or_default().push(m);
        }
        let mut out: Vec<Conversation> = groups
            .into_iter()
            .filter_map(|(key, messages)| {
                let last = messages.last()?.clone();
                let seen = read.get(&key).copied().unwrap_or(0);
                Some(Conversation {
                    with: last
                        .participants
                        .iter()
                        .copied()
                        .filter(|p| *p != self.me)
                        .collect(),
                    last_at: last.created_at,
                    preview: last.text.chars().take(80).collect(),
                    unread: messages
                        .iter()
                        .filter(|m| m.author != self.me && m.created_at.as_secs() > seen)
                        .count(),
                    subject: messages.iter().rev().find_map(|m| m.subject.clone()),
                    legacy: messages.iter().any(|m| m.legacy),
                    messages: messages.len(),
                })
            })
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.last_at));
        Ok(out)
    }

    /// The messages of the conversation with exactly `with` (the user
    /// aside), oldest first; marks it read. Asking for one person's
    /// conversation opens their message requests too (reading is
    /// accepting: from then on their messages open without asking).
    pub async fn conversation(&self, with: &[PublicKey]) -> Result<Vec<DmMessage>, SessionError> {
        let others: Vec<PublicKey> = with.iter().copied().filter(|p| *p != self.me).collect();
        let key = key_of(&others);
        self.dm_messages().await?;
        self.open_requests_of(&others).await;
        let messages: Vec<DmMessage> = self
            .opened_messages()
            .into_iter()
            .filter(|m| self.conversation_key(m) == key)
            .collect();
        if let Some(last) = messages.last() {
            self.mark_read(&key, last.created_at.as_secs()).await?;
        }
        Ok(messages)
    }

    /// The key of the conversation `m` belongs to (everyone but the user).
    fn conversation_key(&self, m: &DmMessage) -> String {
        let with: Vec<PublicKey> = m
            .participants
            .iter()
            .copied()
            .filter(|p| *p != self.me)
            .collect();
        key_of(&with)
    }

    /// Wraps and kind-4 messages dropped so far, per reason.
    pub fn dm_drops(&self) -> BTreeMap<&'static str, u64> {
        self.feature::<DmState>()
            .drops
            .lock()
            .map(|d| d.iter().map(|(k, v)| (k.as_str(), *v)).collect())
            .unwrap_or_default()
    }

    pub(crate) async fn read_markers(&self) -> HashMap<String, u64> {
        if let Some(m) = self
            .feature::<DmState>()
            .read
            .lock()
            .ok()
            .and_then(|r| r.clone())
        {
            return m;
        }
        let loaded = match std::fs::read_to_string(self.read_markers_path()) {
            Ok(payload) => match self.signer.nip44_decrypt(&self.me, payload.trim()).await {
                Ok(json) => serde_json::from_str(&json).unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %e, "DM read markers unreadable; starting afresh");
                    HashMap::new()
                }
            },
            Err(_) => HashMap::new(),
        };
        if let Ok(mut r) = self.feature::<DmState>().read.lock() {
            *r = Some(loaded.clone());
        }
        loaded
    }

    async fn mark_read(&self, key: &str, at: u64) -> Result<(), SessionError> {
        let mut markers = self.read_markers().await;
        if markers.get(key).copied().unwrap_or(0) >= at {
            return Ok(());
        }
        markers.insert(key.to_owned(), at);
        let json = serde_json::to_string(&markers).unwrap_or_default();
        let payload = self.signer.nip44_encrypt(&self.me, &json).await?;
        let path = self.read_markers_path();
        std::fs::write(&path, payload).map_err(|source| {
            SessionError::Settings(crate::base::settings::SettingsError::Io {
                op: "writing",
                path,
                source,
            })
        })?;
        if let Ok(mut r) = self.feature::<DmState>().read.lock() {
            *r = Some(markers);
        }
        Ok(())
    }
}

pub(crate) fn message_of(rumor: &UnsignedEvent, legacy: bool) -> Result<DmMessage, Dropped> {
    let id = rumor.id.ok_or(Dropped::BadRumor)?;
    let mut participants: BTreeSet<PublicKey> = rumor.tags.public_keys().collect();
    participants.insert(rumor.pubkey);
    let subject = rumor
        .tags
        .iter()
        .find(|t| t.as_slice().first().map(String::as_str) == Some("subject"))
        .and_then(|t| t.as_slice().get(1).cloned());
    Ok(DmMessage {
        id,
        author: rumor.pubkey,
        created_at: rumor.created_at,
        text: rumor.content.clone(),
        subject,
        participants,
        legacy,
    })
}
