//! Several relay processes on one database: each node announces what it
//! wrote with PostgreSQL's NOTIFY on one channel, inside the writing
//! transaction (so a notification is delivered exactly when the write is
//! visible), and listens on a connection of its own. Payloads:
//! `<node>|e|<id>,<id>…` (stored events, at most [`IDS_PER_NOTIFY`] per
//! notification), `<node>|x|<event json>` (an ephemeral event, when it fits
//! the 8,000-byte payload limit), `<node>|m` (moderation or settings
//! changed). A node skips its own notifications.

use std::sync::mpsc;
use std::time::Duration;

use futures_util::StreamExt;
use nostr::prelude::*;
use samizdat_store::{StoreError, StoreResult};
use tokio_postgres::AsyncMessage;

use super::backend;
use super::connect::{connect_one, PgRuntime, Target};
use crate::storage::{Change, ChangeFeed};

/// Event ids per notification (65 bytes each, well under the 8,000-byte
/// payload limit).
pub const IDS_PER_NOTIFY: usize = 100;

/// Largest ephemeral event sent whole (bytes of JSON).
const EPHEMERAL_MAX: usize = 7_800;

/// The statement that sends one payload: `$1` the channel, `$2` the payload.
pub(super) const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// The channel of a database (one per schema, so tests on one server with a
/// schema each do not hear each other).
pub(super) fn channel(schema: Option<&str>) -> String {
    match schema {
        Some(s) => format!("samizdat_cluster_{s}"),
        None => "samizdat_cluster".into(),
    }
}

/// The payloads announcing stored events (sent inside the writing
/// transaction: delivered at its commit).
pub(super) fn stored_payloads(node: &str, stored: &[EventId]) -> Vec<String> {
    stored
        .chunks(IDS_PER_NOTIFY)
        .map(|chunk| {
            let ids: Vec<String> = chunk.iter().map(EventId::to_hex).collect();
            format!("{node}|e|{}", ids.join(","))
        })
        .collect()
}

/// The payload passing an ephemeral event on whole, when it fits a
/// notification (larger ones stay on this node).
pub(super) fn ephemeral_payload(node: &str, event: &Event) -> Option<String> {
    let json = event.as_json();
    (json.len() <= EPHEMERAL_MAX).then(|| format!("{node}|x|{json}"))
}

/// The payload saying that moderation lists or settings changed.
pub(super) fn moderation_payload(node: &str) -> String {
    format!("{node}|m")
}

/// Reads a payload from another node; `None` for our own or an unreadable one.
pub(super) fn parse(payload: &str, own_node: &str) -> Option<Change> {
    let (node, rest) = payload.split_once('|')?;
    if node == own_node {
        return None;
    }
    let (what, body) = rest.split_once('|').unwrap_or((rest, ""));
    match what {
        "e" => {
            let ids: Vec<EventId> = body
                .split(',')
                .filter_map(|h| EventId::from_hex(h).ok())
                .collect();
            (!ids.is_empty()).then_some(Change::Stored(ids))
        }
        "x" => Event::from_json(body)
            .ok()
            .filter(|e| e.verify().is_ok())
            .map(|e| Change::Ephemeral(Box::new(e))),
        "m" => Some(Change::Moderation),
        _ => None,
    }
}

/// A node's listening connection: its task (on the store's runtime) passes
/// every notification's payload on; `None` ends the feed (the connection
/// closed, with why).
pub struct PgChanges {
    payloads: mpsc::Receiver<Result<String, String>>,
    /// Kept so the connection stays open.
    _client: tokio_postgres::Client,
    node: String,
}

impl PgChanges {
    /// Opens a connection of its own and listens on `channel`.
    pub(super) async fn open(
        target: &Target,
        runtime: &PgRuntime,
        channel: &str,
        node: String,
    ) -> StoreResult<Self> {
        let (client, mut connection) = connect_one(target).await?;
        let (send, payloads) = mpsc::channel();
        runtime.spawn(async move {
            let mut messages =
                futures_util::stream::poll_fn(move |cx| connection.as_mut().poll_message(cx));
            while let Some(message) = messages.next().await {
                let passed = match message {
                    Ok(AsyncMessage::Notification(n)) => send.send(Ok(n.payload().to_string())),
                    Ok(_) => Ok(()),
                    Err(e) => {
                        let _ = send.send(Err(e.to_string()));
                        return;
                    }
                };
                if passed.is_err() {
                    return;
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .await
            .map_err(backend("listening for the cluster"))?;
        Ok(Self {
            payloads,
            _client: client,
            node,
        })
    }
}

impl ChangeFeed for PgChanges {
    fn next_change(&mut self, wait: Duration) -> StoreResult<Option<Change>> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let payload = match self.payloads.recv_timeout(left) {
                Ok(Ok(payload)) => payload,
                Ok(Err(message)) => {
                    return Err(StoreError::Backend {
                        operation: "waiting for the cluster",
                        message,
                    })
                }
                Err(mpsc::RecvTimeoutError::Timeout) => return Ok(None),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(StoreError::Backend {
                        operation: "waiting for the cluster",
                        message: "the connection closed".into(),
                    })
                }
            };
            if let Some(change) = parse(&payload, &self.node) {
                return Ok(Some(change));
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_read_and_our_own_skipped() {
        let keys = Keys::generate();
        let e = EventBuilder::new(Kind::TextNote, "x")
            .finalize(&keys)
            .unwrap();
        let ids = format!("{},{}", e.id.to_hex(), e.id.to_hex());
        assert_eq!(
            parse(&format!("b|e|{ids}"), "a"),
            Some(Change::Stored(vec![e.id, e.id]))
        );
        assert_eq!(parse(&format!("a|e|{ids}"), "a"), None, "our own");
        assert_eq!(parse("b|m", "a"), Some(Change::Moderation));
        assert_eq!(
            parse(&format!("b|x|{}", e.as_json()), "a"),
            Some(Change::Ephemeral(Box::new(e.clone())))
        );
        let mut forged: serde_json::Value = serde_json::from_str(&e.as_json()).unwrap();
        forged["content"] = "changed".into();
        assert_eq!(parse(&format!("b|x|{forged}"), "a"), None, "not verified");
        for junk in ["", "b", "b|e|zz", "b|q|1", "b|x|{"] {
            assert_eq!(parse(junk, "a"), None, "{junk}");
        }
    }
}
