//! One client connection: reads NIP-01 messages, answers them, and owns the
//! connection's subscriptions and authentication state.
//!
//! Outgoing messages go through an unbounded queue whose *bytes* are counted;
//! a client that stops reading is disconnected once its queue passes the
//! configured bound, so memory stays bounded whatever the client does.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use tokio::sync::{mpsc, oneshot, Notify};
use tracing::Instrument;

use crate::admission::{check_event, verdict};
use crate::auth::{new_challenge, verify_auth};
use crate::inbound::{self, Frame, Refusal};
use crate::messages;
use crate::state::RelayState;
use crate::subscriptions::SubKey;
use crate::writer::WriteJob;

/// The parts of a connection that fan-out needs from other tasks.
pub struct ConnectionShared {
    /// Connection number.
    pub id: u64,
    outgoing: mpsc::UnboundedSender<String>,
    queued_bytes: Arc<AtomicUsize>,
    max_queued_bytes: usize,
    overflowed: Notify,
    authenticated: RwLock<Vec<PublicKey>>,
}

impl ConnectionShared {
    /// Queues a message; if the client is not reading and the queue is past
    /// its bound, the connection is told to close instead.
    pub fn send(&self, message: String) {
        let queued = self
            .queued_bytes
            .fetch_add(message.len(), Ordering::Relaxed)
            + message.len();
        if queued > self.max_queued_bytes {
            self.overflowed.notify_one();
            return;
        }
        let _ = self.outgoing.send(message);
    }

    /// Keys this connection has authenticated as (NIP-42).
    pub fn authenticated(&self) -> Vec<PublicKey> {
        self.authenticated
            .read()
            .map(|a| a.clone())
            .unwrap_or_default()
    }
}

/// Serves one upgraded websocket until it closes or the relay shuts down.
///
/// `slot` is the connection's place in the per-address count; it is released
/// when this returns.
pub async fn serve(
    socket: WebSocket,
    state: Arc<RelayState>,
    slot: crate::state::ConnectionSlot,
    ip: IpAddr,
    host: Option<String>,
) {
    let _slot = slot;
    let id = state.next_connection_id();
    let span = tracing::info_span!("conn", id, peer = %state.peer_tag(ip));
    async move {
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let queued = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(ConnectionShared {
            id,
            outgoing: tx,
            queued_bytes: Arc::clone(&queued),
            max_queued_bytes: state.config().limits.max_outgoing_bytes,
            overflowed: Notify::new(),
            authenticated: RwLock::new(Vec::new()),
        });
        // The send task holds only the byte counter, so the queue closes (and
        // the socket with it) once the connection and its pending replies are gone.
        let mut send_task = tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                let len = msg.len();
                let sent = sink.send(Message::Text(msg.into())).await;
                queued.fetch_sub(len, Ordering::Relaxed);
                if sent.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let challenge = new_challenge();
        shared.send(messages::auth(&challenge));
        let mut conn = Connection {
            state: Arc::clone(&state),
            shared: Arc::clone(&shared),
            subs: HashSet::new(),
            challenge,
            ip,
            host,
            negs: Default::default(),
        };
        let mut shutdown = state.shutdown.clone();
        tracing::debug!("connected");
        loop {
            tokio::select! {
                _ = crate::state::stopped(&mut shutdown) => {
                    shared.send(messages::notice("relay shutting down"));
                    break;
                }
                _ = shared.overflowed.notified() => {
                    tracing::info!("client does not read its messages; disconnecting");
                    send_task.abort();
                    break;
                }
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => conn.handle_text(text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => {
                        shared.send(messages::notice("invalid: binary frames are not part of Nostr; send text"));
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket error");
                        break;
                    }
                },
            }
        }
        conn.close_all();
        drop(conn);
        drop(shared);
        // The send task ends once every sender is gone (pending OK tasks finish
        // first); a client that does not read cannot hold it open.
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut send_task)
            .await
            .is_err()
        {
            send_task.abort();
        }
        tracing::debug!("disconnected");
    }
    .instrument(span)
    .await;
}

/// One connection's own state, handled on its read loop. Fields are visible
/// to the modules that answer its messages (`reads`, `negentropy`).
pub(crate) struct Connection {
    pub(crate) state: Arc<RelayState>,
    pub(crate) shared: Arc<ConnectionShared>,
    pub(crate) subs: HashSet<SubscriptionId>,
    challenge: String,
    pub(crate) ip: IpAddr,
    host: Option<String>,
    /// NIP-77 reconciliations in flight.
    pub(crate) negs: crate::negentropy::Sessions,
}

impl Connection {
    pub(crate) fn send(&self, msg: String) {
        self.shared.send(msg);
    }

    async fn handle_text(&mut self, text: &str) {
        let config = self.state.config();
        let frame = match inbound::parse(text, &config.limits, config.negentropy) {
            Ok(frame) => frame,
            Err(Refusal::Event { id, reason }) => return self.refuse(&id, &reason),
            Err(refusal) => return self.send(refusal.message()),
        };
        match frame {
            Frame::Event(event) => self.handle_event(*event).await,
            Frame::Req { sub, filters } => self.handle_req(sub, filters).await,
            Frame::Count { sub, filters } => self.handle_count(sub, filters).await,
            Frame::Close(sub) => self.handle_close(&sub),
            Frame::Auth(event) => self.handle_auth(&event),
            Frame::NegOpen(open) => self.handle_neg_open(open).await,
            Frame::NegMsg { sub, message } => {
                let answer = self.negs.next(&sub, &message);
                self.send(answer);
            }
            Frame::NegClose(sub) => self.negs.close(&sub),
        }
    }

    /// Whether a request to vanish names this relay: its configured URL, or
    /// the host this connection came to, or `ALL_RELAYS`.
    fn names_this_relay(&self, request: &Event) -> bool {
        let mut urls: Vec<String> = self.state.config().relay_url.iter().cloned().collect();
        if let Some(host) = &self.host {
            urls.push(format!("ws://{host}"));
            urls.push(format!("wss://{host}"));
        }
        crate::vanish::names_this_relay(request, &urls)
    }

    /// NIP-62: checked like any event (id, signature, not from the future),
    /// but honoured whatever the write policy; everything of the key up to
    /// the request goes, and stays out.
    async fn handle_vanish(&mut self, request: Event) {
        let id = request.id;
        let now = Timestamp::now().as_secs();
        if !request.verify_id() || !request.verify_signature() {
            return self.refuse(&id, "invalid: bad id or signature");
        }
        if request.created_at.as_secs() > now + self.state.config().limits.created_at_upper_limit {
            return self.refuse(&id, "invalid: created_at is too far in the future");
        }
        let key = request.pubkey;
        let until = request.created_at.as_secs();
        let done = crate::storage::blocking(&self.state.store, move |s| {
            crate::vanish::vanish(s, &request)
        })
        .await;
        match done {
            Ok(removed) => {
                self.state.update_policy(|p| {
                    let at = p.moderation.vanished.entry(key).or_default();
                    *at = (*at).max(until);
                });
                tracing::info!(removed, "a key vanished (NIP-62)");
                self.state.metrics.event_answered(true, "");
                self.send(messages::ok(
                    &id,
                    true,
                    &format!("vanished: {removed} events removed"),
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "vanishing failed");
                self.refuse(&id, "error: could not vanish, try again");
            }
        }
    }

    async fn handle_event(&mut self, event: Event) {
        let id = event.id;
        if event.kind == crate::vanish::VANISH && self.names_this_relay(&event) {
            return self.handle_vanish(event).await;
        }
        let checked = check_event(
            &self.state.config(),
            &self.state.policy(),
            &self.shared.authenticated(),
            &event,
        );
        if let Err(reason) = checked {
            return self.refuse(&id, &reason);
        }
        if !self.state.allow_event(self.ip, &event.pubkey) {
            return self.refuse(&id, "rate-limited: slow down");
        }
        if event.kind.is_ephemeral() {
            self.state.fan_out(&event);
            if self.state.store.shared() {
                let store = Arc::clone(&self.state.store);
                let event = event.clone();
                tokio::spawn(async move {
                    let passed =
                        crate::storage::blocking(&store, move |s| s.announce_ephemeral(&event))
                            .await;
                    if let Err(e) = passed {
                        tracing::warn!(error = %e, "ephemeral event not passed to the cluster");
                    }
                });
            }
            self.state.metrics.event_answered(true, "");
            self.send(messages::ok(&id, true, ""));
            return;
        }
        let (reply, answer) = oneshot::channel();
        if self
            .state
            .writer
            .send(WriteJob { event, reply })
            .await
            .is_err()
        {
            return self.refuse(&id, "error: relay is shutting down");
        }
        // Wait for the commit off the read loop, so one client's events batch
        // together and its next messages are read meanwhile.
        let shared = Arc::clone(&self.shared);
        let state = Arc::clone(&self.state);
        tokio::spawn(async move {
            let (accepted, reason) = match answer.await {
                Ok(Ok(outcome)) => verdict(&outcome),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "event not stored");
                    (false, "error: could not store the event".to_string())
                }
                Err(_) => (false, "error: relay is shutting down".to_string()),
            };
            state.metrics.event_answered(accepted, &reason);
            shared.send(messages::ok(&id, accepted, &reason));
        });
    }

    /// Answers an EVENT with OK false and counts the refusal.
    fn refuse(&self, id: &EventId, reason: &str) {
        self.state.metrics.event_answered(false, reason);
        self.send(messages::ok(id, false, reason));
    }

    fn handle_close(&mut self, sub: &str) {
        let sub_id = SubscriptionId::new(sub);
        if self.subs.remove(&sub_id) {
            let key = SubKey {
                conn: self.shared.id,
                id: sub_id,
            };
            self.write_subs(|s| s.remove(&key));
        }
    }

    fn handle_auth(&mut self, event: &Event) {
        let config = self.state.config();
        let relay_url = config.relay_url.as_deref();
        match verify_auth(event, &self.challenge, relay_url, self.host.as_deref()) {
            Ok(pubkey) => {
                if let Ok(mut authed) = self.shared.authenticated.write() {
                    if !authed.contains(&pubkey) {
                        authed.push(pubkey);
                    }
                }
                tracing::debug!("client authenticated");
                self.send(messages::ok(&event.id, true, ""));
            }
            Err(reason) => self.send(messages::ok(&event.id, false, &reason)),
        }
    }

    pub(crate) fn write_subs<T>(
        &self,
        f: impl FnOnce(&mut crate::subscriptions::Subscriptions) -> T,
    ) -> T {
        match self.state.subscriptions.write() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    fn close_all(&mut self) {
        let ids: Vec<SubscriptionId> = self.subs.drain().collect();
        let conn = self.shared.id;
        self.write_subs(|s| s.remove_connection(conn, ids));
    }
}
