//! # samizdat-net
//!
//! The client side of talking to many relays at once, where every relay is
//! hostile until proven otherwise.
//!
//! - [`Pool`] runs one actor per relay: connect (directly or through SOCKS5
//!   with remote DNS and per-relay stream isolation), reconnect with
//!   exponential backoff, jitter and a penalty box by failure class, keep
//!   subscriptions open within the relay's NIP-11 limits, publish with OK
//!   timeouts ([`PublishOutcome`]), answer AUTH only where [`PolicyBook`]
//!   allows it.
//! - Everything received is checked: known ids skip work, then filter match,
//!   `created_at` bound and sizes, then id and signature on all cores off the
//!   async runtime. Valid events go to the store with the relay they came
//!   from; invalid ones are dropped and counted against the relay.
//! - HTTP (NIP-11, NIP-05, Blossom in [`blossom`]) goes through the same
//!   transport as the websockets, one bounded exchange at a time.
//! - Relay statistics (attempts, failures by class, latency, invalid events)
//!   are recorded in the store for the outbox planner.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod backoff;
pub mod blossom;
mod ingest;
pub mod manage;
mod message;
mod negentropy;
mod nip05;
mod nip11;
mod policy;
mod pool;
mod relay;
mod relay_auth;
mod relay_inbound;
mod relay_publish;
mod session;
mod transport;
mod url;
mod validate;
mod web;

pub use backoff::{delay as backoff_delay, penalty_factor, BackoffConfig};
pub use message::{parse as parse_relay_message, RelayMessage};
pub use negentropy::{NegError, NegOutcome};
pub use nip05::{read_answer as read_nip05_answer, resolve as resolve_nip05, Nip05Error};
pub use nip11::{fetch_limits, RelayLimits};
pub use policy::{Approver, Decision, PolicyBook, Question};
pub use pool::{AuthSigner, KeysAuthSigner, NetConfig, NetError, Pool, PoolEvent, PublishOutcome};
pub use transport::{connect, ConnectError, ProxyConfig, TransportConfig, WsStream};
pub use url::{RelayUrl, UrlError};
pub use validate::{
    is_genuine_copy, matches_filter, precheck, verify_batch, Rejection, SeenIds, ValidationConfig,
};
pub use web::{json_of as http_json_of, send as http_send, WebError};
