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
    pub(crate) fn write_relays_of(&self, who: PublicKey) -> Result<Vec<RelayUrl>, EngineError> {
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

    /// Where to read `who`: their list's write relays plus the relays the
    /// planner picks for them from all the evidence (so someone with a stale
    /// list or none is read where they were seen or hinted at).
    pub(crate) fn reading_relays_of(&self, who: PublicKey) -> Result<Vec<RelayUrl>, EngineError> {
        let mut relays = self.write_relays_of(who)?;
        let plan =
            samizdat_outbox::plan_with(&self.plan_input(&[who], &[])?, self.config.algorithm);
        for url in plan.assignments.keys() {
            if let Ok(url) = RelayUrl::parse(url) {
                if !relays.contains(&url) {
                    relays.push(url);
                }
            }
        }
        Ok(relays)
    }

    /// One person's notes, fetched from their own write relays (found on the
    /// discovery relays) and wherever else the evidence says they write,
    /// newest first.
    pub async fn person(&self, who: PublicKey, limit: usize) -> Result<Vec<Event>, EngineError> {
        self.fetch_relay_lists(&[who]).await?;
        let relays = self.reading_relays_of(who)?;
        let filter = Filter::new()
            .author(who)
            .kinds([Kind::TextNote, Kind::Repost, Kind::Metadata])
            .limit(limit);
        let list = Filter::new().author(who).kind(Kind::RelayList);
        self.fetch("person", &relays, vec![filter, list]).await?;
        Ok(self.store.query(&[Filter::new()
            .author(who)
            .kinds([Kind::TextNote, Kind::Repost])
            .limit(limit)])?)
    }

    /// A thread: its root and every reply to it, oldest first. Missing events
    /// are fetched from the relays the known events hint at and from the
    /// authors' write relays.
    pub async fn thread(&self, id: EventId) -> Result<Vec<Event>, EngineError> {
        let relays: Vec<RelayUrl> = self
            .thread_relays(id)?
            .into_iter()
            .map(|(relay, _)| relay)
            .collect();
        self.fetch_thread(id, &relays).await
    }

    /// Where a thread would be read, and who named each relay: the note
    /// author's write relays (their relay list), then the relays its tags
    /// hint at (written by the same author), once each.
    pub fn thread_relays(&self, id: EventId) -> Result<Vec<(RelayUrl, PublicKey)>, EngineError> {
        let Some(e) = self.event(id)? else {
            return Ok(Vec::new());
        };
        let mut seen = BTreeSet::new();
        Ok(self
            .write_relays_of(e.pubkey)?
            .into_iter()
            .chain(hinted_relays(&e))
            .filter(|r| seen.insert(r.clone()))
            .map(|r| (r, e.pubkey))
            .collect())
    }

    /// Reads a thread from `relays` into the store; root first, then the
    /// replies oldest first.
    pub async fn fetch_thread(
        &self,
        id: EventId,
        relays: &[RelayUrl],
    ) -> Result<Vec<Event>, EngineError> {
        let start = self.event(id)?;
        let root = start.as_ref().and_then(root_of).unwrap_or(id);
        let filters = vec![
            Filter::new().id(root),
            Filter::new().event(root).kind(Kind::TextNote).limit(500),
        ];
        self.fetch("thread", relays, filters).await?;
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

/// An event's `e` tags, in order.
fn e_tags(event: &Event) -> Vec<&[String]> {
    event
        .tags
        .iter()
        .map(|t| t.as_slice())
        .filter(|s| s.first().map(String::as_str) == Some("e"))
        .collect()
}

/// The NIP-10 root of a reply (marked, or the first `e` tag of older clients).
pub fn root_of(event: &Event) -> Option<EventId> {
    let e_tags = e_tags(event);
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

/// The NIP-10 parent of a reply: the `e` tag marked `reply`; else the one
/// marked `root` (a direct reply); else, for older clients, the last `e` tag.
pub fn parent_of(event: &Event) -> Option<EventId> {
    let e_tags = e_tags(event);
    let marked = |m: &str| {
        e_tags
            .iter()
            .find(|s| s.get(3).map(String::as_str) == Some(m))
    };
    let any_marker = e_tags
        .iter()
        .any(|s| matches!(s.get(3).map(String::as_str), Some("root" | "reply")));
    let tag = if any_marker {
        marked("reply").or_else(|| marked("root"))
    } else {
        e_tags.last()
    };
    tag.and_then(|s| s.get(1))
        .and_then(|id| EventId::from_hex(id).ok())
}

/// A thread (as [`Engine::thread`] returns it: root first) as a tree in
/// reading order: each event with its depth under the root (0 for the root,
/// 1 for direct replies, …). A reply whose parent is missing hangs under
/// the root, so nothing is hidden.
pub fn thread_tree(events: &[Event]) -> Vec<(Event, usize)> {
    let Some(root) = events.first() else {
        return Vec::new();
    };
    let known: std::collections::HashSet<EventId> = events.iter().map(|e| e.id).collect();
    let mut children: std::collections::HashMap<EventId, Vec<&Event>> = Default::default();
    for e in &events[1..] {
        let parent = parent_of(e)
            .filter(|p| known.contains(p) && *p != e.id)
            .unwrap_or(root.id);
        children.entry(parent).or_default().push(e);
    }
    let mut out = Vec::with_capacity(events.len());
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((e, depth)) = stack.pop() {
        if !seen.insert(e.id) {
            continue;
        }
        out.push((e.clone(), depth));
        if let Some(kids) = children.get(&e.id) {
            // Oldest reply first: push in reverse onto the stack.
            for k in kids.iter().rev() {
                stack.push((k, depth + 1));
            }
        }
    }
    // Anything in a cycle (a forged parent loop) is still shown, under the root.
    for e in &events[1..] {
        if !seen.contains(&e.id) {
            out.push((e.clone(), 1));
        }
    }
    out
}

impl Engine {
    /// Fetches the kind-0 profiles of everyone on the live feed from the
    /// relays they are read from (one subscription per relay, concurrently),
    /// so names can be shown.
    pub async fn fetch_profiles(&self) -> Result<(), EngineError> {
        let live = self.live_feed();
        let fetches = live.iter().map(|(relay, people)| {
            let filter = Filter::new()
                .authors(people.iter().copied())
                .kind(Kind::Metadata)
                .limit(people.len().max(1));
            self.fetch("profiles", std::slice::from_ref(relay), vec![filter])
        });
        for result in futures_util::future::join_all(fetches).await {
            result?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_to(keys: &Keys, root: &Event, parent: &Event, at: u64) -> Event {
        let mut tags = vec![Tag::parse(["e", &root.id.to_hex(), "", "root"]).unwrap()];
        if parent.id != root.id {
            tags.push(Tag::parse(["e", &parent.id.to_hex(), "", "reply"]).unwrap());
        }
        EventBuilder::new(Kind::TextNote, "re")
            .tags(tags)
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(keys)
            .unwrap()
    }

    #[test]
    fn replies_nest_under_their_parents_oldest_first() {
        let k = Keys::generate();
        let root = EventBuilder::new(Kind::TextNote, "root")
            .custom_created_at(Timestamp::from_secs(100))
            .finalize(&k)
            .unwrap();
        let a = reply_to(&k, &root, &root, 110);
        let b = reply_to(&k, &root, &root, 120);
        let a1 = reply_to(&k, &root, &a, 130);
        let tree = thread_tree(&[root.clone(), a.clone(), b.clone(), a1.clone()]);
        let order: Vec<(EventId, usize)> = tree.iter().map(|(e, d)| (e.id, *d)).collect();
        assert_eq!(order, vec![(root.id, 0), (a.id, 1), (a1.id, 2), (b.id, 1)]);
        assert_eq!(parent_of(&a1), Some(a.id));
        assert_eq!(parent_of(&a), Some(root.id));
    }

    #[test]
    fn a_missing_parent_hangs_under_the_root() {
        let k = Keys::generate();
        let root = EventBuilder::new(Kind::TextNote, "root")
            .finalize(&k)
            .unwrap();
        let ghost = EventBuilder::new(Kind::TextNote, "not fetched")
            .finalize(&k)
            .unwrap();
        let orphan = reply_to(&k, &root, &ghost, 200);
        let tree = thread_tree(&[root.clone(), orphan.clone()]);
        assert_eq!(tree[1].0.id, orphan.id);
        assert_eq!(tree[1].1, 1);
    }
}
