//! The privacy report: what each relay has learned from this profile, read
//! from the ledger the engine writes (`engine::ledger`) plus our own events
//! each relay accepted (from the publishing queue), one sentence per relay.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::engine::ledger::{ASKED, AUTH, CONTACT, NIP05, SEARCH};
use crate::session::{Session, SessionError};

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
    /// NIP-05 names looked up there (for a name's domain, not a relay).
    pub nip05_names: Vec<String>,
    /// Pictures fetched from it ("blob <hash>" or "link <path>"): a media
    /// server, not a relay.
    pub media_fetched: Vec<String>,
    /// Pictures uploaded to it ("blob <hash>").
    pub media_uploaded: Vec<String>,
    /// Who named it, when it was asked only because a stranger named it.
    pub named_by: Vec<String>,
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
    /// The profile's privacy posture in one line: network, exposure cap,
    /// exploration, AUTH, media, NIP-05.
    pub posture: String,
}

/// The relays that saw the user's IP address in both `a` and `b` (two
/// accounts' reports): each reached it directly at least once, so it can
/// tell the two accounts come from one address. Sorted.
pub fn seen_directly_by_both(a: &PrivacyReport, b: &PrivacyReport) -> Vec<String> {
    let direct_b: std::collections::BTreeSet<&str> = b
        .relays
        .iter()
        .filter(|r| r.saw_ip)
        .map(|r| r.relay.as_str())
        .collect();
    let mut shared: Vec<String> = a
        .relays
        .iter()
        .filter(|r| r.saw_ip && direct_b.contains(r.relay.as_str()))
        .map(|r| r.relay.clone())
        .collect();
    shared.sort();
    shared.dedup();
    shared
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
    /// The privacy posture in one line, from the settings: how relays are
    /// reached, the exposure cap, exploration, AUTH, media, NIP-05 checks.
    pub fn privacy_posture(&self) -> String {
        let s = self.settings();
        let network = match &s.network.proxy {
            Some(p) if s.network.direct.is_empty() => format!("through {p}"),
            Some(p) => format!("through {p}, {} relays directly", s.network.direct.len()),
            None => "direct (relays see your IP address)".to_owned(),
        };
        let cap = s.max_exposure_percent.map_or("off".to_owned(), |p| {
            format!("{p}% of your follows per relay")
        });
        let auth_allowed = s
            .policies
            .values()
            .filter(|p| p.auth.as_deref() == Some("allow"))
            .count();
        let auth = if auth_allowed == 0 {
            "never".to_owned()
        } else {
            format!("only where you allowed it ({auth_allowed} relays)")
        };
        format!(
            "network: {network} · exposure cap: {cap} · exploration: {} · AUTH: {auth} · media: {}{} · NIP-05 checks: {}",
            if s.no_exploration { "off" } else { "on" },
            s.media.show.describe(),
            match s.media.people.len() {
                0 => String::new(),
                n => format!(" ({n} people with their own choice)"),
            },
            if s.no_nip05_checks { "off" } else { "on" },
        )
    }

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
                NIP05 => r.nip05_names.push(e.detail),
                crate::engine::ledger::MEDIA_FETCH => r.media_fetched.push(e.detail),
                crate::engine::ledger::MEDIA_UPLOAD => r.media_uploaded.push(e.detail),
                crate::session::hints::NAMED_BY => r.named_by.push(e.detail),
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
                if !r.named_by.is_empty() {
                    parts.push(format!(
                        "(asked because {} named it)",
                        r.named_by.join(", ")
                    ));
                }
                if !r.nip05_names.is_empty() {
                    // A name's domain, not a relay: what it learned is whom
                    // the user looked at.
                    parts = vec![format!(
                        "that you looked up {} (NIP-05)",
                        r.nip05_names.join(", ")
                    )];
                }
                if !r.media_fetched.is_empty() || !r.media_uploaded.is_empty() {
                    // A media server: what it learned is which pictures.
                    parts = Vec::new();
                    if !r.media_fetched.is_empty() {
                        parts.push(format!(
                            "that you viewed {} picture(s)",
                            r.media_fetched.len()
                        ));
                    }
                    if !r.media_uploaded.is_empty() {
                        parts.push(format!(
                            "{} picture(s) you uploaded",
                            r.media_uploaded.len()
                        ));
                    }
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
            posture: self.privacy_posture(),
        })
    }
}
