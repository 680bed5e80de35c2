//! Pre-signed events for load tests (`samizdat bench relay`, `bench ingest`).

use nostr::prelude::*;

/// Distinct hashtags the load-test notes spread over.
pub const TAGS: usize = 100;

/// Signs `n` notes over 50 fresh keys and [`TAGS`] hashtags, on all cores,
/// dated over the last day (so a relay's time window accepts them).
pub fn signed_notes(n: usize) -> Vec<Event> {
    let keys: Vec<Keys> = (0..50).map(|_| Keys::generate()).collect();
    signed_notes_by(&keys, n)
}

/// Signs `n` notes spread over `keys` (round robin), like [`signed_notes`]:
/// a store full of the followed people's history (`bench feed --fill`).
pub fn signed_notes_by(keys: &[Keys], n: usize) -> Vec<Event> {
    if keys.is_empty() {
        return Vec::new();
    }
    let now = Timestamp::now().as_secs();
    sign_all(0..n, |i| {
        EventBuilder::new(
            Kind::TextNote,
            format!("load test note {i}: {}", "lorem ipsum ".repeat(8)),
        )
        .tag(Tag::hashtag(format!("t{}", i % TAGS)))
        .custom_created_at(Timestamp::from_secs(now - (i as u64 % 86_400)))
        .finalize(&keys[i % keys.len()])
        .ok()
    })
}

/// `make(i)` for every `i` of `range`, on all cores, in order (signing is
/// the slow part of making load).
pub fn sign_all(
    range: std::ops::Range<usize>,
    make: impl Fn(usize) -> Option<Event> + Sync,
) -> Vec<Event> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let chunk = range.len().div_ceil(threads).max(1);
    let make = &make;
    std::thread::scope(|s| {
        let handles: Vec<_> = range
            .clone()
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(range.end);
                s.spawn(move || (start..end).filter_map(make).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The soak's history as a store holds it (`samizdat bench plans`): notes
/// number `range` of `total`, by `keys` in turn, the last dated `now` and
/// 200 a second before it, each with one of [`TAGS`] hashtags.
pub fn soak_history(
    keys: &[Keys],
    range: std::ops::Range<usize>,
    now: u64,
    total: usize,
) -> Vec<Event> {
    if keys.is_empty() {
        return Vec::new();
    }
    sign_all(range, |i| {
        let at = now.saturating_sub((total.saturating_sub(i) / 200) as u64);
        EventBuilder::new(
            Kind::TextNote,
            format!("soak {}/{i} {}", i % 8, "x".repeat(i % 400)),
        )
        .tag(Tag::hashtag(format!("t{}", i % TAGS)))
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(&keys[i % keys.len()])
        .ok()
    })
}

/// Signs `n` notes of one author (`keys`), one second apart and ending ten
/// seconds ago (a replication check's own history; `bench replicate`).
pub fn own_notes(keys: &Keys, n: usize) -> Vec<Event> {
    let base = Timestamp::now().as_secs().saturating_sub(n as u64 + 10);
    (0..n)
        .filter_map(|i| {
            EventBuilder::new(Kind::TextNote, format!("note {i} of the replication bench"))
                .custom_created_at(Timestamp::from_secs(base + i as u64))
                .finalize(keys)
                .ok()
        })
        .collect()
}

/// A soak publisher's `n`-th note (`samizdat bench soak`): sizes vary from a
/// few bytes to 400, hashtags spread over [`TAGS`], dated now.
pub fn soak_note(keys: &Keys, publisher: usize, n: u64) -> Option<Event> {
    EventBuilder::new(
        Kind::TextNote,
        format!("soak {publisher}/{n} {}", "x".repeat(n as usize % 400)),
    )
    .tag(Tag::hashtag(format!("t{}", n % TAGS as u64)))
    .finalize(keys)
    .ok()
}

/// A signed note whose content was changed after signing: its id no longer
/// matches, which a relay must refuse (`samizdat bench soak`'s bad frames).
pub fn forged_note(keys: &Keys) -> Option<Event> {
    let mut event = EventBuilder::new(Kind::TextNote, "real")
        .finalize(keys)
        .ok()?;
    event.content = "forged".into();
    Some(event)
}

/// A follow list (kind 3) of `keys` naming `people` (raw 32-byte keys,
/// written as hex without checking they are on the curve: generated graphs
/// use random bytes), dated `at` (`samizdat bench trust`'s store).
pub fn contact_list(keys: &Keys, people: &[[u8; 32]], at: u64) -> Option<Event> {
    let hex = |k: &[u8; 32]| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
    EventBuilder::new(Kind::ContactList, "")
        .tags(
            people
                .iter()
                .filter_map(|p| Tag::parse(["p".to_owned(), hex(p)]).ok()),
        )
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(keys)
        .ok()
}
