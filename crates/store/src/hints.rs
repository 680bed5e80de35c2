//! Relay hints (migration 9): where other people's events and references
//! say a person writes, and where a person's events were actually seen.
//!
//! Hints come from three places: the tags of stored events (`p`, `e` with
//! the author as fifth element, `a`, `q`: the relay a referenced person or
//! event can be found on), references the user pasted (nprofile, nevent,
//! naddr), and NIP-05 documents. They are kept as the text the hint gave
//! (trimmed, `ws://` or `wss://`, bounded length): normalising relay URLs is
//! the network layer's job, so readers normalise and drop what does not parse.
//! Sightings are not stored twice: they are read from `event_seen`.

use nostr::prelude::{Event, PublicKey, Timestamp};
use rusqlite::{params, Transaction};

use crate::error::StoreResult;
use crate::Store;

/// Longest hint kept; longer ones are junk, not relays.
const MAX_HINT_LEN: usize = 256;

/// Where a relay hint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HintSource {
    /// A tag of someone's event (`p`, `e`, `a`, `q`) named the relay.
    Tag,
    /// A reference the user gave (nprofile, nevent, naddr) named it.
    Reference,
    /// The person's NIP-05 document lists it.
    Nip05,
}

impl HintSource {
    /// The name stored and shown (`tag`, `reference`, `nip05`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tag => "tag",
            Self::Reference => "reference",
            Self::Nip05 => "nip05",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "tag" => Some(Self::Tag),
            "reference" => Some(Self::Reference),
            "nip05" => Some(Self::Nip05),
            _ => None,
        }
    }
}

/// One relay hint about a person, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayHint {
    /// The person the hint is about.
    pub pubkey: PublicKey,
    /// The relay as the hint gave it (not normalised).
    pub relay: String,
    /// Where the hint came from.
    pub source: HintSource,
    /// How many times it was given.
    pub count: u64,
    /// Unix time of the oldest hint (the referring event's time, for tags).
    pub first_at: u64,
    /// Unix time of the newest hint.
    pub last_at: u64,
}

/// Where a person's events were received from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRelay {
    /// The author.
    pub pubkey: PublicKey,
    /// The relay URL as recorded by the network layer.
    pub relay: String,
    /// How many of their stored events were received from it.
    pub events: u64,
    /// Unix time of the last reception.
    pub last_seen: u64,
}

/// A hint's relay text if it looks like a relay address at all.
fn plausible_relay(hint: &str) -> Option<&str> {
    let hint = hint.trim();
    let ok = (hint.starts_with("wss://") || hint.starts_with("ws://"))
        && hint.len() <= MAX_HINT_LEN
        && hint.len() > "ws://".len() + 1
        && !hint.chars().any(char::is_whitespace);
    ok.then_some(hint)
}

/// The (person, relay) hints one event's tags carry.
pub(crate) fn hints_in_tags(event: &Event) -> Vec<(PublicKey, &str)> {
    let mut out = Vec::new();
    for tag in event.tags.iter() {
        let s = tag.as_slice();
        let (Some(name), Some(relay)) = (s.first(), s.get(2).and_then(|r| plausible_relay(r)))
        else {
            continue;
        };
        // Which element names the person the relay hint is about.
        let key: Option<&str> = match name.as_str() {
            "p" => s.get(1).map(String::as_str),
            "e" => s.get(4).map(String::as_str),
            "q" => s.get(3).map(String::as_str),
            "a" => s.get(1).and_then(|a| a.split(':').nth(1)),
            _ => None,
        };
        if let Some(pk) = key.and_then(|k| PublicKey::from_hex(k).ok()) {
            out.push((pk, relay));
        }
    }
    out
}

/// Most references read from one event's content.
const MAX_CONTENT_REFERENCES: usize = 32;

/// The (person, relays) that `nostr:nprofile1…`, `nostr:nevent1…` (with an
/// author) and `nostr:naddr1…` references in a text name.
pub(crate) fn hints_in_content(content: &str) -> Vec<(PublicKey, Vec<String>)> {
    use nostr::nips::nip19::{FromBech32, Nip19Coordinate, Nip19Event, Nip19Profile};
    let mut out = Vec::new();
    for (i, _) in content
        .match_indices("nostr:n")
        .take(MAX_CONTENT_REFERENCES)
    {
        let token: String = content[i + "nostr:".len()..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let found = if token.starts_with("nprofile1") {
            Nip19Profile::from_bech32(&token)
                .ok()
                .map(|p| (p.public_key, p.relays))
        } else if token.starts_with("nevent1") {
            Nip19Event::from_bech32(&token)
                .ok()
                .and_then(|e| e.author.map(|a| (a, e.relays)))
        } else if token.starts_with("naddr1") {
            Nip19Coordinate::from_bech32(&token)
                .ok()
                .map(|c| (c.coordinate.public_key, c.relays))
        } else {
            None
        };
        if let Some((pk, relays)) = found.filter(|(_, r)| !r.is_empty()) {
            out.push((pk, relays.iter().map(|r| r.to_string()).collect()));
        }
    }
    out
}

/// Upserts one hint inside an open transaction.
pub(crate) fn put_hint(
    tx: &Transaction<'_>,
    pubkey: &PublicKey,
    relay: &str,
    source: HintSource,
    at: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO relay_hints (pubkey, relay, source, count, first_at, last_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?4)
         ON CONFLICT (pubkey, relay, source) DO UPDATE SET
           count = count + 1,
           first_at = min(first_at, excluded.first_at),
           last_at = max(last_at, excluded.last_at)",
    )?
    .execute(params![&pubkey.to_bytes()[..], relay, source.as_str(), at])?;
    Ok(())
}

/// Records the hints a newly stored event's tags carry, dated by the event
/// (never later than now).
pub(crate) fn record_tag_hints(
    tx: &Transaction<'_>,
    event: &Event,
    now: i64,
) -> rusqlite::Result<()> {
    let at = (event.created_at.as_secs() as i64).min(now);
    for (pubkey, relay) in hints_in_tags(event) {
        if pubkey != event.pubkey {
            put_hint(tx, &pubkey, relay, HintSource::Tag, at)?;
        }
    }
    if event.content.contains("nostr:n") {
        for (pubkey, relays) in hints_in_content(&event.content) {
            for relay in relays.iter().filter_map(|r| plausible_relay(r)) {
                put_hint(tx, &pubkey, relay, HintSource::Reference, at)?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Records that `relays` were named for `pubkey` by `source` (an
    /// nprofile the user pasted, a NIP-05 document), now. Text that is not a
    /// plausible relay address is skipped.
    pub fn record_relay_hints(
        &self,
        pubkey: &PublicKey,
        relays: &[String],
        source: HintSource,
    ) -> StoreResult<()> {
        let now = Timestamp::now().as_secs() as i64;
        let mut conn = self.writer();
        let tx = conn
            .transaction()
            .map_err(|e| self.err("recording relay hints", e))?;
        for relay in relays.iter().filter_map(|r| plausible_relay(r)) {
            put_hint(&tx, pubkey, relay, source, now)
                .map_err(|e| self.err("recording relay hints", e))?;
        }
        tx.commit()
            .map_err(|e| self.err("recording relay hints", e))
    }

    /// Runs `sql` (one `?1`: the author's key) for each of `authors`,
    /// turning each row into an item with `row`; `what` names the read in errors.
    fn per_author<T>(
        &self,
        sql: &str,
        authors: &[PublicKey],
        what: &'static str,
        row: impl Fn(PublicKey, &rusqlite::Row<'_>) -> rusqlite::Result<Option<T>>,
    ) -> StoreResult<Vec<T>> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.err(what, e))?;
        let mut out = Vec::new();
        for author in authors {
            let rows = stmt
                .query_map([&author.to_bytes()[..]], |r| row(*author, r))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err(what, e))?;
            out.extend(rows.into_iter().flatten());
        }
        Ok(out)
    }

    /// Every hint recorded about `authors`.
    pub fn relay_hints(&self, authors: &[PublicKey]) -> StoreResult<Vec<RelayHint>> {
        self.per_author(
            "SELECT relay, source, count, first_at, last_at FROM relay_hints WHERE pubkey = ?1",
            authors,
            "reading relay hints",
            |pubkey, r| {
                let Some(source) = HintSource::parse(&r.get::<_, String>(1)?) else {
                    return Ok(None);
                };
                Ok(Some(RelayHint {
                    pubkey,
                    relay: r.get(0)?,
                    source,
                    count: r.get::<_, i64>(2)?.max(0) as u64,
                    first_at: r.get::<_, i64>(3)?.max(0) as u64,
                    last_at: r.get::<_, i64>(4)?.max(0) as u64,
                }))
            },
        )
    }

    /// Per author, the relays their newest 100 stored events were received
    /// from, with how many of those and when last (where someone writes now;
    /// reading all of a prolific author's history would make every plan cost
    /// as much as the store is large). Profiles, follow lists and relay
    /// lists do not count: discovery relays hold those for everyone, which
    /// says nothing about where a person writes.
    pub fn seen_relays(&self, authors: &[PublicKey]) -> StoreResult<Vec<SeenRelay>> {
        self.per_author(
            "SELECT r.url, COUNT(*), MAX(s.last_seen)
             FROM (SELECT seq FROM events INDEXED BY events_author_time
                   WHERE author = (SELECT id FROM authors WHERE pubkey = ?1)
                     AND kind NOT IN (0, 3) AND NOT (kind BETWEEN 10000 AND 19999)
                   ORDER BY created_at DESC LIMIT 100) e
             JOIN event_seen s ON s.event = e.seq
             JOIN relays r ON r.id = s.relay
             GROUP BY s.relay",
            authors,
            "reading where events were seen",
            |pubkey, r| {
                Ok(Some(SeenRelay {
                    pubkey,
                    relay: r.get(0)?,
                    events: r.get::<_, i64>(1)?.max(0) as u64,
                    last_seen: r.get::<_, i64>(2)?.max(0) as u64,
                }))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    fn event_with(tags: Vec<Vec<String>>) -> Event {
        let keys = Keys::generate();
        let tags = tags
            .into_iter()
            .map(|t| Tag::parse(t).unwrap())
            .collect::<Vec<_>>();
        EventBuilder::new(Kind::TextNote, "hi")
            .tags(tags)
            .finalize(&keys)
            .unwrap()
    }

    #[test]
    fn tag_hints_name_the_right_person_and_skip_junk() {
        let bob = Keys::generate().public_key();
        let carol = Keys::generate().public_key();
        let dave = Keys::generate().public_key();
        let id = "0".repeat(64);
        let e = event_with(vec![
            vec!["p".into(), bob.to_hex(), "wss://bob.example".into()],
            vec!["p".into(), bob.to_hex(), "".into()],
            vec!["p".into(), bob.to_hex(), "not a relay".into()],
            vec![
                "e".into(),
                id.clone(),
                "wss://carol.example".into(),
                "reply".into(),
                carol.to_hex(),
            ],
            vec!["e".into(), id.clone(), "wss://nobody.example".into()],
            vec![
                "a".into(),
                format!("30023:{}:post", dave.to_hex()),
                "ws://127.0.0.1:7000".into(),
            ],
            vec!["p".into(), "zz".into(), "wss://x.example".into()],
        ]);
        let hints = hints_in_tags(&e);
        assert_eq!(
            hints,
            vec![
                (bob, "wss://bob.example"),
                (carol, "wss://carol.example"),
                (dave, "ws://127.0.0.1:7000"),
            ]
        );
    }

    #[test]
    fn references_in_content_name_their_relays() {
        use nostr::nips::nip19::{Nip19Profile, ToBech32};
        let bob = Keys::generate().public_key();
        let nprofile = Nip19Profile::new(bob, [RelayUrl::parse("wss://bob.example").unwrap()])
            .to_bech32()
            .unwrap();
        let text = format!("say hi to nostr:{nprofile}, and nostr:nprofile1garbage; nostr:npub1x");
        assert_eq!(
            hints_in_content(&text),
            vec![(bob, vec!["wss://bob.example".to_owned()])]
        );
        assert!(hints_in_content("nostr:n").is_empty());
    }

    #[test]
    fn hints_are_recorded_counted_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let bob = Keys::generate().public_key();
        let e = event_with(vec![vec![
            "p".into(),
            bob.to_hex(),
            "wss://bob.example".into(),
        ]]);
        store.insert(&e).unwrap();
        store
            .record_relay_hints(
                &bob,
                &["wss://bob.example".into(), "junk".into()],
                HintSource::Nip05,
            )
            .unwrap();
        let mut hints = store.relay_hints(&[bob]).unwrap();
        hints.sort_by_key(|h| h.source);
        assert_eq!(hints.len(), 2, "{hints:?}");
        assert_eq!(hints[0].source, HintSource::Tag);
        assert_eq!(hints[0].last_at, e.created_at.as_secs());
        assert_eq!(hints[1].source, HintSource::Nip05);
        // The same event again adds nothing (only new events carry hints).
        store.insert(&e).unwrap();
        assert_eq!(store.relay_hints(&[bob]).unwrap()[0].count, 1);
    }

    #[test]
    fn seen_relays_group_by_relay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite")).unwrap();
        let e = event_with(vec![]);
        store
            .insert_batch_from(Some("wss://a.example"), std::slice::from_ref(&e))
            .unwrap();
        store
            .insert_batch_from(Some("wss://b.example"), std::slice::from_ref(&e))
            .unwrap();
        let seen = store.seen_relays(&[e.pubkey]).unwrap();
        let relays: Vec<&str> = seen.iter().map(|s| s.relay.as_str()).collect();
        assert_eq!(relays.len(), 2);
        assert!(relays.contains(&"wss://a.example") && relays.contains(&"wss://b.example"));
        assert!(seen.iter().all(|s| s.events == 1));
    }
}
