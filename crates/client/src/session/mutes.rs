//! What is muted, applied by every feed, the inbox, threads and search: the
//! decrypted mute set, kept in memory and in `mutes.json` (owner-only) so a
//! read-only session, which cannot decrypt, still hides what was muted. The
//! mute list itself (kind 10000) is edited by the `lists` feature, which
//! tells the session what it now says ([`Session::remember_mutes`]).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nostr::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::base::pattern::check_pattern;
use crate::base::pattern::{builder, PATTERN_SCAN_BYTES};
pub use crate::base::pattern::{PatternError, MAX_PATTERN_CHARS};
use crate::session::changes::ListItem;
use crate::session::Session;

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
    /// Pattern mutes: regular expressions on note text (private entries).
    #[serde(default)]
    pub patterns: BTreeSet<String>,
    /// The patterns compiled (one linear-time automaton for all of them).
    #[serde(skip)]
    compiled: Compiled,
}

/// Compiled pattern mutes (equal to any other: they follow `patterns`).
#[derive(Clone, Default)]
struct Compiled(Option<Arc<regex::RegexSet>>);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compiled")
    }
}

impl PartialEq for Compiled {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Compiled {}

impl MuteSet {
    /// The mute set the items of a mute list say.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a ListItem>) -> Self {
        let mut set = Self::default();
        for item in items {
            match item {
                ListItem::Person(p) => set.people.insert(p.clone()),
                ListItem::Word(w) => set.words.insert(w.to_lowercase()),
                ListItem::Hashtag(t) => set.hashtags.insert(t.to_lowercase()),
                ListItem::Event(e) => set.threads.insert(e.clone()),
                ListItem::Pattern(p) => set.patterns.insert(p.clone()),
                ListItem::Address(_) => false,
            };
        }
        set.compile();
        set
    }

    /// Compiles the pattern mutes (those that pass [`check_pattern`]; a
    /// bad one from another device is skipped, not fatal).
    pub fn compile(&mut self) {
        let usable: Vec<&str> = self
            .patterns
            .iter()
            .map(String::as_str)
            .filter(|p| check_pattern(p).is_ok())
            .collect();
        self.compiled = Compiled(if usable.is_empty() {
            None
        } else {
            builder(&usable).build().ok().map(Arc::new)
        });
    }

    fn pattern_hides(&self, text: &str) -> bool {
        let Some(set) = &self.compiled.0 else {
            return false;
        };
        let mut end = text.len().min(PATTERN_SCAN_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        set.is_match(&text[..end])
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
        if self.pattern_hides(&event.content) {
            return true;
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

impl Session {
    fn mutes_path(&self) -> PathBuf {
        self.settings_path.with_file_name("mutes.json")
    }

    /// Keeps `set` as what is muted (memory and `mutes.json`).
    pub(crate) fn remember_mutes(&self, set: MuteSet) {
        let path = self.mutes_path();
        if let Ok(json) = serde_json::to_string_pretty(&set) {
            if let Err(e) = crate::base::private_file::write_private(&path, json.as_bytes()) {
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
            .map(|mut set| {
                set.compile();
                set
            })
            .unwrap_or_else(|| {
                let newest = self
                    .newest_copy(&crate::session::changes::OwnList::Mutes)
                    .ok()
                    .flatten();
                let public: Vec<ListItem> = newest
                    .iter()
                    .flat_map(|e| e.tags.iter())
                    .filter_map(|t| ListItem::from_tag(t.as_slice()))
                    .collect();
                MuteSet::from_items(&public)
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
            ..MuteSet::default()
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

    #[test]
    fn pattern_mutes_match_text_and_bad_patterns_are_refused() {
        let b = Keys::generate();
        let set = MuteSet::from_items(&[
            ListItem::Pattern(r"fr[e3]{2}\s+(btc|sats)".into()),
            ListItem::Pattern("(unclosed".into()),
        ]);
        let note = |text: &str| {
            EventBuilder::new(Kind::TextNote, text)
                .finalize(&b)
                .unwrap()
        };
        assert!(set.hides(&note("Get FR33 sats now")));
        assert!(!set.hides(&note("free speech")));
        assert!(matches!(
            check_pattern("(unclosed"),
            Err(PatternError::Invalid(_))
        ));
        assert_eq!(
            check_pattern(&"a".repeat(300)),
            Err(PatternError::TooLong(300))
        );
        // Exponential blow-ups of backtracking engines are linear here.
        assert!(check_pattern("(a+)+$").is_ok());
        let evil = MuteSet::from_items(&[ListItem::Pattern("(a+)+$".into())]);
        assert!(!evil.hides(&note(&format!("{}!", "a".repeat(60_000)))));
        // A pattern too large once compiled is refused.
        assert!(check_pattern(r"\w{1000}\w{1000}").is_err());
        // Survives the round trip through mutes.json.
        let mut back: MuteSet =
            serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
        back.compile();
        assert!(back.hides(&note("free sats")));
    }
}
