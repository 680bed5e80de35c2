//! The relay the user runs (`samizdat relay`), managed from the client:
//! NIP-86 calls authorized by NIP-98 events the session's signer signs (a
//! bunker works too), and `/metrics` read for storage, connections and
//! events per minute. Every call goes through the profile's transport, and
//! is written in the privacy ledger as an AUTH (the relay learns the key).

use std::time::Instant;

use nostr::prelude::*;
use samizdat_net::manage::{self, metric};
use samizdat_net::RelayUrl;
use serde::Serialize;
use serde_json::Value;

use crate::engine::ledger::{record_site, AUTH};
use crate::session::{Session, SessionError};

/// One entry of a relay's key or event list: what and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Hex key or event id.
    pub value: String,
    /// The reason given.
    pub reason: String,
}

/// What `/metrics` says now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RelayMetrics {
    /// Open websocket connections.
    pub connections: u64,
    /// Events accepted since the relay started.
    pub events_accepted: u64,
    /// Events refused since the relay started.
    pub events_refused: u64,
    /// Media blobs stored.
    pub blobs: u64,
    /// Bytes of media stored.
    pub blob_bytes: u64,
    /// Events accepted per minute since the previous reading (`None` on
    /// the first).
    pub events_per_minute: Option<f64>,
}

/// Everything the operator's screen shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RelayOverview {
    /// The relay.
    pub relay: String,
    /// Methods it answers.
    pub methods: Vec<String>,
    /// Banned keys.
    pub banned: Vec<Listed>,
    /// Allowed keys.
    pub allowed: Vec<Listed>,
    /// Kinds allowed (empty: all).
    pub kinds: Vec<u16>,
    /// Reported events waiting for a decision, with the text when this
    /// store has the event.
    pub queue: Vec<(Listed, Option<String>)>,
    /// Roles (the relay's JSON).
    pub roles: Vec<Value>,
    /// The metrics.
    pub metrics: RelayMetrics,
}

/// The previous `/metrics` reading (relay, when, events accepted), for
/// events per minute.
#[derive(Default)]
struct LastReading(std::sync::Mutex<Option<(String, Instant, u64)>>);

fn listed(v: Value, field: &str) -> Vec<Listed> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|e| Listed {
            value: e[field].as_str().unwrap_or("").to_owned(),
            reason: e["reason"].as_str().unwrap_or("").to_owned(),
        })
        .collect()
}

impl Session {
    /// Calls NIP-86 `method` with `params` on `relay` as the user.
    pub async fn manage_relay(
        &self,
        relay: &str,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, SessionError> {
        let url = RelayUrl::parse(relay)?;
        let body = manage::request_body(method, &params);
        let unsigned = manage::auth_template(&url, &body).finalize_unsigned(self.me);
        let auth = self.signer.sign_event(unsigned).await?;
        let transport = &self.engine.config().net.transport;
        record_site(
            self.engine.store(),
            transport,
            &url.to_string(),
            AUTH,
            &self.me.to_hex(),
        );
        Ok(manage::call(&url, method, body, &auth, transport).await?)
    }

    /// Reads everything the operator's screen shows from `relay`.
    pub async fn relay_overview(&self, relay: &str) -> Result<RelayOverview, SessionError> {
        let call = |m: &'static str| self.manage_relay(relay, m, Vec::new());
        let methods: Vec<String> =
            serde_json::from_value(call("supportedmethods").await?).unwrap_or_default();
        let has = |m: &str| methods.iter().any(|x| x == m);
        let banned = listed(call("listbannedpubkeys").await?, "pubkey");
        let allowed = listed(call("listallowedpubkeys").await?, "pubkey");
        let kinds = serde_json::from_value(call("listallowedkinds").await?).unwrap_or_default();
        let queue = if has("listeventsneedingmoderation") {
            let waiting = listed(call("listeventsneedingmoderation").await?, "id");
            // The reported notes, read from the relay itself (they land in
            // the store, verified like everything from the network).
            let ids: Vec<EventId> = waiting
                .iter()
                .filter_map(|l| EventId::from_hex(&l.value).ok())
                .filter(|id| self.engine.event(*id).ok().flatten().is_none())
                .collect();
            if !ids.is_empty() {
                let url = RelayUrl::parse(relay)?;
                let filter = Filter::new().ids(ids.clone()).limit(ids.len());
                self.engine.fetch("reported", &[url], vec![filter]).await?;
            }
            waiting
                .into_iter()
                .map(|l| {
                    let text = EventId::from_hex(&l.value)
                        .ok()
                        .and_then(|id| self.engine.event(id).ok().flatten())
                        .map(|e| e.content);
                    (l, text)
                })
                .collect()
        } else {
            Vec::new()
        };
        let roles = if has("listroles") {
            serde_json::from_value(call("listroles").await?).unwrap_or_default()
        } else {
            Vec::new()
        };
        let metrics = self.relay_metrics(relay).await?;
        Ok(RelayOverview {
            relay: relay.to_owned(),
            methods,
            banned,
            allowed,
            kinds,
            queue,
            roles,
            metrics,
        })
    }

    /// Reads `relay`'s `/metrics`; events per minute from the previous
    /// reading of the same relay in this session.
    pub async fn relay_metrics(&self, relay: &str) -> Result<RelayMetrics, SessionError> {
        let url = RelayUrl::parse(relay)?;
        let text = manage::metrics(&url, &self.engine.config().net.transport).await?;
        let read = |name: &str| metric(&text, name).unwrap_or(0.0) as u64;
        let mut m = RelayMetrics {
            connections: read("samizdat_relay_connections_open"),
            events_accepted: read("samizdat_relay_events_accepted_total"),
            events_refused: read("samizdat_relay_events_refused_total"),
            blobs: read("samizdat_relay_blobs"),
            blob_bytes: read("samizdat_relay_blob_bytes"),
            events_per_minute: None,
        };
        let state = self.feature::<LastReading>();
        if let Ok(mut last) = state.0.lock() {
            if let Some((r, at, accepted)) = last.as_ref() {
                let secs = at.elapsed().as_secs_f64();
                if r == relay && secs > 0.5 {
                    m.events_per_minute =
                        Some(m.events_accepted.saturating_sub(*accepted) as f64 * 60.0 / secs);
                }
            }
            *last = Some((relay.to_owned(), Instant::now(), m.events_accepted));
        }
        Ok(m)
    }
}
