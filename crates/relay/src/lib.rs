//! # samizdat-relay
//!
//! The relay Samizdat users self-host (their outbox, their DM inbox, a backup
//! of their own events), and the real relay that tests and the demo start on
//! loopback. NIP-01 over axum websockets on [`samizdat_store`], with NIP-09,
//! NIP-11, NIP-40, NIP-42, NIP-50 and NIP-70.
//!
//! - Every event is checked (id, signature, size, time window) before it is
//!   queued; one writer task commits queued events in batches and fans each
//!   stored event out to the open subscriptions that match it.
//! - DMs (kind 4) and gift wraps (kind 1059) are served only to their
//!   authenticated author or recipient.
//! - Limits are enforced and declared in NIP-11; rate limits per address and
//!   per author; logs carry a salted hash of the client address, never the IP.
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

mod auth;
mod config;
mod connection;
mod messages;
mod negentropy;
mod nip11;
mod pow;
mod server;
mod state;
mod subscriptions;
mod writer;

pub use config::{ConfigError, Limits, RateLimits, RelayConfig};
pub use nip11::{information_document, SUPPORTED_NIPS};
pub use server::{start, RelayError, RelayHandle};
