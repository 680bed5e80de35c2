//! What the engine tells a UI as it happens: a broadcast stream that never
//! blocks the engine (a slow subscriber misses the oldest updates).

use nostr::prelude::*;

/// What a UI hears from the engine, as it happens.
#[derive(Debug, Clone)]
pub enum EngineUpdate {
    /// A phase of a sync began (human-readable).
    Phase(String),
    /// Verified events arrived and were stored.
    NewEvents {
        /// From which relay.
        relay: String,
        /// On which subscription (`feed` and `inbox` are the live ones).
        sub: String,
        /// The events.
        events: Vec<Event>,
    },
    /// A relay could not be used.
    RelayFailed {
        /// Which.
        relay: String,
        /// Why.
        error: String,
    },
    /// A delivery attempt of an outgoing event finished.
    Delivery {
        /// The event.
        event: EventId,
        /// The relay.
        relay: String,
        /// What the relay said.
        outcome: samizdat_net::PublishOutcome,
    },
    /// We authenticated to a relay (NIP-42), with the session's signer.
    Authenticated {
        /// Which relay.
        relay: String,
    },
    /// An intent sent with `Session::send` finished.
    IntentDone {
        /// The number `send` returned.
        id: u64,
        /// What it did, or why it failed (already a sentence for the user).
        result: Result<IntentResult, String>,
    },
    /// Something needs the user's attention.
    Alert(Alert),
    /// A relay learned something new about the user (privacy ledger):
    /// `asked`, `contact`, `auth` or `search`.
    Learned {
        /// Which relay.
        relay: String,
        /// What kind of fact.
        fact: String,
    },
}

/// What a finished intent produced. The intents are defined above the
/// engine (they name every feature), so the engine carries their result
/// without knowing its type; `IntentOutcome::of` reads it back.
#[derive(Clone)]
pub struct IntentResult(std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl IntentResult {
    /// Wraps a result for the update stream.
    pub fn new<T: std::any::Any + Send + Sync>(value: T) -> Self {
        Self(std::sync::Arc::new(value))
    }

    /// The result, if it is a `T`.
    pub fn get<T: std::any::Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for IntentResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntentResult")
    }
}

/// Things the user should know and may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// A post has not reached some of its relays yet (still retried).
    PostNotEverywhere {
        /// The post.
        event: EventId,
        /// Relays still missing it.
        missing: Vec<String>,
    },
    /// A private message could not be sent: this person has no DM relays.
    NoDmRelays {
        /// Who.
        person: PublicKey,
    },
    /// Events arrived but the local store could not keep them (a full disk,
    /// a read-only profile): the feed misses them until there is room.
    NotStored {
        /// How many.
        events: usize,
        /// The store's error, as a sentence.
        error: String,
    },
    /// A relay lacked some of the user's events run after run of the
    /// replication check (they were re-sent each time).
    RelayLosesEvents {
        /// The relay.
        relay: String,
        /// Events it lacked this time.
        missing: usize,
        /// Runs in a row it lacked some.
        runs: u32,
    },
}
