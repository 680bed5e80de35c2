//! The privacy ledger: what each relay has learned from this profile, kept
//! in the store (`privacy_ledger`) as it happens — the people we asked it
//! about (recorded once the relay answered, so a dead relay learned
//! nothing), how we reached it (direct, or the proxy and its circuit
//! isolation), whether we authenticated and as which key, the search terms
//! it saw — plus our own events it accepted (from the publishing queue).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use nostr::prelude::*;
use samizdat_net::{PoolEvent, RelayUrl, TransportConfig};
use samizdat_store::Store;
use serde::Serialize;

use crate::engine::{Engine, EngineUpdate, RelayOutcome};
use crate::session::{Session, SessionError};

/// Fact names in the store.
pub(crate) const ASKED: &str = "asked";
const CONTACT: &str = "contact";
const AUTH: &str = "auth";
pub(crate) const SEARCH: &str = "search";

/// How connections are made, as the ledger records it.
pub(crate) fn path_of(transport: &TransportConfig) -> String {
    match &transport.proxy {
        Some(p) if p.isolate => format!(
            "proxy {} (circuit per relay, isolation samizdat-{})",
            p.addr, transport.isolation_nonce
        ),
        Some(p) => format!("proxy {} (shared circuit)", p.addr),
        None => "direct".to_owned(),
    }
}

/// What the pump records from pool events.
#[derive(Clone)]
pub(crate) struct LedgerWriter {
    pub store: Arc<Store>,
    pub path: String,
    /// Relays (authorities) reached directly despite a proxy.
    pub direct: Vec<String>,
    pub me: Option<PublicKey>,
}

impl LedgerWriter {
    fn write(&self, relay: String, fact: &'static str, detail: String) {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.record_learned(&relay, fact, &[detail]) {
                tracing::warn!(error = %e, "privacy ledger not updated");
            }
        });
    }

    /// Records contact (with the path) and AUTH (with the key).
    pub fn on_pool_event(
        &self,
        event: &PoolEvent,
        updates: &tokio::sync::broadcast::Sender<EngineUpdate>,
    ) {
        let (relay, fact, detail) = match event {
            PoolEvent::Connected { relay } => {
                let path = if self.direct.contains(&relay.authority()) {
                    "direct".to_owned()
                } else {
                    self.path.clone()
                };
                (relay.to_string(), CONTACT, path)
            }
            PoolEvent::Authenticated { relay } => {
                let Some(me) = self.me else { return };
                (relay.to_string(), AUTH, me.to_hex())
            }
            _ => return,
        };
        let _ = updates.send(EngineUpdate::Learned {
            relay: relay.clone(),
            fact: fact.to_owned(),
        });
        self.write(relay, fact, detail);
    }
}

/// Everyone a set of filters asks about: authors and `#p` values.
pub(crate) fn people_in(filters: &[Filter]) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for f in filters {
        if let Some(a) = &f.authors {
            out.extend(a.iter().map(|p| p.to_hex()));
        }
        for (tag, values) in &f.generic_tags {
            if tag.as_char() == 'p' {
                out.extend(values.iter().cloned());
            }
        }
    }
    out.into_iter().collect()
}

impl Engine {
    /// Records that each relay that answered (`outcomes`) learned whom
    /// `filters` ask about, and tells the update stream.
    pub(crate) fn learned_asked(
        &self,
        relays: &[RelayUrl],
        outcomes: &BTreeMap<String, RelayOutcome>,
        people: &[String],
    ) -> Result<(), crate::engine::EngineError> {
        if people.is_empty() {
            return Ok(());
        }
        for relay in relays {
            let url = relay.to_string();
            let answered = outcomes
                .get(&url)
                .is_some_and(|o| o.finished || o.events > 0);
            if answered {
                self.store.record_learned(&url, ASKED, people)?;
                self.announce(EngineUpdate::Learned {
                    relay: url,
                    fact: ASKED.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Relay → the people the ledger says it was asked about (hex), for the
    /// planner's exposure cap: what a relay learned anywhere (a discovery
    /// relay's relay-list fetch included) counts against it.
    pub(crate) fn known_from_ledger(
        &self,
    ) -> Result<BTreeMap<String, Vec<String>>, crate::engine::EngineError> {
        let mut known: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in self.store.ledger()? {
            if entry.fact == ASKED {
                known.entry(entry.relay).or_default().push(entry.detail);
            }
        }
        Ok(known)
    }
}

/// What one relay learned.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RelayLedger {
    /// The relay.
    pub relay: String,
    /// People we asked it about (hex), followed or not.
    pub people_asked: Vec<String>,
    /// How many of them the user follows.
    pub follows_asked: usize,
    /// Our own events it accepted, per kind.
    pub own_events: BTreeMap<u16, u64>,
    /// Keys we authenticated as (NIP-42).
    pub auth_as: Vec<String>,
    /// How we reached it (direct, or the proxy and isolation).
    pub paths: Vec<String>,
    /// Whether it saw our IP address (any direct contact).
    pub saw_ip: bool,
    /// Search terms it saw.
    pub searches: Vec<String>,
    /// First and last contact (unix), if any.
    pub first_at: Option<u64>,
    /// Last contact.
    pub last_at: Option<u64>,
    /// The same in one sentence.
    pub summary: String,
}

/// The whole ledger.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PrivacyReport {
    /// How many people the user follows.
    pub follows: usize,
    /// Per relay.
    pub relays: Vec<RelayLedger>,
    /// The largest share of the follow list any one relay learned.
    pub max_follow_share: f64,
}

fn kind_words(own: &BTreeMap<u16, u64>) -> Vec<String> {
    own.iter()
        .map(|(k, n)| {
            let what = match k {
                0 => "your profile".to_owned(),
                1 => format!("{n} note{}", if *n == 1 { "" } else { "s" }),
                3 => "your follow list".to_owned(),
                6 => format!("{n} repost{}", if *n == 1 { "" } else { "s" }),
                7 => format!("{n} reaction{}", if *n == 1 { "" } else { "s" }),
                1059 => format!("{n} gift-wrapped message{}", if *n == 1 { "" } else { "s" }),
                10002 => "your relay list".to_owned(),
                10050 => "your DM relays".to_owned(),
                10000 => "your mute list (public part)".to_owned(),
                10003 => "your bookmarks (public part)".to_owned(),
                k => format!("{n} events of kind {k}"),
            };
            what
        })
        .collect()
}

impl Session {
    /// What each relay has learned from this profile.
    pub fn privacy_report(&self) -> Result<PrivacyReport, SessionError> {
        let store = self.engine.store();
        let follows: BTreeSet<String> = self.follows()?.iter().map(|p| p.to_hex()).collect();
        let mut by_relay: BTreeMap<String, RelayLedger> = BTreeMap::new();
        for e in store.ledger()? {
            let r = by_relay
                .entry(e.relay.clone())
                .or_insert_with(|| RelayLedger {
                    relay: e.relay.clone(),
                    ..RelayLedger::default()
                });
            match e.fact.as_str() {
                ASKED => r.people_asked.push(e.detail),
                AUTH => r.auth_as.push(e.detail),
                SEARCH => r.searches.push(e.detail),
                CONTACT => {
                    r.saw_ip |= e.detail == "direct";
                    r.paths.push(e.detail);
                    r.first_at = Some(r.first_at.map_or(e.first_at, |f| f.min(e.first_at)));
                    r.last_at = Some(r.last_at.map_or(e.last_at, |l| l.max(e.last_at)));
                }
                _ => {}
            }
        }
        for (relay, kind, n) in store.delivered_own()? {
            let r = by_relay
                .entry(relay.clone())
                .or_insert_with(|| RelayLedger {
                    relay,
                    ..RelayLedger::default()
                });
            r.own_events.insert(kind, n);
        }
        let me = self.me.to_hex();
        let mut max_share: f64 = 0.0;
        let relays: Vec<RelayLedger> = by_relay
            .into_values()
            .map(|mut r| {
                r.follows_asked = r
                    .people_asked
                    .iter()
                    .filter(|p| follows.contains(*p))
                    .count();
                if !follows.is_empty() {
                    max_share = max_share.max(r.follows_asked as f64 / follows.len() as f64);
                }
                let mut parts = vec![format!(
                    "{} of your {} follows",
                    r.follows_asked,
                    follows.len()
                )];
                parts.extend(kind_words(&r.own_events));
                if r.auth_as.contains(&me) {
                    parts.push("your key via AUTH".into());
                }
                if !r.searches.is_empty() {
                    parts.push(format!("{} search terms", r.searches.len()));
                }
                let ip = match (r.paths.is_empty(), r.saw_ip) {
                    (true, _) => "never contacted",
                    (false, true) => "yes",
                    (false, false) => "no (proxy)",
                };
                r.summary = format!("{} learned {}; your IP: {ip}", r.relay, parts.join(", "));
                r
            })
            .collect();
        Ok(PrivacyReport {
            follows: follows.len(),
            relays,
            max_follow_share: max_share,
        })
    }
}
