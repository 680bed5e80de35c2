//! `--bench-fill N`: before the demo profile opens, its store is filled to
//! N events (notes from the people the demo user follows, spread over the
//! last 30 days, signed), so the start-up benchmark measures a warm store of
//! a realistic size. Runs once: a marker file says it was done.

use std::path::Path;

use nostr::prelude::*;
use samizdat_store::Store;

/// Fills `dir/events.sqlite` to `target` events with notes by `authors`.
pub(crate) fn fill(dir: &Path, authors: &[Keys], target: usize) -> Result<usize, String> {
    if authors.is_empty() || target == 0 {
        return Ok(0);
    }
    // A marker says it was done: the warm runs then measure a start without
    // opening (or counting) the store an extra time.
    let marker = dir.join(format!("bench-filled-{target}"));
    if marker.exists() {
        return Ok(0);
    }
    let store = Store::open(dir.join("events.sqlite")).map_err(|e| e.to_string())?;
    let have = store
        .count(&[Filter::new()], &[])
        .map_err(|e| e.to_string())? as usize;
    let missing = target.saturating_sub(have);
    let now = Timestamp::now().as_secs();
    let mut batch = Vec::with_capacity(5_000);
    for i in 0..missing {
        let author = &authors[i % authors.len()];
        let at = now - 60 - (i as u64 * 2_592_000 / missing.max(1) as u64);
        let note = EventBuilder::new(
            Kind::TextNote,
            format!("stored note {i}: a warm store for the start-up benchmark"),
        )
        .custom_created_at(Timestamp::from_secs(at))
        .finalize(author)
        .map_err(|e| e.to_string())?;
        batch.push(note);
        if batch.len() == 5_000 {
            store.insert_batch(&batch).map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    store.insert_batch(&batch).map_err(|e| e.to_string())?;
    std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
    Ok(missing)
}
