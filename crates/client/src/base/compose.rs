//! Building the events a user publishes, before signing: notes, NIP-10
//! replies, NIP-25 reactions, NIP-18 reposts, NIP-09 deletions, and new
//! versions of the user's replaceable events (follow list, profile, relay
//! list) that start from the current copy and are dated strictly after it.
//! Pure functions: no I/O, no signing, so every rule is tested here.

use std::collections::BTreeSet;

use nostr::prelude::*;
use serde_json::{Map, Value};

use crate::base::settings::RelayRoles;

/// A plain text note (kind 1).
pub fn note(me: PublicKey, text: &str) -> UnsignedEvent {
    EventBuilder::new(Kind::TextNote, text).finalize_unsigned(me)
}

/// A note with pictures: the text, then each picture's URL on its own line
/// (what clients without `imeta` show), and one NIP-92 `imeta` tag each.
pub fn note_with_media(
    me: PublicKey,
    text: &str,
    urls: &[&str],
    imeta: &[Vec<String>],
) -> UnsignedEvent {
    let mut content = text.trim_end().to_owned();
    for url in urls {
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str(url);
    }
    EventBuilder::new(Kind::TextNote, content)
        .tags(imeta.iter().filter_map(|t| Tag::parse(t.clone()).ok()))
        .finalize_unsigned(me)
}

/// A NIP-10 reply to `parent`: a `root` marker (the parent's root, or the
/// parent itself), a `reply` marker for the parent when it is not the root,
/// and a `p` tag for everyone in the conversation except the author.
pub fn reply(me: PublicKey, parent: &Event, text: &str) -> UnsignedEvent {
    EventBuilder::new(Kind::TextNote, text)
        .tags(reply_tags(parent, me))
        .finalize_unsigned(me)
}

fn e_tag(id: &str, marker: &str) -> Option<Tag> {
    Tag::parse(["e", id, "", marker]).ok()
}

fn reply_tags(parent: &Event, me: PublicKey) -> Vec<Tag> {
    let root = parent.tags.iter().find_map(|t| {
        let s = t.as_slice();
        (s.first().map(String::as_str) == Some("e") && s.get(3).map(String::as_str) == Some("root"))
            .then(|| s.get(1).cloned())
            .flatten()
    });
    let parent_id = parent.id.to_hex();
    let mut tags = Vec::new();
    match root {
        Some(root) => {
            tags.extend(e_tag(&root, "root"));
            tags.extend(e_tag(&parent_id, "reply"));
        }
        None => tags.extend(e_tag(&parent_id, "root")),
    }
    let mut people = vec![parent.pubkey];
    people.extend(parent.tags.public_keys());
    let mut seen = BTreeSet::new();
    for p in people {
        if p != me && seen.insert(p) {
            tags.push(Tag::public_key(p));
        }
    }
    tags
}

fn k_tag(subject: &Event) -> Option<Tag> {
    Tag::parse(["k", &subject.kind.as_u16().to_string()]).ok()
}

/// A NIP-25 reaction (`+`, `-` or an emoji) to `subject`.
pub fn reaction(me: PublicKey, subject: &Event, content: &str) -> UnsignedEvent {
    let mut builder = EventBuilder::new(Kind::Reaction, content)
        .tag(Tag::event(subject.id))
        .tag(Tag::public_key(subject.pubkey));
    if let Some(k) = k_tag(subject) {
        builder = builder.tag(k);
    }
    builder.finalize_unsigned(me)
}

/// A NIP-18 repost of `subject` (its JSON as content).
pub fn repost(me: PublicKey, subject: &Event) -> UnsignedEvent {
    EventBuilder::new(Kind::Repost, subject.as_json())
        .tag(Tag::event(subject.id))
        .tag(Tag::public_key(subject.pubkey))
        .finalize_unsigned(me)
}

/// A NIP-09 deletion request for one of the user's own events; `None`
/// when `subject` is someone else's (relays would ignore it anyway).
pub fn deletion(me: PublicKey, subject: &Event, reason: &str) -> Option<UnsignedEvent> {
    if subject.pubkey != me {
        return None;
    }
    let mut builder = EventBuilder::new(Kind::EventDeletion, reason).tag(Tag::event(subject.id));
    if let Some(k) = k_tag(subject) {
        builder = builder.tag(k);
    }
    Some(builder.finalize_unsigned(me))
}

/// A time for a replaceable event that is strictly newer than the copy it
/// replaces: a same-second tie would be decided by id, not by intent.
pub fn strictly_after(current: Option<&Event>) -> Timestamp {
    let after = current.map_or(0, |e| e.created_at.as_secs() + 1);
    Timestamp::from_secs(Timestamp::now().as_secs().max(after))
}

/// Whether `list` (a kind-3 event) has `who` among its `p` tags.
pub fn follows(list: Option<&Event>, who: &PublicKey) -> bool {
    list.is_some_and(|l| l.tags.public_keys().any(|p| p == *who))
}

/// The follow list after following (`add`) or unfollowing `who`, starting
/// from `current` (every other tag and the content are kept as they are).
pub fn contact_list(
    me: PublicKey,
    current: Option<&Event>,
    who: PublicKey,
    add: bool,
) -> UnsignedEvent {
    let mut tags: Vec<Tag> = current
        .map(|e| e.tags.iter().cloned().collect())
        .unwrap_or_default();
    let hex = who.to_hex();
    let is_who = |t: &Tag| {
        let s = t.as_slice();
        s.first().is_some_and(|k| k == "p") && s.get(1).is_some_and(|v| *v == hex)
    };
    tags.retain(|t| !is_who(t));
    if add {
        tags.push(Tag::public_key(who));
    }
    EventBuilder::new(
        Kind::ContactList,
        current.map(|e| e.content.clone()).unwrap_or_default(),
    )
    .tags(tags)
    .custom_created_at(strictly_after(current))
    .finalize_unsigned(me)
}

/// An earlier version of a replaceable event published again, dated after `current`.
pub fn republish(me: PublicKey, old: &Event, current: Option<&Event>) -> UnsignedEvent {
    EventBuilder::new(old.kind, old.content.clone())
        .tags(old.tags.iter().cloned())
        .custom_created_at(strictly_after(current))
        .finalize_unsigned(me)
}

/// The profile (kind 0) with `changes` applied over `current`'s fields
/// (fields not named are kept; unknown fields of other clients too).
pub fn metadata(
    me: PublicKey,
    current: Option<&Event>,
    changes: &[(String, String)],
) -> UnsignedEvent {
    let mut fields = profile_fields(current);
    for (key, value) in changes {
        fields.insert(key.clone(), Value::String(value.clone()));
    }
    EventBuilder::new(Kind::Metadata, Value::Object(fields).to_string())
        .custom_created_at(strictly_after(current))
        .finalize_unsigned(me)
}

/// The JSON fields of a kind-0 event (empty when absent or not an object).
pub fn profile_fields(current: Option<&Event>) -> Map<String, Value> {
    current
        .and_then(|e| serde_json::from_str(&e.content).ok())
        .unwrap_or_default()
}

/// A NIP-65 relay list (kind 10002) from the user's relays and their roles.
pub fn relay_list<'a>(
    me: PublicKey,
    relays: impl IntoIterator<Item = (&'a String, &'a RelayRoles)>,
    current: Option<&Event>,
) -> UnsignedEvent {
    let tags = relays.into_iter().filter_map(|(url, roles)| {
        let marker = match (roles.read, roles.write) {
            (true, true) => None,
            (true, false) => Some("read"),
            (false, true) => Some("write"),
            (false, false) => return None,
        };
        let mut tag = vec!["r".to_string(), url.clone()];
        tag.extend(marker.map(str::to_owned));
        Tag::parse(tag).ok()
    });
    EventBuilder::new(Kind::RelayList, "")
        .tags(tags.collect::<Vec<_>>())
        .custom_created_at(strictly_after(current))
        .finalize_unsigned(me)
}

/// The user's DM relays (NIP-17 kind 10050), dated strictly after the copy
/// it replaces.
pub fn dm_relay_list(
    me: PublicKey,
    relays: &[samizdat_net::RelayUrl],
    current: Option<&Event>,
) -> UnsignedEvent {
    let tags = relays
        .iter()
        .filter_map(|r| Tag::parse(["relay", &r.to_string()]).ok())
        .collect::<Vec<_>>();
    EventBuilder::new(Kind::InboxRelays, "")
        .tags(tags)
        .custom_created_at(strictly_after(current))
        .finalize_unsigned(me)
}

/// A harmless note used to check that a remote signer signs (never published).
pub fn signer_probe(me: PublicKey) -> UnsignedEvent {
    EventBuilder::new(Kind::TextNote, "samizdat signer test (not published)").finalize_unsigned(me)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(keys: &Keys, unsigned: UnsignedEvent) -> Event {
        SignEvent::sign_event(keys, unsigned).unwrap()
    }

    fn markers(e: &UnsignedEvent) -> Vec<(String, String)> {
        e.tags
            .iter()
            .map(|t| t.as_slice())
            .filter(|s| s[0] == "e")
            .map(|s| (s[1].clone(), s.get(3).cloned().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_reply_to_a_root_marks_it_root_and_a_reply_to_a_reply_keeps_the_root() {
        let (a, b, c) = (Keys::generate(), Keys::generate(), Keys::generate());
        let root = signed(&a, note(a.public_key(), "root"));
        let first = reply(b.public_key(), &root, "first");
        assert_eq!(markers(&first), vec![(root.id.to_hex(), "root".into())]);
        let first = signed(&b, first);
        let second = reply(c.public_key(), &first, "second");
        assert_eq!(
            markers(&second),
            vec![
                (root.id.to_hex(), "root".into()),
                (first.id.to_hex(), "reply".into())
            ]
        );
        let people: Vec<PublicKey> = second.tags.public_keys().collect();
        assert_eq!(people, vec![b.public_key(), a.public_key()]);
        // Replying to oneself tags nobody twice and never oneself.
        let own = reply(a.public_key(), &root, "me again");
        assert_eq!(own.tags.public_keys().count(), 0);
    }

    #[test]
    fn reactions_reposts_and_deletions_name_their_subject() {
        let (a, b) = (Keys::generate(), Keys::generate());
        let subject = signed(&a, note(a.public_key(), "hello"));
        let r = reaction(b.public_key(), &subject, "+");
        assert_eq!(r.kind, Kind::Reaction);
        assert!(r.tags.event_ids().any(|id| id == subject.id));
        assert!(r.tags.public_keys().any(|p| p == a.public_key()));
        let rp = repost(b.public_key(), &subject);
        assert_eq!(rp.content, subject.as_json());
        assert!(deletion(b.public_key(), &subject, "").is_none());
        let d = deletion(a.public_key(), &subject, "oops").unwrap();
        assert_eq!(d.kind, Kind::EventDeletion);
        assert_eq!(d.content, "oops");
    }

    #[test]
    fn follow_list_changes_keep_everything_else_and_are_strictly_newer() {
        let me = Keys::generate();
        let (x, y) = (Keys::generate().public_key(), Keys::generate().public_key());
        let future = Timestamp::from_secs(Timestamp::now().as_secs() + 100);
        let current = EventBuilder::new(Kind::ContactList, "{\"legacy\":1}")
            .tag(Tag::public_key(x))
            .tag(Tag::parse(["t", "rust"]).unwrap())
            .custom_created_at(future)
            .finalize(&me)
            .unwrap();
        let added = contact_list(me.public_key(), Some(&current), y, true);
        assert!(added.created_at > current.created_at);
        assert_eq!(added.content, current.content);
        assert_eq!(added.tags.public_keys().count(), 2);
        assert!(added.tags.iter().any(|t| t.as_slice()[0] == "t"));
        let removed = contact_list(me.public_key(), Some(&current), x, false);
        assert_eq!(removed.tags.public_keys().count(), 0);
        assert!(follows(Some(&current), &x));
        assert!(!follows(Some(&current), &y));
        assert!(!follows(None, &y));
    }

    #[test]
    fn profile_changes_keep_unknown_fields() {
        let me = Keys::generate();
        let current = EventBuilder::new(Kind::Metadata, r#"{"name":"a","lud16":"x@y"}"#)
            .finalize(&me)
            .unwrap();
        let changed = metadata(
            me.public_key(),
            Some(&current),
            &[("about".into(), "hi".into())],
        );
        let v: Value = serde_json::from_str(&changed.content).unwrap();
        assert_eq!(v["name"], "a");
        assert_eq!(v["lud16"], "x@y");
        assert_eq!(v["about"], "hi");
        // A broken profile is replaced, not an error.
        let broken = EventBuilder::new(Kind::Metadata, "not json")
            .finalize(&me)
            .unwrap();
        assert!(profile_fields(Some(&broken)).is_empty());
    }

    #[test]
    fn relay_lists_mark_read_and_write() {
        let me = Keys::generate().public_key();
        let relays = [
            (
                "wss://both.example".to_string(),
                RelayRoles {
                    read: true,
                    write: true,
                },
            ),
            (
                "wss://in.example".to_string(),
                RelayRoles {
                    read: true,
                    write: false,
                },
            ),
            (
                "wss://out.example".to_string(),
                RelayRoles {
                    read: false,
                    write: true,
                },
            ),
            ("wss://none.example".to_string(), RelayRoles::default()),
        ];
        let list = relay_list(me, relays.iter().map(|(u, r)| (u, r)), None);
        let tags: Vec<Vec<String>> = list.tags.iter().map(|t| t.as_slice().to_vec()).collect();
        assert_eq!(
            tags,
            vec![
                vec!["r".to_string(), "wss://both.example".into()],
                vec!["r".to_string(), "wss://in.example".into(), "read".into()],
                vec!["r".to_string(), "wss://out.example".into(), "write".into()],
            ]
        );
    }
}
