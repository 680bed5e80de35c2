//! Two deletions a key's owner asks for beyond NIP-09's own events:
//!
//! - NIP-62, request to vanish (kind 62 naming this relay or `ALL_RELAYS`):
//!   every event of the key up to the request's `created_at` is removed,
//!   deletion requests included, and every gift wrap p-tagged to the key (its
//!   private messages); the key and the time are kept in the moderation
//!   lists (`vanished`), so none of it can be published here again, and the
//!   other nodes of a cluster hear of it. Honoured whatever the write policy
//!   (the NIP says restricted relays must too). The request itself is not
//!   stored. NIP-77 needs nothing more: its sets are read from the store.
//! - NIP-09 for gift wraps (nips #2131): a deletion request whose `e` tag
//!   names a gift wrap p-tagged to the requester removes that wrap (its
//!   author is a throwaway key, so the usual author check cannot apply) and
//!   bans its id here.
//!
//! Both work through `RelayStorage`'s queries and removals, so both engines
//! behave the same.

use std::sync::Arc;

use nostr::prelude::*;

use crate::state::{lists, RelayState};
use crate::storage::RelayStorage;

/// The request-to-vanish kind.
pub const VANISH: Kind = Kind::Custom(62);

/// Events removed per query while vanishing.
const BATCH: usize = 500;

/// Whether `request` (kind 62) names this relay: `ALL_RELAYS`, or a `relay`
/// tag equal to one of `urls` (compared without a trailing slash).
pub fn names_this_relay(request: &Event, urls: &[String]) -> bool {
    let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    let ours: Vec<String> = urls.iter().map(|u| norm(u)).collect();
    request.tags.iter().any(|t| {
        let s = t.as_slice();
        s.first().map(String::as_str) == Some("relay")
            && s.get(1)
                .is_some_and(|v| v == "ALL_RELAYS" || ours.contains(&norm(v)))
    })
}

/// Removes everything `request`'s key published up to its time, and the
/// gift wraps to it; records the key as vanished. How many events went.
pub(crate) fn vanish(
    store: &dyn RelayStorage,
    request: &Event,
) -> samizdat_store::StoreResult<usize> {
    let key = request.pubkey;
    let until = request.created_at;
    store.moderation_add(
        lists::VANISHED,
        &key.to_hex(),
        &until.as_secs().to_string(),
        "",
    )?;
    let mut removed = 0;
    for filter in [
        Filter::new().author(key).until(until),
        Filter::new().kind(Kind::GiftWrap).pubkey(key),
    ] {
        loop {
            let batch = store.query(&[filter.clone().limit(BATCH)])?;
            if batch.is_empty() {
                break;
            }
            let mut gone = 0;
            for event in &batch {
                if store.remove_event(&event.id)? {
                    gone += 1;
                }
            }
            removed += gone;
            if gone == 0 {
                break;
            }
        }
    }
    Ok(removed)
}

/// Why `event` may not be published because its key (or, for a gift wrap,
/// its recipient) vanished from this relay after it was made.
pub fn vanished_refusal(
    vanished: &std::collections::HashMap<PublicKey, u64>,
    event: &Event,
) -> Option<String> {
    let at = event.created_at.as_secs();
    if vanished
        .get(&event.pubkey)
        .is_some_and(|until| at <= *until)
    {
        return Some("blocked: this key asked to vanish from this relay (NIP-62)".into());
    }
    if event.kind == Kind::GiftWrap
        && event
            .tags
            .public_keys()
            .any(|p| vanished.get(&p).is_some_and(|until| at <= *until))
    {
        return Some("blocked: its recipient asked to vanish from this relay (NIP-62)".into());
    }
    None
}

/// After a stored deletion request: removes the gift wraps it names that
/// are p-tagged to its author, and bans their ids.
pub(crate) fn recipient_deletions(state: &Arc<RelayState>, deletion: &Event) {
    let ids: Vec<EventId> = deletion.tags.event_ids().collect();
    if ids.is_empty() {
        return;
    }
    let n = ids.len();
    let filter = Filter::new().ids(ids).kind(Kind::GiftWrap).limit(n);
    let wraps = match state.store.query(&[filter]) {
        Ok(w) => w,
        Err(e) => return tracing::warn!(error = %e, "reading wraps a deletion names failed"),
    };
    for wrap in wraps
        .iter()
        .filter(|w| w.tags.public_keys().any(|p| p == deletion.pubkey))
    {
        // Banned first, then removed: once it is gone it cannot come back.
        let banned = state.store.moderation_add(
            lists::BANNED_EVENTS,
            &wrap.id.to_hex(),
            "deleted by its recipient (NIP-09)",
            "",
        );
        if let Err(e) = banned {
            tracing::warn!(error = %e, "banning a wrap its recipient deleted failed");
            continue;
        }
        state.update_policy(|p| {
            p.moderation.banned_events.insert(wrap.id);
        });
        if let Err(e) = state.store.remove_event(&wrap.id) {
            tracing::warn!(error = %e, "removing a wrap its recipient deleted failed");
        }
    }
}
