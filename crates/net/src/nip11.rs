//! Fetching a relay's NIP-11 `limitation` over the same transport as its
//! websocket (so a proxy applies), with a small, bounded HTTP/1.1 client.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::transport::{open_stream, Io, TransportConfig};
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
    fetch_json(url, url.request_path(), "application/nostr+json", config).await
}

/// GETs `path` from the host of `url` (TLS when `url` is secure) over the
/// configured transport, and parses a JSON answer of at most 64 KiB.
pub(crate) async fn fetch_json(
    url: &RelayUrl,
    path: &str,
    accept: &str,
    config: &TransportConfig,
) -> Option<Value> {
    let stream = open_stream(url, config).await.ok()?;
    let mut stream: Box<dyn Io> = if url.is_secure() {
        let connector = tokio_rustls::TlsConnector::from(crate::transport::tls_config());
        let name = rustls::pki_types::ServerName::try_from(url.host().to_string()).ok()?;
        Box::new(connector.connect(name, stream).await.ok()?)
    } else {
        stream
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
        url.authority()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if raw.len() > MAX_DOCUMENT {
            return None;
        }
    }
    parse_response(&raw)
}

/// Parses an HTTP/1.1 response with a JSON body (plain, or chunked);
/// `None` for anything but a `200` with a JSON body.
pub fn parse_response(raw: &[u8]) -> Option<Value> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines.next()?;
    if status.split_whitespace().nth(1) != Some("200") {
        return None;
    }
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    serde_json::from_slice(&body).ok()
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
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

    #[test]
    fn parses_plain_and_chunked_responses() {
        let plain =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/nostr+json\r\n\r\n{\"name\":\"x\"}";
        assert_eq!(parse_response(plain).unwrap()["name"], "x");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap()["a"], 1);
        assert!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n{}").is_none());
        assert!(parse_response(b"garbage").is_none());
    }
}
