//! One relay's actor: connects (through the policy and the transport),
//! reconnects with backoff, keeps the desired subscriptions open within the
//! relay's declared limits, publishes with OK timeouts, answers AUTH only when
//! the policy allows, and feeds received events to the validation pipeline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use samizdat_store::FailureClass;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::backoff;
use crate::ingest::{self, IngestItem};
use crate::negentropy::{NegBook, NegSync};
use crate::nip11::{self, RelayLimits};
use crate::pool::{PoolEvent, PoolShared, PublishOutcome};
use crate::session::{narrowed, Session};
use crate::transport::{self, WsStream};
use crate::url::RelayUrl;

/// Instructions from the pool.
pub(crate) enum Command {
    Subscribe {
        id: String,
        filters: Vec<Filter>,
    },
    Unsubscribe {
        id: String,
    },
    Publish {
        event: Event,
        reply: oneshot::Sender<PublishOutcome>,
    },
    /// A NIP-77 reconciliation under NEG subscription `sub`.
    Negentropy {
        sub: String,
        sync: Box<NegSync>,
    },
    Shutdown,
}

pub(crate) struct Pending {
    pub(crate) event: Event,
    pub(crate) reply: oneshot::Sender<PublishOutcome>,
    pub(crate) deadline: Instant,
    pub(crate) sent: bool,
    pub(crate) auth_retried: bool,
}

pub(crate) enum SessionEnd {
    Shutdown,
    Failed(FailureClass, String),
}

pub(crate) struct RelayActor {
    pub(crate) url: RelayUrl,
    pub(crate) shared: Arc<PoolShared>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Logical subscriptions we want open, re-sent after reconnects.
    pub(crate) desired: HashMap<String, Vec<Filter>>,
    /// Per subscription, until when we are known to have everything (its
    /// EOSE, then live until the connection ended): a reconnect asks only
    /// for what came after, less a safety margin.
    pub(crate) caught_up: HashMap<String, Timestamp>,
    pub(crate) pending: HashMap<EventId, Pending>,
    limits: Option<RelayLimits>,
    /// Why the last connection attempt failed (told to unsent publishes).
    pub(crate) last_error: Option<String>,
    /// NIP-77 reconciliations in flight.
    pub(crate) negs: NegBook,
}

impl RelayActor {
    pub(crate) fn new(
        url: RelayUrl,
        shared: Arc<PoolShared>,
        commands: mpsc::UnboundedReceiver<Command>,
    ) -> Self {
        Self {
            url,
            shared,
            commands,
            desired: HashMap::new(),
            caught_up: HashMap::new(),
            pending: HashMap::new(),
            limits: None,
            last_error: None,
            negs: NegBook::default(),
        }
    }

    pub(crate) async fn emit(&self, event: PoolEvent) {
        let _ = self.shared.events.send(event).await;
    }

    pub(crate) async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            let url = self.url.clone();
            let policies = self.shared.policies.clone();
            let allowed = tokio::task::spawn_blocking(move || policies.may_connect(&url))
                .await
                .unwrap_or(false);
            if !allowed {
                tracing::info!(relay = %self.url, "connection denied by policy");
                self.emit(PoolEvent::Denied {
                    relay: self.url.clone(),
                })
                .await;
                self.fail_pending(PublishOutcome::Denied);
                // Stay idle: every publish is denied; subscriptions wait for a new policy.
                if self.idle(None, true).await {
                    break;
                }
                continue;
            }
            let started = Instant::now();
            // The relay's NIP-11 limits are fetched beside the connection,
            // never before the first REQ: until they arrive the session
            // keeps to conservative defaults (a round trip saved per relay).
            let limits_fetch = self.limits.is_none().then(|| {
                let url = self.url.clone();
                let transport = self.shared.config.transport.clone();
                tokio::spawn(async move {
                    nip11::fetch_limits(&url, &transport)
                        .await
                        .unwrap_or_default()
                })
            });
            let (class, error) =
                match transport::connect(&self.url, &self.shared.config.transport).await {
                    Ok(ws) => {
                        let latency = started.elapsed().as_secs_f64() * 1e3;
                        self.record(move |s, u| s.record_relay_success(u, latency))
                            .await;
                        failures = 0;
                        let limits_fetch = self.limits_in_time(limits_fetch, started).await;
                        self.emit(PoolEvent::Connected {
                            relay: self.url.clone(),
                        })
                        .await;
                        match self.session(ws, limits_fetch).await {
                            SessionEnd::Shutdown => break,
                            SessionEnd::Failed(class, error) => (class, error),
                        }
                    }
                    Err(e) => {
                        if let Some(task) = limits_fetch {
                            task.abort();
                        }
                        (e.class, e.detail)
                    }
                };
            failures = failures.saturating_add(1);
            let error_for_store = error.clone();
            self.last_error = Some(error.clone());
            self.record(move |s, u| s.record_relay_failure(u, class, &error_for_store))
                .await;
            let retry_in =
                backoff::delay(&self.shared.config.backoff, failures, class, rand::random());
            tracing::info!(relay = %self.url, ?class, %error, ?retry_in, "relay connection lost");
            self.emit(PoolEvent::Disconnected {
                relay: self.url.clone(),
                class,
                error,
                retry_in,
            })
            .await;
            if self.idle(Some(retry_in), false).await {
                break;
            }
        }
        self.fail_pending(PublishOutcome::Failed("disconnected from the pool".into()));
    }

    /// The NIP-11 fetch started beside the connection usually lands with
    /// it (both cost a round trip): it gets a moment (half the connection's
    /// time, at least 20 ms) to do so, so the first REQs already keep to
    /// the relay's limits; a slower one is applied when it arrives.
    async fn limits_in_time(
        &mut self,
        fetch: Option<tokio::task::JoinHandle<RelayLimits>>,
        connect_started: Instant,
    ) -> Option<tokio::task::JoinHandle<RelayLimits>> {
        let mut task = fetch?;
        let grace = (connect_started.elapsed() / 2).max(Duration::from_millis(20));
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(limits)) => {
                self.limits = Some(limits);
                None
            }
            Ok(Err(_)) => None,
            Err(_) => Some(task),
        }
    }

    /// Records relay statistics on the blocking pool.
    async fn record(
        &self,
        f: impl FnOnce(&samizdat_store::Store, &str) -> samizdat_store::StoreResult<()> + Send + 'static,
    ) {
        let store = Arc::clone(&self.shared.store);
        let url = self.url.to_string();
        let result = tokio::task::spawn_blocking(move || f(&store, &url)).await;
        if let Ok(Err(e)) = result {
            tracing::warn!(error = %e, "cannot record relay statistics");
        }
    }

    /// Waits (for `wait`, or until a command when `None`) while disconnected,
    /// keeping track of commands. Returns true on shutdown.
    async fn idle(&mut self, wait: Option<Duration>, denied: bool) -> bool {
        let retry_at = wait.map(|w| tokio::time::Instant::now() + w);
        loop {
            // Publishes waiting for a connection still answer within their timeout.
            let next_expiry = self
                .pending
                .values()
                .map(|p| p.deadline)
                .min()
                .map(tokio::time::Instant::from_std);
            let wake = match (retry_at, next_expiry) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let cmd = match wake {
                Some(d) => match tokio::time::timeout_at(d, self.commands.recv()).await {
                    Ok(cmd) => cmd,
                    Err(_) => {
                        self.expire_unsent();
                        if retry_at.is_some_and(|r| tokio::time::Instant::now() >= r) {
                            return false;
                        }
                        continue;
                    }
                },
                None => self.commands.recv().await,
            };
            match cmd {
                None | Some(Command::Shutdown) => return true,
                Some(Command::Subscribe { id, filters }) => {
                    self.caught_up.remove(&id);
                    self.desired.insert(id, filters);
                }
                Some(Command::Unsubscribe { id }) => {
                    self.caught_up.remove(&id);
                    self.desired.remove(&id);
                }
                Some(Command::Publish { event, reply }) => {
                    if denied {
                        let _ = reply.send(PublishOutcome::Denied);
                    } else {
                        self.queue_publish(event, reply);
                    }
                }
                Some(Command::Negentropy { sub, sync }) => {
                    // Opened once connected (a denied relay fails it at once).
                    self.negs.add(sub, *sync, false);
                    if denied {
                        self.negs.fail_all("denied by policy");
                    }
                }
            }
            if denied {
                // A policy change may have allowed the relay: try again.
                return false;
            }
        }
    }

    async fn session(
        &mut self,
        ws: WsStream,
        mut limits_fetch: Option<tokio::task::JoinHandle<RelayLimits>>,
    ) -> SessionEnd {
        let (mut sink, mut stream) = ws.split();
        let (ingest_tx, ingest_rx) = mpsc::channel::<IngestItem>(4);
        let ingest_task = tokio::spawn(ingest::run(
            Arc::clone(&self.shared),
            self.url.clone(),
            ingest_rx,
        ));
        let mut s = Session::new();
        let mut limits = self.limits.clone().unwrap_or_default();
        // Open every desired subscription and send queued publishes.
        let desired: Vec<(String, Vec<Filter>)> = self
            .desired
            .iter()
            .map(|(k, v)| (k.clone(), narrowed(v, self.caught_up.get(k).copied())))
            .collect();
        let mut out: Vec<String> = Vec::new();
        for (id, filters) in desired {
            s.open(&id, filters, &limits, &mut out);
        }
        for p in self.pending.values_mut() {
            p.sent = true;
            p.deadline = Instant::now() + self.shared.config.ok_timeout;
            out.push(json!(["EVENT", p.event]).to_string());
        }
        self.negs.open_all(&mut out);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let end = loop {
            for msg in out.drain(..) {
                if let Err(e) = sink.send(Message::text(msg)).await {
                    return self
                        .finish(
                            ingest_tx,
                            ingest_task,
                            SessionEnd::Failed(FailureClass::Closed, e.to_string()),
                        )
                        .await;
                }
            }
            let flush_due = !s.batch.is_empty();
            // Biased: frames that are already buffered are read before the
            // batch is flushed, so events are verified in large batches.
            tokio::select! {
                biased;
                cmd = self.commands.recv() => match cmd {
                    None | Some(Command::Shutdown) => {
                        let _ = sink.close().await;
                        break SessionEnd::Shutdown;
                    }
                    Some(Command::Subscribe { id, filters }) => {
                        s.close_logical(&id, &mut out);
                        self.caught_up.remove(&id);
                        self.desired.insert(id.clone(), filters.clone());
                        s.open(&id, filters, &limits, &mut out);
                    }
                    Some(Command::Unsubscribe { id }) => {
                        self.desired.remove(&id);
                        self.caught_up.remove(&id);
                        s.close_logical(&id, &mut out);
                        s.activate_queued(&limits, &mut out);
                    }
                    Some(Command::Publish { event, reply }) => {
                        let id = event.id;
                        out.push(json!(["EVENT", event]).to_string());
                        self.queue_publish(event, reply);
                        if let Some(p) = self.pending.get_mut(&id) {
                            p.sent = true;
                        }
                    }
                    Some(Command::Negentropy { sub, sync }) => {
                        out.extend(self.negs.add(sub, *sync, true));
                    }
                },
                _ = tick.tick() => {
                    self.expire(&mut s, &ingest_tx).await;
                    self.negs.expire(Instant::now());
                }
                fetched = async {
                    match limits_fetch.as_mut() {
                        Some(task) => task.await,
                        None => std::future::pending().await,
                    }
                }, if limits_fetch.is_some() => {
                    limits_fetch = None;
                    if let Ok(fetched) = fetched {
                        self.limits = Some(fetched.clone());
                        limits = fetched;
                        s.activate_queued(&limits, &mut out);
                    }
                }
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(end) = self.on_text(&mut s, text.as_str(), &limits, &ingest_tx, &mut out).await {
                            break end;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        s.malformed += 1;
                        if s.malformed > self.shared.config.max_malformed {
                            break SessionEnd::Failed(FailureClass::Protocol, "too many malformed messages".into());
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => break SessionEnd::Failed(FailureClass::Closed, "relay closed the connection".into()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break SessionEnd::Failed(FailureClass::Protocol, e.to_string()),
                },
                _ = std::future::ready(()), if flush_due => {
                    // Nothing else is ready right now: verify what we have.
                    let batch = std::mem::take(&mut s.batch);
                    if ingest_tx.send(IngestItem::Batch(batch)).await.is_err() {
                        break SessionEnd::Failed(FailureClass::Other, "ingest pipeline stopped".into());
                    }
                }
            }
        };
        self.finish(ingest_tx, ingest_task, end).await
    }

    async fn finish(
        &mut self,
        ingest_tx: mpsc::Sender<IngestItem>,
        ingest_task: tokio::task::JoinHandle<()>,
        end: SessionEnd,
    ) -> SessionEnd {
        drop(ingest_tx);
        let _ = ingest_task.await;
        self.negs.fail_all("the connection ended");
        for p in self.pending.values_mut() {
            p.sent = false;
        }
        // Caught-up subscriptions were live until now.
        let now = Timestamp::now();
        for t in self.caught_up.values_mut() {
            *t = now;
        }
        end
    }

    /// OK and EOSE timeouts.
    async fn expire(&mut self, s: &mut Session, ingest_tx: &mpsc::Sender<IngestItem>) {
        let now = Instant::now();
        self.expire_sent(now);
        let eose_timeout = self.shared.config.eose_timeout;
        let overdue: Vec<String> = s
            .wire
            .iter()
            .filter(|(_, w)| !w.eose && now.duration_since(w.opened) > eose_timeout)
            .map(|(id, _)| id.clone())
            .collect();
        for wire_id in overdue {
            if let Some(logical) = s.mark_eose(&wire_id) {
                self.flush_then(
                    s,
                    ingest_tx,
                    IngestItem::Eose {
                        sub: logical,
                        timed_out: true,
                    },
                )
                .await;
            }
        }
    }
}
