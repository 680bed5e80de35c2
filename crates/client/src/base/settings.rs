//! A profile's relay settings: its own relays (read/write) and the discovery
//! relays where relay lists are looked up and advertised. Kept as JSON in the
//! profile directory; an absent file is empty settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use samizdat_net::RelayUrl;
use serde::{Deserialize, Serialize};

/// How the user uses one of their relays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayRoles {
    /// They read their inbox (replies, mentions) here.
    pub read: bool,
    /// They publish here (their outbox).
    pub write: bool,
}

/// The exposure cap a new profile starts with, in percent: no relay is
/// asked about more than a quarter of the follow list unless the user
/// raises or removes the cap (`samizdat outbox cap`, the desktop's Relays tab).
pub const DEFAULT_EXPOSURE_CAP_PERCENT: u8 = 25;

fn default_exposure_cap() -> Option<u8> {
    Some(DEFAULT_EXPOSURE_CAP_PERCENT)
}

/// The NIP-66 relay monitors a new profile trusts (hex public keys): the
/// nostr.watch monitor. Users add or remove monitors (`samizdat outbox
/// monitors`); no monitor's word outweighs the client's own connections.
pub const DEFAULT_MONITORS: &[&str] =
    &["151c17c9d234320cf0f189af7b761f63419fd6c38c6041587a008b7682e4640f"];

fn default_monitors() -> Vec<String> {
    DEFAULT_MONITORS.iter().map(|m| (*m).to_owned()).collect()
}

/// A profile's relay settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The user's own relays.
    pub relays: BTreeMap<String, RelayRoles>,
    /// Where relay lists are fetched from and advertised to.
    pub discovery: Vec<String>,
    /// The profile's public key (hex), remembered so that read-only commands
    /// need no passphrase. Public information; never the secret.
    pub pubkey: Option<String>,
    /// Per-relay connection and AUTH policies (`allow`, `deny`, `ask`).
    pub policies: BTreeMap<String, RelayPolicy>,
    /// Connect only to relays whose connection policy is `allow`.
    pub whitelist_only: bool,
    /// Proof of work (NIP-13 bits) for posts and replies unless a command
    /// says otherwise.
    pub pow: Option<u8>,
    /// Relays trusted for replies and mentions from people not followed
    /// (empty: the user's own write relays).
    pub spam_safe: Vec<String>,
    /// The exposure cap for reading, in percent: no relay asked about more
    /// than this share of the follow list (`None`, saved as `null`: no cap).
    /// On by default ([`DEFAULT_EXPOSURE_CAP_PERCENT`]), also for a settings
    /// file written before the cap was a default.
    #[serde(default = "default_exposure_cap")]
    pub max_exposure_percent: Option<u8>,
    /// Do not probe connected relays about people they have no evidence
    /// for (exploration is on unless this is set).
    pub no_exploration: bool,
    /// Do not check NIP-05 names (each check asks the name's domain, which
    /// then knows whom the user looked at; checks are on unless this is set).
    pub no_nip05_checks: bool,
    /// Direct, or every connection through a SOCKS5 proxy (Tor).
    pub network: crate::base::network::NetworkSetting,
    /// Per watched list kind, the id of the copy this profile published
    /// last (to notice a newer one made elsewhere). Public ids only.
    pub published_lists: BTreeMap<String, String>,
    /// NIP-66 relay monitors whose liveness reports are trusted (hex
    /// public keys; [`DEFAULT_MONITORS`] unless the user changed them).
    /// Relays they report dead are skipped before connecting, unless this
    /// client's own connections say otherwise.
    #[serde(default = "default_monitors")]
    pub monitors: Vec<String>,
    /// The web of trust's thresholds and the gift-wrap gate
    /// (`samizdat trust settings`).
    pub trust: TrustSettings,
    /// When pictures are loaded (`samizdat media show`), per person too.
    pub media: crate::base::media::MediaSettings,
    /// When the desktop raises OS notifications (`samizdat notify`).
    pub notify: crate::base::notify::NotifySettings,
}

/// Where the web of trust hides what people outside the user's network
/// send, and how gift wraps from strangers are let in. A person is shown on
/// a surface when their score (`followed by N of your follows − 2 × muted by
/// M of them`; everyone followed passes) is at least its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrustSettings {
    /// Replies, mentions, reactions and reposts in the inbox (default 1:
    /// followed by at least one follow, net of mutes).
    pub inbox: i32,
    /// Private messages: a sender below it goes to "requests" (default 1).
    pub dms: i32,
    /// Replies shown in a thread (default 1).
    pub replies: i32,
    /// Local search results (default 0: strangers are found unless the
    /// user's follows mute them; search is how one finds new people).
    pub search: i32,
    /// New inbox items announced as they arrive (`watch`, the desktop's
    /// banner; default 1).
    pub notifications: i32,
    /// Gift wraps from each relay opened per hour whose sender turned out
    /// to be a stranger; past it the rest wait for the next hour, unopened,
    /// so a flood cannot flood the signer (default 30).
    pub stranger_wraps_per_hour: u32,
    /// NIP-13 work (bits) on a stranger's gift wrap that lets it skip the
    /// requests folder and the hourly limit (default 20).
    pub wrap_pow_accepted: u8,
    /// NIP-13 work (bits) added to the user's own gift wraps (default 0:
    /// work on a wrap marks it as coming from a client that adds work).
    pub wrap_pow: u8,
}

impl Default for TrustSettings {
    fn default() -> Self {
        Self {
            inbox: 1,
            dms: 1,
            replies: 1,
            search: 0,
            notifications: 1,
            stranger_wraps_per_hour: 30,
            wrap_pow_accepted: 20,
            wrap_pow: 0,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            relays: BTreeMap::new(),
            discovery: Vec::new(),
            pubkey: None,
            policies: BTreeMap::new(),
            whitelist_only: false,
            pow: None,
            spam_safe: Vec::new(),
            max_exposure_percent: default_exposure_cap(),
            no_exploration: false,
            no_nip05_checks: false,
            network: Default::default(),
            published_lists: BTreeMap::new(),
            monitors: default_monitors(),
            trust: TrustSettings::default(),
            media: Default::default(),
            notify: Default::default(),
        }
    }
}

/// A relay's policies as the user set them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelayPolicy {
    /// `allow`, `deny` or `ask` for connecting (absent: the default, allow).
    pub connect: Option<String>,
    /// `allow`, `deny` or `ask` for NIP-42 AUTH (absent: the default, deny).
    pub auth: Option<String>,
}

fn decision(word: &str) -> Option<samizdat_net::Decision> {
    match word {
        "allow" => Some(samizdat_net::Decision::Allow),
        "deny" => Some(samizdat_net::Decision::Deny),
        "ask" => Some(samizdat_net::Decision::Ask),
        _ => None,
    }
}

/// Why settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file is not valid settings JSON.
    #[error("settings file {path} is invalid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's explanation.
        message: String,
    },
    /// Reading or writing failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The network setting names an unusable proxy.
    #[error(transparent)]
    Network(#[from] crate::base::network::BadProxy),
}

impl Settings {
    /// Reads the settings (empty when the file does not exist).
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| SettingsError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(SettingsError::Io {
                op: "reading",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the settings.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::base::private_file::write_private(path, json.as_bytes()).map_err(|source| {
            SettingsError::Io {
                op: "writing",
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Relays the user writes to.
    pub fn write_relays(&self) -> Vec<RelayUrl> {
        self.relays
            .iter()
            .filter(|(_, r)| r.write)
            .filter_map(|(u, _)| RelayUrl::parse(u).ok())
            .collect()
    }

    /// The policies as the network layer applies them.
    pub fn policy_book(&self) -> samizdat_net::PolicyBook {
        let book = samizdat_net::PolicyBook::new();
        self.apply_policies(&book);
        book
    }

    /// Writes these policies into a running engine's `book` (a changed
    /// setting takes effect without a restart).
    pub fn apply_policies(&self, book: &samizdat_net::PolicyBook) {
        book.set_whitelist_only(self.whitelist_only);
        for (url, p) in &self.policies {
            let Ok(relay) = RelayUrl::parse(url) else {
                continue;
            };
            if let Some(d) = p.connect.as_deref().and_then(decision) {
                book.set_connect(&relay, d);
            }
            if let Some(d) = p.auth.as_deref().and_then(decision) {
                book.set_auth(&relay, d);
            }
        }
    }

    /// The discovery relays, parsed.
    pub fn discovery_relays(&self) -> Vec<RelayUrl> {
        self.discovery
            .iter()
            .filter_map(|u| RelayUrl::parse(u).ok())
            .collect()
    }
}
