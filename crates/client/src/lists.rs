//! NIP-51 lists: the mute list (kind 10000: people, words, hashtags,
//! threads) and bookmarks (kind 10003: notes, articles), each with a public
//! part (tags) and a private part (the same tags as JSON, NIP-44-encrypted
//! to ourselves in `content`). Edited like the follow list: the newest copy
//! is fetched from the user's relays first, the change is one item, every
//! other item (and unknown tag) is kept, and the new list is dated strictly
//! after the one it replaces; earlier versions stay in the store's history.
//!
//! Mutes apply to every feed, the inbox, threads and search. The session
//! keeps the decrypted mute set in memory and in `mutes.json` (owner-only),
//! so read-only sessions, which cannot decrypt, still hide what was muted.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use nostr::prelude::*;
use serde::{Deserialize, Serialize};

use crate::changes::{Change, ListEdit, OwnList};
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

pub use crate::changes::ListItem;

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

/// What is muted, ready to test events against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteSet {
    /// People (hex).
    pub people: BTreeSet<String>,
    /// Words, lowercase.
    pub words: BTreeSet<String>,
    /// Hashtags, lowercase.
    pub hashtags: BTreeSet<String>,
    /// Thread roots (hex ids).
    pub threads: BTreeSet<String>,
}

impl MuteSet {
    fn from_view(view: &ListView) -> Self {
        let mut set = Self::default();
        for item in view.all() {
            match item {
                ListItem::Person(p) => set.people.insert(p.clone()),
                ListItem::Word(w) => set.words.insert(w.to_lowercase()),
                ListItem::Hashtag(t) => set.hashtags.insert(t.to_lowercase()),
                ListItem::Event(e) => set.threads.insert(e.clone()),
                ListItem::Address(_) => false,
            };
        }
        set
    }

    /// Whether `event` is hidden: by its author, a word or hashtag in it, or
    /// the thread it belongs to.
    pub fn hides(&self, event: &Event) -> bool {
        if self.people.contains(&event.pubkey.to_hex()) {
            return true;
        }
        if !self.threads.is_empty() {
            let id = event.id.to_hex();
            let in_thread = self.threads.contains(&id)
                || event
                    .tags
                    .event_ids()
                    .any(|e| self.threads.contains(&e.to_hex()));
            if in_thread {
                return true;
            }
        }
        if !self.hashtags.is_empty() {
            let tagged = event.tags.iter().any(|t| {
                let s = t.as_slice();
                s.first().map(String::as_str) == Some("t")
                    && s.get(1)
                        .is_some_and(|v| self.hashtags.contains(&v.to_lowercase()))
            });
            if tagged {
                return true;
            }
        }
        if self.words.is_empty() && self.hashtags.is_empty() {
            return false;
        }
        let text = event.content.to_lowercase();
        self.words.iter().any(|w| text.contains(w.as_str()))
            || self
                .hashtags
                .iter()
                .any(|h| text.contains(&format!("#{h}")))
    }
}

/// The session's mute cache.
#[derive(Default)]
pub(crate) struct MuteCache {
    set: Mutex<Option<MuteSet>>,
}

fn parse_items(tags: impl Iterator<Item = Vec<String>>) -> BTreeSet<ListItem> {
    tags.filter_map(|t| ListItem::from_tag(&t)).collect()
}

impl Session {
    fn mutes_path(&self) -> PathBuf {
        self.settings_path.with_file_name("mutes.json")
    }

    /// The newest copy of one of the user's lists in the store, both parts
    /// (the private one decrypted through the signer when it can be).
    pub async fn list(&self, which: ListKind) -> Result<ListView, SessionError> {
        let current = self.newest_list(&which)?;
        let view = self.view_of(current.as_ref()).await;
        if which == ListKind::Mutes && !view.private_unreadable {
            self.remember_mutes(MuteSet::from_view(&view));
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

    fn newest_own(&self, kind: Kind) -> Result<Option<Event>, SessionError> {
        Ok(self
            .engine
            .store()
            .query(&[Filter::new().author(self.me).kind(kind).limit(1)])?
            .into_iter()
            .next())
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
        let change = if add {
            Change::Add { item, private }
        } else {
            Change::Remove { item }
        };
        let edit = self.change_list(which.own_list(), change).await?;
        if which == ListKind::Mutes && edit.published.is_some() {
            self.list(ListKind::Mutes).await?;
        }
        Ok(edit)
    }

    fn remember_mutes(&self, set: MuteSet) {
        let path = self.mutes_path();
        if let Ok(json) = serde_json::to_string_pretty(&set) {
            if let Err(e) = crate::private_file::write_private(&path, json.as_bytes()) {
                tracing::warn!(path = %path.display(), error = %e, "could not keep the mute list locally");
            }
        }
        if let Ok(mut s) = self.mutes.set.lock() {
            *s = Some(set);
        }
    }

    /// What is muted: from memory, else from `mutes.json`, else the public
    /// part of the mute list in the store.
    pub fn mute_set(&self) -> MuteSet {
        if let Some(set) = self.mutes.set.lock().ok().and_then(|s| s.clone()) {
            return set;
        }
        let set = std::fs::read_to_string(self.mutes_path())
            .ok()
            .and_then(|t| serde_json::from_str::<MuteSet>(&t).ok())
            .unwrap_or_else(|| {
                let public = self
                    .newest_own(Kind::MuteList)
                    .ok()
                    .flatten()
                    .map(|e| parse_items(e.tags.iter().map(|t| t.as_slice().to_vec())))
                    .unwrap_or_default();
                MuteSet::from_view(&ListView {
                    public,
                    ..ListView::default()
                })
            });
        if let Ok(mut s) = self.mutes.set.lock() {
            *s = Some(set.clone());
        }
        set
    }

    /// `events` without what the mute list hides.
    pub fn without_muted(&self, events: Vec<Event>) -> Vec<Event> {
        let mutes = self.mute_set();
        events.into_iter().filter(|e| !mutes.hides(e)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mute_sets_hide_people_words_hashtags_and_threads() {
        let (a, b) = (Keys::generate(), Keys::generate());
        let root = EventBuilder::new(Kind::TextNote, "root")
            .finalize(&b)
            .unwrap();
        let set = MuteSet {
            people: [a.public_key().to_hex()].into(),
            words: ["crypto scam".into()].into(),
            hashtags: ["nsfw".into()].into(),
            threads: [root.id.to_hex()].into(),
        };
        let note = |k: &Keys, text: &str, tags: Vec<Tag>| {
            EventBuilder::new(Kind::TextNote, text)
                .tags(tags)
                .finalize(k)
                .unwrap()
        };
        assert!(set.hides(&note(&a, "anything", vec![])));
        assert!(set.hides(&note(&b, "a CRYPTO SCAM here", vec![])));
        assert!(set.hides(&note(&b, "tagged", vec![Tag::hashtag("NSFW")])));
        assert!(set.hides(&note(&b, "in text #nsfw", vec![])));
        assert!(set.hides(&root));
        assert!(set.hides(&note(&b, "reply", vec![Tag::event(root.id)])));
        assert!(!set.hides(&note(&b, "fine", vec![])));
    }
}
