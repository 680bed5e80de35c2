//! Fetching a relay's NIP-11 `limitation` over the same transport as its
//! websocket (so a proxy applies), through `crate::web`.

use serde_json::Value;

use crate::transport::TransportConfig;
use crate::url::RelayUrl;

/// Largest NIP-11 document read.
const MAX_DOCUMENT: usize = 64 * 1024;

/// The limits a relay declares; `None` where it declares nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayLimits {
    /// Most open subscriptions per connection.
    pub max_subscriptions: Option<usize>,
    /// Most filters per REQ.
    pub max_filters: Option<usize>,
    /// Largest `limit` honoured.
    pub max_limit: Option<usize>,
    /// Largest message accepted, in bytes.
    pub max_message_length: Option<usize>,
    /// Whether the relay requires NIP-42 AUTH for everything.
    pub auth_required: bool,
}

impl RelayLimits {
    /// Reads the `limitation` object of a NIP-11 document, ignoring nonsense
    /// (zero, negative or absurd values).
    pub fn from_document(doc: &Value) -> Self {
        let lim = &doc["limitation"];
        let num = |k: &str| {
            lim.get(k)
                .and_then(Value::as_u64)
                .filter(|v| *v > 0 && *v < 1 << 32)
                .map(|v| v as usize)
        };
        Self {
            max_subscriptions: num("max_subscriptions"),
            max_filters: num("max_filters"),
            max_limit: num("max_limit"),
            max_message_length: num("max_message_length"),
            auth_required: lim
                .get("auth_required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// Fetches and parses the relay's NIP-11 document; any failure is `None`
/// (the relay then gets conservative defaults).
pub async fn fetch_limits(url: &RelayUrl, config: &TransportConfig) -> Option<RelayLimits> {
    let doc = tokio::time::timeout(config.connect_timeout, fetch_document(url, config))
        .await
        .ok()??;
    Some(RelayLimits::from_document(&doc))
}

async fn fetch_document(url: &RelayUrl, config: &TransportConfig) -> Option<Value> {
    crate::web::get_json(
        url,
        url.request_path(),
        "application/nostr+json",
        config,
        MAX_DOCUMENT,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limits_and_ignores_nonsense() {
        let doc: Value = serde_json::json!({"limitation": {"max_subscriptions": 10, "max_filters": 0, "max_limit": -5, "auth_required": true}});
        let l = RelayLimits::from_document(&doc);
        assert_eq!(l.max_subscriptions, Some(10));
        assert_eq!(l.max_filters, None);
        assert_eq!(l.max_limit, None);
        assert!(l.auth_required);
    }
}
