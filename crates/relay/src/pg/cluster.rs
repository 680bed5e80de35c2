//! Several relay processes on one database: each node announces what it
//! wrote with PostgreSQL's NOTIFY on one channel, inside the writing
//! transaction (so a notification is delivered exactly when the write is
//! visible), and listens on a connection of its own. Payloads:
//! `<node>|e|<id>,<id>…` (stored events, at most [`IDS_PER_NOTIFY`] per
//! notification), `<node>|x|<event json>` (an ephemeral event, when it fits
//! the 8,000-byte payload limit), `<node>|m` (moderation or settings
//! changed). A node skips its own notifications.

use std::time::Duration;

use nostr::prelude::*;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, GenericClient};
use samizdat_store::{StoreError, StoreResult};

use super::backend;
use crate::storage::{Change, ChangeFeed};

/// Event ids per notification (65 bytes each, well under the 8,000-byte
/// payload limit).
pub const IDS_PER_NOTIFY: usize = 100;

/// Largest ephemeral event sent whole (bytes of JSON).
const EPHEMERAL_MAX: usize = 7_800;

/// The channel of a database (one per schema, so tests on one server with a
/// schema each do not hear each other).
pub(super) fn channel(schema: Option<&str>) -> String {
    match schema {
        Some(s) => format!("samizdat_cluster_{s}"),
        None => "samizdat_cluster".into(),
    }
}

/// Announces stored events on `client` (a transaction: delivered at its
/// commit).
pub(super) fn announce(
    client: &mut impl GenericClient,
    channel: &str,
    node: &str,
    stored: &[EventId],
) -> StoreResult<()> {
    let err = backend("announcing writes to the cluster");
    for chunk in stored.chunks(IDS_PER_NOTIFY) {
        let ids: Vec<String> = chunk.iter().map(EventId::to_hex).collect();
        let payload = format!("{node}|e|{}", ids.join(","));
        client
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .map_err(&err)?;
    }
    Ok(())
}

/// Passes an ephemeral event on whole, when it fits a notification (larger
/// ones stay on this node).
pub(super) fn announce_ephemeral(
    client: &mut impl GenericClient,
    channel: &str,
    node: &str,
    event: &Event,
) -> StoreResult<()> {
    let json = event.as_json();
    if json.len() > EPHEMERAL_MAX {
        return Ok(());
    }
    let payload = format!("{node}|x|{json}");
    client
        .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .map(|_| ())
        .map_err(backend("passing an ephemeral event to the cluster"))
}

/// Announces that moderation lists or settings changed.
pub(super) fn announce_moderation(
    client: &mut impl GenericClient,
    channel: &str,
    node: &str,
) -> StoreResult<()> {
    let payload = format!("{node}|m");
    client
        .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .map(|_| ())
        .map_err(backend("announcing a moderation change"))
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

/// A node's listening connection.
pub struct PgChanges {
    pub(super) client: Client,
    pub(super) node: String,
}

impl PgChanges {
    /// Listens on `channel` with `client`.
    pub(super) fn new(mut client: Client, channel: &str, node: String) -> StoreResult<Self> {
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .map_err(backend("listening for the cluster"))?;
        Ok(Self { client, node })
    }
}

impl ChangeFeed for PgChanges {
    fn next_change(&mut self, wait: Duration) -> StoreResult<Option<Change>> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let next = self
                .client
                .notifications()
                .timeout_iter(left)
                .next()
                .map_err(backend("waiting for the cluster"))?;
            let Some(n) = next else {
                if self.client.is_closed() {
                    return Err(StoreError::Backend {
                        operation: "waiting for the cluster",
                        message: "the connection closed".into(),
                    });
                }
                return Ok(None);
            };
            if let Some(change) = parse(n.payload(), &self.node) {
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
