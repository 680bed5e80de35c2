//! Layer 5: what names every feature — the [`Intent`]s a button or a
//! command can ask for and their dispatch, the session's background work
//! and the refresh (sync, inbox, profiles, private messages), and getting
//! into a profile ([`access`]).

pub mod access;
mod background;
mod intents;

pub use intents::{Intent, IntentOutcome};
