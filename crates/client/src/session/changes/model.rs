//! The pure part of list changes: which list, what change, how a set of
//! waiting changes applies to the newest copy, when a copy may be trusted,
//! and the guard on shrinkage. No I/O, no signing: every rule is tested
//! here and by the property test beside it.

use std::collections::BTreeSet;

use nostr::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One of the user's own replaceable lists that edits change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OwnList {
    /// The follow list (kind 3).
    #[default]
    Follows,
    /// The mute list (kind 10000).
    Mutes,
    /// Bookmarks (kind 10003).
    Bookmarks,
    /// A named follow set (kind 30000, its name in the `d` tag).
    FollowSet(String),
    /// The profile (kind 0).
    Profile,
    /// The DM relays (kind 10050).
    DmRelays,
}

impl OwnList {
    /// The key the store keeps waiting changes under (`3`, `30000:name`, …).
    pub fn key(&self) -> String {
        match self {
            Self::FollowSet(name) => format!("30000:{name}"),
            other => other.kind().as_u16().to_string(),
        }
    }

    /// The list a store key names.
    pub fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "3" => Self::Follows,
            "10000" => Self::Mutes,
            "10003" => Self::Bookmarks,
            "0" => Self::Profile,
            "10050" => Self::DmRelays,
            other => Self::FollowSet(other.strip_prefix("30000:")?.to_owned()),
        })
    }

    /// Its event kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Follows => Kind::ContactList,
            Self::Mutes => Kind::MuteList,
            Self::Bookmarks => Kind::Bookmarks,
            Self::FollowSet(_) => Kind::FollowSet,
            Self::Profile => Kind::Metadata,
            Self::DmRelays => Kind::InboxRelays,
        }
    }

    /// The set's name, for a follow set.
    pub fn set_name(&self) -> Option<&str> {
        match self {
            Self::FollowSet(n) => Some(n),
            _ => None,
        }
    }

    /// The filter for `me`'s copies of this list.
    pub fn filter(&self, me: PublicKey) -> Filter {
        let f = Filter::new().author(me).kind(self.kind());
        match self.set_name() {
            Some(n) => f.identifier(n),
            None => f,
        }
    }

    /// What a user calls it.
    pub fn name(&self) -> String {
        match self {
            Self::Follows => "follow list".into(),
            Self::Mutes => "mute list".into(),
            Self::Bookmarks => "bookmarks".into(),
            Self::FollowSet(n) => format!("follow set {n:?}"),
            Self::Profile => "profile".into(),
            Self::DmRelays => "DM relays".into(),
        }
    }

    /// Whether its items are tags (follow list, NIP-51 lists) rather than
    /// profile fields or a relay set.
    fn has_items(&self) -> bool {
        matches!(
            self,
            Self::Follows | Self::Mutes | Self::Bookmarks | Self::FollowSet(_)
        )
    }
}

/// One item of a tag list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ListItem {
    /// `p`: a person (hex key).
    Person(String),
    /// `word`: a word (matched case-insensitively in text).
    Word(String),
    /// `t`: a hashtag.
    Hashtag(String),
    /// `e` in a mute list: a thread (its root); in bookmarks: a note.
    Event(String),
    /// `a`: an addressable event (an article).
    Address(String),
    /// `regex`: a pattern mute (a regular expression on note text, matched
    /// case-insensitively). Kept in the private part only: no other client
    /// reads it, and it says what the user is avoiding.
    Pattern(String),
}

impl ListItem {
    /// The item as a tag.
    pub fn tag(&self) -> Option<Tag> {
        let (name, value) = self.parts();
        Tag::parse([name, value]).ok()
    }

    fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::Person(v) => ("p", v),
            Self::Word(v) => ("word", v),
            Self::Hashtag(v) => ("t", v),
            Self::Event(v) => ("e", v),
            Self::Address(v) => ("a", v),
            Self::Pattern(v) => ("regex", v),
        }
    }

    /// The item a tag holds (`None` for tags that are not items).
    pub fn from_tag(tag: &[String]) -> Option<Self> {
        let value = tag.get(1)?.clone();
        Some(match tag.first()?.as_str() {
            "p" => Self::Person(value),
            "word" => Self::Word(value.to_lowercase()),
            "t" => Self::Hashtag(value.to_lowercase()),
            "e" => Self::Event(value),
            "a" => Self::Address(value),
            "regex" => Self::Pattern(value),
            _ => return None,
        })
    }

    /// `p:…`, `word:…`: how the guard counts entries.
    fn entry(&self) -> String {
        let (name, value) = self.parts();
        format!("{name}:{value}")
    }

    /// A short description ("npub1…", "word \"spam\"").
    pub fn describe(&self) -> String {
        match self {
            Self::Person(p) => PublicKey::from_hex(p)
                .ok()
                .and_then(|k| k.to_bech32().ok())
                .unwrap_or_else(|| p.clone()),
            Self::Word(w) => format!("word {w:?}"),
            Self::Hashtag(t) => format!("#{t}"),
            Self::Event(e) => format!("note {}", &e[..e.len().min(12)]),
            Self::Address(a) => format!("article {a}"),
            Self::Pattern(p) => format!("pattern /{p}/"),
        }
    }
}

/// A change to one list, as the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Add an item (public, or private: encrypted to the user).
    Add {
        /// The item.
        item: ListItem,
        /// As a private item (NIP-51 lists only).
        private: bool,
    },
    /// Remove an item (public or private).
    Remove {
        /// The item.
        item: ListItem,
    },
    /// Set one profile field.
    SetField {
        /// Field name (`name`, `about`, …).
        name: String,
        /// Its new value.
        value: String,
    },
    /// Set the DM relays to exactly these.
    SetRelays {
        /// Relay URLs.
        relays: Vec<String>,
    },
    /// A private change as it rests in the store: the change's JSON,
    /// NIP-44-encrypted to the user's own key (a private mute word is never
    /// written in plain form). Opened through the signer when applied.
    Sealed(String),
}

impl Change {
    /// A short description for lists of waiting changes.
    pub fn describe(&self) -> String {
        match self {
            Self::Add { item, private } => {
                format!(
                    "add {}{}",
                    item.describe(),
                    if *private { " (private)" } else { "" }
                )
            }
            Self::Remove { item } => format!("remove {}", item.describe()),
            Self::SetField { name, value } => format!("set {name} = {value:?}"),
            Self::SetRelays { relays } => format!("set relays {}", relays.join(" ")),
            Self::Sealed(_) => "a private change (encrypted)".into(),
        }
    }

    /// Whether it must rest encrypted (it adds a private item).
    pub fn is_private(&self) -> bool {
        matches!(self, Self::Add { private: true, .. })
    }
}

/// The readable content of one version of an own list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListContent {
    /// Every tag in order: items, and tags this client does not interpret
    /// (kept in place).
    pub tags: Vec<Vec<String>>,
    /// Private items (decrypted), for NIP-51 lists.
    pub private: Vec<ListItem>,
    /// Profile fields (kind 0).
    pub fields: Map<String, Value>,
    /// Content kept as it is (kind 3's legacy relay map).
    pub kept_content: String,
}

impl ListContent {
    /// What the guard counts: items, fields or relays.
    pub fn entries(&self, list: &OwnList) -> BTreeSet<String> {
        match list {
            OwnList::Profile => self.fields.keys().map(|k| format!("field:{k}")).collect(),
            OwnList::DmRelays => self
                .tags
                .iter()
                .filter(|t| t.first().map(String::as_str) == Some("relay"))
                .filter_map(|t| t.get(1).map(|r| format!("relay:{r}")))
                .collect(),
            _ => self
                .tags
                .iter()
                .filter_map(|t| ListItem::from_tag(t))
                .chain(self.private.iter().cloned())
                .map(|i| i.entry())
                .collect(),
        }
    }

    fn has(&self, item: &ListItem) -> bool {
        self.private.contains(item)
            || self
                .tags
                .iter()
                .any(|t| ListItem::from_tag(t).as_ref() == Some(item))
    }
}

/// What applying waiting changes gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The new content.
    pub content: ListContent,
    /// Indexes (into the changes given) that changed something.
    pub applied: Vec<usize>,
    /// Indexes that no longer applied, with why (dropped, not forced).
    pub dropped: Vec<(usize, &'static str)>,
    /// Entries the changes asked to remove (the guard allows these).
    pub asked_removed: BTreeSet<String>,
}

/// Applies `changes` in order to `current` (the newest copy: never an
/// assumed empty list unless the relays said there is none). A change that
/// no longer applies — adding what is there, removing what is not — is
/// dropped and named; every other entry and unknown tag is kept in place.
pub fn apply(list: &OwnList, current: &ListContent, changes: &[Change]) -> Applied {
    let mut out = Applied {
        content: current.clone(),
        applied: Vec::new(),
        dropped: Vec::new(),
        asked_removed: BTreeSet::new(),
    };
    for (i, change) in changes.iter().enumerate() {
        match apply_one(list, &mut out.content, change) {
            Ok(removed) => {
                out.asked_removed.extend(removed);
                out.applied.push(i);
            }
            Err(why) => out.dropped.push((i, why)),
        }
    }
    out
}

/// One change; `Ok` with the entries it removed, or why it does not apply.
fn apply_one(
    list: &OwnList,
    content: &mut ListContent,
    change: &Change,
) -> Result<Vec<String>, &'static str> {
    match change {
        Change::Add { item, private } if list.has_items() => {
            if content.has(item) {
                return Err(if *list == OwnList::Follows {
                    "already followed"
                } else {
                    "already on the list"
                });
            }
            if *private && *list != OwnList::Follows {
                content.private.push(item.clone());
            } else {
                let (name, value) = item.parts();
                content.tags.push(vec![name.to_owned(), value.to_owned()]);
            }
            Ok(Vec::new())
        }
        Change::Remove { item } if list.has_items() => {
            if !content.has(item) {
                return Err(if *list == OwnList::Follows {
                    "not followed any more"
                } else {
                    "not on the list any more"
                });
            }
            content
                .tags
                .retain(|t| ListItem::from_tag(t).as_ref() != Some(item));
            content.private.retain(|p| p != item);
            Ok(vec![item.entry()])
        }
        Change::SetField { name, value } if *list == OwnList::Profile => {
            if content.fields.get(name).and_then(Value::as_str) == Some(value.as_str()) {
                return Err("already set to that");
            }
            content
                .fields
                .insert(name.clone(), Value::String(value.clone()));
            Ok(Vec::new())
        }
        Change::SetRelays { relays } if *list == OwnList::DmRelays => {
            let before = content.entries(list);
            content
                .tags
                .retain(|t| t.first().map(String::as_str) != Some("relay"));
            content
                .tags
                .extend(relays.iter().map(|r| vec!["relay".to_owned(), r.clone()]));
            let after = content.entries(list);
            // The same relays again is a fresh copy of the list, as asked.
            Ok(before.difference(&after).cloned().collect())
        }
        _ => Err("this change does not fit this list"),
    }
}

/// Whether waiting changes may be applied now: a relay answered a fetch of
/// the list at or after the oldest of them was made. A copy fetched before
/// a change was asked for, or none at all, is not trusted: the change waits
/// rather than be applied to a list that may be missing what others added.
pub fn trusted(answered_at: Option<u64>, oldest_change_at: u64) -> bool {
    answered_at.is_some_and(|a| a >= oldest_change_at)
}

/// Why a new version was refused: it would lose more than was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shrinkage {
    /// Entries in the copy the user last saw.
    pub before: usize,
    /// Entries in the version that would be sent.
    pub after: usize,
    /// Entries lost that no change asked to remove.
    pub unasked: usize,
}

/// Most entries a version may lose beyond what was asked, whatever the size.
pub const GUARD_MAX_LOST: usize = 20;

/// The guard on shrinkage: compared with `before` (the copy the user saw
/// when asking), `after` may lose what the changes removed, plus a few
/// entries (another device's removals), but not more than
/// [`GUARD_MAX_LOST`] nor more than 10% of the list when over two.
pub fn guard(
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
    asked_removed: &BTreeSet<String>,
) -> Result<(), Shrinkage> {
    let unasked = before
        .iter()
        .filter(|e| !after.contains(*e) && !asked_removed.contains(*e))
        .count();
    if unasked > GUARD_MAX_LOST || (unasked > 2 && unasked * 10 > before.len()) {
        return Err(Shrinkage {
            before: before.len(),
            after: after.len(),
            unasked,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u8) -> ListItem {
        ListItem::Person(format!("{n:064x}"))
    }

    fn follows(people: &[u8]) -> ListContent {
        ListContent {
            tags: people
                .iter()
                .map(|n| vec!["p".into(), format!("{n:064x}")])
                .collect(),
            ..ListContent::default()
        }
    }

    #[test]
    fn several_changes_make_one_version_and_stale_ones_are_dropped() {
        let mut current = follows(&[1, 2]);
        current
            .tags
            .push(vec!["p".into(), format!("{:064x}", 9), "wss://hint".into()]);
        let changes = [
            Change::Add {
                item: person(3),
                private: false,
            },
            Change::Remove { item: person(2) },
            Change::Remove { item: person(7) },
            Change::Add {
                item: person(1),
                private: false,
            },
        ];
        let out = apply(&OwnList::Follows, &current, &changes);
        assert_eq!(out.applied, [0, 1]);
        assert_eq!(
            out.dropped,
            [(2, "not followed any more"), (3, "already followed")]
        );
        let entries = out.content.entries(&OwnList::Follows);
        assert_eq!(entries.len(), 3);
        // The tag with a hint is kept as it was, in place.
        assert_eq!(out.content.tags[1].len(), 3);
    }

    #[test]
    fn private_items_and_fields_and_relays() {
        let out = apply(
            &OwnList::Mutes,
            &ListContent::default(),
            &[Change::Add {
                item: ListItem::Word("spam".into()),
                private: true,
            }],
        );
        assert_eq!(out.content.private, [ListItem::Word("spam".into())]);
        assert!(out.content.tags.is_empty());

        let mut profile = ListContent::default();
        profile.fields.insert("name".into(), "a".into());
        let out = apply(
            &OwnList::Profile,
            &profile,
            &[
                Change::SetField {
                    name: "name".into(),
                    value: "a".into(),
                },
                Change::SetField {
                    name: "about".into(),
                    value: "b".into(),
                },
            ],
        );
        assert_eq!(out.applied, [1]);
        assert_eq!(out.content.fields.len(), 2);

        let out = apply(
            &OwnList::DmRelays,
            &ListContent::default(),
            &[Change::SetRelays {
                relays: vec!["ws://127.0.0.1:1".into()],
            }],
        );
        assert_eq!(out.content.entries(&OwnList::DmRelays).len(), 1);
        let wrong = apply(
            &OwnList::Follows,
            &ListContent::default(),
            &[Change::SetField {
                name: "x".into(),
                value: "y".into(),
            }],
        );
        assert_eq!(wrong.dropped.len(), 1);
    }

    #[test]
    fn a_copy_is_trusted_only_when_fetched_after_the_change() {
        assert!(!trusted(None, 10));
        assert!(!trusted(Some(9), 10));
        assert!(trusted(Some(10), 10));
    }

    #[test]
    fn the_guard_allows_what_was_asked_and_a_few_more() {
        let set = |r: std::ops::Range<u32>| r.map(|n| format!("p:{n}")).collect::<BTreeSet<_>>();
        let before = set(0..100);
        let none = BTreeSet::new();
        // One unfollow asked, one lost: fine.
        assert!(guard(&before, &set(1..100), &set(0..1)).is_ok());
        // Two lost beyond the ask (another device's unfollows): fine.
        assert!(guard(&before, &set(3..100), &set(0..1)).is_ok());
        // Eleven lost on a list of 100 (over 10%): refused.
        let err = guard(&before, &set(11..100), &none).unwrap_err();
        assert_eq!(err.unasked, 11);
        // 21 lost on a list of 1,000: refused (over 20).
        assert!(guard(&set(0..1000), &set(21..1000), &none).is_err());
        assert!(guard(&set(0..1000), &set(20..1000), &none).is_ok());
        // A list of 3 emptied with one ask: refused.
        assert!(guard(&set(0..4), &BTreeSet::new(), &set(0..1)).is_err());
        // Removing many on purpose is no loss.
        assert!(guard(&before, &set(50..100), &set(0..50)).is_ok());
    }

    #[test]
    fn keys_round_trip() {
        for l in [
            OwnList::Follows,
            OwnList::Mutes,
            OwnList::Bookmarks,
            OwnList::FollowSet("friends".into()),
            OwnList::Profile,
            OwnList::DmRelays,
        ] {
            assert_eq!(OwnList::from_key(&l.key()), Some(l));
        }
        assert_eq!(OwnList::from_key("12345"), None);
    }
}
