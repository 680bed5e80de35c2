//! Open subscriptions, indexed so that fan-out of a new event touches only the
//! subscriptions that could match it.
//!
//! Each filter is filed under its most selective dimension — its authors, else
//! the values of one tag, else its kinds — or in a small catch-all list. An
//! incoming event collects candidates from its author, its kind and its tag
//! values, then each candidate is checked in full. With thousands of open
//! subscriptions the cost per event follows the number of *interested*
//! subscriptions, not the total.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use nostr::prelude::*;

use crate::connection::ConnectionShared;

/// Identifies one subscription: its connection and its id on that connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubKey {
    /// The connection's number.
    pub conn: u64,
    /// The client's subscription id.
    pub id: SubscriptionId,
}

struct Entry {
    filters: Vec<Filter>,
    conn: Arc<ConnectionShared>,
    index_keys: Vec<IndexKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IndexKey {
    Author(PublicKey),
    Kind(Kind),
    Tag(char, String),
    All,
}

/// The registry of every open subscription on the relay.
#[derive(Default)]
pub struct Subscriptions {
    entries: HashMap<SubKey, Entry>,
    index: HashMap<IndexKey, HashSet<SubKey>>,
}

impl Subscriptions {
    /// Adds or replaces (same connection and id) a subscription.
    pub fn insert(&mut self, key: SubKey, filters: Vec<Filter>, conn: Arc<ConnectionShared>) {
        self.remove(&key);
        let index_keys: Vec<IndexKey> = filters.iter().flat_map(index_keys).collect();
        for ik in &index_keys {
            self.index
                .entry(ik.clone())
                .or_default()
                .insert(key.clone());
        }
        self.entries.insert(
            key,
            Entry {
                filters,
                conn,
                index_keys,
            },
        );
    }

    /// Removes one subscription; true if it existed.
    pub fn remove(&mut self, key: &SubKey) -> bool {
        let Some(entry) = self.entries.remove(key) else {
            return false;
        };
        for ik in entry.index_keys {
            if let Some(set) = self.index.get_mut(&ik) {
                set.remove(key);
                if set.is_empty() {
                    self.index.remove(&ik);
                }
            }
        }
        true
    }

    /// Removes every subscription of a connection.
    pub fn remove_connection(&mut self, conn: u64, ids: impl IntoIterator<Item = SubscriptionId>) {
        for id in ids {
            self.remove(&SubKey { conn, id });
        }
    }

    /// Number of open subscriptions on the relay.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The subscriptions an event must be delivered to, with their connections.
    pub fn matching(&self, event: &Event) -> Vec<(SubscriptionId, Arc<ConnectionShared>)> {
        let mut candidates: HashSet<&SubKey> = HashSet::new();
        let mut collect = |ik: IndexKey| {
            if let Some(set) = self.index.get(&ik) {
                candidates.extend(set.iter());
            }
        };
        collect(IndexKey::Author(event.pubkey));
        collect(IndexKey::Kind(event.kind));
        collect(IndexKey::All);
        for tag in event.tags.iter() {
            let s = tag.as_slice();
            if let (Some(name), Some(value)) = (s.first(), s.get(1)) {
                let mut chars = name.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    if c.is_ascii_alphabetic() {
                        collect(IndexKey::Tag(c, value.clone()));
                    }
                }
            }
        }
        candidates
            .into_iter()
            .filter_map(|key| {
                let entry = self.entries.get(key)?;
                entry
                    .filters
                    .iter()
                    .any(|f| samizdat_store::filter_matches(f, event))
                    .then(|| (key.id.clone(), Arc::clone(&entry.conn)))
            })
            .collect()
    }
}

/// Where one filter is filed.
fn index_keys(filter: &Filter) -> Vec<IndexKey> {
    if let Some(authors) = filter.authors.as_ref().filter(|a| !a.is_empty()) {
        return authors.iter().map(|a| IndexKey::Author(*a)).collect();
    }
    if let Some((letter, values)) = filter.generic_tags.iter().find(|(_, v)| !v.is_empty()) {
        return values
            .iter()
            .map(|v| IndexKey::Tag(letter.as_char(), v.clone()))
            .collect();
    }
    if let Some(kinds) = filter.kinds.as_ref().filter(|k| !k.is_empty()) {
        return kinds.iter().map(|k| IndexKey::Kind(*k)).collect();
    }
    vec![IndexKey::All]
}
