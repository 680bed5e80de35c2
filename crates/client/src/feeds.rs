//! Feeds beyond "following": one person (from their own write relays) and a
//! thread (from the relays its events hint at and its authors write to).
//! Both fetch, store, then answer from the store; "load more" is a `before`
//! time, so pages are time windows, not counts.

use std::collections::BTreeSet;

use nostr::prelude::*;
use samizdat_net::RelayUrl;

use crate::engine::{relay_list, Engine, EngineError};

impl Engine {
    /// The newest notes of the people followed, strictly before `before`
    /// (a time window further back each "load more").
    pub fn following_feed_before(
        &self,
        follows: &[PublicKey],
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Event>, EngineError> {
        let filter = Filter::new()
            .authors(follows.iter().copied())
            .kinds([Kind::TextNote, Kind::Repost])
            .until(Timestamp::from_secs(before.as_secs().saturating_sub(1)))
            .limit(limit);
        Ok(self.store.query(&[filter])?)
    }

    /// Write relays of `who` from the relay list in the store.
    fn write_relays_of(&self, who: PublicKey) -> Result<Vec<RelayUrl>, EngineError> {
        let lists = self
            .store
            .query(&[Filter::new().author(who).kind(Kind::RelayList).limit(1)])?;
        Ok(lists
            .first()
            .map(|e| {
                relay_list(e)
                    .write
                    .iter()
                    .filter_map(|u| RelayUrl::parse(u).ok())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// One person's notes, fetched from their own write relays (found on the
    /// discovery relays), newest first.
    pub async fn person(&self, who: PublicKey, limit: usize) -> Result<Vec<Event>, EngineError> {
        self.fetch_relay_lists(&[who]).await?;
        let relays = self.write_relays_of(who)?;
        let filter = Filter::new()
            .author(who)
            .kinds([Kind::TextNote, Kind::Repost, Kind::Metadata])
            .limit(limit);
        self.fetch("person", &relays, vec![filter]).await?;
        Ok(self.store.query(&[Filter::new()
            .author(who)
            .kinds([Kind::TextNote, Kind::Repost])
            .limit(limit)])?)
    }

    /// A thread: its root and every reply to it, oldest first. Missing events
    /// are fetched from the relays the known events hint at and from the
    /// authors' write relays.
    pub async fn thread(&self, id: EventId) -> Result<Vec<Event>, EngineError> {
        let start = self.event(id)?;
        let root = start.as_ref().and_then(root_of).unwrap_or(id);
        let mut relays: BTreeSet<RelayUrl> = BTreeSet::new();
        if let Some(e) = &start {
            relays.extend(hinted_relays(e));
            relays.extend(self.write_relays_of(e.pubkey)?);
        }
        let filters = vec![
            Filter::new().id(root),
            Filter::new().event(root).kind(Kind::TextNote).limit(500),
        ];
        let relays: Vec<RelayUrl> = relays.into_iter().collect();
        self.fetch("thread", &relays, filters).await?;
        let mut events = self.store.query(&[
            Filter::new().id(root),
            Filter::new().event(root).kind(Kind::TextNote).limit(500),
        ])?;
        // The root first (a reply can share its second), then replies in time order.
        events.sort_by(|a, b| {
            (a.id != root, a.created_at, a.id).cmp(&(b.id != root, b.created_at, b.id))
        });
        Ok(events)
    }
}

/// The NIP-10 root of a reply (marked, or the first `e` tag of older clients).
pub fn root_of(event: &Event) -> Option<EventId> {
    let e_tags: Vec<&[String]> = event
        .tags
        .iter()
        .map(|t| t.as_slice())
        .filter(|s| s.first().map(String::as_str) == Some("e"))
        .collect();
    let marked = e_tags
        .iter()
        .find(|s| s.get(3).map(String::as_str) == Some("root"));
    marked
        .or(e_tags.first())
        .and_then(|s| s.get(1))
        .and_then(|id| EventId::from_hex(id).ok())
}

/// Relay hints in `e` and `p` tags.
fn hinted_relays(event: &Event) -> Vec<RelayUrl> {
    event
        .tags
        .iter()
        .filter_map(|t| {
            let s = t.as_slice();
            matches!(s.first().map(String::as_str), Some("e" | "p"))
                .then(|| s.get(2))
                .flatten()
                .and_then(|u| RelayUrl::parse(u).ok())
        })
        .collect()
}
