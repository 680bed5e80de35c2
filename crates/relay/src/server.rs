//! The HTTP side: one route that serves websocket upgrades (NIP-01) and the
//! NIP-11 document, startup on any address (`127.0.0.1:0` for tests), and
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use samizdat_store::Store;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::RelayConfig;
use crate::state::RelayState;
use crate::{connection, nip11, writer};

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A running relay. Dropping it does not stop it; call [`RelayHandle::shutdown`].
pub struct RelayHandle {
    addr: SocketAddr,
    state: Arc<RelayState>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    writer: JoinHandle<()>,
    janitor: JoinHandle<()>,
}

impl RelayHandle {
    /// The address the relay listens on (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://` URL of the relay.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Number of open subscriptions across all connections.
    pub fn open_subscriptions(&self) -> usize {
        self.state
            .subscriptions
            .read()
            .map(|s| s.len())
            .unwrap_or(0)
    }

    /// Stops accepting connections, closes the open ones, commits every
    /// queued event, and returns when all of that is done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.writer.await;
        self.janitor.abort();
        if let Err(e) = self.state.store.checkpoint() {
            tracing::warn!(error = %e, "final checkpoint failed");
        }
        tracing::info!("relay stopped");
    }
}

/// Starts a relay on `listen` over `store` and returns once it accepts connections.
pub async fn start(
    config: RelayConfig,
    store: Arc<Store>,
    listen: SocketAddr,
) -> Result<RelayHandle, RelayError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| RelayError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| RelayError::Bind {
        addr: listen,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let (write_tx, write_rx) = mpsc::channel(16_384);
    let state = Arc::new(RelayState::new(config, store, write_tx, stopped.clone()));
    let writer = tokio::spawn(writer::run(Arc::clone(&state), write_rx));
    let janitor_state = Arc::clone(&state);
    let janitor = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            janitor_state.prune_rate_limiters();
            if let Err(e) = janitor_state.store.purge_expired() {
                tracing::warn!(error = %e, "purging expired events failed");
            }
        }
    });
    let app = Router::new()
        .route("/", get(root))
        .with_state(Arc::clone(&state));
    let mut shutdown = stopped;
    // Nostr is many small messages (EVENTs then EOSE): without TCP_NODELAY,
    // Nagle's algorithm and the client's delayed ACKs add ~40 ms to answers.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let server = tokio::spawn(async move {
        let result = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            crate::state::stopped(&mut shutdown).await;
        })
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "relay server failed");
        }
    });
    tracing::info!(%addr, "relay listening");
    Ok(RelayHandle {
        addr,
        state,
        stop,
        server,
        writer,
        janitor,
    })
}

async fn root(
    State(state): State<Arc<RelayState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Ok(ws) = ws {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        // Frames between the declared limit and this hard cap get a NOTICE;
        // beyond it the connection is dropped before the frame is buffered.
        let hard_cap = state.config.limits.max_message_length.saturating_mul(2) + 65_536;
        return ws
            .max_message_size(hard_cap)
            .max_frame_size(hard_cap)
            .on_upgrade(move |socket| connection::serve(socket, state, peer.ip(), host))
            .into_response();
    }
    let wants_info = headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("application/nostr+json"));
    let mut response = if wants_info {
        let body = nip11::information_document(&state.config).to_string();
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/nostr+json"),
        );
        r
    } else {
        (
            StatusCode::OK,
            "This is a Nostr relay. Connect with a Nostr client over websockets.\n",
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET"),
    );
    response
}
