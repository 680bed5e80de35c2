//! # samizdat-store
//!
//! The local event store of Samizdat: one SQLite file per profile (WAL mode,
//! bundled SQLite, FTS5), holding events that the caller has already verified.
//!
//! - [`Store::insert_batch`] applies NIP-01 replaceable/addressable rules,
//!   NIP-09 deletions (with tombstones so deleted events do not come back),
//!   NIP-40 expiration and the ephemeral range, and says per event what
//!   happened ([`InsertOutcome`]).
//! - [`Store::query`] answers NIP-01 filters (and NIP-50 `search` over a
//!   full-text index) through index seeks, never table scans.
//! - [`Store::seen_on`] and [`RelayStats`] keep where events were seen and how
//!   each relay behaves, for the network layer and the outbox planner.
//!
//! No networking lives here. The interface is kept narrow (insert, query,
//! relay bookkeeping) so that another engine could stand behind it.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod asynchronous;
mod codec;
mod error;
mod hints;
mod history;
mod insert;
mod integrity;
mod ledger;
mod list_changes;
mod lists;
mod matching;
mod moderation;
mod publish_queue;
mod query;
mod relays;
pub mod rules;
mod schema;
mod search;
mod store;

pub use error::{StoreError, StoreResult};
pub use hints::{HintSource, RelayHint, SeenRelay};
pub use insert::InsertOutcome;
pub use integrity::IntegrityReport;
pub use ledger::LedgerEntry;
pub use list_changes::{now_millis, ListChangeRow};
pub use lists::ListHead;
pub use matching::{filter_matches, filter_matches_ignoring_search, has_empty_list};
pub use moderation::ModerationEntry;
pub use publish_queue::{Delivery, DeliveryState, QueuedEvent, Requeued};
pub use relays::{FailureClass, RelayStats, Sighting};
pub use schema::SCHEMA_VERSION;
pub use store::{Store, StoreConfig};

#[doc(hidden)]
pub mod testing {
    //! Hooks for this crate's migration tests; not a stable API.
    pub use crate::schema::migrate_to_for_tests;
}
