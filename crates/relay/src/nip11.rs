//! The NIP-11 relay information document, built from the live config so that
//! the limits it declares are exactly the ones enforced.

use serde_json::{json, Value};

use crate::config::RelayConfig;

/// NIPs this relay implements.
pub const SUPPORTED_NIPS: &[u16] = &[1, 9, 11, 40, 42, 50, 70, 77];

/// The document served for `Accept: application/nostr+json`.
pub fn information_document(config: &RelayConfig) -> Value {
    let l = &config.limits;
    let mut limitation = json!({
        "max_message_length": l.max_message_length,
        "max_subscriptions": l.max_subscriptions,
        "max_filters": l.max_filters,
        "max_limit": l.max_limit,
        "default_limit": l.default_limit,
        "max_subid_length": l.max_subid_length,
        "max_event_tags": l.max_event_tags,
        "max_content_length": l.max_content_length,
        "created_at_upper_limit": l.created_at_upper_limit,
        "min_pow_difficulty": 0,
        "auth_required": false,
        "payment_required": false,
        "restricted_writes": config.auth_required_for_writes,
        "min_pow_difficulty": config.min_pow,
    });
    if l.created_at_lower_limit > 0 {
        limitation["created_at_lower_limit"] = json!(l.created_at_lower_limit);
    }
    let mut doc = json!({
        "name": config.name,
        "description": config.description,
        "supported_nips": SUPPORTED_NIPS
            .iter()
            .filter(|n| config.negentropy || **n != 77)
            .collect::<Vec<_>>(),
        "software": "samizdat",
        "version": env!("CARGO_PKG_VERSION"),
        "limitation": limitation,
    });
    if let Some(pk) = &config.pubkey {
        doc["pubkey"] = json!(pk);
    }
    if let Some(contact) = &config.contact {
        doc["contact"] = json!(contact);
    }
    doc
}
