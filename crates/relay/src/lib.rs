//! # samizdat-relay
//!
//! The relay Samizdat users self-host (their outbox, their DM inbox, a backup
//! of their own events), and the real relay that tests and the demo start on
//! loopback. NIP-01 over axum websockets on [`samizdat_store`], with NIP-09,
//! NIP-11, NIP-13 (minimum work), NIP-40, NIP-42, NIP-45 (COUNT), NIP-50,
//! NIP-70, NIP-77 (negentropy) and NIP-86 (management, NIP-98 authorized).
//!
//! - Every event is checked (id, signature, size, time window) before it is
//!   queued; one writer task commits queued events in batches and fans each
//!   stored event out to the open subscriptions that match it.
//! - DMs (kind 4) and gift wraps (kind 1059) are served only to their
//!   authenticated author or recipient.
//! - Write policies (`public`, `owner`, `personal`, allow and deny lists,
//!   allowed kinds) and read policies (kinds served only to their parties,
//!   optional AUTH for every reader); see [`PolicyConfig`].
//! - Limits are enforced and declared in NIP-11; rate limits per address and
//!   per author, connections per address; logs carry a salted hash of the
//!   client address, never the IP. `/metrics` serves Prometheus counters.
//! - With `[media] dir` set, the same port is a Blossom media server
//!   (BUD-01/02/04/06 with BUD-11 authorization): blobs stored by hash on
//!   disk, indexed in SQLite, uploads limited by the write policy and a quota.
//! - [`RelayHandle::reload`] puts a new config in force without dropping
//!   connections (the CLI calls it on SIGHUP).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let store = Arc::new(samizdat_store::Store::open("relay.sqlite")?);
//! let relay = samizdat_relay::start(Default::default(), store, "127.0.0.1:0".parse()?).await?;
//! println!("listening on {}", relay.url());
//! relay.shutdown().await;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod admission;
mod auth;
mod blossom;
mod cluster;
mod config;
mod connection;
pub mod inbound;
mod management;
mod messages;
mod metrics;
pub mod negentropy;
mod nip11;
mod pg;
mod policy;
mod pow;
mod reads;
mod server;
mod state;
mod storage;
mod subscriptions;
mod vanish;
mod writer;

pub use config::{ConfigError, Limits, MediaConfig, RateLimits, RelayConfig};
pub use nip11::{information_document, SUPPORTED_NIPS};
pub use pg::{PgStore, SCHEMA_VERSION};
pub use policy::{parse_key, PolicyConfig, WriteMode, DEFAULT_AUTH_READ_KINDS};
pub use server::{start, RelayError, RelayHandle};
pub use storage::{Change, ChangeFeed, RelayStorage};
