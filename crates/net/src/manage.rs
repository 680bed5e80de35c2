//! The client side of NIP-86 relay management and of a relay's `/metrics`:
//! one HTTP POST to the relay's own URL (through the transport, so the proxy
//! rules hold), authorized by a NIP-98 event the caller signs (its `u` tag
//! the relay's URL, `method` POST, `payload` the body's SHA-256).

use std::time::Duration;

use nostr::prelude::*;
use samizdat_http::{HttpUrl, Method, Request};
use serde_json::{json, Value};

use crate::url::RelayUrl;
use crate::web::{send, WebError};
use crate::TransportConfig;

/// Largest answer read from a management call or `/metrics`.
const MAX_ANSWER: usize = 4 << 20;

/// Why a management call failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// No answer (connection, proxy, time-out).
    #[error(transparent)]
    Web(#[from] WebError),
    /// The relay refused the authorization (401) or the key (403).
    #[error("{relay} refused: {status} {why}")]
    Refused {
        /// The relay.
        relay: String,
        /// HTTP status.
        status: u16,
        /// What it said.
        why: String,
    },
    /// The method failed (the relay's `error`).
    #[error("{method} failed at {relay}: {why}")]
    Failed {
        /// The relay.
        relay: String,
        /// The method.
        method: String,
        /// What it said.
        why: String,
    },
    /// The answer is not NIP-86 JSON.
    #[error("{relay} gave an answer that is not NIP-86 JSON ({status})")]
    NotJson {
        /// The relay.
        relay: String,
        /// HTTP status.
        status: u16,
    },
}

/// The HTTP form of a relay URL (`ws` → `http`, `wss` → `https`), path kept.
pub fn http_url_of(relay: &RelayUrl, path: &str) -> Result<HttpUrl, WebError> {
    let scheme = if relay.is_secure() { "https" } else { "http" };
    HttpUrl::parse(&format!("{scheme}://{}{path}", relay.authority())).map_err(WebError::Http)
}

/// A management request's body.
pub fn request_body(method: &str, params: &[Value]) -> Vec<u8> {
    json!({ "method": method, "params": params })
        .to_string()
        .into_bytes()
}

/// The NIP-98 authorization to sign for POSTing `body` to `relay`. A
/// random `nonce` tag makes each one unique: relays refuse an authorization
/// used twice, and the same call twice in one second would otherwise sign
/// the same event.
pub fn auth_template(relay: &RelayUrl, body: &[u8]) -> EventBuilder {
    let payload = samizdat_media::sha256_hex(body);
    let nonce = format!("{:016x}", rand::random::<u64>());
    EventBuilder::new(Kind::HttpAuth, "").tags(
        [
            Tag::parse(["u".to_owned(), relay.to_string()]).ok(),
            Tag::parse(["method", "POST"]).ok(),
            Tag::parse(["payload".to_owned(), payload]).ok(),
            Tag::parse(["nonce".to_owned(), nonce]).ok(),
        ]
        .into_iter()
        .flatten(),
    )
}

/// POSTs `body` (from [`request_body`]) with the signed `auth` to `relay`;
/// the method's `result`.
pub async fn call(
    relay: &RelayUrl,
    method: &str,
    body: Vec<u8>,
    auth: &Event,
    config: &TransportConfig,
) -> Result<Value, ManageError> {
    let url = http_url_of(relay, "/")?;
    let request = Request::new(Method::Post, url)
        .header("content-type", "application/nostr+json+rpc")
        .header("authorization", crate::blossom::auth_header(auth))
        .body(body);
    let answer = send(&request, config, MAX_ANSWER, None, timeout(config)).await?;
    let parsed: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let name = relay.to_string();
    if answer.status == 401 || answer.status == 403 {
        let why = parsed
            .as_ref()
            .and_then(|v| v["error"].as_str())
            .unwrap_or("")
            .to_owned();
        return Err(ManageError::Refused {
            relay: name,
            status: answer.status,
            why,
        });
    }
    let Some(v) = parsed.filter(|_| answer.status == 200) else {
        return Err(ManageError::NotJson {
            relay: name,
            status: answer.status,
        });
    };
    if let Some(why) = v["error"].as_str().filter(|e| !e.is_empty()) {
        return Err(ManageError::Failed {
            relay: name,
            method: method.to_owned(),
            why: why.to_owned(),
        });
    }
    Ok(v["result"].clone())
}

/// GETs the relay's `/metrics` (Prometheus text).
pub async fn metrics(relay: &RelayUrl, config: &TransportConfig) -> Result<String, ManageError> {
    let request = Request::new(Method::Get, http_url_of(relay, "/metrics")?);
    let answer = send(&request, config, MAX_ANSWER, None, timeout(config)).await?;
    if answer.status != 200 {
        return Err(ManageError::NotJson {
            relay: relay.to_string(),
            status: answer.status,
        });
    }
    Ok(String::from_utf8_lossy(&answer.body).into_owned())
}

/// The value of an unlabelled sample `name` in Prometheus text, or the sum
/// of its labelled samples.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        let value: f64 = rest.rsplit(' ').next()?.trim().parse().ok()?;
        found = Some(found.unwrap_or(0.0) + value);
    }
    found
}

fn timeout(config: &TransportConfig) -> Duration {
    config.connect_timeout.max(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_read_and_summed_over_labels() {
        let text = "# HELP x\nsamizdat_relay_connections_open 3\n\
            samizdat_relay_events_refused_total{reason=\"blocked\"} 2\n\
            samizdat_relay_events_refused_total{reason=\"pow\"} 5\n\
            samizdat_relay_connections_open_extra 9\n";
        assert_eq!(metric(text, "samizdat_relay_connections_open"), Some(3.0));
        assert_eq!(
            metric(text, "samizdat_relay_events_refused_total"),
            Some(7.0)
        );
        assert_eq!(metric(text, "absent"), None);
        assert_eq!(
            metric("samizdat_relay_blobs garbage", "samizdat_relay_blobs"),
            None
        );
    }
}
