//! # samizdat-client
//!
//! The client every UI drives. A [`Session`] opens one profile with one
//! [`Signer`] (local key, NIP-46 remote signer, or read-only) and takes
//! intents (post, reply, follow, refresh, …) while its [`Engine`] reads
//! people from their own relays (the outbox model), keeps live
//! subscriptions, delivers through a durable queue and broadcasts
//! [`EngineUpdate`]s. Profiles, the key at rest (NIP-49) and NIP-46 in both
//! directions live here too; event construction is in [`compose`].
//!
//! ## Layers
//!
//! The folders are layers, and a file names only its own layer and those
//! below it (`tests/layers.rs` reads the source and fails otherwise):
//!
//! 1. `base/` — building blocks with no client state: signers, keys at rest,
//!    profiles, settings, the network setting, event construction, note
//!    text, proof of work.
//! 2. `engine/` — the machinery: the relay pool, sync and the planner's
//!    input, one-off fetches, durable publishing, evidence, discovery, own
//!    lists, the privacy ledger's writer, the update stream.
//! 3. `session/` — one profile's client over the engine: opening, settings
//!    changes, writes, queries, list changes (no clobbering), the relay list,
//!    what is muted, the privacy report, state that features keep.
//! 4. Features over the session, each a folder: `dm/`, `lists/`,
//!    `everyday/`, `own_data/`, `nip46/`, `media/`, `notify/`, `operator/`. A feature may use another feature
//!    (no circles).
//! 5. `app/` — what names every feature: intents and their dispatch, the
//!    background work and the refresh, getting into a profile.
//!
//! The modules a UI reaches by name are re-exported here under their short
//! names (`samizdat_client::dm`, `samizdat_client::keystore`, …); code inside
//! the crate uses the layered paths.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod base;
pub mod dm;
pub mod engine;
pub mod everyday;
pub mod lists;
pub mod media;
pub mod nip46;
pub mod notify;
pub mod operator;
pub mod own_data;
pub mod session;

pub use app::{access, Intent, IntentOutcome};
pub use base::{compose, content, keystore, network, pow};
pub use engine::evidence;
pub use own_data::{backup, replicate, restore};
pub use session::{advertise, changes};

pub use base::profile::{Profile, ProfileError, Profiles};
pub use base::settings::{RelayPolicy, RelayRoles, Settings, SettingsError};
pub use base::signer::{
    AuthThroughSigner, LocalSigner, LockedSigner, Signer, SignerError, SignerFuture,
};
pub use engine::feeds::{parent_of, root_of, thread_tree};
pub use engine::sync::SyncReport;
pub use engine::{
    relay_list, Alert, Engine, EngineConfig, EngineError, EngineUpdate, RelayOutcome,
};
pub use everyday::nip05::Nip05Badge;
pub use session::privacy::{PrivacyReport, RelayLedger};
pub use session::queries::PersonProfile;
pub use session::{
    own_and_discovery, read_relays, Published, Session, SessionConfig, SessionError,
};
