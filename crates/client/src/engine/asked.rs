//! What each relay learned from the engine's reads, recorded once it
//! answered (see `ledger.rs`), and read back for the planner's exposure cap.

use std::collections::BTreeMap;

use samizdat_net::RelayUrl;

use crate::engine::ledger::ASKED;
use crate::engine::{Engine, EngineUpdate, RelayOutcome};

impl Engine {
    /// Records that each relay that answered (`outcomes`) learned whom
    /// `filters` ask about, and tells the update stream.
    pub(crate) fn learned_asked(
        &self,
        relays: &[RelayUrl],
        outcomes: &BTreeMap<String, RelayOutcome>,
        people: &[String],
    ) -> Result<(), crate::engine::EngineError> {
        if people.is_empty() {
            return Ok(());
        }
        for relay in relays {
            let url = relay.to_string();
            let answered = outcomes
                .get(&url)
                .is_some_and(|o| o.finished || o.events > 0);
            if answered {
                self.store.record_learned(&url, ASKED, people)?;
                self.announce(EngineUpdate::Learned {
                    relay: url,
                    fact: ASKED.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Relay → the people the ledger says it was asked about (hex), for the
    /// planner's exposure cap: what a relay learned anywhere (a discovery
    /// relay's relay-list fetch included) counts against it.
    pub(crate) fn known_from_ledger(
        &self,
    ) -> Result<BTreeMap<String, Vec<String>>, crate::engine::EngineError> {
        let mut known: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in self.store.ledger()? {
            if entry.fact == ASKED {
                known.entry(entry.relay).or_default().push(entry.detail);
            }
        }
        Ok(known)
    }
}
