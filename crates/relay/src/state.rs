//! State shared by every connection of one relay: the live config and policy
//! (both replaced on reload), store, open subscriptions, the write queue,
//! rate limiters, per-address connection counts, metrics and the shutdown
//! signal. Owned by the server and passed to each connection; nothing is global.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nostr::prelude::*;
use samizdat_store::StoreResult;
use tokio::sync::{mpsc, watch};

use crate::config::{RateLimits, RelayConfig};
use crate::metrics::Metrics;
use crate::policy::{Moderation, Policy};
use crate::storage::RelayStorage;
use crate::subscriptions::Subscriptions;
use crate::writer::WriteJob;

/// Everything connections share.
pub struct RelayState {
    config: RwLock<Arc<RelayConfig>>,
    policy: RwLock<Arc<Policy>>,
    /// The event store.
    pub store: Arc<dyn RelayStorage>,
    /// Open subscriptions, for fan-out.
    pub subscriptions: RwLock<Subscriptions>,
    /// Queue to the single writer task (group commit).
    pub writer: mpsc::Sender<WriteJob>,
    /// Flips to true when the relay shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    next_connection: AtomicU64,
    /// Salt of the address hashes, kept in the store so that a hash in the
    /// logs names the same client after a restart (and a block by hash holds).
    salt: [u8; 16],
    limiters: RwLock<Limiters>,
    connections_per_ip: Mutex<HashMap<IpAddr, usize>>,
}

struct Limiters {
    rate: RateLimits,
    events_per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    events_per_author: Option<DefaultKeyedRateLimiter<PublicKey>>,
    reqs_per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Limiters {
    fn new(rate: &RateLimits) -> Self {
        Self {
            rate: rate.clone(),
            events_per_ip: limiter(rate.events_per_second_per_ip),
            events_per_author: limiter(rate.events_per_second_per_author),
            reqs_per_ip: limiter(rate.reqs_per_second_per_ip),
        }
    }
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_second).map(|n| RateLimiter::keyed(Quota::per_second(n)))
}

/// Moderation list names in the store.
pub(crate) mod lists {
    pub const BANNED_KEYS: &str = "banned_pubkey";
    pub const ALLOWED_KEYS: &str = "allowed_pubkey";
    pub const BANNED_EVENTS: &str = "banned_event";
    pub const ALLOWED_KINDS: &str = "allowed_kind";
    pub const DISALLOWED_KINDS: &str = "disallowed_kind";
    pub const BLOCKED_ADDRESSES: &str = "blocked_ip";
    pub const NAME: &str = "setting:name";
    pub const DESCRIPTION: &str = "setting:description";
    pub const ICON: &str = "setting:icon";
    pub const SALT: &str = "setting:address_salt";
    /// NIP-86 roles: id → JSON (label, description, color, order).
    pub const ROLES: &str = "role";
    /// Role holders: `<pubkey hex>:<role id>`.
    pub const ROLE_MEMBERS: &str = "role_member";
    /// Reported events an admin kept (`allowevent`): off the queue.
    pub const REVIEWED_EVENTS: &str = "reviewed_event";
    /// Keys that vanished (NIP-62): value the key, reason the time (unix).
    pub const VANISHED: &str = "vanished";
}

/// Reads the moderation lists out of the store.
fn load_moderation(store: &dyn RelayStorage) -> StoreResult<Moderation> {
    let values = |list: &str| -> StoreResult<Vec<String>> {
        Ok(store
            .moderation_list(list)?
            .into_iter()
            .map(|e| e.value)
            .collect())
    };
    let keys = |list: &str| -> StoreResult<HashSet<PublicKey>> {
        Ok(values(list)?
            .iter()
            .filter_map(|v| PublicKey::from_hex(v).ok())
            .collect())
    };
    let kinds = |list: &str| -> StoreResult<HashSet<u16>> {
        Ok(values(list)?
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect())
    };
    Ok(Moderation {
        banned_keys: keys(lists::BANNED_KEYS)?,
        allowed_keys: keys(lists::ALLOWED_KEYS)?,
        banned_events: values(lists::BANNED_EVENTS)?
            .iter()
            .filter_map(|v| EventId::from_hex(v).ok())
            .collect(),
        allowed_kinds: kinds(lists::ALLOWED_KINDS)?,
        disallowed_kinds: kinds(lists::DISALLOWED_KINDS)?,
        blocked_addresses: values(lists::BLOCKED_ADDRESSES)?.into_iter().collect(),
        vanished: store
            .moderation_list(lists::VANISHED)?
            .iter()
            .filter_map(|e| Some((PublicKey::from_hex(&e.value).ok()?, e.reason.parse().ok()?)))
            .collect(),
        role_admins: values(lists::ROLE_MEMBERS)?
            .iter()
            .filter_map(|v| {
                let (key, role) = v.split_once(':')?;
                (role == crate::management::ADMIN_ROLE)
                    .then(|| PublicKey::from_hex(key).ok())
                    .flatten()
            })
            .collect(),
    })
}

/// Whom the owners follow: the `p` tags of their newest follow lists stored here.
pub(crate) fn owner_follows(
    store: &dyn RelayStorage,
    owners: &HashSet<PublicKey>,
) -> StoreResult<HashSet<PublicKey>> {
    if owners.is_empty() {
        return Ok(HashSet::new());
    }
    let filter = Filter::new()
        .authors(owners.iter().copied())
        .kind(Kind::ContactList)
        .limit(owners.len());
    Ok(store
        .query(&[filter])?
        .iter()
        .flat_map(|e| e.tags.public_keys().collect::<Vec<_>>())
        .collect())
}

/// The settings an admin changed (name, description, icon), applied over `config`.
fn apply_settings(store: &dyn RelayStorage, mut config: RelayConfig) -> StoreResult<RelayConfig> {
    let setting = |list: &str| -> StoreResult<Option<String>> {
        Ok(store.moderation_list(list)?.pop().map(|e| e.value))
    };
    if let Some(name) = setting(lists::NAME)? {
        config.name = name;
    }
    if let Some(description) = setting(lists::DESCRIPTION)? {
        config.description = description;
    }
    if let Some(icon) = setting(lists::ICON)? {
        config.icon = Some(icon);
    }
    Ok(config)
}

/// Builds the policy in force from a config and the store.
pub(crate) fn load_policy(
    store: &dyn RelayStorage,
    config: &RelayConfig,
) -> Result<Policy, String> {
    let mut policy = Policy::from_config(&config.policy)?;
    policy.moderation = load_moderation(store).map_err(|e| e.to_string())?;
    policy.follows = owner_follows(store, policy.owners()).map_err(|e| e.to_string())?;
    Ok(policy)
}

fn load_salt(store: &dyn RelayStorage) -> StoreResult<[u8; 16]> {
    let stored = store.moderation_list(lists::SALT)?.pop().and_then(|e| {
        let mut out = [0u8; 16];
        faster_hex::hex_decode(e.value.as_bytes(), &mut out).ok()?;
        Some(out)
    });
    if let Some(salt) = stored {
        return Ok(salt);
    }
    let salt: [u8; 16] = rand::random();
    store.moderation_set_only(lists::SALT, &faster_hex::hex_string(&salt), "")?;
    Ok(salt)
}

/// Counts one open connection from an address; dropping it counts it closed.
pub struct ConnectionSlot {
    state: Arc<RelayState>,
    ip: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self
            .state
            .connections_per_ip
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
        self.state.metrics.connection_closed();
    }
}

impl RelayState {
    /// Builds the shared state; fails when the config's policy does not
    /// resolve or the store cannot be read.
    pub fn new(
        config: RelayConfig,
        store: Arc<dyn RelayStorage>,
        writer: mpsc::Sender<WriteJob>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self, String> {
        let policy = load_policy(store.as_ref(), &config)?;
        let config = apply_settings(store.as_ref(), config).map_err(|e| e.to_string())?;
        let salt = load_salt(store.as_ref()).map_err(|e| e.to_string())?;
        Ok(Self {
            limiters: RwLock::new(Limiters::new(&config.rate)),
            config: RwLock::new(Arc::new(config)),
            policy: RwLock::new(Arc::new(policy)),
            store,
            subscriptions: RwLock::new(Subscriptions::default()),
            writer,
            shutdown,
            metrics: Metrics::default(),
            next_connection: AtomicU64::new(1),
            salt,
            connections_per_ip: Mutex::new(HashMap::new()),
        })
    }

    /// The config in force.
    pub fn config(&self) -> Arc<RelayConfig> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Changes the policy in force (a moderation call, a new follow list).
    pub fn update_policy(&self, change: impl FnOnce(&mut Policy)) {
        let mut guard = self.policy.write().unwrap_or_else(|p| p.into_inner());
        let mut next = Policy::clone(&guard);
        change(&mut next);
        *guard = Arc::new(next);
    }

    /// Changes the config in force (an admin renamed the relay).
    pub fn update_config(&self, change: impl FnOnce(&mut RelayConfig)) {
        let mut guard = self.config.write().unwrap_or_else(|p| p.into_inner());
        let mut next = RelayConfig::clone(&guard);
        change(&mut next);
        *guard = Arc::new(next);
    }

    /// Puts a new config in force without touching open connections: limits,
    /// rates, policy and identity change for the next message. The policy is
    /// checked first; on error nothing changes.
    pub fn reload(&self, config: RelayConfig) -> Result<(), String> {
        let policy = load_policy(self.store.as_ref(), &config)?;
        let config = apply_settings(self.store.as_ref(), config).map_err(|e| e.to_string())?;
        {
            let mut limiters = self.limiters.write().unwrap_or_else(|p| p.into_inner());
            if !same_rates(&limiters.rate, &config.rate) {
                *limiters = Limiters::new(&config.rate);
            }
        }
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        Ok(())
    }

    /// A fresh connection number.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// A salted hash of a client address: logs identify a client across its
    /// messages (and restarts) without ever holding its IP address.
    pub fn peer_tag(&self, ip: IpAddr) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(self.salt)
            .chain_update(ip.to_string().as_bytes())
            .finalize();
        faster_hex::hex_string(&digest[..8])
    }

    /// Takes a connection slot for `ip`, or says why not (`blocked`,
    /// `too_many`).
    pub fn admit_connection(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionSlot, &'static str> {
        if self.policy().is_blocked_address(&self.peer_tag(ip)) {
            self.metrics.connection_refused("blocked");
            return Err("blocked");
        }
        let max = self.config().limits.max_connections_per_ip;
        let mut counts = self
            .connections_per_ip
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let open = counts.entry(ip).or_default();
        if max > 0 && *open >= max {
            self.metrics.connection_refused("too_many");
            return Err("too_many");
        }
        *open += 1;
        drop(counts);
        self.metrics.connection_opened();
        Ok(ConnectionSlot {
            state: Arc::clone(self),
            ip,
        })
    }

    /// True if this address may publish one more event now.
    pub fn allow_event(&self, ip: IpAddr, author: &PublicKey) -> bool {
        let l = self.limiters.read().unwrap_or_else(|p| p.into_inner());
        l.events_per_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
            && l.events_per_author
                .as_ref()
                .is_none_or(|l| l.check_key(author).is_ok())
    }

    /// True if this address may open one more REQ now.
    pub fn allow_req(&self, ip: IpAddr) -> bool {
        let l = self.limiters.read().unwrap_or_else(|p| p.into_inner());
        l.reqs_per_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }

    /// Forgets rate-limiter keys that are back to a full bucket, so the
    /// limiters' memory follows active clients only.
    pub fn prune_rate_limiters(&self) {
        let l = self.limiters.read().unwrap_or_else(|p| p.into_inner());
        for l in [&l.events_per_ip, &l.reqs_per_ip].into_iter().flatten() {
            l.retain_recent();
        }
        if let Some(l) = &l.events_per_author {
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
        let policy = self.policy();
        let private = policy.is_auth_read_kind(event.kind);
        let json = event.as_json();
        for (sub_id, conn) in matches {
            if !private || policy.can_read(event, &conn.authenticated()) {
                conn.send(crate::messages::event(&sub_id, &json));
            }
        }
    }
}

fn same_rates(a: &RateLimits, b: &RateLimits) -> bool {
    a.events_per_second_per_ip == b.events_per_second_per_ip
        && a.events_per_second_per_author == b.events_per_second_per_author
        && a.reqs_per_second_per_ip == b.reqs_per_second_per_ip
}

/// Resolves once the relay's shutdown flag is set.
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|down| *down).await.is_err() {
        // The handle was dropped without a shutdown: keep serving.
        std::future::pending::<()>().await;
    }
}
