//! The relay as a Blossom media server on the same port: BUD-01 (GET/HEAD
//! by hash), BUD-02 (upload, list, delete), BUD-04 (mirror), BUD-06
//! (upload preflight), each write authorized by BUD-11 and the relay's
//! write policy ([`crate::policy::Policy::check_upload`]) within a quota.
//! Served blobs are inert: types that could run in a browser (HTML, SVG)
//! are stored as `application/octet-stream`, and every answer carries
//! `nosniff` and a sandboxing CSP.

// An `Err` here is the HTTP answer itself, built once per request and sent
// as is: its size does not matter.
#![allow(clippy::result_large_err)]

mod auth;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use nostr::prelude::{PublicKey, Timestamp};
use samizdat_http::{HttpUrl, Method, Request};
use samizdat_media::BlobHash;
use serde_json::json;

use crate::state::RelayState;
pub use store::BlobStore;
use store::{BlobInfo, BlobStoreError};

/// How long a mirror may take to fetch its source.
const MIRROR_TIMEOUT: Duration = Duration::from_secs(30);

/// What the media handlers share.
#[derive(Clone)]
struct Media {
    state: Arc<RelayState>,
    blobs: Arc<BlobStore>,
}

/// The Blossom routes, or none when media is off.
pub fn routes(state: Arc<RelayState>, blobs: Option<Arc<BlobStore>>) -> Router {
    let Some(blobs) = blobs else {
        return Router::new();
    };
    if let Ok((count, bytes)) = blobs.totals() {
        state.metrics.set_blobs(count, bytes);
    }
    Router::new()
        .route(
            "/upload",
            put(upload).head(preflight).options(cors_preflight),
        )
        .route("/mirror", put(mirror).options(cors_preflight))
        .route("/list/{pubkey}", get(list).options(cors_preflight))
        .route("/{file}", get(fetch).delete(delete).options(cors_preflight))
        .layer(DefaultBodyLimit::disable())
        .with_state(Media { state, blobs })
}

/// An error answer with BUD-01's `X-Reason`.
fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    let mut r = (status, format!("{reason}\n")).into_response();
    if let Ok(v) = HeaderValue::from_str(&reason.replace(['\r', '\n'], " ")) {
        r.headers_mut().insert("x-reason", v);
    }
    with_cors(r)
}

fn with_cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    r
}

fn json_answer(value: &serde_json::Value) -> Response {
    let mut r = (StatusCode::OK, value.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_cors(r)
}

async fn cors_preflight() -> Response {
    let mut r = with_cors(StatusCode::NO_CONTENT.into_response());
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, *"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, PUT, DELETE"),
    );
    r
}

/// Runs blob-store work off the async threads.
async fn blocking<T: Send + 'static>(
    blobs: &Arc<BlobStore>,
    work: impl FnOnce(&BlobStore) -> Result<T, BlobStoreError> + Send + 'static,
) -> Result<T, Response> {
    let blobs = Arc::clone(blobs);
    match tokio::task::spawn_blocking(move || work(&blobs)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(BlobStoreError::Quota { quota })) => Err(refuse(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("the storage quota ({} MiB) is full", quota >> 20),
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "blob storage failed");
            Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "storage failed"))
        }
        Err(_) => Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "storage failed")),
    }
}

fn hash_of_file(file: &str) -> Option<BlobHash> {
    BlobHash::parse(file.split('.').next().unwrap_or(""))
}

/// BUD-01: GET and HEAD `/<sha256>[.ext]`.
async fn fetch(State(m): State<Media>, Path(file): Path<String>) -> Response {
    m.state.metrics.blob_request("get");
    let Some(hash) = hash_of_file(&file) else {
        return refuse(StatusCode::NOT_FOUND, "not a blob hash");
    };
    match blocking(&m.blobs, move |b| b.read(&hash)).await {
        Ok(Some((info, bytes))) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&info.mime) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            with_cors(r)
        }
        Ok(None) => refuse(StatusCode::NOT_FOUND, "blob not found"),
        Err(r) => r,
    }
}

/// The type a blob is stored and served as: sniffed from the bytes for
/// images, the uploader's claim for other inert types, else octet-stream.
fn stored_type(bytes: &[u8], claimed: Option<&str>) -> String {
    if let Ok(format) = samizdat_media::sniff(bytes) {
        return format.mime().to_owned();
    }
    let claimed = claimed.unwrap_or("").split(';').next().unwrap_or("").trim();
    let inert = claimed.split_once('/').is_some_and(|(a, b)| {
        matches!(a, "image" | "video" | "audio" | "application")
            && !b.is_empty()
            && b.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            && !["svg", "xml", "html", "javascript", "ecmascript", "xhtml"]
                .iter()
                .any(|bad| b.contains(bad))
    });
    if inert {
        claimed.to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

fn descriptor(m: &Media, headers: &HeaderMap, info: &BlobInfo) -> serde_json::Value {
    let config = m.state.config();
    let base = config.media.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    });
    let ext = match info.mime.as_str() {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/webp" => ".webp",
        "image/gif" => ".gif",
        _ => "",
    };
    json!({
        "url": format!("{}/{}{ext}", base.trim_end_matches('/'), info.hash),
        "sha256": info.hash.to_hex(),
        "size": info.size,
        "type": info.mime,
        "uploaded": info.uploaded,
    })
}

/// An upload authorization (read once: the signature is checked once), if
/// the policy lets its signer upload; `hash`, when known, must be named.
fn uploader(
    m: &Media,
    headers: &HeaderMap,
    hash: Option<&BlobHash>,
) -> Result<auth::Authorization, Response> {
    let authorization =
        auth::read(headers, "upload").map_err(|e| refuse(StatusCode::UNAUTHORIZED, e))?;
    m.state
        .policy()
        .check_upload(&authorization.key, m.state.config().media.public_uploads)
        .map_err(|e| refuse(StatusCode::FORBIDDEN, e))?;
    if let Some(hash) = hash {
        authorization
            .names(hash)
            .map_err(|e| refuse(StatusCode::UNAUTHORIZED, e))?;
    }
    Ok(authorization)
}

fn max_blob(m: &Media) -> usize {
    (m.state.config().media.max_blob_mib as usize).saturating_mul(1 << 20)
}

async fn store(
    m: &Media,
    headers: &HeaderMap,
    key: PublicKey,
    hash: BlobHash,
    bytes: Bytes,
    claimed: Option<String>,
) -> Response {
    let mime = stored_type(&bytes, claimed.as_deref());
    let quota = m.state.config().media.quota_mib.saturating_mul(1 << 20);
    let now = Timestamp::now().as_secs();
    let owner = key.to_hex();
    let stored = blocking(&m.blobs, move |b| {
        let info = b.put(&hash, &bytes, &mime, &owner, now, quota)?;
        Ok((info, b.totals()?))
    })
    .await;
    match stored {
        Ok((info, (count, total))) => {
            m.state.metrics.set_blobs(count, total);
            tracing::info!(blob = %hash, size = info.size, "blob stored");
            json_answer(&descriptor(m, headers, &info))
        }
        Err(r) => r,
    }
}

/// BUD-02: `PUT /upload`.
async fn upload(State(m): State<Media>, headers: HeaderMap, body: Body) -> Response {
    m.state.metrics.blob_request("upload");
    // Who, before reading a body: a stranger's upload is not buffered.
    let authorization = match uploader(&m, &headers, None) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let limit = max_blob(&m);
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("blobs larger than {} MiB are not accepted", limit >> 20),
            )
        }
    };
    let hash = BlobHash::of(&bytes);
    if let Err(e) = authorization.names(&hash) {
        return refuse(StatusCode::UNAUTHORIZED, e);
    }
    let key = authorization.key;
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    store(&m, &headers, key, hash, bytes, claimed).await
}

/// BUD-06: `HEAD /upload` says whether an upload would be accepted.
async fn preflight(State(m): State<Media>, headers: HeaderMap) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(hash) = header("x-sha-256").and_then(BlobHash::parse) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "X-SHA-256 is missing or not a hash",
        );
    };
    let Some(length) = header("x-content-length").and_then(|l| l.parse::<u64>().ok()) else {
        return refuse(StatusCode::LENGTH_REQUIRED, "X-Content-Length is missing");
    };
    if length > max_blob(&m) as u64 {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the blob is too large");
    }
    if let Err(r) = uploader(&m, &headers, Some(&hash)) {
        return r;
    }
    let quota = m.state.config().media.quota_mib.saturating_mul(1 << 20);
    match blocking(&m.blobs, |b| b.totals()).await {
        Ok((_, used)) if used + length > quota => refuse(
            StatusCode::INSUFFICIENT_STORAGE,
            "the storage quota is full",
        ),
        Ok(_) => with_cors(StatusCode::OK.into_response()),
        Err(r) => r,
    }
}

/// BUD-04: `PUT /mirror` with `{"url": …}`: fetch the blob from there.
async fn mirror(State(m): State<Media>, headers: HeaderMap, body: Bytes) -> Response {
    m.state.metrics.blob_request("mirror");
    let authorization = match uploader(&m, &headers, None) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let source = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["url"].as_str().map(str::to_owned))
        .and_then(|u| HttpUrl::parse(&u).ok());
    let Some(source) = source else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the body must be {\"url\": \"http(s)://…\"}",
        );
    };
    let limit = max_blob(&m);
    let fetched = tokio::time::timeout(MIRROR_TIMEOUT, async {
        let stream = tokio::net::TcpStream::connect((source.host(), source.port()))
            .await
            .map_err(|e| e.to_string())?;
        samizdat_http::exchange(
            stream,
            &Request::new(Method::Get, source.clone()),
            limit,
            None,
        )
        .await
        .map_err(|e| e.to_string())
    })
    .await;
    let response = match fetched {
        Ok(Ok(r)) if r.is_success() => r,
        Ok(Ok(r)) => {
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!("the source answered {}", r.reason()),
            )
        }
        Ok(Err(e)) => {
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!("fetching the source failed: {e}"),
            )
        }
        Err(_) => {
            return refuse(
                StatusCode::GATEWAY_TIMEOUT,
                "the source did not answer in time",
            )
        }
    };
    let hash = BlobHash::of(&response.body);
    if let Err(e) = authorization.names(&hash) {
        return refuse(StatusCode::UNAUTHORIZED, e);
    }
    let key = authorization.key;
    let claimed = response.header("content-type").map(str::to_owned);
    store(&m, &headers, key, hash, response.body, claimed).await
}

/// BUD-02: `GET /list/<pubkey>`, for that key (or an admin) only: what a
/// person uploaded is theirs to see.
async fn list(State(m): State<Media>, Path(pubkey): Path<String>, headers: HeaderMap) -> Response {
    m.state.metrics.blob_request("list");
    let Ok(target) = PublicKey::parse(&pubkey) else {
        return refuse(StatusCode::BAD_REQUEST, "not a public key");
    };
    let signer = match auth::authorize(&headers, "list", None) {
        Ok(k) => k,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    if signer != target && !m.state.policy().is_admin(&signer) {
        return refuse(
            StatusCode::FORBIDDEN,
            "only the uploader may list their blobs",
        );
    }
    let owner = target.to_hex();
    match blocking(&m.blobs, move |b| b.list(&owner)).await {
        Ok(infos) => {
            let list: Vec<_> = infos.iter().map(|i| descriptor(&m, &headers, i)).collect();
            json_answer(&serde_json::Value::Array(list))
        }
        Err(r) => r,
    }
}

/// BUD-02: `DELETE /<sha256>`: the signer's claim goes; an admin's removes
/// the blob.
async fn delete(State(m): State<Media>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    m.state.metrics.blob_request("delete");
    let Some(hash) = hash_of_file(&file) else {
        return refuse(StatusCode::NOT_FOUND, "not a blob hash");
    };
    let signer = match auth::authorize(&headers, "delete", Some(&hash)) {
        Ok(k) => k,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    let admin = m.state.policy().is_admin(&signer);
    let owner = signer.to_hex();
    let done = blocking(&m.blobs, move |b| {
        if !admin && !b.uploaded_by(&hash, &owner)? {
            return Ok(None);
        }
        b.delete(&hash, (!admin).then_some(owner.as_str()))?;
        Ok(Some(b.totals()?))
    })
    .await;
    match done {
        Ok(Some((count, bytes))) => {
            m.state.metrics.set_blobs(count, bytes);
            with_cors(StatusCode::OK.into_response())
        }
        Ok(None) => refuse(StatusCode::NOT_FOUND, "you have no such blob here"),
        Err(r) => r,
    }
}
