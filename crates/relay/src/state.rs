//! State shared by every connection of one relay: config, store, open
//! subscriptions, the write queue, rate limiters and the shutdown signal.
//! Owned by the server and passed to each connection; nothing is global.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nostr::prelude::*;
use samizdat_store::Store;
use tokio::sync::{mpsc, watch};

use crate::config::RelayConfig;
use crate::subscriptions::Subscriptions;
use crate::writer::WriteJob;

/// Everything connections share.
pub struct RelayState {
    /// The config the relay was started with.
    pub config: RelayConfig,
    /// The event store.
    pub store: Arc<Store>,
    /// Open subscriptions, for fan-out.
    pub subscriptions: RwLock<Subscriptions>,
    /// Queue to the single writer task (group commit).
    pub writer: mpsc::Sender<WriteJob>,
    /// Flips to true when the relay shuts down.
    pub shutdown: watch::Receiver<bool>,
    next_connection: AtomicU64,
    salt: RandomState,
    events_per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    events_per_author: Option<DefaultKeyedRateLimiter<PublicKey>>,
    reqs_per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_second).map(|n| RateLimiter::keyed(Quota::per_second(n)))
}

impl RelayState {
    /// Builds the shared state.
    pub fn new(
        config: RelayConfig,
        store: Arc<Store>,
        writer: mpsc::Sender<WriteJob>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let rate = config.rate.clone();
        Self {
            config,
            store,
            subscriptions: RwLock::new(Subscriptions::default()),
            writer,
            shutdown,
            next_connection: AtomicU64::new(1),
            salt: RandomState::new(),
            events_per_ip: limiter(rate.events_per_second_per_ip),
            events_per_author: limiter(rate.events_per_second_per_author),
            reqs_per_ip: limiter(rate.reqs_per_second_per_ip),
        }
    }

    /// A fresh connection number.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// A salted hash of a client address: logs identify a client across its
    /// messages without ever holding its IP address.
    pub fn peer_tag(&self, ip: IpAddr) -> String {
        format!("{:016x}", self.salt.hash_one(ip))
    }

    /// True if this address may publish one more event now.
    pub fn allow_event(&self, ip: IpAddr, author: &PublicKey) -> bool {
        self.events_per_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
            && self
                .events_per_author
                .as_ref()
                .is_none_or(|l| l.check_key(author).is_ok())
    }

    /// True if this address may open one more REQ now.
    pub fn allow_req(&self, ip: IpAddr) -> bool {
        self.reqs_per_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }

    /// Forgets rate-limiter keys that are back to a full bucket, so the
    /// limiters' memory follows active clients only.
    pub fn prune_rate_limiters(&self) {
        for l in [&self.events_per_ip, &self.reqs_per_ip]
            .into_iter()
            .flatten()
        {
            l.retain_recent();
        }
        if let Some(l) = &self.events_per_author {
            l.retain_recent();
        }
    }

    /// Delivers a stored (or ephemeral) event to every matching subscription
    /// whose connection may read it.
    pub fn fan_out(&self, event: &Event) {
        let matches = match self.subscriptions.read() {
            Ok(subs) => subs.matching(event),
            Err(poisoned) => poisoned.into_inner().matching(event),
        };
        if matches.is_empty() {
            return;
        }
        let json = event.as_json();
        for (sub_id, conn) in matches {
            if conn.can_read(event) {
                conn.send(crate::messages::event(&sub_id, &json));
            }
        }
    }
}

/// Resolves once the relay's shutdown flag is set.
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|down| *down).await.is_err() {
        // The handle was dropped without a shutdown: keep serving.
        std::future::pending::<()>().await;
    }
}
