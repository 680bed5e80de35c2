//! The web of trust in a session: the graph (`base::trust`) built from the
//! store — the user's follow list, and the follow lists and public mute
//! lists of the people followed, which the sync fetches in the same REQs as
//! their notes — and refreshed incrementally: each call compares the heads
//! of the stored lists with the copies the graph holds and reads only the
//! lists that changed. Surfaces (inbox, DMs, thread replies, search,
//! notifications) hide people below their threshold and count them; nothing
//! is deleted. Lookalike names of followed people are flagged here too.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nostr::prelude::*;
use serde::Serialize;

use crate::base::lookalike::NameIndex;
use crate::base::settings::TrustSettings;
pub use crate::base::trust::{Distance, Trust};
use crate::base::trust::{Key, ListKind, TrustGraph};
use crate::session::{Session, SessionError};

/// Where something from another person is shown, each with its threshold
/// ([`TrustSettings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// Replies, mentions, reactions and reposts of the user's notes.
    Inbox,
    /// Private messages (below: the requests folder).
    Dms,
    /// Replies in a thread.
    Replies,
    /// Local search results.
    Search,
    /// New inbox items announced as they arrive.
    Notifications,
}

impl Surface {
    /// The threshold `settings` set for this surface.
    pub fn threshold(self, settings: &TrustSettings) -> i32 {
        match self {
            Self::Inbox => settings.inbox,
            Self::Dms => settings.dms,
            Self::Replies => settings.replies,
            Self::Search => settings.search,
            Self::Notifications => settings.notifications,
        }
    }
}

/// Items split by the web of trust: what is shown, and what was hidden as
/// coming from people outside the user's network (kept, so a UI can reveal
/// them: "N from people outside your network"; `--all` in the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Screened<T> {
    /// Shown, in the order given.
    pub shown: Vec<T>,
    /// Hidden, in the order given.
    pub hidden: Vec<T>,
}

impl<T> Default for Screened<T> {
    fn default() -> Self {
        Self {
            shown: Vec::new(),
            hidden: Vec::new(),
        }
    }
}

/// Why a person has the score they have (`samizdat trust PERSON`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustReport {
    /// Who.
    pub person: PublicKey,
    /// Their standing.
    pub trust: Trust,
    /// The user's follows who follow them.
    pub followed_by: Vec<PublicKey>,
    /// The user's follows who mute them (public mute lists).
    pub muted_by: Vec<PublicKey>,
    /// A followed person whose name theirs imitates, if any.
    pub lookalike_of: Option<PublicKey>,
    /// The surfaces they are hidden on at the current thresholds.
    pub hidden_on: Vec<Surface>,
}

impl TrustReport {
    /// One sentence: "followed by alice, bob and 12 others; muted by 1 of
    /// your follows", with names from `names`.
    pub fn sentence(&self, names: &HashMap<PublicKey, String>) -> String {
        let name = |p: &PublicKey| {
            names
                .get(p)
                .cloned()
                .unwrap_or_else(|| p.to_hex()[..12].to_owned())
        };
        let mut parts = Vec::new();
        match self.trust.distance {
            Distance::Me => parts.push("this is you".to_owned()),
            Distance::Followed => parts.push("you follow them".to_owned()),
            _ => {}
        }
        if self.followed_by.is_empty() {
            if self.trust.distance == Distance::Unknown {
                parts.push("none of your follows follows them".to_owned());
            }
        } else {
            let shown: Vec<String> = self.followed_by.iter().take(2).map(name).collect();
            let rest = self.followed_by.len().saturating_sub(shown.len());
            parts.push(if rest > 0 {
                format!(
                    "followed by {} and {rest} other{}",
                    shown.join(", "),
                    if rest == 1 { "" } else { "s" }
                )
            } else {
                format!("followed by {}", shown.join(" and "))
            });
        }
        if !self.muted_by.is_empty() {
            parts.push(format!("muted by {} of your follows", self.muted_by.len()));
        }
        if let Some(real) = &self.lookalike_of {
            parts.push(format!("their name imitates {} (another key)", name(real)));
        }
        parts.join("; ")
    }
}

/// What a refresh of the graph read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrustRefresh {
    /// Lists read from the store because they changed.
    pub lists_read: usize,
    /// Follows the graph holds.
    pub follows: usize,
}

/// How long the index of followed people's names is reused.
const NAME_INDEX_FOR: Duration = Duration::from_secs(30);

/// The session's web of trust.
#[derive(Default)]
pub(crate) struct TrustState {
    graph: Mutex<Option<(TrustGraph, StoreCursor)>>,
    names: Mutex<Option<(Instant, usize, NameIndex)>>,
}

fn kind_number(kind: ListKind) -> u16 {
    match kind {
        ListKind::Follows => 3,
        ListKind::Mutes => 10000,
    }
}

/// How far a graph has read the store: per list kind, the highest
/// insertion order ([`samizdat_store::ListHead::seq`]) it has seen, and
/// when it last read every head (at least once a minute, see
/// [`samizdat_store::Store::list_heads_since`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreCursor {
    follows: i64,
    mutes: i64,
    full_at: Option<Instant>,
}

/// How often a refresh reads every list head, not only the newest.
const FULL_RESCAN: Duration = Duration::from_secs(60);

/// Brings `graph` up to date with `store` for a user following `follows`:
/// only lists stored since `cursor` are looked at (all of them when new
/// follows came, whose lists may be older, and once a minute), and of those
/// only copies newer than the graph holds are read (their `p` tags as raw
/// keys). What a session does before each trust query.
pub fn refresh_from_store(
    store: &samizdat_store::Store,
    graph: &mut TrustGraph,
    cursor: &mut StoreCursor,
    follows: &[Key],
) -> Result<TrustRefresh, samizdat_store::StoreError> {
    let new_follows = graph.set_follows(follows);
    let follows: HashSet<&Key> = follows.iter().collect();
    let full = new_follows > 0 || cursor.full_at.is_none_or(|at| at.elapsed() > FULL_RESCAN);
    if full {
        cursor.full_at = Some(Instant::now());
    }
    let mut lists_read = 0;
    for kind in [ListKind::Follows, ListKind::Mutes] {
        let seen = match kind {
            ListKind::Follows => &mut cursor.follows,
            ListKind::Mutes => &mut cursor.mutes,
        };
        let since = if full { 0 } else { *seen };
        for head in store.list_heads_since(kind_number(kind), since)? {
            *seen = (*seen).max(head.seq);
            if !follows.contains(&head.author)
                || graph
                    .list_date(&head.author, kind)
                    .is_some_and(|at| at >= head.created_at)
            {
                continue;
            }
            let people = store.people_in(&head.id)?;
            graph.set_list(&head.author, kind, head.created_at, &people);
            lists_read += 1;
        }
    }
    Ok(TrustRefresh {
        lists_read,
        follows: follows.len(),
    })
}

impl Session {
    /// Brings the graph up to date with the store and runs `f` on it (and
    /// on what the refresh read).
    fn refreshed<R>(
        &self,
        f: impl FnOnce(&TrustGraph, TrustRefresh) -> R,
    ) -> Result<R, SessionError> {
        let state = self.feature::<TrustState>();
        let mut guard = state.graph.lock().unwrap_or_else(|p| p.into_inner());
        let (graph, cursor) = guard
            .get_or_insert_with(|| (TrustGraph::new(self.me.to_bytes()), StoreCursor::default()));
        let follows: Vec<Key> = self.follows()?.iter().map(|p| p.to_bytes()).collect();
        let refresh = refresh_from_store(self.engine.store(), graph, cursor, &follows)?;
        Ok(f(graph, refresh))
    }

    /// Brings the graph up to date with the store and runs `f` on it.
    fn with_trust<R>(&self, f: impl FnOnce(&TrustGraph) -> R) -> Result<R, SessionError> {
        self.refreshed(|graph, _| f(graph))
    }

    /// Reads what changed in the follows' lists into the web of trust now
    /// (every query does this itself; the background calls it after a sync).
    pub fn refresh_trust(&self) -> Result<TrustRefresh, SessionError> {
        self.refreshed(|_, refresh| refresh)
    }

    /// A person's standing in the user's network.
    pub fn trust_of(&self, who: PublicKey) -> Result<Trust, SessionError> {
        self.with_trust(|g| g.trust(&who.to_bytes()))
    }

    /// The threshold of `surface` in force.
    pub fn threshold(&self, surface: Surface) -> i32 {
        surface.threshold(&self.settings().trust)
    }

    /// Splits `items` into those shown on `surface` and a count of those
    /// from people below its threshold. The user's own items always show.
    pub fn screen<T>(
        &self,
        surface: Surface,
        items: Vec<T>,
        author: impl Fn(&T) -> PublicKey,
    ) -> Result<Screened<T>, SessionError> {
        let threshold = self.threshold(surface);
        let me = self.me;
        self.with_trust(|g| {
            let mut screened = Screened::default();
            for item in items {
                let who = author(&item);
                if who == me || g.trust(&who.to_bytes()).passes(threshold) {
                    screened.shown.push(item);
                } else {
                    screened.hidden.push(item);
                }
            }
            screened
        })
    }

    /// The standing of each of `people` (one refresh for all).
    pub fn trust_of_many(
        &self,
        people: &[PublicKey],
    ) -> Result<HashMap<PublicKey, Trust>, SessionError> {
        self.with_trust(|g| {
            people
                .iter()
                .map(|p| (*p, g.trust(&p.to_bytes())))
                .collect()
        })
    }

    /// Why `who` has their score, and where they are hidden.
    pub fn explain_trust(&self, who: PublicKey) -> Result<TrustReport, SessionError> {
        let why = self.with_trust(|g| g.explain(&who.to_bytes()))?;
        let keys = |v: Vec<Key>| -> Vec<PublicKey> {
            v.iter()
                .filter_map(|k| PublicKey::from_slice(k).ok())
                .collect()
        };
        let settings = self.settings().trust;
        let hidden_on = [
            Surface::Inbox,
            Surface::Dms,
            Surface::Replies,
            Surface::Search,
            Surface::Notifications,
        ]
        .into_iter()
        .filter(|s| !why.trust.passes(s.threshold(&settings)))
        .collect();
        Ok(TrustReport {
            person: who,
            trust: why.trust,
            followed_by: keys(why.followed_by),
            muted_by: keys(why.muted_by),
            lookalike_of: self.lookalikes(&[who])?.remove(&who),
            hidden_on,
        })
    }

    /// Among `people`, those the user does not follow whose display name
    /// matches or closely resembles a followed person's name (confusable
    /// characters, invisible characters and bidi controls do not count),
    /// each with the followed person they imitate.
    pub fn lookalikes(
        &self,
        people: &[PublicKey],
    ) -> Result<HashMap<PublicKey, PublicKey>, SessionError> {
        let follows = self.follows()?;
        let followed: HashSet<PublicKey> = follows.iter().copied().collect();
        let strangers: Vec<PublicKey> = people
            .iter()
            .copied()
            .filter(|p| *p != self.me && !followed.contains(p))
            .collect();
        if strangers.is_empty() || follows.is_empty() {
            return Ok(HashMap::new());
        }
        let state = self.feature::<TrustState>();
        let mut cached = state.names.lock().unwrap_or_else(|p| p.into_inner());
        let stale = cached
            .as_ref()
            .is_none_or(|(at, n, _)| at.elapsed() > NAME_INDEX_FOR || *n != follows.len());
        if stale {
            let names = self.names(&follows)?;
            let index = NameIndex::new(
                names
                    .iter()
                    .filter(|(p, n)| **n != crate::base::content::short_npub(p))
                    .map(|(p, n)| (p.to_bytes(), n.as_str())),
            );
            *cached = Some((Instant::now(), follows.len(), index));
        }
        let Some((_, _, index)) = cached.as_ref() else {
            return Ok(HashMap::new());
        };
        let names = self.names(&strangers)?;
        Ok(strangers
            .iter()
            .filter_map(|p| {
                let name = names.get(p)?;
                let real = index.resembles(&p.to_bytes(), name)?;
                Some((*p, PublicKey::from_slice(&real).ok()?))
            })
            .collect())
    }

    /// Forgets the index of followed people's names (new profiles arrived;
    /// it is also rebuilt every 30 s),
    /// so the next lookalike check reads them again.
    pub fn forget_names_index(&self) {
        *self
            .feature::<TrustState>()
            .names
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// [`Session::lookalikes`] with the display name of the person each
    /// one imitates: what a UI prints beside the impostor's name.
    pub fn imitated_names(
        &self,
        people: &[PublicKey],
    ) -> Result<HashMap<PublicKey, String>, SessionError> {
        let found = self.lookalikes(people)?;
        let real: Vec<PublicKey> = found.values().copied().collect();
        let names = self.names(&real)?;
        Ok(found
            .into_iter()
            .filter_map(|(fake, real)| Some((fake, names.get(&real)?.clone())))
            .collect())
    }

    /// The web of trust's settings in force.
    pub fn trust_settings(&self) -> TrustSettings {
        self.settings().trust
    }

    /// Changes the web of trust's settings (thresholds, the wrap gate).
    pub fn set_trust_settings(&self, trust: TrustSettings) -> Result<(), SessionError> {
        self.change_settings(|s| {
            s.trust = trust;
            Ok(())
        })
    }
}
