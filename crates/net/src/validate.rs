//! Checks on everything a relay sends, cheapest first: known ids cost nothing,
//! then filter match, time window and size, and only then the Schnorr
//! signature, verified on all cores off the async runtime.

use std::collections::{HashMap, VecDeque};

use nostr::prelude::*;

/// Bounds an event must respect to be considered at all.
#[derive(Debug, Clone)]
pub struct ValidationConfig {
    /// How far in the future `created_at` may be, in seconds.
    pub max_future_secs: u64,
    /// Most tags.
    pub max_tags: usize,
    /// Most bytes of content.
    pub max_content_bytes: usize,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            max_future_secs: 15 * 60,
            max_tags: 2_000,
            max_content_bytes: 256 * 1024,
        }
    }
}

/// Why an event from a relay was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// It does not match the filters of the subscription it came on.
    OffFilter,
    /// It came on a subscription we never opened (or already closed).
    UnknownSubscription,
    /// `created_at` is too far in the future.
    FromTheFuture,
    /// Too many tags or too much content.
    TooLarge,
    /// The id is not the hash of the content.
    BadId,
    /// The signature does not verify.
    BadSignature,
}

impl Rejection {
    /// A short description for logs and counters.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OffFilter => "event does not match the subscription's filter",
            Self::UnknownSubscription => "event on an unknown subscription",
            Self::FromTheFuture => "created_at too far in the future",
            Self::TooLarge => "event too large",
            Self::BadId => "id does not match content",
            Self::BadSignature => "bad signature",
        }
    }
}

/// The cheap checks, before any cryptography.
pub fn precheck(
    event: &Event,
    filters: &[Filter],
    config: &ValidationConfig,
    now: u64,
) -> Result<(), Rejection> {
    if event.tags.len() > config.max_tags || event.content.len() > config.max_content_bytes {
        return Err(Rejection::TooLarge);
    }
    if event.created_at.as_secs() > now + config.max_future_secs {
        return Err(Rejection::FromTheFuture);
    }
    if !filters.iter().any(|f| matches_filter(f, event)) {
        return Err(Rejection::OffFilter);
    }
    Ok(())
}

/// NIP-01 matching; an empty list matches nothing. NIP-50 `search` is the
/// relay's judgement (relevance, stemming), so it is not re-checked here.
pub use samizdat_store::filter_matches_ignoring_search as matches_filter;

/// Verifies ids and signatures of a batch on every core; call it from a
/// blocking thread. Returns, per event, `None` when valid or the rejection.
pub fn verify_batch(events: &[Event]) -> Vec<Option<Rejection>> {
    let check = |e: &Event| {
        if !e.verify_id() {
            Some(Rejection::BadId)
        } else if !e.verify_signature() {
            Some(Rejection::BadSignature)
        } else {
            None
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || events.len() < 32 {
        return events.iter().map(check).collect();
    }
    let chunk = events.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = events
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Some(Rejection::BadSignature); chunk])
            })
            .collect()
    })
}

/// Events verified recently in this session (id and signature), so a copy
/// delivered by another relay is checked with one hash instead of a Schnorr
/// verification. Bounded: the oldest are forgotten first.
#[derive(Debug)]
pub struct SeenIds {
    map: HashMap<EventId, Signature>,
    order: VecDeque<EventId>,
    capacity: usize,
}

impl SeenIds {
    /// Remembers up to `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity: capacity.max(1),
        }
    }

    /// The verified signature of this id, if it was seen.
    pub fn signature(&self, id: &EventId) -> Option<&Signature> {
        self.map.get(id)
    }

    /// True if the id was seen (and verified) before.
    pub fn contains(&self, id: &EventId) -> bool {
        self.map.contains_key(id)
    }

    /// Remembers a verified event.
    pub fn insert(&mut self, id: EventId, sig: Signature) {
        if self.map.insert(id, sig).is_none() {
            self.order.push_back(id);
            if self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

/// A copy of an event already verified: genuine when its id is the hash of
/// its content and its signature is the one verified before.
pub fn is_genuine_copy(event: &Event, verified_sig: &Signature) -> bool {
    event.sig == *verified_sig && event.verify_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_bad_ids_and_signatures_in_parallel_batches() {
        let keys = Keys::generate();
        let other = Keys::generate();
        let mut events: Vec<Event> = (0..100)
            .map(|i| {
                EventBuilder::new(Kind::TextNote, format!("{i}"))
                    .finalize(&keys)
                    .unwrap()
            })
            .collect();
        events[10].content = "tampered".into();
        let foreign = EventBuilder::new(Kind::TextNote, "x")
            .finalize(&other)
            .unwrap();
        events[50].sig = foreign.sig;
        let verdicts = verify_batch(&events);
        assert_eq!(verdicts[10], Some(Rejection::BadId));
        assert_eq!(verdicts[50], Some(Rejection::BadSignature));
        assert_eq!(verdicts.iter().filter(|v| v.is_none()).count(), 98);
    }

    #[test]
    fn prechecks_filter_time_and_size() {
        let keys = Keys::generate();
        let now = Timestamp::now().as_secs();
        let e = EventBuilder::new(Kind::TextNote, "x")
            .finalize(&keys)
            .unwrap();
        let cfg = ValidationConfig::default();
        assert_eq!(
            precheck(&e, &[Filter::new().kind(Kind::TextNote)], &cfg, now),
            Ok(())
        );
        assert_eq!(
            precheck(&e, &[Filter::new().kind(Kind::Metadata)], &cfg, now),
            Err(Rejection::OffFilter)
        );
        let future = EventBuilder::new(Kind::TextNote, "x")
            .custom_created_at(Timestamp::from_secs(now + 3_600))
            .finalize(&keys)
            .unwrap();
        assert_eq!(
            precheck(&future, &[Filter::new()], &cfg, now),
            Err(Rejection::FromTheFuture)
        );
    }

    #[test]
    fn seen_ids_are_bounded() {
        let mut seen = SeenIds::new(2);
        let sig = EventBuilder::new(Kind::TextNote, "x")
            .finalize(&Keys::generate())
            .unwrap()
            .sig;
        let ids: Vec<EventId> = (0..3u8)
            .map(|i| EventId::from_byte_array([i; 32]))
            .collect();
        for id in &ids {
            seen.insert(*id, sig);
        }
        assert!(!seen.contains(&ids[0]));
        assert!(seen.contains(&ids[2]));
    }

    #[test]
    fn a_known_id_with_another_signature_is_not_a_genuine_copy() {
        let keys = Keys::generate();
        let e = EventBuilder::new(Kind::TextNote, "x")
            .finalize(&keys)
            .unwrap();
        let other = EventBuilder::new(Kind::TextNote, "y")
            .finalize(&keys)
            .unwrap();
        assert!(is_genuine_copy(&e, &e.sig));
        assert!(!is_genuine_copy(&e, &other.sig));
        let mut tampered = e.clone();
        tampered.content = "z".into();
        assert!(!is_genuine_copy(&tampered, &e.sig));
    }
}
