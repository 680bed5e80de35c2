//! The NIP-01 storage rules as plain functions, for another engine standing
//! behind the same interface (the relay's PostgreSQL backend): which tags are
//! indexed, the address of a replaceable event, NIP-40 expiry, what is
//! searchable, and the bounds on events and filters. One definition serves
//! both engines.

use nostr::prelude::{Event, Filter};

pub use crate::codec::{d_tag, expiration, indexable_tags, is_searchable};
use crate::error::{StoreError, StoreResult};
use crate::StoreConfig;

/// Why `event` is too large for a store with `config`, if it is.
pub fn size_violation(event: &Event, config: &StoreConfig) -> Option<String> {
    let tags = event.tags.len();
    if tags > config.max_tags {
        return Some(format!("{tags} tags, more than {}", config.max_tags));
    }
    let content = event.content.len();
    if content > config.max_content_bytes {
        return Some(format!(
            "{content} bytes of content, more than {}",
            config.max_content_bytes
        ));
    }
    None
}

/// Refuses a filter listing more ids, authors, kinds and tag values than
/// `config` allows in one query.
pub fn check_filter_size(filter: &Filter, config: &StoreConfig) -> StoreResult<()> {
    let values = filter.ids.as_ref().map_or(0, |v| v.len())
        + filter.authors.as_ref().map_or(0, |v| v.len())
        + filter.kinds.as_ref().map_or(0, |v| v.len())
        + filter.generic_tags.values().map(|v| v.len()).sum::<usize>();
    if values > config.max_filter_values {
        return Err(StoreError::FilterTooLarge {
            values,
            max: config.max_filter_values,
        });
    }
    Ok(())
}

/// How many rows a filter may return: its `limit`, at most its ids; a filter
/// with neither is refused (it would read the whole store).
pub fn filter_limit(filter: &Filter) -> StoreResult<usize> {
    match (filter.limit, &filter.ids) {
        (Some(limit), Some(ids)) => Ok(limit.min(ids.len())),
        (Some(limit), None) => Ok(limit),
        (None, Some(ids)) => Ok(ids.len()),
        (None, None) => Err(StoreError::UnboundedFilter {
            filter: filter.as_json(),
        }),
    }
}
