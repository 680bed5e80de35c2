//! Relay configuration: identity for NIP-11, limits, and rate limits.
//!
//! Every limit here is both enforced and declared in the NIP-11 document, so
//! clients can learn them before they hit them. A config file is TOML with the
//! same field names; absent fields keep their defaults.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::policy::{Policy, PolicyConfig};

/// Everything a relay can be told. [`RelayConfig::default`] suits a personal relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// Name shown in the NIP-11 document.
    pub name: String,
    /// Description shown in the NIP-11 document.
    pub description: String,
    /// Owner's public key (hex), shown in the NIP-11 document.
    pub pubkey: Option<String>,
    /// Contact address shown in the NIP-11 document.
    pub contact: Option<String>,
    /// Icon URL shown in the NIP-11 document.
    pub icon: Option<String>,
    /// This relay's public URL. When set, NIP-42 AUTH events must name it; when
    /// unset they must name the host the client connected to.
    pub relay_url: Option<String>,
    /// Limits, enforced and declared.
    pub limits: Limits,
    /// Rate limits per client address and per author.
    pub rate: RateLimits,
    /// Accept an event only from its NIP-42-authenticated author
    /// (`auth-required:` otherwise). Off by default.
    pub auth_required_for_writes: bool,
    /// Answer NIP-77 negentropy reconciliation (`NEG-OPEN`). On by default.
    pub negentropy: bool,
    /// NIP-13: the least proof of work (leading zero bits of the id) an event
    /// needs to be accepted (`pow:` otherwise); 0 turns it off (the default).
    pub min_pow: u8,
    /// Who may write and read ([`PolicyConfig`]): public by default.
    pub policy: PolicyConfig,
    /// Serve Prometheus metrics at `/metrics`. On by default; they hold
    /// counts only (no keys, addresses or content).
    pub metrics: bool,
    /// SQLite's page cache per database connection, in MiB (64 by default).
    /// The writer and up to eight readers each keep one, so the relay's heap
    /// grows with its database until about nine times this (the soak shows
    /// it); lower it on a small machine.
    pub cache_mib: u32,
    /// PostgreSQL: the most connections each relay process opens (its pool's
    /// size; `db_connections` in the config file; 4 by default). Queries
    /// wait for a free one, in order.
    pub db_connections: usize,
    /// Blossom media serving on the same port ([`MediaConfig`]); off until
    /// a folder for the blobs is set.
    pub media: MediaConfig,
}

/// The `[media]` table: the relay as a Blossom server (BUD-01/02/04/06).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Folder the blobs are stored in (by hash) with their index; `None`
    /// turns Blossom off (every media route answers 404).
    pub dir: Option<std::path::PathBuf>,
    /// Most bytes of blobs stored in all, in MiB.
    pub quota_mib: u64,
    /// Largest blob accepted, in MiB.
    pub max_blob_mib: u64,
    /// The URL blobs are served from, put in blob descriptors (for a relay
    /// behind a TLS proxy); by default `http://` plus the request's `Host`.
    pub public_url: Option<String>,
    /// On a public relay, let anyone upload (within the quota). Off by
    /// default: the owners and allowed keys upload, everyone may read.
    pub public_uploads: bool,
}

impl MediaConfig {
    /// Blossom on, blobs in `dir`, other settings as default.
    pub fn in_dir(dir: impl Into<std::path::PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::default()
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            dir: None,
            quota_mib: 2048,
            max_blob_mib: 50,
            public_url: None,
            public_uploads: false,
        }
    }
}

/// Bounds on what one client may ask of the relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest websocket message accepted, in bytes. Larger ones get a NOTICE.
    pub max_message_length: usize,
    /// Open subscriptions per connection.
    pub max_subscriptions: usize,
    /// Filters per REQ.
    pub max_filters: usize,
    /// Largest `limit` honoured; larger ones are lowered to it.
    pub max_limit: usize,
    /// `limit` applied to filters that have none.
    pub default_limit: usize,
    /// Longest subscription id.
    pub max_subid_length: usize,
    /// Most tags per event.
    pub max_event_tags: usize,
    /// Most bytes of content per event.
    pub max_content_length: usize,
    /// How far in the future `created_at` may be, in seconds.
    pub created_at_upper_limit: u64,
    /// How far in the past `created_at` may be, in seconds (0: no limit).
    pub created_at_lower_limit: u64,
    /// Bytes of outgoing messages queued for one connection before a client
    /// that does not read is disconnected.
    pub max_outgoing_bytes: usize,
    /// Open websocket connections from one client address (0: no limit);
    /// more are answered with HTTP 429.
    pub max_connections_per_ip: usize,
}

/// Token-bucket rates. Zero disables a limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Events per second from one client address (burst: the same number).
    pub events_per_second_per_ip: u32,
    /// Events per second from one author.
    pub events_per_second_per_author: u32,
    /// REQs per second from one client address.
    pub reqs_per_second_per_ip: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            name: "samizdat relay".into(),
            description: "A personal Nostr relay (Samizdat).".into(),
            pubkey: None,
            contact: None,
            icon: None,
            relay_url: None,
            limits: Limits::default(),
            rate: RateLimits::default(),
            auth_required_for_writes: false,
            negentropy: true,
            cache_mib: 64,
            db_connections: crate::pg::DEFAULT_CONNECTIONS,
            min_pow: 0,
            policy: PolicyConfig::default(),
            metrics: true,
            media: MediaConfig::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_length: 512 * 1024,
            max_subscriptions: 64,
            max_filters: 32,
            max_limit: 5_000,
            default_limit: 500,
            max_subid_length: 64,
            max_event_tags: 2_000,
            max_content_length: 128 * 1024,
            created_at_upper_limit: 15 * 60,
            created_at_lower_limit: 0,
            max_outgoing_bytes: 16 * 1024 * 1024,
            max_connections_per_ip: 256,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            events_per_second_per_ip: 500,
            events_per_second_per_author: 200,
            reqs_per_second_per_ip: 200,
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read relay config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for a relay config.
    #[error("relay config {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's explanation, with line and column.
        message: String,
    },
}

impl RelayConfig {
    /// Reads a TOML config file; absent fields keep their defaults, unknown
    /// fields are an error (a typo must not silently weaken a limit).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and checks a TOML config text; the error says what is wrong.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    /// Checks what the types cannot: the policy's keys parse and a
    /// restricted write mode names an owner.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=512).contains(&self.db_connections) {
            return Err(format!(
                "db_connections is {}: use 1 to 512",
                self.db_connections
            ));
        }
        Policy::from_config(&self.policy).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_with_a_policy_reads_and_a_bad_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.toml");
        let owner = nostr::prelude::Keys::generate().public_key().to_hex();
        std::fs::write(
            &path,
            format!("min_pow = 8\n[policy]\nwrite = \"personal\"\nowners = [\"{owner}\"]\n[limits]\nmax_connections_per_ip = 4\n"),
        )
        .unwrap();
        let config = RelayConfig::from_file(&path).unwrap();
        assert_eq!(config.policy.write, crate::policy::WriteMode::Personal);
        assert_eq!(config.limits.max_connections_per_ip, 4);
        assert_eq!(
            config.policy.auth_read_kinds,
            crate::policy::DEFAULT_AUTH_READ_KINDS
        );
        std::fs::write(
            &path,
            "[policy]\nwrite = \"owner\"\nowners = [\"npub1nope\"]\n",
        )
        .unwrap();
        let err = RelayConfig::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("policy.owners") && err.contains("npub1nope"),
            "{err}"
        );
        std::fs::write(&path, "[policy]\nwrite = \"friends\"\n").unwrap();
        let err = RelayConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("friends"), "{err}");
    }
}
