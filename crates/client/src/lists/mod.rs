//! NIP-51 lists: the mute list (kind 10000: people, words, hashtags,
//! threads) and bookmarks (kind 10003: notes, articles), each with a public
//! part (tags) and a private part (the same tags as JSON, NIP-44-encrypted
//! to ourselves in `content`). Edited like the follow list: the newest copy
//! is fetched from the user's relays first, the change is one item, every
//! other item (and unknown tag) is kept, and the new list is dated strictly
//! after the one it replaces; earlier versions stay in the store's history.
//!
//! What the mute list hides is applied by the session (`session::mutes`):
//! every feed, the inbox, threads and search; this feature tells it what the
//! newest mute list says each time it reads or changes it.

use std::collections::BTreeSet;

use nostr::prelude::*;
use serde::Serialize;

use crate::session::changes::{Change, ListEdit, OwnList};
use crate::session::mutes::MuteSet;
use crate::session::{Session, SessionError};

/// Which list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    /// Kind 10000.
    Mutes,
    /// Kind 10003.
    Bookmarks,
    /// A named follow set (kind 30000, its name in the `d` tag).
    FollowSet(String),
}

impl ListKind {
    /// The same list as a target of changes.
    pub fn own_list(&self) -> OwnList {
        match self {
            Self::Mutes => OwnList::Mutes,
            Self::Bookmarks => OwnList::Bookmarks,
            Self::FollowSet(n) => OwnList::FollowSet(n.clone()),
        }
    }
}

pub use crate::session::changes::ListItem;

/// A list as the user sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListView {
    /// Items anyone can read.
    pub public: BTreeSet<ListItem>,
    /// Items only the user's key can read.
    pub private: BTreeSet<ListItem>,
    /// The private part could not be decrypted (read-only session, or
    /// another key's list).
    pub private_unreadable: bool,
}

impl ListView {
    /// Every item, public or private.
    pub fn all(&self) -> impl Iterator<Item = &ListItem> {
        self.public.iter().chain(&self.private)
    }
}

fn parse_items(tags: impl Iterator<Item = Vec<String>>) -> BTreeSet<ListItem> {
    tags.filter_map(|t| ListItem::from_tag(&t)).collect()
}

impl Session {
    /// The newest copy of one of the user's lists in the store, both parts
    /// (the private one decrypted through the signer when it can be).
    pub async fn list(&self, which: ListKind) -> Result<ListView, SessionError> {
        let current = self.newest_list(&which)?;
        let view = self.view_of(current.as_ref()).await;
        if which == ListKind::Mutes && !view.private_unreadable {
            self.remember_mutes(MuteSet::from_items(view.all()));
        }
        Ok(view)
    }

    fn newest_list(&self, which: &ListKind) -> Result<Option<Event>, SessionError> {
        self.newest_copy(&which.own_list())
    }

    /// The names of the user's follow sets in the store.
    pub fn follow_set_names(&self) -> Result<Vec<String>, SessionError> {
        let sets = self.engine.store().query(&[Filter::new()
            .author(self.me)
            .kind(Kind::FollowSet)
            .limit(500)])?;
        let mut names: Vec<String> = sets
            .iter()
            .filter_map(|e| e.tags.identifier().map(|s| s.to_string()))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn view_of(&self, event: Option<&Event>) -> ListView {
        let Some(event) = event else {
            return ListView::default();
        };
        let public = parse_items(event.tags.iter().map(|t| t.as_slice().to_vec()));
        let mut view = ListView {
            public,
            ..ListView::default()
        };
        if event.content.trim().is_empty() {
            return view;
        }
        match self.signer.nip44_decrypt(&self.me, &event.content).await {
            Ok(json) => {
                let tags: Vec<Vec<String>> = serde_json::from_str(&json).unwrap_or_default();
                view.private = parse_items(tags.into_iter());
            }
            Err(_) => view.private_unreadable = true,
        }
        view
    }

    /// Adds (`add`) or removes `item` in one of the user's lists, as a
    /// public or a private item: a change applied to the newest copy a
    /// relay returns, keeping everything else in it (it waits while no
    /// relay answers; see [`Session::change_list`]).
    pub async fn edit_list(
        &self,
        which: ListKind,
        item: ListItem,
        add: bool,
        private: bool,
    ) -> Result<ListEdit, SessionError> {
        // A pattern mute is checked first and is always private: no other
        // client reads it, and it says what the user avoids.
        let private = if let ListItem::Pattern(p) = &item {
            if add {
                crate::base::pattern::check_pattern(p)?;
            }
            true
        } else {
            private
        };
        let change = if add {
            Change::Add { item, private }
        } else {
            Change::Remove { item }
        };
        self.change_list(which.own_list(), change).await
    }
}
