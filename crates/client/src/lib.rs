//! # samizdat-client
//!
//! The engine every UI uses. So far: profiles (separate identities with their
//! own directories), the private key at rest as a NIP-49 `ncryptsec`, and the
//! one [`Signer`] interface the engine signs and encrypts through. Feeds, the
//! publishing queue, DMs and the rest arrive with issue 7.

mod engine;
mod feeds;
pub mod keystore;
pub mod nip46;
mod own;
mod profile;
mod publisher;
mod settings;
mod signer;
mod updates;

pub use engine::{
    relay_list, Alert, Engine, EngineConfig, EngineError, EngineUpdate, RelayOutcome, SyncReport,
};
pub use profile::{Profile, ProfileError, Profiles};
pub use settings::{RelayPolicy, RelayRoles, Settings, SettingsError};
pub use signer::{AuthThroughSigner, LocalSigner, Signer, SignerError, SignerFuture};
