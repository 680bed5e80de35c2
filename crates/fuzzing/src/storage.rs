//! Events and filters through the store: the storage rules, the insert path
//! (replaceable, addressable, deletion, expiration, hints) and the query
//! planner with arbitrary filters, checked against NIP-01 matching.

use std::sync::{Mutex, OnceLock};

use nostr::prelude::*;
use samizdat_store::{filter_matches_ignoring_search, rules, Store, StoreConfig};
use tempfile::TempDir;

/// Inserts into the `event` target's store before it is replaced by a
/// fresh one, so a long run does not slow down as the file grows.
const INSERTS_PER_STORE: usize = 2_000;

/// A store in a temporary directory that lives as long as it does.
struct ScratchStore {
    _dir: TempDir,
    store: Store,
    inserts: usize,
}

impl ScratchStore {
    fn new() -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let store =
            Store::open_with(dir.path().join("fuzz.sqlite"), StoreConfig::default()).ok()?;
        Some(Self {
            _dir: dir,
            store,
            inserts: 0,
        })
    }
}

/// An event as a relay sends it (JSON, unverified): the storage rules, the
/// checks every received event gets, then the insert path as if it had
/// passed them, and a read back by id.
pub fn event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<Event>(data) else {
        return;
    };
    let config = StoreConfig::default();
    let _ = rules::size_violation(&event, &config);
    let _ = rules::d_tag(&event);
    let _ = rules::expiration(&event);
    let _ = rules::indexable_tags(&event).count();
    let _ = rules::is_searchable(event.kind, &event.content);
    let _ = event.verify();
    static STORE: Mutex<Option<ScratchStore>> = Mutex::new(None);
    let mut slot = STORE.lock().unwrap_or_else(|p| p.into_inner());
    if slot.as_ref().is_none_or(|s| s.inserts >= INSERTS_PER_STORE) {
        *slot = ScratchStore::new();
    }
    let Some(scratch) = slot.as_mut() else { return };
    scratch.inserts += 1;
    if let Ok(outcome) = scratch.store.insert(&event) {
        let by_id = Filter::new().id(event.id);
        if let Ok(found) = scratch.store.query(&[by_id]) {
            assert!(found.len() <= 1, "one id, {} events", found.len());
            if outcome.is_stored() && found.is_empty() && rules::expiration(&event).is_none() {
                // A stored event that does not read back must have been
                // deleted by an earlier deletion request in this store.
                let deletions = Filter::new().kind(Kind::EventDeletion).event(event.id);
                let deleted = scratch.store.query(&[deletions]).map(|d| !d.is_empty());
                assert!(
                    deleted.unwrap_or(true),
                    "stored {} but it does not read back",
                    event.id
                );
            }
        }
    }
}

/// The fixed store `store_query` asks: a few hundred events of three
/// authors, with the kinds and tags the planner has indexes for.
fn query_store() -> Option<&'static Store> {
    static STORE: OnceLock<Option<(TempDir, Store)>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().ok()?;
            let store = Store::open(dir.path().join("query.sqlite")).ok()?;
            let events = seed_events();
            store.insert_batch(&events).ok()?;
            Some((dir, store))
        })
        .as_ref()
        .map(|(_, store)| store)
}

/// The events `store_query` runs over (also written as seeds).
pub(crate) fn seed_events() -> Vec<Event> {
    let authors: Vec<Keys> = (10u8..13)
        .filter_map(|b| SecretKey::from_slice(&[b; 32]).ok().map(Keys::new))
        .collect();
    let words = ["nostr", "relay", "outbox", "privacy", "tor", "gossip"];
    let mut events = Vec::new();
    for i in 0..300u64 {
        let Some(keys) = authors.get(i as usize % authors.len()) else {
            continue;
        };
        let other = &authors[(i as usize + 1) % authors.len()];
        let kind = [1u16, 1, 1, 7, 0, 3, 10002, 30023, 1059, 6][i as usize % 10];
        let word = words[i as usize % words.len()];
        let mut builder = EventBuilder::new(Kind::from_u16(kind), format!("{word} note {i}"))
            .tag(Tag::public_key(other.public_key()))
            .tag(Tag::hashtag(word))
            .custom_created_at(Timestamp::from_secs(1_700_000_000 + i * 60));
        if kind == 30023 {
            builder = builder.tag(Tag::identifier(format!("article-{}", i % 4)));
        }
        if let Some(previous) = events.last().map(|e: &Event| e.id) {
            builder = builder.tag(Tag::event(previous));
        }
        if let Ok(event) = builder.finalize(keys) {
            events.push(event);
        }
    }
    events
}

/// Filters as a client sends them (one filter or an array of them), through
/// the store's bounds, query planner and COUNT. Every event returned must
/// match one of the filters, and COUNT is at least what a query returned.
pub fn store_query(data: &[u8]) {
    let filters: Vec<Filter> = match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|f| serde_json::from_value(f).ok())
            .collect(),
        Ok(one) => serde_json::from_value(one)
            .map(|f| vec![f])
            .unwrap_or_default(),
        Err(_) => return,
    };
    if filters.is_empty() {
        return;
    }
    let config = StoreConfig::default();
    for filter in &filters {
        let _ = rules::check_filter_size(filter, &config);
        let _ = rules::filter_limit(filter);
    }
    let Some(store) = query_store() else { return };
    let Ok(found) = store.query(&filters) else {
        return;
    };
    for event in &found {
        assert!(
            filters
                .iter()
                .any(|f| filter_matches_ignoring_search(f, event)),
            "{} returned for filters it does not match",
            event.id
        );
    }
    if let Ok(count) = store.count(&filters, &[]) {
        assert!(
            count as usize >= found.len(),
            "COUNT {count} < {} returned",
            found.len()
        );
    }
}
