//! NIP-77 negentropy, the client side: which of our events a relay lacks
//! and which of its events we lack, learned by exchanging fingerprints of
//! ranges instead of ids or events.
//!
//! A [`NegBook`] lives in each relay actor and holds its reconciliations in
//! flight, each keyed by its NEG subscription id. The negentropy state
//! machine (the `negentropy` crate) runs inside the actor: its steps are
//! cheap. A reconciliation ends with a [`NegOutcome`] or a [`NegError`]: a
//! relay that does not speak NIP-77 (it answers with a NOTICE or not at all)
//! gives [`NegError::Unsupported`], so the caller can fall back to ids.

use std::collections::HashMap;

use negentropy::{Id, Negentropy, NegentropyStorageVector};
use nostr::prelude::*;
use serde_json::json;
use std::time::Instant;
use tokio::sync::oneshot;

/// Largest negentropy frame we ask for (bytes before hex): keeps each
/// NEG-MSG well under common message-size limits.
const FRAME_LIMIT: u64 = 32_768;

/// What a finished reconciliation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NegOutcome {
    /// Ids we have and the relay lacks.
    pub have: Vec<EventId>,
    /// Ids the relay has and we lack.
    pub need: Vec<EventId>,
    /// NEG-MSG round trips.
    pub rounds: u32,
    /// Bytes of NEG messages sent (JSON text).
    pub bytes_sent: u64,
    /// Bytes of NEG messages received (JSON text).
    pub bytes_received: u64,
}

/// Why a reconciliation gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegError {
    /// The relay does not speak NIP-77 (what it said, if anything).
    #[error("the relay does not support NIP-77 negentropy: {0}")]
    Unsupported(String),
    /// The relay refused (NEG-ERR with its reason).
    #[error("the relay refused the reconciliation: {0}")]
    Refused(String),
    /// The exchange broke (bad message, connection lost).
    #[error("the reconciliation failed: {0}")]
    Failed(String),
    /// No answer in time.
    #[error("the relay did not answer the reconciliation in time")]
    TimedOut,
}

/// One reconciliation in flight.
pub(crate) struct NegSync {
    filter: Filter,
    items: Vec<(u64, [u8; 32])>,
    neg: Negentropy<'static, NegentropyStorageVector>,
    initial: String,
    have: Vec<Id>,
    need: Vec<Id>,
    outcome: NegOutcome,
    reply: oneshot::Sender<Result<NegOutcome, NegError>>,
    deadline: Instant,
    /// Sent NEG-OPEN and heard nothing back yet.
    waiting_first: bool,
    /// Waiting for AUTH before re-opening.
    awaiting_auth: bool,
    auth_retried: bool,
}

fn start(
    items: &[(u64, [u8; 32])],
) -> Result<(Negentropy<'static, NegentropyStorageVector>, String), NegError> {
    let broken = |e: negentropy::Error| NegError::Failed(e.to_string());
    let mut storage = NegentropyStorageVector::with_capacity(items.len());
    for (at, id) in items {
        storage
            .insert(*at, Id::from_byte_array(*id))
            .map_err(broken)?;
    }
    storage.seal().map_err(broken)?;
    let mut neg = Negentropy::owned(storage, FRAME_LIMIT).map_err(broken)?;
    let initial = neg.initiate().map_err(broken)?;
    Ok((neg, hex::encode(initial)))
}

impl NegSync {
    /// A reconciliation of `items` (our events matching `filter`: created_at
    /// and id) that answers on `reply` by `deadline`.
    pub(crate) fn new(
        filter: Filter,
        items: Vec<(Timestamp, EventId)>,
        reply: oneshot::Sender<Result<NegOutcome, NegError>>,
        deadline: Instant,
    ) -> Result<Self, (NegError, oneshot::Sender<Result<NegOutcome, NegError>>)> {
        let items: Vec<(u64, [u8; 32])> = items
            .into_iter()
            .map(|(t, id)| (t.as_secs(), id.to_bytes()))
            .collect();
        let (neg, initial) = match start(&items) {
            Ok(x) => x,
            Err(e) => return Err((e, reply)),
        };
        Ok(Self {
            filter,
            items,
            neg,
            initial,
            have: Vec::new(),
            need: Vec::new(),
            outcome: NegOutcome::default(),
            reply,
            deadline,
            waiting_first: false,
            awaiting_auth: false,
            auth_retried: false,
        })
    }

    fn open(&mut self, sub: &str) -> String {
        self.waiting_first = true;
        self.awaiting_auth = false;
        let msg = json!(["NEG-OPEN", sub, self.filter, self.initial]).to_string();
        self.outcome.bytes_sent += msg.len() as u64;
        msg
    }

    fn finish(self, result: Result<(), NegError>) {
        let answer = result.map(|()| {
            let ids = |v: &[Id]| -> Vec<EventId> {
                v.iter()
                    .filter_map(|id| EventId::from_slice(id.as_bytes()).ok())
                    .collect()
            };
            NegOutcome {
                have: ids(&self.have),
                need: ids(&self.need),
                ..self.outcome
            }
        });
        let _ = self.reply.send(answer);
    }
}

/// What the actor should do after a NEG-ERR.
pub(crate) enum AfterError {
    /// Authenticate, then the book re-opens it ([`NegBook::reopen_after_auth`]).
    Authenticate,
    /// Nothing more (the caller was answered).
    Done,
}

/// The reconciliations of one relay connection.
#[derive(Default)]
pub(crate) struct NegBook {
    syncs: HashMap<String, NegSync>,
}

impl NegBook {
    /// Adds a reconciliation; `Some(message)` to send if connected.
    pub(crate) fn add(
        &mut self,
        sub: String,
        mut sync: NegSync,
        connected: bool,
    ) -> Option<String> {
        let msg = connected.then(|| sync.open(&sub));
        if let Some(old) = self.syncs.insert(sub, sync) {
            old.finish(Err(NegError::Failed(
                "replaced by a newer reconciliation".into(),
            )));
        }
        msg
    }

    /// NEG-OPEN for every reconciliation (a new connection).
    pub(crate) fn open_all(&mut self, out: &mut Vec<String>) {
        for (sub, sync) in &mut self.syncs {
            out.push(sync.open(sub));
        }
    }

    /// A NEG-MSG from the relay: the next message, or the end.
    pub(crate) fn on_msg(&mut self, sub: &str, hex_msg: &str, out: &mut Vec<String>) {
        let Some(mut sync) = self.syncs.remove(sub) else {
            return;
        };
        sync.waiting_first = false;
        sync.outcome.rounds += 1;
        sync.outcome.bytes_received += (hex_msg.len() + sub.len() + 16) as u64;
        let step = hex::decode(hex_msg)
            .map_err(|e| NegError::Failed(format!("NEG-MSG is not hex: {e}")))
            .and_then(|bytes| {
                let (mut have, mut need) = (Vec::new(), Vec::new());
                let next = sync
                    .neg
                    .reconcile_with_ids(&bytes, &mut have, &mut need)
                    .map_err(|e| NegError::Failed(e.to_string()))?;
                sync.have.extend(have);
                sync.need.extend(need);
                Ok(next)
            });
        match step {
            Ok(Some(next)) => {
                let msg = json!(["NEG-MSG", sub, hex::encode(next)]).to_string();
                sync.outcome.bytes_sent += msg.len() as u64;
                out.push(msg);
                self.syncs.insert(sub.to_owned(), sync);
            }
            Ok(None) => {
                out.push(json!(["NEG-CLOSE", sub]).to_string());
                sync.finish(Ok(()));
            }
            Err(e) => {
                out.push(json!(["NEG-CLOSE", sub]).to_string());
                sync.finish(Err(e));
            }
        }
    }

    /// A NEG-ERR from the relay.
    pub(crate) fn on_err(&mut self, sub: &str, reason: &str, authenticated: bool) -> AfterError {
        let Some(mut sync) = self.syncs.remove(sub) else {
            return AfterError::Done;
        };
        if reason.starts_with("auth-required:") && !sync.auth_retried && !authenticated {
            sync.auth_retried = true;
            sync.awaiting_auth = true;
            sync.waiting_first = false;
            // The relay dropped its state: start over after AUTH.
            match start(&sync.items) {
                Ok((neg, initial)) => {
                    sync.neg = neg;
                    sync.initial = initial;
                    sync.have.clear();
                    sync.need.clear();
                    self.syncs.insert(sub.to_owned(), sync);
                    return AfterError::Authenticate;
                }
                Err(e) => {
                    sync.finish(Err(e));
                    return AfterError::Done;
                }
            }
        }
        sync.finish(Err(NegError::Refused(reason.to_owned())));
        AfterError::Done
    }

    /// Re-opens what waited for AUTH (it succeeded).
    pub(crate) fn reopen_after_auth(&mut self, out: &mut Vec<String>) {
        for (sub, sync) in &mut self.syncs {
            if sync.awaiting_auth {
                out.push(sync.open(sub));
            }
        }
    }

    /// AUTH failed or was declined: what waited for it is refused.
    pub(crate) fn refuse_waiting_for_auth(&mut self, reason: &str) {
        let waiting: Vec<String> = self
            .syncs
            .iter()
            .filter(|(_, s)| s.awaiting_auth)
            .map(|(k, _)| k.clone())
            .collect();
        for sub in waiting {
            if let Some(sync) = self.syncs.remove(&sub) {
                sync.finish(Err(NegError::Refused(reason.to_owned())));
            }
        }
    }

    /// A NOTICE while a NEG-OPEN has had no answer: the relay most likely
    /// does not know the message (NIP-77 unsupported).
    pub(crate) fn on_notice(&mut self, text: &str) {
        let waiting: Vec<String> = self
            .syncs
            .iter()
            .filter(|(_, s)| s.waiting_first)
            .map(|(k, _)| k.clone())
            .collect();
        for sub in waiting {
            if let Some(sync) = self.syncs.remove(&sub) {
                sync.finish(Err(NegError::Unsupported(text.to_owned())));
            }
        }
    }

    /// Answers reconciliations past their deadline; a relay that never
    /// answered a NEG-OPEN is taken not to support NIP-77.
    pub(crate) fn expire(&mut self, now: Instant) {
        let late: Vec<String> = self
            .syncs
            .iter()
            .filter(|(_, s)| s.deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for sub in late {
            if let Some(sync) = self.syncs.remove(&sub) {
                let err = if sync.waiting_first {
                    NegError::Unsupported("no answer to NEG-OPEN".into())
                } else {
                    NegError::TimedOut
                };
                sync.finish(Err(err));
            }
        }
    }

    /// The connection ended: every reconciliation in flight fails (the
    /// relay's state is gone).
    pub(crate) fn fail_all(&mut self, why: &str) {
        for (_, sync) in self.syncs.drain() {
            sync.finish(Err(NegError::Failed(why.to_owned())));
        }
    }
}

/// Lower-case hex of NEG messages (NIP-77 hex-encodes the binary protocol).
mod hex {
    pub(super) fn encode(bytes: impl AsRef<[u8]>) -> String {
        faster_hex::hex_string(bytes.as_ref())
    }

    pub(super) fn decode(text: &str) -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; text.len() / 2];
        if text.len() % 2 != 0 {
            return Err("odd number of hex digits".into());
        }
        faster_hex::hex_decode(text.as_bytes(), &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }
}
