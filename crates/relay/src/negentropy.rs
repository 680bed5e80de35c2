//! NIP-77 negentropy, the relay side: a client sends `NEG-OPEN` with a
//! filter and its first message; the relay answers `NEG-MSG` from the set of
//! events it holds that match (and that this connection may read: DMs and
//! gift wraps only for their authenticated parties), until the client sends
//! `NEG-CLOSE`. Each connection holds a few such sessions at most, each over
//! a bounded number of records; beyond that the answer is `NEG-ERR` with
//! `blocked:`. The state machine is the field's `negentropy` crate.

use std::collections::HashMap;

use negentropy::{Id, Negentropy, NegentropyStorageVector};
use nostr::prelude::*;
use serde_json::{json, Value};

/// Most events one reconciliation covers; a larger set gets `blocked:`.
pub const MAX_RECORDS: usize = 500_000;

/// Most filters one `NEG-OPEN` may carry (as an array).
const MAX_FILTERS: usize = 16;

/// Most reconciliations one connection may hold open.
pub const MAX_SESSIONS: usize = 8;

/// Largest frame the relay answers with (bytes before hex).
const FRAME_LIMIT: u64 = 60_000;

/// `["NEG-MSG", sub, hex]`.
pub fn msg(sub: &str, bytes: &[u8]) -> String {
    json!(["NEG-MSG", sub, faster_hex::hex_string(bytes)]).to_string()
}

/// `["NEG-ERR", sub, reason]`.
pub fn err(sub: &str, reason: &str) -> String {
    json!(["NEG-ERR", sub, reason]).to_string()
}

/// A parsed `NEG-OPEN`.
#[derive(Debug)]
pub struct Open {
    /// Subscription id.
    pub sub: String,
    /// Which events to reconcile (NIP-77 sends one filter; NDK's client
    /// sends an array of them, taken as their union).
    pub filters: Vec<Filter>,
    /// The client's first message.
    pub message: Vec<u8>,
}

/// Reads the hex payload of a NEG message.
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err("invalid: odd number of hex digits".into());
    }
    let mut out = vec![0u8; text.len() / 2];
    faster_hex::hex_decode(text.as_bytes(), &mut out)
        .map_err(|e| format!("invalid: message is not hex ({e})"))?;
    Ok(out)
}

/// Parses `["NEG-OPEN", sub, filter, hex]`; the error is a `NEG-ERR` (or,
/// without a subscription id, a NOTICE text).
pub fn parse_open(items: &[Value], max_subid: usize) -> Result<Open, (Option<String>, String)> {
    let sub = items
        .get(1)
        .and_then(Value::as_str)
        .ok_or((None, "invalid: NEG-OPEN needs a subscription id".to_owned()))?;
    if sub.is_empty() || sub.chars().count() > max_subid {
        return Err((
            Some(sub.to_owned()),
            format!("invalid: subscription id must be 1 to {max_subid} characters"),
        ));
    }
    let bad = |why: String| (Some(sub.to_owned()), why);
    let raw = items
        .get(2)
        .cloned()
        .ok_or_else(|| bad("invalid: NEG-OPEN needs a filter".into()))?;
    let raw = match raw {
        Value::Array(many) if !many.is_empty() && many.len() <= MAX_FILTERS => many,
        Value::Array(_) => {
            return Err(bad(format!(
                "invalid: NEG-OPEN takes one filter (or 1 to {MAX_FILTERS} in an array)"
            )))
        }
        one => vec![one],
    };
    let filters = raw
        .into_iter()
        .map(|f| {
            serde_json::from_value::<Filter>(f)
                .map_err(|e| bad(format!("invalid: malformed filter ({e})")))
        })
        .collect::<Result<Vec<Filter>, _>>()?;
    let message = items
        .get(3)
        .and_then(Value::as_str)
        .ok_or_else(|| bad("invalid: NEG-OPEN needs an initial message".into()))
        .and_then(|m| decode(m).map_err(bad))?;
    Ok(Open {
        sub: sub.to_owned(),
        filters,
        message,
    })
}

/// The reconciliations of one connection.
#[derive(Default)]
pub struct Sessions {
    open: HashMap<String, Negentropy<'static, NegentropyStorageVector>>,
}

impl Sessions {
    /// Starts a reconciliation over `records` (created_at, id) and answers
    /// the client's first message; the answer to send.
    pub fn open(&mut self, sub: &str, records: &[(u64, [u8; 32])], first: &[u8]) -> String {
        self.open.remove(sub);
        if self.open.len() >= MAX_SESSIONS {
            return err(
                sub,
                &format!("blocked: {MAX_SESSIONS} reconciliations at once is the limit"),
            );
        }
        let started = (|| {
            let mut storage = NegentropyStorageVector::with_capacity(records.len());
            for (at, id) in records {
                storage.insert(*at, Id::from_byte_array(*id))?;
            }
            storage.seal()?;
            let mut neg = Negentropy::owned(storage, FRAME_LIMIT)?;
            let answer = neg.reconcile(first)?;
            Ok::<_, negentropy::Error>((neg, answer))
        })();
        match started {
            Ok((neg, answer)) => {
                self.open.insert(sub.to_owned(), neg);
                msg(sub, &answer)
            }
            Err(e) => err(sub, &format!("invalid: {e}")),
        }
    }

    /// The client's next message; the answer to send.
    pub fn next(&mut self, sub: &str, message: &[u8]) -> String {
        let Some(neg) = self.open.get_mut(sub) else {
            return err(sub, "closed: no such reconciliation (send NEG-OPEN first)");
        };
        match neg.reconcile(message) {
            Ok(answer) => msg(sub, &answer),
            Err(e) => {
                self.open.remove(sub);
                err(sub, &format!("invalid: {e}"))
            }
        }
    }

    /// Forgets a reconciliation.
    pub fn close(&mut self, sub: &str) {
        self.open.remove(sub);
    }
}

impl crate::connection::Connection {
    /// NIP-77 `NEG-OPEN`: the set of stored events matching the filter that
    /// this connection may read, reconciled against the client's message.
    pub(crate) async fn handle_neg_open(&mut self, open: Open) {
        self.state.metrics.request("NEG-OPEN");
        if !self.state.allow_req(self.ip) {
            return self.send(err(&open.sub, "rate-limited: too many requests"));
        }
        if let Err(reason) = self.read_access(&open.filters) {
            return self.send(err(&open.sub, &reason));
        }
        let filters: Vec<Filter> = open
            .filters
            .iter()
            .cloned()
            .map(|mut f| {
                f.limit = Some(f.limit.unwrap_or(MAX_RECORDS + 1).min(MAX_RECORDS + 1));
                f
            })
            .collect();
        let started = std::time::Instant::now();
        let result = crate::storage::query(&self.state.store, filters).await;
        self.state.metrics.query_took(started.elapsed());
        let events = match result {
            Ok(events) => events,
            Err(e) => return self.send(err(&open.sub, &crate::reads::query_failure(e))),
        };
        if events.len() > MAX_RECORDS {
            return self.send(err(
                &open.sub,
                &format!("blocked: more than {MAX_RECORDS} events match; narrow the filter"),
            ));
        }
        let policy = self.state.policy();
        let authed = self.shared.authenticated();
        let records: Vec<(u64, [u8; 32])> = events
            .iter()
            .filter(|e| policy.can_read(e, &authed))
            .map(|e| (e.created_at.as_secs(), e.id.to_bytes()))
            .collect();
        let answer = self.negs.open(&open.sub, &records, &open.message);
        self.send(answer);
    }
}
