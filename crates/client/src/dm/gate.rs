//! The gift-wrap gate: anyone can send the user a gift wrap, and each one
//! costs decryptions (with a NIP-46 bunker, a round trip each). So wraps
//! are opened only as far as is cheap:
//!
//! 1. **Work first.** A wrap whose id carries NIP-13 work of at least
//!    `TrustSettings::wrap_pow_accepted` bits (checked before any
//!    decryption) is opened whoever sent it and skips the requests folder.
//! 2. **An hourly limit per relay.** Past `stranger_wraps_per_hour` wraps
//!    from one relay whose sender turned out to be a stranger (or that were
//!    garbage), the rest from that relay wait, unopened, for the next hour.
//!    Wraps from people in the network cost the limit nothing, so a flood
//!    costs at most the limit's number of decryptions an hour per relay.
//! 3. **The seal decides.** The outer layer (one decryption) names the
//!    sender. Below the DM threshold the seal stays closed: the wrap goes to
//!    the requests folder, opened only when the user asks.
//!
//! Legacy kind-4 messages name their author in the clear, so a stranger's
//! goes to the requests folder without any decryption.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use nostr::prelude::*;
use serde::Serialize;

use super::wrap::{self, Dropped};
use super::{message_of, DmMessage, DmState};
use crate::base::pow::leading_zero_bits;
use crate::base::settings::TrustSettings;
use crate::session::trust::Surface;
use crate::session::{Session, SessionError};

/// A private message from someone outside the user's network, not opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmRequest {
    /// The wrap (or the kind-4 event).
    pub id: EventId,
    /// Who sent it (the seal's author).
    pub from: PublicKey,
    /// The seal's date (blurred by the sender's client up to two days).
    pub at: Timestamp,
}

/// The requests of one sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestFolder {
    /// Who.
    pub from: PublicKey,
    /// How many messages wait.
    pub messages: usize,
    /// The newest one's date.
    pub last_at: u64,
}

/// How the gate stands (`dm requests`, the desktop's Messages tab).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GateReport {
    /// Message requests, by sender, newest first.
    pub requests: Vec<RequestFolder>,
    /// Wraps waiting, unopened, for the next hour's limit.
    pub waiting: usize,
    /// Per relay, wraps from strangers opened this hour.
    pub strangers_this_hour: BTreeMap<String, u32>,
}

/// What the gate keeps in the session (memory only, like opened messages).
#[derive(Default)]
pub(crate) struct GateState {
    /// Relay → (hour, wraps from strangers opened in it).
    spent: Mutex<HashMap<String, (u64, u32)>>,
    /// Requests with what opens them later: the seal, or the kind-4 event.
    requests: Mutex<HashMap<EventId, (DmRequest, Event)>>,
    /// Wraps over the hourly limit.
    waiting: Mutex<HashSet<EventId>>,
    /// Senders whose requests the user opened in this session.
    accepted: Mutex<HashSet<PublicKey>>,
}

/// What the gate did with one wrap or kind-4 message.
pub(crate) enum Gated {
    /// Opened (or dropped, with why).
    Open(Result<DmMessage, Dropped>),
    /// Into the requests folder.
    Request,
    /// Over the hourly limit: untouched.
    Waiting,
}

/// One pass of the DM reader over the stored wraps: the settings read once,
/// and each sender's verdict decided once (a verdict refreshes the web of
/// trust, so a thousand wraps from a few people cost a few refreshes).
pub(crate) struct Pass {
    settings: TrustSettings,
    verdicts: HashMap<PublicKey, bool>,
}

impl Pass {
    /// A pass with the settings in force now.
    pub(crate) fn new(session: &Session) -> Self {
        Self {
            settings: session.settings().trust,
            verdicts: HashMap::new(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn hour_now() -> u64 {
    Timestamp::now().as_secs() / 3600
}

impl Session {
    fn gate(&self) -> std::sync::Arc<GateState> {
        self.feature::<GateState>()
    }

    /// Whether `who`'s messages open without asking: the user, someone at
    /// or above the DM threshold, or someone whose conversation the user
    /// has read before (reading is accepting; the read markers persist it,
    /// encrypted) or accepted in this session.
    async fn lets_in(&self, pass: &mut Pass, who: PublicKey) -> Result<bool, SessionError> {
        if let Some(verdict) = pass.verdicts.get(&who) {
            return Ok(*verdict);
        }
        let verdict = who == self.me
            || lock(&self.gate().accepted).contains(&who)
            || self
                .trust_of(who)?
                .passes(Surface::Dms.threshold(&pass.settings))
            || self
                .read_markers()
                .await
                .contains_key(&super::key_of(&[who]));
        pass.verdicts.insert(who, verdict);
        Ok(verdict)
    }

    fn spent_this_hour(&self, relay: &str) -> u32 {
        let hour = hour_now();
        lock(&self.gate().spent)
            .get(relay)
            .filter(|(h, _)| *h == hour)
            .map_or(0, |(_, n)| *n)
    }

    fn spend(&self, relay: &str) {
        let hour = hour_now();
        let gate = self.gate();
        let mut spent = lock(&gate.spent);
        let entry = spent.entry(relay.to_owned()).or_insert((hour, 0));
        if entry.0 != hour {
            *entry = (hour, 0);
        }
        entry.1 += 1;
    }

    /// Whether the wrap or message `id` is in the requests folder.
    pub(crate) fn is_request(&self, id: &EventId) -> bool {
        lock(&self.gate().requests).contains_key(id)
    }

    /// Passes one gift wrap through the gate (see the module's text).
    pub(crate) async fn gate_wrap(
        &self,
        pass: &mut Pass,
        e: &Event,
    ) -> Result<Gated, SessionError> {
        let settings = pass.settings;
        let worked = settings.wrap_pow_accepted > 0
            && leading_zero_bits(e.id.as_bytes()) >= settings.wrap_pow_accepted;
        let relay = self
            .engine
            .store()
            .seen_on(&e.id)?
            .into_iter()
            .next()
            .map_or_else(|| "local".to_owned(), |s| s.relay);
        let gate = self.gate();
        if !worked && self.spent_this_hour(&relay) >= settings.stranger_wraps_per_hour {
            lock(&gate.waiting).insert(e.id);
            return Ok(Gated::Waiting);
        }
        lock(&gate.waiting).remove(&e.id);
        let seal = match wrap::open_wrap(self.signer.as_ref(), e).await {
            Ok(seal) => seal,
            Err(Dropped::SignerUnavailable) => {
                return Ok(Gated::Open(Err(Dropped::SignerUnavailable)))
            }
            Err(dropped) => {
                if !worked {
                    self.spend(&relay);
                }
                return Ok(Gated::Open(Err(dropped)));
            }
        };
        if worked || self.lets_in(pass, seal.pubkey).await? {
            let opened = wrap::open_seal(self.signer.as_ref(), &seal)
                .await
                .and_then(|r| message_of(&r, false));
            return Ok(Gated::Open(opened));
        }
        self.spend(&relay);
        let request = DmRequest {
            id: e.id,
            from: seal.pubkey,
            at: seal.created_at,
        };
        lock(&gate.requests).insert(e.id, (request, seal));
        Ok(Gated::Request)
    }

    /// Passes one legacy kind-4 message through the gate: a stranger's is a
    /// request (its author is in the clear: nothing is decrypted).
    pub(crate) async fn gate_legacy(
        &self,
        pass: &mut Pass,
        e: &Event,
    ) -> Result<Option<Gated>, SessionError> {
        if e.pubkey == self.me || self.lets_in(pass, e.pubkey).await? {
            return Ok(None);
        }
        let request = DmRequest {
            id: e.id,
            from: e.pubkey,
            at: e.created_at,
        };
        lock(&self.gate().requests).insert(e.id, (request, e.clone()));
        Ok(Some(Gated::Request))
    }

    /// Opens the requests of everyone `who` names now lets in (a sender
    /// the user followed since, or accepted): called before each read.
    pub(crate) async fn release_requests(&self, pass: &mut Pass) -> Result<(), SessionError> {
        let senders: HashSet<PublicKey> = lock(&self.gate().requests)
            .values()
            .map(|(r, _)| r.from)
            .collect();
        for who in senders {
            if self.lets_in(pass, who).await? {
                self.open_held(who).await;
            }
        }
        Ok(())
    }

    /// Opens the requests of the one person in `with`, if any: the user
    /// asked to read that conversation (reading is accepting).
    pub(crate) async fn open_requests_of(&self, with: &[PublicKey]) {
        if let [who] = with {
            let held = lock(&self.gate().requests)
                .values()
                .any(|(r, _)| r.from == *who);
            if held {
                lock(&self.gate().accepted).insert(*who);
                self.open_held(*who).await;
            }
        }
    }

    async fn open_held(&self, who: PublicKey) {
        let held: Vec<(EventId, Event)> = {
            let gate = self.gate();
            let mut requests = lock(&gate.requests);
            let ids: Vec<EventId> = requests
                .iter()
                .filter(|(_, (r, _))| r.from == who)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| requests.remove(&id).map(|(_, e)| (id, e)))
                .collect()
        };
        for (id, e) in held {
            let opened = if e.kind == Kind::Seal {
                wrap::open_seal(self.signer.as_ref(), &e)
                    .await
                    .and_then(|r| message_of(&r, false))
            } else {
                self.open_legacy(&e).await
            };
            if opened == Err(Dropped::SignerUnavailable) {
                continue;
            }
            self.remember(id, opened);
        }
    }

    /// Opens the requests from `who` and lets their later messages in for
    /// this session (following them lets them in for good). Returns the
    /// conversation with them.
    pub async fn accept_requests(&self, who: PublicKey) -> Result<Vec<DmMessage>, SessionError> {
        lock(&self.gate().accepted).insert(who);
        self.open_held(who).await;
        self.conversation(&[who]).await
    }

    /// Opens every request (`dm list --all`).
    pub async fn accept_all_requests(&self) -> Result<(), SessionError> {
        let senders: HashSet<PublicKey> = lock(&self.gate().requests)
            .values()
            .map(|(r, _)| r.from)
            .collect();
        for who in senders {
            lock(&self.gate().accepted).insert(who);
            self.open_held(who).await;
        }
        Ok(())
    }

    /// The requests folder and the gate's state, after reading what the
    /// store holds.
    pub async fn dm_requests(&self) -> Result<GateReport, SessionError> {
        self.dm_messages().await?;
        let gate = self.gate();
        let mut by_sender: HashMap<PublicKey, RequestFolder> = HashMap::new();
        for (r, _) in lock(&gate.requests).values() {
            let folder = by_sender.entry(r.from).or_insert(RequestFolder {
                from: r.from,
                messages: 0,
                last_at: 0,
            });
            folder.messages += 1;
            folder.last_at = folder.last_at.max(r.at.as_secs());
        }
        let mut requests: Vec<RequestFolder> = by_sender.into_values().collect();
        requests.sort_by_key(|f| std::cmp::Reverse((f.last_at, f.from)));
        let hour = hour_now();
        let strangers_this_hour = lock(&gate.spent)
            .iter()
            .filter(|(_, (h, _))| *h == hour)
            .map(|(r, (_, n))| (r.clone(), *n))
            .collect();
        let waiting = lock(&gate.waiting).len();
        Ok(GateReport {
            requests,
            waiting,
            strangers_this_hour,
        })
    }
}

impl DmState {
    /// Whether `id` was opened (or dropped) already.
    pub(crate) fn knows(&self, id: &EventId) -> bool {
        self.opened
            .lock()
            .map(|o| o.contains_key(id))
            .unwrap_or(false)
    }
}
