//! Opening a websocket to a relay: directly, or through a SOCKS5 proxy (Tor)
//! with the host name resolved by the proxy and one set of SOCKS credentials
//! per relay, so Tor puts each relay on its own circuit.
//!
//! With a proxy configured there is no code path that opens a direct TCP
//! connection or resolves a relay's host name locally.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use samizdat_store::FailureClass;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::url::RelayUrl;

/// Any byte stream a websocket can run over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open websocket to a relay.
pub type WsStream = WebSocketStream<MaybeTlsStream<Box<dyn Io>>>;

/// A SOCKS5 proxy, usually Tor's `127.0.0.1:9050`.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The proxy's address.
    pub addr: SocketAddr,
    /// Use distinct SOCKS credentials per relay (Tor stream isolation).
    pub isolate: bool,
}

/// How connections are made.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Route every connection through this proxy.
    pub proxy: Option<ProxyConfig>,
    /// Limit for TCP connect plus the websocket handshake.
    pub connect_timeout: Duration,
    /// Largest websocket message accepted from a relay.
    pub max_message_bytes: usize,
    /// Random per session: part of the SOCKS credentials, so circuits are not
    /// shared with other programs or other sessions.
    pub isolation_nonce: String,
    /// Relays (`host:port` authorities) reached directly even though a proxy
    /// is set: an explicit, per-relay exception the user chose.
    pub direct: Vec<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        let nonce: u64 = rand::random();
        Self {
            proxy: None,
            connect_timeout: Duration::from_secs(10),
            max_message_bytes: 1024 * 1024,
            isolation_nonce: format!("{nonce:016x}"),
            direct: Vec::new(),
        }
    }
}

impl TransportConfig {
    /// Draws a new isolation nonce: a session (an account) that copied this
    /// configuration gets circuits of its own, shared with no other session.
    pub fn renew_isolation(&mut self) {
        let nonce: u64 = rand::random();
        self.isolation_nonce = format!("{nonce:016x}");
    }
}

/// A failed connection attempt, classified for the penalty box.
#[derive(Debug, Clone, thiserror::Error)]
#[error("connecting to {url} failed ({class:?}): {detail}")]
pub struct ConnectError {
    /// The relay.
    pub url: String,
    /// What kind of failure.
    pub class: FailureClass,
    /// The underlying reason.
    pub detail: String,
}

/// Opens the byte stream to the relay's host: through the proxy when one is
/// configured (the host name goes to the proxy), else directly.
pub async fn open_stream(
    url: &RelayUrl,
    config: &TransportConfig,
) -> Result<Box<dyn Io>, ConnectError> {
    let fail = |class, detail: String| ConnectError {
        url: url.to_string(),
        class,
        detail,
    };
    let proxy = config
        .proxy
        .as_ref()
        .filter(|_| !config.direct.iter().any(|d| *d == url.authority()));
    match proxy {
        Some(proxy) => {
            let target = (url.host(), url.port());
            let stream = if proxy.isolate {
                let user = format!("samizdat-{}", config.isolation_nonce);
                let pass = url.authority();
                tokio_socks::tcp::Socks5Stream::connect_with_password(
                    proxy.addr, target, &user, &pass,
                )
                .await
            } else {
                tokio_socks::tcp::Socks5Stream::connect(proxy.addr, target).await
            };
            let stream = stream.map_err(|e| {
                fail(
                    classify_socks(&e),
                    format!("via SOCKS5 {}: {e}", proxy.addr),
                )
            })?;
            set_nodelay(&stream);
            Ok(Box::new(stream))
        }
        None if url.host().ends_with(".onion") => Err(fail(
            FailureClass::Other,
            "an .onion relay is reachable only through Tor: set a proxy (samizdat network set --tor)"
                .into(),
        )),
        None => {
            let stream = TcpStream::connect((url.host(), url.port()))
                .await
                .map_err(|e| fail(classify_io(&e), e.to_string()))?;
            set_nodelay(&stream);
            Ok(Box::new(stream))
        }
    }
}

fn set_nodelay(stream: &TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
}

/// Connects and completes the websocket handshake within the timeout.
pub async fn connect(url: &RelayUrl, config: &TransportConfig) -> Result<WsStream, ConnectError> {
    let fail = |class, detail: String| ConnectError {
        url: url.to_string(),
        class,
        detail,
    };
    let attempt = async {
        let stream = open_stream(url, config).await?;
        let request = url
            .to_string()
            .into_client_request()
            .map_err(|e| fail(FailureClass::Other, e.to_string()))?;
        let mut ws_config = WebSocketConfig::default();
        ws_config.max_message_size = Some(config.max_message_bytes);
        ws_config.max_frame_size = Some(config.max_message_bytes);
        let connector = if url.is_secure() {
            Some(Connector::Rustls(tls_config()))
        } else {
            Some(Connector::Plain)
        };
        let (ws, _response) = tokio_tungstenite::client_async_tls_with_config(
            request,
            stream,
            Some(ws_config),
            connector,
        )
        .await
        .map_err(|e| {
            use tokio_tungstenite::tungstenite::Error;
            match e {
                Error::Http(response) => fail(
                    FailureClass::Http,
                    format!("HTTP {} on websocket upgrade", response.status()),
                ),
                Error::Io(io) => fail(classify_io(&io), io.to_string()),
                Error::Tls(t) => fail(FailureClass::Protocol, format!("TLS: {t}")),
                other => fail(FailureClass::Protocol, other.to_string()),
            }
        })?;
        Ok(ws)
    };
    match tokio::time::timeout(config.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(fail(
            FailureClass::Timeout,
            format!("no websocket within {:?}", config.connect_timeout),
        )),
    }
}

/// TLS settings: rustls with the ring provider and the webpki root store
/// (shared with every HTTP exchange).
pub(crate) fn tls_config() -> Arc<rustls::ClientConfig> {
    samizdat_http::tls_config()
}

fn classify_io(e: &std::io::Error) -> FailureClass {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset => FailureClass::Refused,
        ErrorKind::TimedOut => FailureClass::Timeout,
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionAborted => FailureClass::Closed,
        _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
            FailureClass::Dns
        }
        _ => FailureClass::Other,
    }
}

fn classify_socks(e: &tokio_socks::Error) -> FailureClass {
    use tokio_socks::Error;
    match e {
        Error::Io(io) => classify_io(io),
        Error::ConnectionRefused => FailureClass::Refused,
        Error::HostUnreachable | Error::NetworkUnreachable => FailureClass::Dns,
        Error::TtlExpired => FailureClass::Timeout,
        _ => FailureClass::Other,
    }
}
