//! Blossom (BUD-01/02/04/06/11) from the client side: fetch a blob by hash
//! and check it, upload, mirror, list and delete. Every connection goes
//! through [`open_stream`], so the profile's proxy applies and fails closed
//! exactly as it does for relays.

use std::time::Duration;

use nostr::prelude::*;
use samizdat_http::{HttpError, HttpUrl, Method, Progress, Request, Response};
use samizdat_media::BlobHash;
use serde::Deserialize;

use crate::transport::TransportConfig;
use crate::web::{send, WebError};

/// Most redirects followed for one fetch.
const MAX_REDIRECTS: usize = 3;

/// Largest JSON answer read (blob descriptors, lists).
const MAX_JSON: usize = 4 * 1024 * 1024;

/// What went wrong talking to a Blossom server.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BlossomError {
    /// No answer: no connection through the transport, a failed exchange,
    /// or none in time.
    #[error(transparent)]
    Web(#[from] WebError),
    /// The server answered with an error status.
    #[error("{server} refused: {reason}")]
    Refused {
        /// The server's origin.
        server: String,
        /// Its status code.
        status: u16,
        /// Its `X-Reason`, or the status.
        reason: String,
    },
    /// The bytes do not hash to what was asked for: refused, never shown.
    #[error("{server} sent bytes that are not blob {expected} (they hash to {got})")]
    HashMismatch {
        /// Who sent them.
        server: String,
        /// The hash asked for.
        expected: BlobHash,
        /// The hash of what came.
        got: BlobHash,
    },
    /// The server's answer is not the JSON BUD-02 describes.
    #[error("{server} answered with a malformed blob descriptor: {detail}")]
    BadDescriptor {
        /// The server's origin.
        server: String,
        /// What was wrong.
        detail: String,
    },
}

/// What a Blossom server says about a blob it holds (BUD-02).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BlobDescriptor {
    /// Where to fetch it.
    pub url: String,
    /// Its SHA-256 in hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MIME type, when the server knows.
    #[serde(rename = "type", default)]
    pub mime: Option<String>,
    /// When it was uploaded (Unix seconds).
    #[serde(default)]
    pub uploaded: u64,
}

/// The verbs of a Blossom authorization (BUD-11 `t` tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlossomVerb {
    /// Upload (also used for mirroring, BUD-04).
    Upload,
    /// Delete.
    Delete,
    /// List.
    List,
    /// Get.
    Get,
}

impl BlossomVerb {
    /// The `t` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Delete => "delete",
            Self::List => "list",
            Self::Get => "get",
        }
    }
}

/// The unsigned kind-24242 authorization for `verb` on `hash`, valid for
/// `valid_for` (BUD-11); the caller signs it with the account's signer.
pub fn auth_template(
    verb: BlossomVerb,
    hash: Option<&BlobHash>,
    valid_for: Duration,
) -> EventBuilder {
    let expiration = Timestamp::now() + valid_for.as_secs();
    let mut tags = vec![
        Tag::parse(["t", verb.as_str()]),
        Tag::parse(["expiration".to_owned(), expiration.as_secs().to_string()]),
    ];
    if let Some(h) = hash {
        tags.push(Tag::parse(["x".to_owned(), h.to_hex()]));
    }
    EventBuilder::new(Kind::Custom(24242), format!("{} blob", verb.as_str()))
        .tags(tags.into_iter().flatten())
}

/// The `Authorization` header value for a signed authorization event.
pub fn auth_header(event: &Event) -> String {
    use base64::Engine as _;
    let json = event.as_json();
    format!(
        "Nostr {}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

/// A Blossom server, by its origin (`https://host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlossomServer {
    base: HttpUrl,
}

impl BlossomServer {
    /// Reads a server address (any path is ignored).
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let base = HttpUrl::parse(url)?.with_path("/");
        Ok(Self { base })
    }

    /// `https://host[:port]`.
    pub fn origin(&self) -> String {
        self.base.origin()
    }

    /// The URL of a blob on this server.
    pub fn blob_url(&self, hash: &BlobHash) -> HttpUrl {
        self.base.with_path(&format!("/{hash}"))
    }
}

/// GETs `url`, following at most three redirects, and checks the bytes
/// against `expected` when given. `contacted` lists every origin asked,
/// also when the fetch fails.
pub async fn fetch(
    url: &HttpUrl,
    expected: Option<&BlobHash>,
    config: &TransportConfig,
    max_bytes: usize,
    timeout: Duration,
    contacted: &mut Vec<String>,
) -> Result<bytes::Bytes, BlossomError> {
    let mut url = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        contacted.push(url.origin());
        let response = send(
            &Request::new(Method::Get, url.clone()),
            config,
            max_bytes,
            None,
            timeout,
        )
        .await?;
        if matches!(response.status, 301 | 302 | 303 | 307 | 308) {
            let next = response
                .header("location")
                .and_then(|l| resolve_location(&url, l))
                .ok_or_else(|| refused(&url, &response))?;
            url = next;
            continue;
        }
        if !response.is_success() {
            return Err(refused(&url, &response));
        }
        if let Some(expected) = expected {
            let got = BlobHash::of(&response.body);
            if got != *expected {
                return Err(BlossomError::HashMismatch {
                    server: url.origin(),
                    expected: *expected,
                    got,
                });
            }
        }
        return Ok(response.body);
    }
    Err(BlossomError::Refused {
        server: url.origin(),
        status: 310,
        reason: format!("more than {MAX_REDIRECTS} redirects"),
    })
}

fn resolve_location(base: &HttpUrl, location: &str) -> Option<HttpUrl> {
    if location.starts_with('/') {
        Some(base.with_path(location))
    } else {
        HttpUrl::parse(location).ok()
    }
}

fn refused(url: &HttpUrl, response: &Response) -> BlossomError {
    BlossomError::Refused {
        server: url.origin(),
        status: response.status,
        reason: response.reason(),
    }
}

/// PUTs `bytes` to the server's `/upload` with an upload authorization, and
/// checks that the descriptor names the same hash (BUD-02).
pub async fn upload(
    server: &BlossomServer,
    bytes: bytes::Bytes,
    mime: &str,
    authorization: &str,
    config: &TransportConfig,
    progress: Option<&Progress>,
    timeout: Duration,
) -> Result<BlobDescriptor, BlossomError> {
    let hash = BlobHash::of(&bytes);
    let request = Request::new(Method::Put, server.base.with_path("/upload"))
        .header("authorization", authorization)
        .header("content-type", mime)
        .header("x-sha-256", hash.to_hex())
        .body(bytes);
    let response = send(&request, config, MAX_JSON, progress, timeout).await?;
    descriptor_of(server, &request.url, &response, &hash)
}

/// Signs an upload authorization with `keys` and uploads (for tools,
/// tests and the demo; the client signs through its own signer).
pub async fn upload_signed(
    server: &BlossomServer,
    keys: &Keys,
    bytes: Vec<u8>,
    mime: &str,
    config: &TransportConfig,
    timeout: Duration,
) -> Result<BlobDescriptor, BlossomError> {
    let hash = BlobHash::of(&bytes);
    let auth = auth_template(BlossomVerb::Upload, Some(&hash), Duration::from_secs(600))
        .finalize(keys)
        .map_err(|e| BlossomError::BadDescriptor {
            server: server.origin(),
            detail: format!("signing the authorization: {e}"),
        })?;
    upload(
        server,
        bytes.into(),
        mime,
        &auth_header(&auth),
        config,
        None,
        timeout,
    )
    .await
}

/// Asks the server to copy a blob from `source` (BUD-04 `PUT /mirror`).
pub async fn mirror(
    server: &BlossomServer,
    source: &str,
    hash: &BlobHash,
    authorization: &str,
    config: &TransportConfig,
    timeout: Duration,
) -> Result<BlobDescriptor, BlossomError> {
    let body = serde_json::json!({ "url": source }).to_string();
    let request = Request::new(Method::Put, server.base.with_path("/mirror"))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body(body);
    let response = send(&request, config, MAX_JSON, None, timeout).await?;
    descriptor_of(server, &request.url, &response, hash)
}

fn descriptor_of(
    server: &BlossomServer,
    url: &HttpUrl,
    response: &Response,
    hash: &BlobHash,
) -> Result<BlobDescriptor, BlossomError> {
    if !response.is_success() {
        return Err(refused(url, response));
    }
    let bad = |detail: String| BlossomError::BadDescriptor {
        server: server.origin(),
        detail,
    };
    let descriptor: BlobDescriptor =
        serde_json::from_slice(&response.body).map_err(|e| bad(e.to_string()))?;
    if BlobHash::parse(&descriptor.sha256) != Some(*hash) {
        return Err(bad(format!(
            "it names blob {} instead of {hash}",
            descriptor.sha256
        )));
    }
    Ok(descriptor)
}

/// Lists the blobs a key uploaded (BUD-02 `GET /list/<pubkey>`).
pub async fn list(
    server: &BlossomServer,
    pubkey: &PublicKey,
    authorization: Option<&str>,
    config: &TransportConfig,
    timeout: Duration,
) -> Result<Vec<BlobDescriptor>, BlossomError> {
    let mut request = Request::new(
        Method::Get,
        server.base.with_path(&format!("/list/{pubkey}")),
    );
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    let response = send(&request, config, MAX_JSON, None, timeout).await?;
    if !response.is_success() {
        return Err(refused(&request.url, &response));
    }
    serde_json::from_slice(&response.body).map_err(|e| BlossomError::BadDescriptor {
        server: server.origin(),
        detail: e.to_string(),
    })
}

/// Deletes a blob (BUD-02 `DELETE /<sha256>`).
pub async fn delete(
    server: &BlossomServer,
    hash: &BlobHash,
    authorization: &str,
    config: &TransportConfig,
    timeout: Duration,
) -> Result<(), BlossomError> {
    let request =
        Request::new(Method::Delete, server.blob_url(hash)).header("authorization", authorization);
    let response = send(&request, config, MAX_JSON, None, timeout).await?;
    if response.is_success() {
        Ok(())
    } else {
        Err(refused(&request.url, &response))
    }
}
