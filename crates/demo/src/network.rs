//! The generated social network: people with keys, relay lists spread
//! over several relays (some of them down, some people without a list),
//! notes and replies, written straight into the relays' stores.

use std::collections::BTreeMap;
use std::sync::Arc;

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use samizdat_store::Store;

use crate::{ev, DemoError};

/// One generated person.
pub struct Person {
    /// Their keys (generated from the seed).
    pub keys: Keys,
    /// A short readable name (also in their kind-0 profile).
    pub name: String,
    /// Indexes into the relay table (which may be down).
    pub writes: Vec<usize>,
    /// Whether they published a relay list (kind 10002).
    pub has_relay_list: bool,
    /// Their notes (kind 1), as written to their relays.
    pub notes: Vec<Event>,
}

/// A relay of the demo: up (with its store), or down / hanging (no store).
pub struct DemoRelay {
    /// Readable name (`relay-a`, `indexer`, `relay-f (down)`).
    pub name: String,
    /// Where clients connect (through the latency proxy when there is one).
    pub url: String,
    /// The relay's store when it is up.
    pub store: Option<Arc<Store>>,
    /// The one-way delay its forwarder adds (`None`: none).
    pub latency: Option<std::time::Duration>,
}

const NAMES: &[&str] = &[
    "ada", "bo", "cy", "dee", "eli", "fay", "gus", "hal", "ivy", "jo", "kai", "lu", "max", "nia",
    "oz", "pia", "quin", "rae", "sol", "tia", "uma", "vic", "wes", "xia", "yan", "zoe",
];

const WORDS: &[&str] = &[
    "relays",
    "outbox",
    "privacy",
    "coffee",
    "rust",
    "notes",
    "keys",
    "gossip",
    "tor",
    "freedom",
    "garden",
    "music",
    "bitcoin",
    "zaps",
    "books",
    "cats",
    "weather",
    "code",
    "signal",
    "lightning",
];

/// Generates `n` people over `relays` (index 0 is the discovery relay, not a
/// place people write to) and writes their events into the relays that are up.
pub fn populate(seed: u64, n: usize, relays: &[DemoRelay]) -> Result<Vec<Person>, DemoError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let content_relays: Vec<usize> = (1..relays.len()).collect();
    let now = Timestamp::now().as_secs();
    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let mut secret = [0u8; 32];
        rng.fill(&mut secret);
        secret[0] |= 1;
        let keys = Keys::new(ev(SecretKey::from_slice(&secret))?);
        let how_many = rng.random_range(1..=3usize);
        let mut writes = Vec::new();
        while writes.len() < how_many {
            // Earlier relays are more popular.
            let pick = content_relays
                [(rng.random::<f64>().powf(1.8) * content_relays.len() as f64) as usize];
            if !writes.contains(&pick) {
                writes.push(pick);
            }
        }
        people.push(Person {
            keys,
            name: format!("{}{}", NAMES[i % NAMES.len()], i / NAMES.len()),
            writes,
            has_relay_list: rng.random::<f64>() < 0.85,
            notes: Vec::new(),
        });
    }
    let mut by_relay: BTreeMap<usize, Vec<Event>> = BTreeMap::new();
    let mut posted: Vec<(EventId, PublicKey)> = Vec::new();
    for person in &mut people {
        let profile =
            EventBuilder::new(Kind::Metadata, format!("{{\"name\":\"{}\"}}", person.name))
                .custom_created_at(Timestamp::from_secs(now - 86_400 * 30))
                .finalize(&person.keys);
        let profile = ev(profile)?;
        for &r in &person.writes {
            by_relay.entry(r).or_default().push(profile.clone());
        }
        if person.has_relay_list {
            let tags = person
                .writes
                .iter()
                .map(|&r| Tag::parse(["r", relays[r].url.as_str()]));
            let list = EventBuilder::new(Kind::RelayList, "")
                .tags(ev(tags.collect::<Result<Vec<_>, _>>())?)
                .custom_created_at(Timestamp::from_secs(now - 86_400 * 20))
                .finalize(&person.keys);
            let list = ev(list)?;
            by_relay.entry(0).or_default().push(list.clone());
            for &r in &person.writes {
                by_relay.entry(r).or_default().push(list.clone());
            }
        }
        for _ in 0..rng.random_range(2..=8usize) {
            let words: Vec<&str> = (0..rng.random_range(4..12))
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect();
            let at = Timestamp::from_secs(now - rng.random_range(60..3 * 86_400));
            let mut builder =
                EventBuilder::new(Kind::TextNote, words.join(" ")).custom_created_at(at);
            if !posted.is_empty() && rng.random::<f64>() < 0.3 {
                let (parent, author) = posted[rng.random_range(0..posted.len())];
                builder = builder
                    .tag(ev(Tag::parse(["e", &parent.to_hex(), "", "root"]))?)
                    .tag(Tag::public_key(author));
            }
            let note = ev(builder.finalize(&person.keys))?;
            posted.push((note.id, person.keys.public_key()));
            person.notes.push(note.clone());
            for &r in &person.writes {
                by_relay.entry(r).or_default().push(note.clone());
            }
        }
    }
    for (r, events) in by_relay {
        if let Some(store) = &relays[r].store {
            store.insert_batch(&events)?;
        }
    }
    Ok(people)
}
