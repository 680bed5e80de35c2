//! HTTP through the same transport as relays: one `samizdat-http` exchange
//! over [`open_stream`], so a proxy applies (and fails closed) for NIP-11
//! documents, NIP-05 names and Blossom blobs exactly as for websockets.

use std::time::Duration;

use samizdat_http::{exchange, HttpError, HttpUrl, Method, Progress, Request, Response};
use serde_json::Value;

use crate::transport::{open_stream, ConnectError, TransportConfig};
use crate::url::RelayUrl;

/// Why a request got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebError {
    /// No connection (the proxy refused, the host is down, DNS failed).
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The exchange failed (TLS, protocol, a body over the limit).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// No answer in time.
    #[error("{server} did not answer within {after:?}")]
    Timeout {
        /// The server's origin.
        server: String,
        /// The limit.
        after: Duration,
    },
}

/// Sends one request through the transport (the proxy, when set) within
/// `timeout`, without following redirects.
pub async fn send(
    request: &Request,
    config: &TransportConfig,
    max_body: usize,
    progress: Option<&Progress>,
    timeout: Duration,
) -> Result<Response, WebError> {
    let url = &request.url;
    let endpoint = endpoint_of(url)?;
    let attempt = async {
        let stream = open_stream(&endpoint, config).await?;
        Ok::<_, WebError>(exchange(stream, request, max_body, progress).await?)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| WebError::Timeout {
            server: url.origin(),
            after: timeout,
        })?
}

/// The transport's view of an HTTP URL: the same host and port, so the
/// proxy rules (and `.onion` refusal without one) are the relays' rules.
fn endpoint_of(url: &HttpUrl) -> Result<RelayUrl, WebError> {
    let scheme = if url.is_secure() { "wss" } else { "ws" };
    RelayUrl::parse(&format!("{scheme}://{}", url.authority()))
        .map_err(|e| WebError::Http(HttpError::BadUrl(format!("{url}: {e}"))))
}

/// GETs `path` from the host of `relay_or_site` (https when it is secure)
/// and parses a `200` JSON answer of at most `max` bytes; `None` otherwise.
pub(crate) async fn get_json(
    relay_or_site: &RelayUrl,
    path: &str,
    accept: &str,
    config: &TransportConfig,
    max: usize,
) -> Option<Value> {
    let scheme = if relay_or_site.is_secure() {
        "https"
    } else {
        "http"
    };
    let url = HttpUrl::parse(&format!("{scheme}://{}{path}", relay_or_site.authority())).ok()?;
    let request = Request::new(Method::Get, url).header("accept", accept);
    let answer = send(
        &request,
        config,
        max,
        None,
        config.connect_timeout.max(Duration::from_secs(10)),
    )
    .await
    .ok()?;
    json_of(&answer)
}

/// The JSON body of a `200` answer.
pub fn json_of(answer: &Response) -> Option<Value> {
    (answer.status == 200)
        .then(|| serde_json::from_slice(&answer.body).ok())
        .flatten()
}
