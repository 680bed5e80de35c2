//! NIP-01 matching of one event against one filter, in memory, with the same
//! reading of the rules as [`crate::Store::query`]: an empty list ("any of
//! none") matches nothing. The relay uses it for live subscriptions and the
//! network layer to check that a relay's events match what was asked.

use nostr::prelude::*;

/// True when the filter lists an empty set of ids, authors, kinds or tag
/// values, so it can match nothing.
pub fn has_empty_list(filter: &Filter) -> bool {
    filter.ids.as_ref().is_some_and(|s| s.is_empty())
        || filter.authors.as_ref().is_some_and(|s| s.is_empty())
        || filter.kinds.as_ref().is_some_and(|s| s.is_empty())
        || filter.generic_tags.values().any(|s| s.is_empty())
}

/// NIP-01 matching, NIP-50 `search` included (as a case-insensitive substring).
pub fn filter_matches(filter: &Filter, event: &Event) -> bool {
    !has_empty_list(filter) && filter.match_event(event, MatchEventOptions::default())
}

/// NIP-01 matching without `search`: a relay's full-text relevance is its own
/// judgement, so a client cannot re-check it.
pub fn filter_matches_ignoring_search(filter: &Filter, event: &Event) -> bool {
    let options = MatchEventOptions {
        nip50: false,
        ..MatchEventOptions::default()
    };
    !has_empty_list(filter) && filter.match_event(event, options)
}
