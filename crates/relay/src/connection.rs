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
use samizdat_store::{InsertOutcome, StoreError};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Notify};
use tracing::Instrument;

use crate::auth::{new_challenge, verify_auth};
use crate::messages;
use crate::state::RelayState;
use crate::subscriptions::SubKey;
use crate::writer::WriteJob;

/// Kinds whose metadata is private to their recipients (NIP-04 DMs, NIP-59
/// gift wraps): served only to an authenticated author or `p`-tagged recipient.
const PRIVATE_KINDS: &[u16] = &[4, 1059];

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

    /// Whether this connection may see `event`: DMs and gift wraps only go to
    /// their authenticated author or recipients.
    pub fn can_read(&self, event: &Event) -> bool {
        if !PRIVATE_KINDS.contains(&event.kind.as_u16()) {
            return true;
        }
        let authed = self.authenticated();
        !authed.is_empty()
            && (authed.contains(&event.pubkey)
                || event.tags.public_keys().any(|p| authed.contains(&p)))
    }
}

/// Serves one upgraded websocket until it closes or the relay shuts down.
pub async fn serve(socket: WebSocket, state: Arc<RelayState>, ip: IpAddr, host: Option<String>) {
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
            max_queued_bytes: state.config.limits.max_outgoing_bytes,
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

struct Connection {
    state: Arc<RelayState>,
    shared: Arc<ConnectionShared>,
    subs: HashSet<SubscriptionId>,
    challenge: String,
    ip: IpAddr,
    host: Option<String>,
    /// NIP-77 reconciliations in flight.
    negs: crate::negentropy::Sessions,
}

impl Connection {
    fn send(&self, msg: String) {
        self.shared.send(msg);
    }

    async fn handle_text(&mut self, text: &str) {
        let max = self.state.config.limits.max_message_length;
        if text.len() > max {
            self.send(messages::notice(&format!(
                "invalid: message of {} bytes is over the limit of {max}",
                text.len()
            )));
            return;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.send(messages::notice(&format!("invalid: malformed JSON ({e})")));
                return;
            }
        };
        let Some(items) = value.as_array() else {
            self.send(messages::notice("invalid: a message must be a JSON array"));
            return;
        };
        match items.first().and_then(Value::as_str) {
            Some("EVENT") => self.handle_event(items).await,
            Some("REQ") => self.handle_req(items).await,
            Some("CLOSE") => self.handle_close(items),
            Some("AUTH") => self.handle_auth(items),
            Some("NEG-OPEN") if self.state.config.negentropy => self.handle_neg_open(items).await,
            Some("NEG-MSG") if self.state.config.negentropy => self.handle_neg_msg(items),
            Some("NEG-CLOSE") if self.state.config.negentropy => {
                if let Some(sub) = items.get(1).and_then(Value::as_str) {
                    self.negs.close(sub);
                }
            }
            Some("COUNT") => {
                let sub = items.get(1).and_then(Value::as_str).unwrap_or("");
                self.send(messages::closed(sub, "unsupported: COUNT is not supported"));
            }
            Some(other) => {
                let verb: String = other.chars().take(32).collect();
                self.send(messages::notice(&format!(
                    "invalid: unknown message type {verb:?}"
                )));
            }
            None => self.send(messages::notice(
                "invalid: a message must start with a verb (EVENT, REQ, CLOSE, AUTH)",
            )),
        }
    }

    async fn handle_event(&mut self, items: &[Value]) {
        let Some(raw) = items.get(1) else {
            self.send(messages::notice("invalid: EVENT without an event"));
            return;
        };
        let Some(id) = raw
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| EventId::from_hex(s).ok())
        else {
            self.send(messages::notice("invalid: EVENT without a valid id"));
            return;
        };
        let event: Event = match serde_json::from_value(raw.clone()) {
            Ok(e) => e,
            Err(e) => {
                self.send(messages::ok(
                    &id,
                    false,
                    &format!("invalid: malformed event ({e})"),
                ));
                return;
            }
        };
        if let Err(reason) = self.check_event(&event) {
            self.send(messages::ok(&id, false, &reason));
            return;
        }
        if !self.state.allow_event(self.ip, &event.pubkey) {
            self.send(messages::ok(&id, false, "rate-limited: slow down"));
            return;
        }
        if event.kind.is_ephemeral() {
            self.state.fan_out(&event);
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
            self.send(messages::ok(&id, false, "error: relay is shutting down"));
            return;
        }
        // Wait for the commit off the read loop, so one client's events batch
        // together and its next messages are read meanwhile.
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            let (accepted, reason) = match answer.await {
                Ok(Ok(outcome)) => verdict(&outcome),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "event not stored");
                    (false, "error: could not store the event".to_string())
                }
                Err(_) => (false, "error: relay is shutting down".to_string()),
            };
            shared.send(messages::ok(&id, accepted, &reason));
        });
    }

    /// Everything checked before an event is queued for storage.
    fn check_event(&self, event: &Event) -> Result<(), String> {
        let limits = &self.state.config.limits;
        if event.tags.len() > limits.max_event_tags {
            return Err(format!(
                "invalid: {} tags, more than the limit of {}",
                event.tags.len(),
                limits.max_event_tags
            ));
        }
        if event.content.len() > limits.max_content_length {
            return Err(format!(
                "invalid: content of {} bytes, more than the limit of {}",
                event.content.len(),
                limits.max_content_length
            ));
        }
        if !event.verify_id() {
            return Err("invalid: event id does not match its content".into());
        }
        if !event.verify_signature() {
            return Err("invalid: bad signature".into());
        }
        let now = Timestamp::now().as_secs();
        let at = event.created_at.as_secs();
        if at > now + limits.created_at_upper_limit {
            return Err("invalid: created_at is too far in the future".into());
        }
        if limits.created_at_lower_limit > 0 && at + limits.created_at_lower_limit < now {
            return Err("invalid: created_at is too far in the past".into());
        }
        if event.kind == Kind::Authentication {
            return Err("invalid: AUTH events are sent with AUTH, not EVENT".into());
        }
        crate::pow::check(event, self.state.config.min_pow)?;
        if self.state.config.auth_required_for_writes
            && !self.shared.authenticated().contains(&event.pubkey)
        {
            return Err(
                "auth-required: this relay takes events only from their authenticated author"
                    .into(),
            );
        }
        if event.is_protected() && !self.shared.authenticated().contains(&event.pubkey) {
            return Err(
                "auth-required: this event may only be published by its authenticated author"
                    .into(),
            );
        }
        Ok(())
    }

    async fn handle_req(&mut self, items: &[Value]) {
        let limits = self.state.config.limits.clone();
        let Some(sub) = items.get(1).and_then(Value::as_str) else {
            self.send(messages::notice(
                "invalid: REQ needs a subscription id string",
            ));
            return;
        };
        if sub.is_empty() || sub.chars().count() > limits.max_subid_length {
            self.send(messages::closed(
                sub,
                &format!(
                    "invalid: subscription id must be 1 to {} characters",
                    limits.max_subid_length
                ),
            ));
            return;
        }
        let sub_id = SubscriptionId::new(sub);
        let raw_filters = &items[2..];
        if raw_filters.is_empty() {
            self.send(messages::closed(
                sub,
                "invalid: REQ needs at least one filter",
            ));
            return;
        }
        if raw_filters.len() > limits.max_filters {
            self.send(messages::closed(
                sub,
                &format!(
                    "invalid: {} filters, more than the limit of {}",
                    raw_filters.len(),
                    limits.max_filters
                ),
            ));
            return;
        }
        let mut filters = Vec::with_capacity(raw_filters.len());
        for raw in raw_filters {
            match serde_json::from_value::<Filter>(raw.clone()) {
                Ok(mut f) => {
                    if f.ids.is_none() || f.limit.is_some() {
                        f.limit = Some(
                            f.limit
                                .unwrap_or(limits.default_limit)
                                .min(limits.max_limit),
                        );
                    }
                    filters.push(f);
                }
                Err(e) => {
                    self.send(messages::closed(
                        sub,
                        &format!("invalid: malformed filter ({e})"),
                    ));
                    return;
                }
            }
        }
        if !self.state.allow_req(self.ip) {
            self.send(messages::closed(sub, "rate-limited: too many REQs"));
            return;
        }
        if !self.subs.contains(&sub_id) && self.subs.len() >= limits.max_subscriptions {
            self.send(messages::closed(
                sub,
                &format!(
                    "restricted: {} open subscriptions is the limit; CLOSE one first",
                    limits.max_subscriptions
                ),
            ));
            return;
        }
        let private_only = filters.iter().all(|f| {
            f.kinds.as_ref().is_some_and(|k| {
                !k.is_empty() && k.iter().all(|k| PRIVATE_KINDS.contains(&k.as_u16()))
            })
        });
        if private_only && self.shared.authenticated().is_empty() {
            self.send(messages::closed(
                sub,
                "auth-required: direct messages are served only to their authenticated recipient",
            ));
            return;
        }
        // Register first so nothing stored during the query is missed.
        let key = SubKey {
            conn: self.shared.id,
            id: sub_id.clone(),
        };
        self.write_subs(|s| s.insert(key.clone(), filters.clone(), Arc::clone(&self.shared)));
        self.subs.insert(sub_id.clone());
        match self.state.store.query_async(filters).await {
            Ok(events) => {
                for event in events.iter().filter(|e| self.shared.can_read(e)) {
                    self.send(messages::event(&sub_id, &event.as_json()));
                }
                self.send(messages::eose(&sub_id));
            }
            Err(e) => {
                self.write_subs(|s| s.remove(&key));
                self.subs.remove(&sub_id);
                let reason = match e {
                    StoreError::FilterTooLarge { .. } | StoreError::UnboundedFilter { .. } => {
                        format!("invalid: {e}")
                    }
                    other => {
                        tracing::warn!(error = %other, "query failed");
                        "error: could not run the query".to_string()
                    }
                };
                self.send(messages::closed(sub, &reason));
            }
        }
    }

    /// NIP-77 `NEG-OPEN`: the set of stored events matching the filter that
    /// this connection may read, reconciled against the client's message.
    async fn handle_neg_open(&mut self, items: &[Value]) {
        use crate::negentropy::{err, parse_open, MAX_RECORDS};
        let open = match parse_open(items, self.state.config.limits.max_subid_length) {
            Ok(open) => open,
            Err((Some(sub), why)) => return self.send(err(&sub, &why)),
            Err((None, why)) => return self.send(messages::notice(&why)),
        };
        if !self.state.allow_req(self.ip) {
            return self.send(err(&open.sub, "rate-limited: too many requests"));
        }
        let private_only = open.filters.iter().all(|f| {
            f.kinds.as_ref().is_some_and(|k| {
                !k.is_empty() && k.iter().all(|k| PRIVATE_KINDS.contains(&k.as_u16()))
            })
        });
        if private_only && self.shared.authenticated().is_empty() {
            return self.send(err(
                &open.sub,
                "auth-required: direct messages are reconciled only with their authenticated recipient",
            ));
        }
        let filters: Vec<Filter> = open
            .filters
            .iter()
            .cloned()
            .map(|mut f| {
                f.limit = Some(f.limit.unwrap_or(MAX_RECORDS + 1).min(MAX_RECORDS + 1));
                f
            })
            .collect();
        let events = match self.state.store.query_async(filters).await {
            Ok(events) => events,
            Err(e) => return self.send(err(&open.sub, &format!("invalid: {e}"))),
        };
        if events.len() > MAX_RECORDS {
            return self.send(err(
                &open.sub,
                &format!("blocked: more than {MAX_RECORDS} events match; narrow the filter"),
            ));
        }
        let records: Vec<(u64, [u8; 32])> = events
            .iter()
            .filter(|e| self.shared.can_read(e))
            .map(|e| (e.created_at.as_secs(), e.id.to_bytes()))
            .collect();
        let answer = self.negs.open(&open.sub, &records, &open.message);
        self.send(answer);
    }

    /// NIP-77 `NEG-MSG`: the next round of a reconciliation.
    fn handle_neg_msg(&mut self, items: &[Value]) {
        use crate::negentropy::{decode, err};
        let Some(sub) = items.get(1).and_then(Value::as_str) else {
            return self.send(messages::notice("invalid: NEG-MSG needs a subscription id"));
        };
        let answer = match items.get(2).and_then(Value::as_str).map(decode) {
            Some(Ok(bytes)) => self.negs.next(sub, &bytes),
            Some(Err(why)) => err(sub, &why),
            None => err(sub, "invalid: NEG-MSG needs a message"),
        };
        self.send(answer);
    }

    fn handle_close(&mut self, items: &[Value]) {
        let Some(sub) = items.get(1).and_then(Value::as_str) else {
            self.send(messages::notice(
                "invalid: CLOSE needs a subscription id string",
            ));
            return;
        };
        let sub_id = SubscriptionId::new(sub);
        if self.subs.remove(&sub_id) {
            let key = SubKey {
                conn: self.shared.id,
                id: sub_id,
            };
            self.write_subs(|s| s.remove(&key));
        }
    }

    fn handle_auth(&mut self, items: &[Value]) {
        let Some(raw) = items.get(1) else {
            self.send(messages::notice("invalid: AUTH without an event"));
            return;
        };
        let event: Event = match serde_json::from_value(raw.clone()) {
            Ok(e) => e,
            Err(e) => {
                self.send(messages::notice(&format!(
                    "invalid: malformed AUTH event ({e})"
                )));
                return;
            }
        };
        let relay_url = self.state.config.relay_url.as_deref();
        match verify_auth(&event, &self.challenge, relay_url, self.host.as_deref()) {
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

    fn write_subs<T>(&self, f: impl FnOnce(&mut crate::subscriptions::Subscriptions) -> T) -> T {
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

/// The OK answer for a store outcome.
fn verdict(outcome: &InsertOutcome) -> (bool, String) {
    match outcome {
        InsertOutcome::Stored | InsertOutcome::ReplacedOlder | InsertOutcome::Ephemeral => {
            (true, String::new())
        }
        InsertOutcome::Duplicate => (true, "duplicate: already have this event".into()),
        InsertOutcome::RejectedOlder => (
            false,
            "duplicate: a newer version of this replaceable event is stored".into(),
        ),
        InsertOutcome::Deleted => (false, "blocked: its author deleted this event".into()),
        InsertOutcome::Expired => (false, "invalid: this event has expired".into()),
        InsertOutcome::TooLarge(reason) => (false, format!("invalid: {reason}")),
    }
}
