//! The HTTP side: `/` serves websocket upgrades (NIP-01), the NIP-11
//! document and NIP-86 management (POST); `/metrics` serves Prometheus
//! metrics. Startup on any address (`127.0.0.1:0` for tests), live reload of
//! the config, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use nostr::prelude::{Event, PublicKey};
use samizdat_store::InsertOutcome;

use crate::storage::RelayStorage;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::RelayConfig;
use crate::management::{self, UsedTokens};
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
    /// The config cannot be put in force (a policy key that does not parse,
    /// a restricted policy without an owner) or the store cannot be read.
    #[error("relay config refused: {0}")]
    Config(String),
}

/// What the HTTP handlers share: the relay state and the used NIP-98 tokens.
#[derive(Clone)]
struct Http {
    state: Arc<RelayState>,
    tokens: Arc<UsedTokens>,
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

    /// Puts a new config in force (what SIGHUP does): limits, rates, policy,
    /// identity. Open connections stay open and follow the new config from
    /// their next message; the listening address cannot change. On error the
    /// old config stays.
    pub fn reload(&self, config: RelayConfig) -> Result<(), RelayError> {
        self.state.reload(config).map_err(RelayError::Config)?;
        tracing::info!("relay config reloaded");
        Ok(())
    }

    /// Takes events fetched by the operator's own tooling (a mirror of
    /// another relay): each is checked like an EVENT from a client
    /// authenticated as the owner (id, signature, limits, policy, work), then
    /// committed and fanned out to live subscriptions. Returns per event
    /// whether it was stored, or the refusal.
    pub async fn ingest(&self, events: Vec<Event>) -> Vec<Result<InsertOutcome, String>> {
        let config = self.state.config();
        let policy = self.state.policy();
        let owners: Vec<PublicKey> = policy.owners().iter().copied().collect();
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            if let Err(reason) = crate::admission::check_event(&config, &policy, &owners, &event) {
                pending.push(Err(reason));
                continue;
            }
            let (reply, answer) = tokio::sync::oneshot::channel();
            if self
                .state
                .writer
                .send(writer::WriteJob { event, reply })
                .await
                .is_err()
            {
                pending.push(Err("error: relay is shutting down".into()));
                continue;
            }
            pending.push(Ok(answer));
        }
        let mut results = Vec::with_capacity(pending.len());
        for p in pending {
            results.push(match p {
                Ok(answer) => match answer.await {
                    Ok(Ok(outcome)) => Ok(outcome),
                    Ok(Err(e)) => Err(format!("error: {e}")),
                    Err(_) => Err("error: relay is shutting down".into()),
                },
                Err(reason) => Err(reason),
            });
        }
        results
    }

    /// The event store the relay serves.
    pub fn store(&self) -> &Arc<dyn RelayStorage> {
        &self.state.store
    }

    /// The Prometheus metrics text, as `/metrics` serves it.
    pub fn metrics(&self) -> String {
        self.state.metrics.render()
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
    store: Arc<dyn RelayStorage>,
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
    let state = Arc::new(
        RelayState::new(config, store, write_tx, stopped.clone()).map_err(RelayError::Config)?,
    );
    let writer = tokio::spawn(writer::run(Arc::clone(&state), write_rx));
    crate::cluster::spawn(Arc::clone(&state));
    let janitor_state = Arc::clone(&state);
    let janitor = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            janitor_state.prune_rate_limiters();
            // On the blocking pool: a purge is disk work (and PostgreSQL's
            // client must not block a runtime thread).
            let purged =
                crate::storage::blocking(&janitor_state.store, |s| s.purge_expired()).await;
            if let Err(e) = purged {
                tracing::warn!(error = %e, "purging expired events failed");
            }
        }
    });
    let http = Http {
        state: Arc::clone(&state),
        tokens: Arc::new(UsedTokens::default()),
    };
    let blobs = match &state.config().media.dir {
        Some(dir) => Some(Arc::new(
            crate::blossom::BlobStore::open(dir).map_err(|e| RelayError::Config(e.to_string()))?,
        )),
        None => None,
    };
    let app = Router::new()
        .route("/", get(root).post(manage))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(management::MAX_BODY))
        .with_state(http)
        .merge(crate::blossom::routes(Arc::clone(&state), blobs));
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
    State(Http { state, .. }): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let config = state.config();
    if let Ok(ws) = ws {
        let slot = match state.admit_connection(peer.ip()) {
            Ok(slot) => slot,
            Err("blocked") => {
                tracing::info!(peer = %state.peer_tag(peer.ip()), "blocked address refused");
                return (
                    StatusCode::FORBIDDEN,
                    "blocked: this address may not connect\n",
                )
                    .into_response();
            }
            Err(_) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited: too many connections from this address\n",
                )
                    .into_response()
            }
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        // Frames between the declared limit and this hard cap get a NOTICE;
        // beyond it the connection is dropped before the frame is buffered.
        let hard_cap = config.limits.max_message_length.saturating_mul(2) + 65_536;
        return ws
            .max_message_size(hard_cap)
            .max_frame_size(hard_cap)
            .on_upgrade(move |socket| connection::serve(socket, state, slot, peer.ip(), host))
            .into_response();
    }
    let wants_info = headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("application/nostr+json"));
    let mut response = if wants_info {
        let body = nip11::document(&config, &state.policy()).to_string();
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
        HeaderValue::from_static("GET, POST"),
    );
    response
}

/// NIP-86: `POST /` with a NIP-98 authorization.
async fn manage(State(http): State<Http>, headers: HeaderMap, body: Bytes) -> Response {
    let (status, body) = management::handle(http.state, &http.tokens, &headers, &body).await;
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Prometheus metrics, when the config serves them.
async fn metrics(State(Http { state, .. }): State<Http>) -> Response {
    if !state.config().metrics {
        return (StatusCode::NOT_FOUND, "metrics are turned off\n").into_response();
    }
    let mut response = (StatusCode::OK, state.metrics.render()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
