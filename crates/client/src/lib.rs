//! # samizdat-client
//!
//! The client every UI drives. A [`Session`] opens one profile with one
//! [`Signer`] (local key, NIP-46 remote signer, or read-only) and takes
//! intents (post, reply, follow, refresh, …) while its [`Engine`] reads
//! people from their own relays (the outbox model), keeps live
//! subscriptions, delivers through a durable queue and broadcasts
//! [`EngineUpdate`]s. Profiles, the key at rest (NIP-49) and NIP-46 in both
//! directions live here too; event construction is in [`compose`].

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod advertise;
pub mod backup;
pub mod changes;
pub mod compose;
pub mod content;
mod discovery;
pub mod dm;
mod engine;
pub mod everyday;
pub mod evidence;
mod feeds;
mod intents;
pub mod keystore;
mod ledger;
pub mod lists;
pub mod network;
mod nip05;
pub mod nip46;
mod own;
pub mod pow;
mod private_file;
mod profile;
mod publisher;
mod queries;
pub mod replicate;
pub mod restore;
mod session;
mod settings;
mod signer;
mod sync;
mod targets;
mod updates;

pub use engine::{
    relay_list, Alert, Engine, EngineConfig, EngineError, EngineUpdate, RelayOutcome,
};
pub use feeds::{parent_of, root_of, thread_tree};
pub use ledger::{PrivacyReport, RelayLedger};
pub use nip05::Nip05Badge;
pub use profile::{Profile, ProfileError, Profiles};
pub use queries::PersonProfile;
pub use session::{
    own_and_discovery, read_relays, Intent, IntentOutcome, Published, Session, SessionConfig,
    SessionError,
};
pub use settings::{RelayPolicy, RelayRoles, Settings, SettingsError};
pub use signer::{AuthThroughSigner, LocalSigner, LockedSigner, Signer, SignerError, SignerFuture};
pub use sync::SyncReport;
