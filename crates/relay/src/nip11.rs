//! The NIP-11 relay information document, built from the live config so that
//! the limits it declares are exactly the ones enforced.

use serde_json::{json, Value};

use crate::config::RelayConfig;
use crate::policy::Policy;

/// NIPs this relay implements.
pub const SUPPORTED_NIPS: &[u16] = &[1, 9, 11, 13, 40, 42, 45, 50, 70, 77, 86];

/// The document a relay started with `config` serves (before any NIP-86
/// change). A policy that does not resolve is shown as the default one.
pub fn information_document(config: &RelayConfig) -> Value {
    document(
        config,
        &Policy::from_config(&config.policy).unwrap_or_default(),
    )
}

/// The document served for `Accept: application/nostr+json`: identity,
/// limits and the policy in force (its write mode, the kinds that need
/// AUTH to read), so a client learns them before it is refused.
pub(crate) fn document(config: &RelayConfig, policy: &Policy) -> Value {
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
        "auth_required": policy.auth_read_all(),
        "payment_required": false,
        "restricted_writes": config.auth_required_for_writes || policy.restricts_writes(),
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
        "policy": {
            "write": policy.write_mode().as_str(),
            "auth_read_kinds": policy.auth_read_kinds(),
            "auth_read_all": policy.auth_read_all(),
        },
    });
    let mut owners: Vec<String> = policy.owners().iter().map(|k| k.to_hex()).collect();
    owners.sort();
    if let Some(pk) = config.pubkey.as_ref().or(owners.first()) {
        doc["pubkey"] = json!(pk);
    }
    if let Some(icon) = &config.icon {
        doc["icon"] = json!(icon);
    }
    if let Some(contact) = &config.contact {
        doc["contact"] = json!(contact);
    }
    doc
}
