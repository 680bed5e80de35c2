//! Property tests: random events and random filters, the store's answers
//! compared with a small reference implementation of NIP-01 matching (and
//! replaceable/addressable replacement) written here from the NIP text.

mod common;

use std::collections::BTreeMap;

use common::*;
use nostr::prelude::*;
use proptest::prelude::*;

const WORDS: &[&str] = &["alpha", "beta", "gamma", "delta", "Nostr", "relay"];
const KINDS: &[u16] = &[1, 7, 0, 30023, 1111];
const TAG_VALUES: &[&str] = &["x", "y", "z"];

#[derive(Debug, Clone)]
struct EventSpec {
    author: u8,
    kind: u16,
    created_at: u64,
    t_tags: Vec<usize>,
    p_tag: Option<u8>,
    d_tag: usize,
    words: Vec<usize>,
}

fn event_spec() -> impl Strategy<Value = EventSpec> {
    (
        1u8..5,
        prop::sample::select(KINDS),
        0u64..40,
        prop::collection::vec(0usize..3, 0..3),
        prop::option::of(1u8..5),
        0usize..2,
        prop::collection::vec(0usize..WORDS.len(), 0..4),
    )
        .prop_map(
            |(author, kind, created_at, t_tags, p_tag, d_tag, words)| EventSpec {
                author,
                kind,
                created_at: 1_000 + created_at,
                t_tags,
                p_tag,
                d_tag,
                words,
            },
        )
}

fn build(spec: &EventSpec) -> Event {
    let mut tags: Vec<Vec<String>> = spec
        .t_tags
        .iter()
        .map(|&i| vec!["t".into(), TAG_VALUES[i].into()])
        .collect();
    if let Some(p) = spec.p_tag {
        tags.push(vec!["p".into(), keys(p).public_key().to_hex()]);
    }
    if spec.kind == 30023 {
        tags.push(vec!["d".into(), format!("d{}", spec.d_tag)]);
    }
    let content: Vec<&str> = spec.words.iter().map(|&w| WORDS[w]).collect();
    let tag_refs: Vec<Vec<&str>> = tags
        .iter()
        .map(|t| t.iter().map(String::as_str).collect())
        .collect();
    let tag_slices: Vec<&[&str]> = tag_refs.iter().map(Vec::as_slice).collect();
    event(
        &keys(spec.author),
        spec.kind,
        &content.join(" "),
        &tag_slices,
        spec.created_at,
    )
}

#[derive(Debug, Clone)]
struct FilterSpec {
    ids: Option<Vec<usize>>,
    authors: Option<Vec<u8>>,
    kinds: Option<Vec<u16>>,
    t: Option<Vec<usize>>,
    p: Option<Vec<u8>>,
    since: Option<u64>,
    until: Option<u64>,
    limit: usize,
    search: Option<Vec<usize>>,
}

fn filter_spec() -> impl Strategy<Value = FilterSpec> {
    (
        prop::option::of(prop::collection::vec(0usize..40, 0..4)),
        prop::option::of(prop::collection::vec(1u8..6, 0..3)),
        prop::option::of(prop::collection::vec(prop::sample::select(KINDS), 0..3)),
        prop::option::of(prop::collection::vec(0usize..3, 1..3)),
        prop::option::of(prop::collection::vec(1u8..5, 1..3)),
        prop::option::of(1_000u64..1_040),
        prop::option::of(1_000u64..1_040),
        0usize..25,
        prop::option::of(prop::collection::vec(0usize..WORDS.len(), 1..3)),
    )
        .prop_map(
            |(ids, authors, kinds, t, p, since, until, limit, search)| FilterSpec {
                ids,
                authors,
                kinds,
                t,
                p,
                since,
                until,
                limit,
                search,
            },
        )
}

fn to_filter(spec: &FilterSpec, events: &[Event]) -> Filter {
    let mut f = Filter::new().limit(spec.limit);
    if let Some(ids) = &spec.ids {
        // Indexes past the end stand for ids that are not stored.
        f.ids = Some(
            ids.iter()
                .map(|&i| {
                    events
                        .get(i)
                        .map(|e| e.id)
                        .unwrap_or_else(|| EventId::from_byte_array([0u8; 32]))
                })
                .collect(),
        );
    }
    if let Some(a) = &spec.authors {
        f.authors = Some(a.iter().map(|&n| keys(n).public_key()).collect());
    }
    if let Some(k) = &spec.kinds {
        f.kinds = Some(k.iter().map(|&k| Kind::from_u16(k)).collect());
    }
    if let Some(t) = &spec.t {
        f = f.custom_tags(
            SingleLetterTag::from_char('t').unwrap(),
            t.iter().map(|&i| TAG_VALUES[i]),
        );
    }
    if let Some(p) = &spec.p {
        f = f.custom_tags(
            SingleLetterTag::from_char('p').unwrap(),
            p.iter().map(|&n| keys(n).public_key().to_hex()),
        );
    }
    f.since = spec.since.map(Timestamp::from_secs);
    f.until = spec.until.map(Timestamp::from_secs);
    if let Some(words) = &spec.search {
        f.search = Some(
            words
                .iter()
                .map(|&w| WORDS[w].to_uppercase())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    f
}

/// Reference: which events survive storage (dedupe, replaceable rules).
fn reference_stored(events: &[Event]) -> Vec<Event> {
    let mut regular: BTreeMap<EventId, Event> = BTreeMap::new();
    let mut addressed: BTreeMap<(PublicKey, u16, String), Event> = BTreeMap::new();
    for e in events {
        let k = e.kind.as_u16();
        let replaceable = k == 0 || k == 3 || (10_000..20_000).contains(&k);
        let addressable = (30_000..40_000).contains(&k);
        if replaceable || addressable {
            let d = if addressable {
                e.tags.identifier().unwrap_or_default()
            } else {
                String::new()
            };
            let key = (e.pubkey, k, d);
            let wins = match addressed.get(&key) {
                None => true,
                Some(old) => {
                    e.created_at > old.created_at
                        || (e.created_at == old.created_at && e.id < old.id)
                }
            };
            if wins {
                addressed.insert(key, e.clone());
            }
        } else {
            regular.insert(e.id, e.clone());
        }
    }
    regular
        .into_values()
        .chain(addressed.into_values())
        .collect()
}

/// Reference: NIP-01 matching, read off the NIP text. Empty lists match nothing.
fn reference_matches(f: &Filter, e: &Event) -> bool {
    let ids_ok = f.ids.as_ref().is_none_or(|s| s.contains(&e.id));
    let authors_ok = f.authors.as_ref().is_none_or(|s| s.contains(&e.pubkey));
    let kinds_ok = f.kinds.as_ref().is_none_or(|s| s.contains(&e.kind));
    let since_ok = f.since.is_none_or(|s| e.created_at >= s);
    let until_ok = f.until.is_none_or(|u| e.created_at <= u);
    let tags_ok = f.generic_tags.iter().all(|(letter, values)| {
        e.tags.iter().any(|t| {
            let s = t.as_slice();
            s.len() >= 2 && s[0] == letter.as_char().to_string() && values.contains(&s[1])
        })
    });
    let search_ok = f.search.as_ref().is_none_or(|q| {
        let words: Vec<String> = e
            .content
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        q.split_whitespace()
            .all(|w| words.contains(&w.to_lowercase()))
    });
    ids_ok && authors_ok && kinds_ok && since_ok && until_ok && tags_ok && search_ok
}

fn reference_query(stored: &[Event], filters: &[Filter]) -> Vec<EventId> {
    let mut out: BTreeMap<EventId, Event> = BTreeMap::new();
    for f in filters {
        let mut matching: Vec<&Event> = stored.iter().filter(|e| reference_matches(f, e)).collect();
        matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        for e in matching.into_iter().take(f.limit.unwrap_or(usize::MAX)) {
            out.insert(e.id, e.clone());
        }
    }
    let mut all: Vec<Event> = out.into_values().collect();
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    all.into_iter().map(|e| e.id).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn store_answers_like_the_reference(
        specs in prop::collection::vec(event_spec(), 1..40),
        filters in prop::collection::vec(filter_spec(), 1..3),
    ) {
        let (_d, store) = temp_store();
        let events: Vec<Event> = specs.iter().map(build).collect();
        // Half in one batch, the rest one by one: both paths apply the same rules.
        let (batch, singles) = events.split_at(events.len() / 2);
        store.insert_batch(batch).unwrap();
        for e in singles {
            store.insert(e).unwrap();
        }
        let filters: Vec<Filter> = filters.iter().map(|f| to_filter(f, &events)).collect();
        let expected = reference_query(&reference_stored(&events), &filters);
        let got = ids(&store, &filters);
        prop_assert_eq!(got, expected, "filters: {:?}", filters.iter().map(|f| f.as_json()).collect::<Vec<_>>());
        // NIP-45 COUNT ignores `limit`: it equals the unlimited query's length.
        let unlimited: Vec<Filter> = filters.iter().cloned().map(|mut f| { f.limit = None; f }).collect();
        let all = reference_query(&reference_stored(&events), &unlimited);
        let counted = store.count(&filters, &[]).unwrap();
        prop_assert_eq!(counted as usize, all.len(), "count of {:?}", filters.iter().map(|f| f.as_json()).collect::<Vec<_>>());
        let without_notes = all.iter().filter(|id| events.iter().any(|e| e.id == **id && e.kind != Kind::TextNote)).count();
        prop_assert_eq!(store.count(&filters, &[1]).unwrap() as usize, without_notes);
    }
}
