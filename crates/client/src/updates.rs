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
    /// Something needs the user's attention.
    Alert(Alert),
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
}
