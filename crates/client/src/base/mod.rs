//! Layer 1: building blocks with no client state — signers, keys at rest,
//! profiles, settings, the network setting, event construction, note text,
//! proof of work. Nothing here names the engine, the session or a feature.

pub mod compose;
pub mod content;
pub mod harden;
pub mod keystore;
pub mod lookalike;
pub mod media;
pub mod network;
pub mod notify;
pub mod pattern;
pub mod pow;
pub(crate) mod private_file;
pub mod profile;
pub mod settings;
pub mod signer;
pub mod trust;
