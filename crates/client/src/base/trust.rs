//! The web of trust, computed on the user's machine from lists the client
//! already has: the user's follow list (distance 1), and the follow lists
//! and public mute lists of the people the user follows. No third party is
//! asked whom the user is checking.
//!
//! A person's [`Trust`] is their distance (the user, followed, followed by
//! some of the user's follows, or unknown), how many of the user's follows
//! follow them, and how many mute them. The score a surface compares with
//! its threshold is `followed_by − MUTE_WEIGHT × muted_by` for everyone the
//! user does not follow ([`FOLLOWED_SCORE`] for those the user does).
//!
//! The graph is kept incrementally: each follow's lists are sorted vectors
//! of interned ids and per-person counters are adjusted by the difference
//! when one list changes, so an update costs the size of that list, not the
//! graph. Pure: no I/O, no clock; keys are raw 32-byte public keys.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// A public key as 32 raw bytes (not checked to be on the curve: the graph
/// only compares them).
pub type Key = [u8; 32];

/// How much one mute by a follow weighs against one follow by a follow.
pub const MUTE_WEIGHT: i32 = 2;

/// The score of the user and of everyone the user follows: above any
/// threshold a surface sets.
pub const FOLLOWED_SCORE: i32 = 1_000_000;

/// Which of a follow's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// Kind 3: whom they follow.
    Follows,
    /// Kind 10000: whom they mute (the public part).
    Mutes,
}

/// How far someone is from the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// The user.
    Me,
    /// Followed by the user.
    Followed,
    /// Followed by at least one of the user's follows.
    FriendOfFriend,
    /// None of the above.
    Unknown,
}

/// A person's standing in the user's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Trust {
    /// How far they are.
    pub distance: Distance,
    /// How many of the user's follows follow them.
    pub followed_by: u32,
    /// How many of the user's follows mute them (public mute lists).
    pub muted_by: u32,
    /// What thresholds compare with.
    pub score: i32,
}

impl Trust {
    fn new(distance: Distance, followed_by: u32, muted_by: u32) -> Self {
        let score = match distance {
            Distance::Me | Distance::Followed => FOLLOWED_SCORE,
            _ => (followed_by.min(i32::MAX as u32 / 4) as i32).saturating_sub(
                MUTE_WEIGHT.saturating_mul(muted_by.min(i32::MAX as u32 / 4) as i32),
            ),
        };
        Self {
            distance,
            followed_by,
            muted_by,
            score,
        }
    }

    /// Whether a surface with `threshold` shows this person.
    pub fn passes(&self, threshold: i32) -> bool {
        self.score >= threshold
    }
}

/// Why a person has their score: which follows follow and mute them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The score and its parts.
    pub trust: Trust,
    /// Follows of the user who follow them (all of them, sorted by key).
    pub followed_by: Vec<Key>,
    /// Follows of the user who mute them.
    pub muted_by: Vec<Key>,
}

#[derive(Debug, Default, Clone)]
struct SourceLists {
    follows: Vec<u32>,
    mutes: Vec<u32>,
    follows_at: Option<u64>,
    mutes_at: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    followed_by: u32,
    muted_by: u32,
}

/// The web of trust around one user.
#[derive(Debug, Clone)]
pub struct TrustGraph {
    me: Key,
    ids: HashMap<Key, u32>,
    keys: Vec<Key>,
    counts: Vec<Counts>,
    /// The user's follows (distance 1) and, per follow, their lists.
    sources: HashMap<u32, SourceLists>,
}

/// Sorted, deduplicated.
fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Calls `gone` for what is only in `old` and `new_one` for what is only in
/// `new` (both sorted).
fn diff(old: &[u32], new: &[u32], mut gone: impl FnMut(u32), mut added: impl FnMut(u32)) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                gone(*a);
                i += 1;
            }
            (Some(_), Some(b)) => {
                added(*b);
                j += 1;
            }
            (Some(a), None) => {
                gone(*a);
                i += 1;
            }
            (None, Some(b)) => {
                added(*b);
                j += 1;
            }
            (None, None) => break,
        }
    }
}

impl TrustGraph {
    /// An empty graph around `me`.
    pub fn new(me: Key) -> Self {
        Self {
            me,
            ids: HashMap::new(),
            keys: Vec::new(),
            counts: Vec::new(),
            sources: HashMap::new(),
        }
    }

    fn intern(&mut self, key: &Key) -> u32 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(*key);
        self.counts.push(Counts::default());
        self.ids.insert(*key, id);
        id
    }

    fn apply(&mut self, kind: ListKind, list: &[u32], sign: i64) {
        for id in list {
            let c = &mut self.counts[*id as usize];
            let field = match kind {
                ListKind::Follows => &mut c.followed_by,
                ListKind::Mutes => &mut c.muted_by,
            };
            *field = (*field as i64 + sign).max(0) as u32;
        }
    }

    /// Sets whom the user follows. Follows no longer there take their lists'
    /// weight with them; new ones count once their lists are set. Returns
    /// how many follows are new.
    pub fn set_follows<'a>(&mut self, follows: impl IntoIterator<Item = &'a Key>) -> usize {
        let me = self.me;
        let wanted: HashSet<u32> = follows
            .into_iter()
            .filter(|k| **k != me)
            .map(|k| self.intern(k))
            .collect();
        let gone: Vec<u32> = self
            .sources
            .keys()
            .filter(|id| !wanted.contains(id))
            .copied()
            .collect();
        for id in gone {
            if let Some(lists) = self.sources.remove(&id) {
                self.apply(ListKind::Follows, &lists.follows, -1);
                self.apply(ListKind::Mutes, &lists.mutes, -1);
            }
        }
        let mut added = 0;
        for id in wanted {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.sources.entry(id) {
                slot.insert(SourceLists::default());
                added += 1;
            }
        }
        added
    }

    /// The date of the copy of `source`'s list the graph holds (`None`: not
    /// a follow, or no copy yet).
    pub fn list_date(&self, source: &Key, kind: ListKind) -> Option<u64> {
        let lists = self.sources.get(self.ids.get(source)?)?;
        match kind {
            ListKind::Follows => lists.follows_at,
            ListKind::Mutes => lists.mutes_at,
        }
    }

    /// Takes `source`'s list of `kind` dated `created_at`: only from a
    /// follow of the user and only when newer than the copy held. The
    /// counters move by the difference. Returns whether anything changed.
    pub fn set_list<'a>(
        &mut self,
        source: &Key,
        kind: ListKind,
        created_at: u64,
        people: impl IntoIterator<Item = &'a Key>,
    ) -> bool {
        let Some(id) = self.ids.get(source).copied() else {
            return false;
        };
        let Some(held) = self.sources.get(&id) else {
            return false;
        };
        let held_at = match kind {
            ListKind::Follows => held.follows_at,
            ListKind::Mutes => held.mutes_at,
        };
        if held_at.is_some_and(|at| at >= created_at) {
            return false;
        }
        let new = sorted(
            people
                .into_iter()
                .filter(|k| *k != source)
                .map(|k| self.intern(k))
                .collect(),
        );
        let old = {
            let Some(lists) = self.sources.get_mut(&id) else {
                return false;
            };
            let (slot, at) = match kind {
                ListKind::Follows => (&mut lists.follows, &mut lists.follows_at),
                ListKind::Mutes => (&mut lists.mutes, &mut lists.mutes_at),
            };
            *at = Some(created_at);
            std::mem::replace(slot, new.clone())
        };
        let mut gone = Vec::new();
        let mut added = Vec::new();
        diff(&old, &new, |x| gone.push(x), |x| added.push(x));
        self.apply(kind, &gone, -1);
        self.apply(kind, &added, 1);
        true
    }

    /// A person's standing.
    pub fn trust(&self, who: &Key) -> Trust {
        if *who == self.me {
            return Trust::new(Distance::Me, 0, 0);
        }
        let Some(id) = self.ids.get(who) else {
            return Trust::new(Distance::Unknown, 0, 0);
        };
        let c = self.counts[*id as usize];
        let distance = if self.sources.contains_key(id) {
            Distance::Followed
        } else if c.followed_by > 0 {
            Distance::FriendOfFriend
        } else {
            Distance::Unknown
        };
        Trust::new(distance, c.followed_by, c.muted_by)
    }

    /// A person's standing with the follows behind it.
    pub fn explain(&self, who: &Key) -> Explanation {
        let trust = self.trust(who);
        let mut followed_by = Vec::new();
        let mut muted_by = Vec::new();
        if let Some(id) = self.ids.get(who) {
            for (source, lists) in &self.sources {
                if lists.follows.binary_search(id).is_ok() {
                    followed_by.push(self.keys[*source as usize]);
                }
                if lists.mutes.binary_search(id).is_ok() {
                    muted_by.push(self.keys[*source as usize]);
                }
            }
        }
        followed_by.sort_unstable();
        muted_by.sort_unstable();
        Explanation {
            trust,
            followed_by,
            muted_by,
        }
    }

    /// The user's follows.
    pub fn follows(&self) -> impl Iterator<Item = &Key> {
        self.sources.keys().map(|id| &self.keys[*id as usize])
    }

    /// People the graph knows of (the user's follows and everyone on their
    /// lists).
    pub fn people(&self) -> usize {
        self.keys.len()
    }

    /// Edges held (entries on the follows' lists).
    pub fn edges(&self) -> usize {
        self.sources
            .values()
            .map(|l| l.follows.len() + l.mutes.len())
            .sum()
    }

    /// An estimate of the heap the graph holds, in bytes (for the bench).
    pub fn heap_bytes(&self) -> usize {
        let map_entry = std::mem::size_of::<(Key, u32)>() + 1;
        let lists: usize = self
            .sources
            .values()
            .map(|l| (l.follows.capacity() + l.mutes.capacity()) * 4)
            .sum();
        self.ids.capacity() * map_entry
            + self.keys.capacity() * 32
            + self.counts.capacity() * std::mem::size_of::<Counts>()
            + self.sources.capacity() * (std::mem::size_of::<(u32, SourceLists)>() + 1)
            + lists
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: u8) -> Key {
        [n; 32]
    }

    #[test]
    fn distance_and_scores() {
        let mut g = TrustGraph::new(k(0));
        g.set_follows(&[k(1), k(2), k(3)]);
        g.set_list(&k(1), ListKind::Follows, 10, &[k(4), k(5), k(0)]);
        g.set_list(&k(2), ListKind::Follows, 10, &[k(4)]);
        g.set_list(&k(3), ListKind::Mutes, 10, &[k(5), k(6)]);
        g.set_list(&k(2), ListKind::Mutes, 10, &[k(6)]);
        assert_eq!(g.trust(&k(0)).distance, Distance::Me);
        assert_eq!(g.trust(&k(1)).distance, Distance::Followed);
        assert!(g.trust(&k(1)).passes(100));
        let four = g.trust(&k(4));
        assert_eq!(
            (four.distance, four.followed_by, four.score),
            (Distance::FriendOfFriend, 2, 2)
        );
        let five = g.trust(&k(5));
        assert_eq!((five.followed_by, five.muted_by, five.score), (1, 1, -1));
        let six = g.trust(&k(6));
        assert_eq!(
            (six.distance, six.muted_by, six.score),
            (Distance::Unknown, 2, -4)
        );
        assert_eq!(g.trust(&k(9)).score, 0);
        let why = g.explain(&k(4));
        assert_eq!(why.followed_by, vec![k(1), k(2)]);
        assert_eq!(g.explain(&k(6)).muted_by, vec![k(2), k(3)]);
    }

    #[test]
    fn updates_move_counters_by_the_difference_only() {
        let mut g = TrustGraph::new(k(0));
        g.set_follows(&[k(1), k(2)]);
        g.set_list(&k(1), ListKind::Follows, 10, &[k(4), k(5)]);
        assert!(
            !g.set_list(&k(1), ListKind::Follows, 9, &[k(6)]),
            "older copies are ignored"
        );
        assert!(g.set_list(&k(1), ListKind::Follows, 11, &[k(5), k(6)]));
        assert_eq!(g.trust(&k(4)).followed_by, 0);
        assert_eq!(g.trust(&k(5)).followed_by, 1);
        assert_eq!(g.trust(&k(6)).followed_by, 1);
        assert!(
            !g.set_list(&k(7), ListKind::Follows, 10, &[k(6)]),
            "not a follow"
        );
        // Unfollowing takes the lists' weight away; following again counts
        // once the list is set again.
        g.set_follows(&[k(2)]);
        assert_eq!(g.trust(&k(6)).followed_by, 0);
        assert_eq!(g.list_date(&k(1), ListKind::Follows), None);
        g.set_follows(&[k(1), k(2)]);
        assert!(g.set_list(&k(1), ListKind::Follows, 11, &[k(6), k(6)]));
        assert_eq!(g.trust(&k(6)).followed_by, 1, "duplicates count once");
        assert_eq!(g.edges(), 1);
    }

    #[test]
    fn a_graph_built_incrementally_equals_one_built_at_once() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let follows: Vec<Key> = (1..=20).map(k).collect();
        let mut lists: HashMap<Key, Vec<Key>> = HashMap::new();
        let mut g = TrustGraph::new(k(0));
        g.set_follows(&follows);
        for step in 0..200u64 {
            let who = follows[rng.random_range(0..follows.len())];
            let list: Vec<Key> = (0..rng.random_range(0..15))
                .map(|_| k(rng.random_range(0..60)))
                .collect();
            g.set_list(&who, ListKind::Follows, step + 1, &list);
            lists.insert(who, list);
        }
        let mut fresh = TrustGraph::new(k(0));
        fresh.set_follows(&follows);
        for (who, list) in &lists {
            fresh.set_list(who, ListKind::Follows, 1, list);
        }
        for n in 0..60 {
            assert_eq!(g.trust(&k(n)), fresh.trust(&k(n)), "person {n}");
        }
    }
}
