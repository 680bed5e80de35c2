//! Per-connection subscription state: the REQs actually open on the wire for
//! each logical subscription, within the relay's declared limits
//! (`max_filters` splits one subscription into several REQs,
//! `max_subscriptions` makes the rest wait, `max_limit` lowers limits), EOSE
//! tracking, and what AUTH is waiting for.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use nostr::prelude::*;
use serde_json::json;

use crate::nip11::RelayLimits;

/// A subscription id for the wire: random for every REQ (and NEG-OPEN), so
/// the logical names the engine uses (`feed`, `inbox`, …) never reach a
/// relay, and relays comparing logs cannot tie two connections, two runs or
/// two circuits together by an id (16 hex digits: 64 random bits).
pub(crate) fn random_sub_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// One REQ on the wire; a logical subscription may need several when the
/// relay limits filters per REQ.
pub(crate) struct WireSub {
    pub(crate) logical: String,
    pub(crate) filters: Vec<Filter>,
    pub(crate) eose: bool,
    pub(crate) opened: Instant,
}

/// Per-connection state.
pub(crate) struct Session {
    pub(crate) wire: HashMap<String, WireSub>,
    /// Wire subscriptions waiting for room under the relay's `max_subscriptions`.
    pub(crate) queued: VecDeque<(String, String, Vec<Filter>)>,
    pub(crate) challenge: Option<String>,
    pub(crate) auth_event: Option<EventId>,
    pub(crate) authenticated: bool,
    pub(crate) deferred_subs: Vec<(String, Vec<Filter>)>,
    pub(crate) batch: Vec<(String, Event)>,
    pub(crate) malformed: usize,
    pub(crate) received: HashMap<String, usize>,
}

impl Session {
    /// A fresh session with nothing open.
    pub(crate) fn new() -> Self {
        Self {
            wire: HashMap::new(),
            queued: VecDeque::new(),
            challenge: None,
            auth_event: None,
            authenticated: false,
            deferred_subs: Vec::new(),
            batch: Vec::new(),
            malformed: 0,
            received: HashMap::new(),
        }
    }

    /// Opens a logical subscription as one or more REQs within the relay's
    /// limits: at most `max_filters` filters and `max_message_length` bytes
    /// per REQ (a relay drops a REQ that is too long without an answer).
    pub(crate) fn open(
        &mut self,
        id: &str,
        filters: Vec<Filter>,
        limits: &RelayLimits,
        out: &mut Vec<String>,
    ) {
        let filters: Vec<Filter> = filters
            .into_iter()
            .map(|mut f| {
                if let (Some(max), Some(limit)) = (limits.max_limit, f.limit) {
                    f.limit = Some(limit.min(max));
                }
                f
            })
            .collect();
        let per_req = limits.max_filters.unwrap_or(usize::MAX).max(1);
        let budget = limits
            .max_message_length
            .unwrap_or(DEFAULT_MESSAGE_BUDGET)
            .saturating_sub(REQ_OVERHEAD)
            .max(1);
        for chunk in pack(filters, per_req, budget) {
            self.queued
                .push_back((random_sub_id(), id.to_owned(), chunk));
        }
        self.activate_queued(limits, out);
    }

    /// Sends queued REQs while the relay's subscription limit allows.
    pub(crate) fn activate_queued(&mut self, limits: &RelayLimits, out: &mut Vec<String>) {
        let max = limits.max_subscriptions.unwrap_or(usize::MAX);
        while self.wire.len() < max {
            let Some((wire_id, logical, filters)) = self.queued.pop_front() else {
                break;
            };
            let mut req = vec![json!("REQ"), json!(wire_id)];
            req.extend(
                filters
                    .iter()
                    .map(|f| serde_json::to_value(f).unwrap_or(json!({}))),
            );
            out.push(serde_json::Value::Array(req).to_string());
            self.received.remove(&wire_id);
            self.wire.insert(
                wire_id,
                WireSub {
                    logical,
                    filters,
                    eose: false,
                    opened: Instant::now(),
                },
            );
        }
    }

    pub(crate) fn close_logical(&mut self, id: &str, out: &mut Vec<String>) {
        let wires: Vec<String> = self
            .wire
            .iter()
            .filter(|(_, w)| w.logical == id)
            .map(|(k, _)| k.clone())
            .collect();
        for w in wires {
            out.push(json!(["CLOSE", w]).to_string());
            self.wire.remove(&w);
        }
        self.queued.retain(|(_, logical, _)| logical != id);
    }

    pub(crate) fn close_logical_silently(&mut self, id: &str) {
        self.wire.retain(|_, w| w.logical != id);
        self.queued.retain(|(_, logical, _)| logical != id);
    }

    /// Marks a wire subscription's EOSE; returns the logical id once all of
    /// its wire subscriptions (and none queued) have reached EOSE.
    pub(crate) fn mark_eose(&mut self, wire_id: &str) -> Option<String> {
        let w = self.wire.get_mut(wire_id)?;
        if w.eose {
            return None;
        }
        w.eose = true;
        let logical = w.logical.clone();
        let done = self
            .wire
            .values()
            .filter(|w| w.logical == logical)
            .all(|w| w.eose)
            && !self.queued.iter().any(|(_, l, _)| *l == logical);
        done.then_some(logical)
    }
}

/// How far before the caught-up time a reconnect asks again (clock skew,
/// events in flight when the connection dropped).
const RECONNECT_MARGIN_SECS: u64 = 120;

/// The filters to re-send after a reconnect: with `since` moved up to the
/// caught-up time (less a margin) when there is one. Filters by id are
/// left as they are.
pub(crate) fn narrowed(filters: &[Filter], caught_up: Option<Timestamp>) -> Vec<Filter> {
    let Some(t) = caught_up else {
        return filters.to_vec();
    };
    let from = Timestamp::from_secs(t.as_secs().saturating_sub(RECONNECT_MARGIN_SECS));
    filters
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if f.ids.is_none() && f.since.is_none_or(|s| s < from) {
                f.since = Some(from);
            }
            f
        })
        .collect()
}

/// Bytes assumed allowed per message when the relay does not say (NIP-11):
/// below the common 128 KiB.
const DEFAULT_MESSAGE_BUDGET: usize = 96 * 1024;

/// Room for `["REQ","<id>",` and the closing bracket.
const REQ_OVERHEAD: usize = 256;

/// Splits `filters` into REQs of at most `per_req` filters and about
/// `budget` bytes each (a single larger filter still goes alone).
fn pack(filters: Vec<Filter>, per_req: usize, budget: usize) -> Vec<Vec<Filter>> {
    let mut out: Vec<Vec<Filter>> = Vec::new();
    let mut size = 0;
    for f in filters {
        let len = serde_json::to_string(&f).map_or(0, |s| s.len()) + 1;
        match out.last_mut() {
            Some(last) if last.len() < per_req && size + len <= budget => {
                size += len;
                last.push(f);
            }
            _ => {
                size = len;
                out.push(vec![f]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_ids_are_random_per_req_and_never_the_logical_name() {
        let limits = RelayLimits {
            max_filters: Some(1),
            ..RelayLimits::default()
        };
        let mut first = Session::new();
        let mut out = Vec::new();
        let two = vec![
            Filter::new().kind(Kind::TextNote),
            Filter::new().kind(Kind::Reaction),
        ];
        first.open("feed", two.clone(), &limits, &mut out);
        let mut second = Session::new();
        second.open("feed", two, &limits, &mut out);
        let ids: std::collections::BTreeSet<&String> =
            first.wire.keys().chain(second.wire.keys()).collect();
        assert_eq!(ids.len(), 4, "one fresh id per REQ, none shared: {ids:?}");
        for (id, wire) in first.wire.iter().chain(&second.wire) {
            assert_eq!(wire.logical, "feed");
            assert!(!id.contains("feed") && id.len() == 16, "{id}");
        }
        assert!(out.iter().all(|req| !req.contains("feed")), "{out:?}");
    }

    #[test]
    fn a_reconnect_asks_only_for_what_came_after_the_catch_up() {
        let old = Timestamp::from_secs(1_000);
        let filters = vec![
            Filter::new().kind(Kind::TextNote).since(old),
            Filter::new().kind(Kind::TextNote),
            Filter::new().id(EventId::from_slice(&[1u8; 32]).unwrap()),
        ];
        assert_eq!(narrowed(&filters, None), filters);
        let caught = Timestamp::from_secs(100_000);
        let n = narrowed(&filters, Some(caught));
        let from = Timestamp::from_secs(100_000 - RECONNECT_MARGIN_SECS);
        assert_eq!(n[0].since, Some(from));
        assert_eq!(n[1].since, Some(from));
        assert_eq!(n[2].since, None, "filters by id are not narrowed");
        // A later `since` is kept.
        let later = vec![Filter::new().since(Timestamp::from_secs(200_000))];
        assert_eq!(narrowed(&later, Some(caught))[0].since, later[0].since);
    }

    #[test]
    fn long_filters_are_packed_under_the_message_budget() {
        let ids: Vec<EventId> = (0..1_000u32)
            .map(|i| {
                let mut bytes = [7u8; 32];
                bytes[..4].copy_from_slice(&i.to_be_bytes());
                EventId::from_byte_array(bytes)
            })
            .collect();
        let filters: Vec<Filter> = ids
            .chunks(250)
            .map(|c| Filter::new().ids(c.iter().copied()))
            .collect();
        let packed = super::pack(filters.clone(), 32, 30_000);
        assert_eq!(packed.len(), 4, "250 ids are ~17 KB: two do not fit 30 KB");
        assert!(packed.iter().all(|p| p.len() == 1));
        assert_eq!(super::pack(filters, 32, 40_000).len(), 2);
        let small = vec![Filter::new().limit(1); 5];
        assert_eq!(super::pack(small, 2, 40_000).len(), 3);
    }
}
