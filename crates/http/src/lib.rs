//! One HTTP/1.1 request and its answer, over a byte stream the caller
//! opened. Opening the stream is the caller's job on purpose: the client
//! opens it through its transport (so a SOCKS5 proxy applies and fails
//! closed), the relay opens it directly. Bodies are bounded both ways:
//! a `Content-Length` over the limit is refused before reading, and a body
//! that grows past it is cut off with an error.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

mod url;

pub use url::HttpUrl;

/// What went wrong in an exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http://` or `https://` with a host.
    #[error("{0:?} is not an http(s) URL")]
    BadUrl(String),
    /// TLS failed (certificate, handshake).
    #[error("TLS with {host}: {detail}")]
    Tls {
        /// The server's host.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The request could not be sent or the answer not read.
    #[error("HTTP with {host}: {detail}")]
    Protocol {
        /// The server's host.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The answer's body is larger than the caller accepts.
    #[error("{host} answered with more than {limit} bytes")]
    TooLarge {
        /// The server's host.
        host: String,
        /// The limit.
        limit: usize,
    },
}

/// An HTTP method Samizdat uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
    /// POST (NIP-86 management).
    Post,
}

impl Method {
    fn as_hyper(self) -> hyper::Method {
        match self {
            Self::Get => hyper::Method::GET,
            Self::Head => hyper::Method::HEAD,
            Self::Put => hyper::Method::PUT,
            Self::Delete => hyper::Method::DELETE,
            Self::Post => hyper::Method::POST,
        }
    }
}

/// A request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Where.
    pub url: HttpUrl,
    /// Extra headers (`Host`, `Content-Length` and `User-Agent` are set here).
    pub headers: Vec<(String, String)>,
    /// The body (empty for GET, HEAD and DELETE).
    pub body: Bytes,
}

impl Request {
    /// A request without body or extra headers.
    pub fn new(method: Method, url: HttpUrl) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (empty for HEAD).
    pub body: Bytes,
}

impl Response {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// BUD-01's `X-Reason`, or the status line, for messages.
    pub fn reason(&self) -> String {
        self.header("x-reason")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

/// Bytes of a request body sent so far, shared with whoever draws a
/// progress bar.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    /// Bytes handed to the connection so far.
    pub fn sent(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The piece size a body is sent in (the unit of progress).
const CHUNK: usize = 64 * 1024;

/// Any byte stream an exchange can run over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Sends `request` over `stream` (wrapping it in TLS for `https://`) and
/// reads the answer, whose body may be at most `max_body` bytes.
pub async fn exchange(
    stream: impl Io,
    request: &Request,
    max_body: usize,
    progress: Option<&Progress>,
) -> Result<Response, HttpError> {
    let host = request.url.host().to_owned();
    if request.url.is_secure() {
        let tls = tls_connect(stream, &host).await?;
        send(tls, request, max_body, progress).await
    } else {
        send(stream, request, max_body, progress).await
    }
}

async fn send(
    stream: impl Io,
    request: &Request,
    max_body: usize,
    progress: Option<&Progress>,
) -> Result<Response, HttpError> {
    let url = &request.url;
    let protocol = |detail: String| HttpError::Protocol {
        host: url.host().to_owned(),
        detail,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| protocol(e.to_string()))?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "HTTP connection ended");
        }
    });
    let progress = progress.cloned();
    let pieces: Vec<Bytes> = (0..request.body.len())
        .step_by(CHUNK)
        .map(|at| request.body.slice(at..(at + CHUNK).min(request.body.len())))
        .collect();
    let body = StreamBody::new(futures_util::stream::iter(pieces.into_iter().map(
        move |piece| {
            if let Some(p) = &progress {
                p.add(piece.len());
            }
            Ok::<_, std::convert::Infallible>(Frame::data(piece))
        },
    )));
    let mut builder = hyper::Request::builder()
        .method(request.method.as_hyper())
        .uri(url.path_and_query())
        .header("host", url.authority())
        .header("user-agent", "samizdat")
        .header("connection", "close");
    if request.method == Method::Put || !request.body.is_empty() {
        builder = builder.header("content-length", request.body.len());
    }
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let hyper_request = builder.body(body).map_err(|e| protocol(e.to_string()))?;
    let answer = sender
        .send_request(hyper_request)
        .await
        .map_err(|e| protocol(e.to_string()))?;
    let status = answer.status().as_u16();
    let headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let declared = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let too_large = || HttpError::TooLarge {
        host: url.host().to_owned(),
        limit: max_body,
    };
    let body = if request.method == Method::Head {
        Bytes::new()
    } else if declared.is_some_and(|d| d > max_body as u64) {
        driver.abort();
        return Err(too_large());
    } else {
        Limited::new(answer.into_body(), max_body)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    protocol(e.to_string())
                }
            })?
            .to_bytes()
    };
    driver.abort();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Reads `raw` as a server's whole answer to a GET, through the same code
/// as [`exchange`] (an in-memory stream stands for the server): for the
/// fuzz target and tests of what a hostile server can send.
pub fn answer_of(raw: &[u8], max_body: usize) -> Result<Response, HttpError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let failed = |detail: String| HttpError::Protocol {
        host: "answer.invalid".into(),
        detail,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let raw = raw.to_vec();
    runtime.block_on(async move {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let serve = tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match server.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = server.write_all(&raw).await;
            let _ = server.shutdown().await;
        });
        let url = HttpUrl::parse("http://answer.invalid/")?;
        let answer = exchange(client, &Request::new(Method::Get, url), max_body, None).await;
        serve.abort();
        answer
    })
}

/// Wraps `stream` in TLS for `host`, checking its certificate against the
/// webpki roots.
pub async fn tls_connect<S: Io>(
    stream: S,
    host: &str,
) -> Result<tokio_rustls::client::TlsStream<S>, HttpError> {
    let tls = |detail: String| HttpError::Tls {
        host: host.to_owned(),
        detail,
    };
    let name =
        rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| tls(e.to_string()))?;
    tokio_rustls::TlsConnector::from(tls_config())
        .connect(name, stream)
        .await
        .map_err(|e| tls(e.to_string()))
}

/// TLS settings: rustls with the ring provider and the webpki root store.
#[allow(clippy::expect_used)] // a build-time fact, not outside input (see below)
pub fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // Not outside input: ring supports rustls' default protocol versions.
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Arc::new(config)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one canned answer to one connection, and hands back what the
    /// client sent.
    async fn serve_once(answer: &'static [u8]) -> (HttpUrl, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![0u8; 1 << 20];
            let mut n = 0;
            loop {
                let read = s.read(&mut got[n..]).await.unwrap();
                n += read;
                if read == 0 || got[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            s.write_all(answer).await.unwrap();
            got.truncate(n);
            got
        });
        (
            HttpUrl::parse(&format!("http://{addr}/x?y=1")).unwrap(),
            handle,
        )
    }

    #[test]
    fn parses_plain_and_chunked_responses() {
        let json = |r: Response| serde_json::from_slice::<serde_json::Value>(&r.body).ok();
        let plain =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/nostr+json\r\nContent-Length: 12\r\n\r\n{\"name\":\"x\"}";
        assert_eq!(json(answer_of(plain, 1024).unwrap()).unwrap()["name"], "x");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
        assert_eq!(json(answer_of(chunked, 1024).unwrap()).unwrap()["a"], 1);
        assert_eq!(
            answer_of(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
                1024
            )
            .unwrap()
            .status,
            404
        );
        assert!(answer_of(b"garbage", 1024).is_err());
        assert!(answer_of(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort", 1024).is_err());
    }

    #[tokio::test]
    async fn reads_chunked_answers_and_enforces_limits() {
        let (url, served) = serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Reason: fine\r\n\r\n5\r\nhello\r\n0\r\n\r\n").await;
        let stream = tokio::net::TcpStream::connect(url.authority())
            .await
            .unwrap();
        let r = exchange(stream, &Request::new(Method::Get, url.clone()), 100, None)
            .await
            .unwrap();
        assert_eq!(
            (r.status, &r.body[..], r.header("X-Reason")),
            (200, &b"hello"[..], Some("fine"))
        );
        let sent = served.await.unwrap();
        assert!(
            sent.starts_with(b"GET /x?y=1 HTTP/1.1\r\n"),
            "{}",
            String::from_utf8_lossy(&sent)
        );

        let (url, _) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").await;
        let stream = tokio::net::TcpStream::connect(url.authority())
            .await
            .unwrap();
        let err = exchange(stream, &Request::new(Method::Get, url), 100, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, HttpError::TooLarge { limit: 100, .. }),
            "{err}"
        );
    }
}
