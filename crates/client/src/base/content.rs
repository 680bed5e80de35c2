//! A note's text as a UI shows it: plain runs, links, hashtags and `nostr:`
//! references (NIP-21 / NIP-27), each reference already decoded. Parsing is
//! here, not in a UI, so every UI resolves mentions the same way and a
//! malformed reference is simply text.

use nostr::nips::nip19::{FromBech32, Nip19};
use nostr::prelude::*;

/// One run of a note's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Plain text, shown as it is.
    Text(String),
    /// A web link (`http://` or `https://`); never fetched unless the user
    /// opens it.
    Link(String),
    /// `#word`.
    Hashtag(String),
    /// A person (`nostr:npub…` or `nostr:nprofile…`), with relay hints.
    Person {
        /// Who.
        pubkey: PublicKey,
        /// Relays the reference hints at (nprofile).
        relays: Vec<String>,
    },
    /// An event (`nostr:note…`, `nostr:nevent…`), with relay hints.
    Event {
        /// Which.
        id: EventId,
        /// Relays the reference hints at (nevent).
        relays: Vec<String>,
    },
    /// An addressable event (`nostr:naddr…`), shown as its address.
    Address(String),
}

/// Splits `text` into segments. Never fails: anything that is not a valid
/// link, hashtag or reference stays text.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut plain = String::new();
    let mut at = 0;
    // A token starts only at the beginning or after a non-alphanumeric
    // character, so "abc#d" and "xnpub1…" stay text.
    let mut boundary = true;
    while let Some(c) = text[at..].chars().next() {
        if boundary {
            if let Some((segment, len)) = token_at(&text[at..]) {
                if !plain.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut plain)));
                }
                out.push(segment);
                at += len;
                continue;
            }
        }
        plain.push(c);
        at += c.len_utf8();
        boundary = !c.is_alphanumeric();
    }
    if !plain.is_empty() {
        out.push(Segment::Text(plain));
    }
    out
}

/// The token starting at the beginning of `s`, and its length in bytes.
fn token_at(s: &str) -> Option<(Segment, usize)> {
    if s.starts_with("https://") || s.starts_with("http://") {
        let len = word_len(s);
        let link = s[..len].trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
        if link.len() > "https://".len() {
            return Some((Segment::Link(link.to_owned()), link.len()));
        }
        return None;
    }
    if let Some(tag) = s.strip_prefix('#') {
        let len = tag
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(tag.len());
        if len > 0 {
            return Some((Segment::Hashtag(tag[..len].to_owned()), len + 1));
        }
        return None;
    }
    let (prefix, body) = match s.strip_prefix("nostr:") {
        Some(b) => ("nostr:".len(), b),
        None => (0, s),
    };
    let len = body
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(body.len());
    let word = &body[..len];
    let bare_ok = prefix > 0 || word.starts_with("npub1") || word.starts_with("note1");
    if len < 8 || !bare_ok {
        return None;
    }
    let segment = match Nip19::from_bech32(word).ok()? {
        Nip19::Pubkey(pubkey) => Segment::Person {
            pubkey,
            relays: Vec::new(),
        },
        Nip19::Profile(p) => Segment::Person {
            pubkey: p.public_key,
            relays: p.relays.iter().map(|r| r.to_string()).collect(),
        },
        Nip19::EventId(id) => Segment::Event {
            id,
            relays: Vec::new(),
        },
        Nip19::Event(e) => Segment::Event {
            id: e.event_id,
            relays: e.relays.iter().map(|r| r.to_string()).collect(),
        },
        Nip19::Coordinate(c) => Segment::Address(c.coordinate.to_string()),
        // A secret key in a note is shown as text, never decoded further.
        _ => return None,
    };
    Some((segment, prefix + len))
}

fn word_len(s: &str) -> usize {
    s.find(char::is_whitespace).unwrap_or(s.len())
}

/// Reads what a user typed or pasted as a reference to a person or an
/// event: npub, nprofile, note, nevent (with or without `nostr:`), or a
/// 64-hex public key. `None` for anything else (search text, say).
pub fn parse_reference(input: &str) -> Option<Segment> {
    let input = input.trim();
    let bare = input.strip_prefix("nostr:").unwrap_or(input);
    if bare.len() == 64 && bare.bytes().all(|b| b.is_ascii_hexdigit()) {
        return PublicKey::from_hex(bare)
            .ok()
            .map(|pubkey| Segment::Person {
                pubkey,
                relays: Vec::new(),
            });
    }
    match token_at(&format!("nostr:{bare}")) {
        Some((segment @ (Segment::Person { .. } | Segment::Event { .. }), len))
            if len == bare.len() + "nostr:".len() =>
        {
            Some(segment)
        }
        _ => None,
    }
}

/// A short form of a public key for when no name is known: `npub1abcd…wxyz`.
pub fn short_npub(pubkey: &PublicKey) -> String {
    let npub = pubkey.to_bech32().unwrap_or_else(|_| pubkey.to_hex());
    if npub.len() <= 16 {
        return npub;
    }
    format!("{}…{}", &npub[..10], &npub[npub.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_hashtags_and_references() {
        let keys = Keys::generate();
        let npub = keys.public_key().to_bech32().unwrap();
        let id = EventId::from_byte_array([7; 32]);
        let note = id.to_bech32().unwrap();
        let text = format!("hi nostr:{npub}, see https://example.org/a. #rust and nostr:{note}!");
        let s = segments(&text);
        assert_eq!(
            s,
            vec![
                Segment::Text("hi ".into()),
                Segment::Person {
                    pubkey: keys.public_key(),
                    relays: vec![]
                },
                Segment::Text(", see ".into()),
                Segment::Link("https://example.org/a".into()),
                Segment::Text(". ".into()),
                Segment::Hashtag("rust".into()),
                Segment::Text(" and ".into()),
                Segment::Event { id, relays: vec![] },
                Segment::Text("!".into()),
            ]
        );
    }

    #[test]
    fn bad_references_stay_text_and_nothing_panics() {
        for text in [
            "nostr:npub1notvalid",
            "nostr:",
            "#",
            "https://",
            "naïve ünïcode 🎉 #日本語 n h",
            "npub1",
            "nostr:nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5",
        ] {
            let s = segments(text);
            let joined: String = s
                .iter()
                .map(|seg| match seg {
                    Segment::Text(t) => t.clone(),
                    Segment::Hashtag(h) => format!("#{h}"),
                    Segment::Link(l) => l.clone(),
                    other => panic!("{text:?} gave {other:?}"),
                })
                .collect();
            assert_eq!(joined, text, "nothing lost from {text:?}");
        }
    }

    #[test]
    fn nprofile_hints_are_kept() {
        let keys = Keys::generate();
        let p = nostr::nips::nip19::Nip19Profile::new(
            keys.public_key(),
            [RelayUrl::parse("wss://relay.example").unwrap()],
        );
        let s = segments(&format!("nostr:{}", p.to_bech32().unwrap()));
        assert_eq!(
            s,
            vec![Segment::Person {
                pubkey: keys.public_key(),
                relays: vec!["wss://relay.example".into()]
            }]
        );
    }

    #[test]
    fn references_typed_by_a_user() {
        let k = Keys::generate();
        let npub = k.public_key().to_bech32().unwrap();
        for input in [
            npub.clone(),
            format!("nostr:{npub}"),
            k.public_key().to_hex(),
        ] {
            assert!(
                matches!(parse_reference(&input), Some(Segment::Person { pubkey, .. }) if pubkey == k.public_key()),
                "{input}"
            );
        }
        let id = EventId::from_byte_array([9; 32]);
        assert!(matches!(
            parse_reference(&id.to_bech32().unwrap()),
            Some(Segment::Event { .. })
        ));
        for junk in ["hello world", "npub1xyz", "", &format!("{npub} trailing")] {
            assert_eq!(parse_reference(junk), None, "{junk}");
        }
    }

    #[test]
    fn short_npub_is_short() {
        let s = short_npub(&Keys::generate().public_key());
        assert!(s.starts_with("npub1") && s.chars().count() == 15, "{s}");
    }
}
