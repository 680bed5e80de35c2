//! Where the user's events go: the outbox model's write side (the author's
//! write relays plus the inboxes of everyone tagged) and where the user's
//! lists are advertised, from the relay lists in the store.

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use samizdat_outbox::{PlanInput, RelayList};

use crate::engine::{relay_list, Engine, EngineError};

impl Engine {
    /// Where to publish an event: the author's write relays plus the read
    /// relays of everyone it tags (their inbox), from relay lists in the store.
    pub fn publish_targets(
        &self,
        own_write: &[RelayUrl],
        event: &Event,
    ) -> Result<Vec<RelayUrl>, EngineError> {
        let tagged: Vec<PublicKey> = event
            .tags
            .public_keys()
            .filter(|p| *p != event.pubkey)
            .collect();
        self.publish_targets_for(own_write, &tagged)
    }

    /// The user's write relays plus the read relays of `tagged` people.
    pub fn publish_targets_for(
        &self,
        own_write: &[RelayUrl],
        tagged: &[PublicKey],
    ) -> Result<Vec<RelayUrl>, EngineError> {
        let input = self.lists_input(tagged)?;
        let own = RelayList {
            write: own_write.iter().map(|r| r.to_string()).collect(),
            read: Vec::new(),
        };
        let tagged_hex: Vec<String> = tagged.iter().map(|p| p.to_hex()).collect();
        let targets = samizdat_outbox::publish_targets(&input, &own, &tagged_hex, 2, 12);
        Ok(parse_urls(&targets))
    }

    /// Where to advertise the user's lists: their relays, the discovery
    /// relays, and the read relays most of `audience` (followers and
    /// mentioners) look in, from relay lists in the store; `cap` in all.
    pub fn advertise_targets(
        &self,
        own: &RelayList,
        discovery: &[String],
        audience: &[PublicKey],
        cap: usize,
    ) -> Result<Vec<RelayUrl>, EngineError> {
        let input = self.lists_input(audience)?;
        let audience: Vec<String> = audience.iter().map(|p| p.to_hex()).collect();
        let targets = samizdat_outbox::advertise_targets(&input, own, discovery, &audience, cap);
        Ok(parse_urls(&targets))
    }

    /// A planner input holding only the relay lists of `people` in the store.
    fn lists_input(&self, people: &[PublicKey]) -> Result<PlanInput, EngineError> {
        let mut input = PlanInput::default();
        if people.is_empty() {
            return Ok(input);
        }
        let lists = self.store.query(&[Filter::new()
            .authors(people.iter().copied())
            .kind(Kind::RelayList)
            .limit(people.len())])?;
        for e in lists {
            input.relay_lists.insert(e.pubkey.to_hex(), relay_list(&e));
        }
        Ok(input)
    }
}

/// The relay URLs among `urls` that parse.
fn parse_urls(urls: &[String]) -> Vec<RelayUrl> {
    urls.iter()
        .filter_map(|t| RelayUrl::parse(t).ok())
        .collect()
}
