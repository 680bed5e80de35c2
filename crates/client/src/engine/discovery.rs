//! Asking the discovery relays for people's relay lists.
//!
//! A discovery relay is asked for every followed person's kind-10002 list,
//! so it learns the whole follow list: the one place where the outbox model
//! itself leaks everything. With an exposure cap set and several discovery
//! relays, the follow list is shared out instead: each discovery relay is
//! asked about its own share only (the ledger shows each learning about
//! 1/n of it). Someone whose list is not on their share's relay is looked up
//! again on the next sync from the store's copy and their relays' own
//! answers; a relay that fails leaves its share for the next sync rather
//! than telling another relay more than the cap allows.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use nostr::prelude::{Filter, Kind, PublicKey};
use samizdat_net::RelayUrl;

use crate::engine::{Engine, EngineError, RelayOutcome};

/// A group of discovery relays and the people they are asked about.
pub(crate) type Share = (Vec<RelayUrl>, Vec<PublicKey>);

/// Splits `people` over `discovery`: everyone to every relay without a
/// cap (or with one relay); with a cap, each relay its own share. People in
/// `order` (the follow list) are dealt out in key order among it, so a
/// lookup of one or two of them (whom a message goes to, whose page opens)
/// asks the relay whose share they are in when the whole list syncs, and
/// no relay learns more than its share over time; anyone else is dealt
/// out in key order among the others.
pub(crate) fn shares(
    discovery: &[RelayUrl],
    people: &[PublicKey],
    capped: bool,
    order: &[PublicKey],
) -> Vec<Share> {
    if !capped || discovery.len() < 2 {
        return vec![(discovery.to_vec(), people.to_vec())];
    }
    let order: BTreeSet<PublicKey> = order.iter().copied().collect();
    let mut out: Vec<Share> = discovery
        .iter()
        .map(|r| (vec![r.clone()], Vec::new()))
        .collect();
    let n = out.len();
    let wanted: BTreeSet<PublicKey> = people.iter().copied().collect();
    for (i, p) in order.iter().enumerate() {
        if wanted.contains(p) {
            out[i % n].1.push(*p);
        }
    }
    for (i, p) in wanted.difference(&order).enumerate() {
        out[i % n].1.push(*p);
    }
    out.retain(|(_, p)| !p.is_empty());
    out
}

impl Engine {
    /// `people` shared out over `discovery` as the exposure cap wants (see
    /// [`shares`]; the order is the user's follow list).
    pub(crate) fn discovery_shares(
        &self,
        discovery: &[RelayUrl],
        people: &[PublicKey],
    ) -> Result<Vec<Share>, EngineError> {
        let capped = self.config.max_exposure.is_some();
        let order = match self.me {
            Some(me) if capped => self.follows_of(me)?,
            _ => Vec::new(),
        };
        Ok(shares(discovery, people, capped, &order))
    }

    /// Fetches the relay lists of `people` (and, for those without one, the
    /// legacy relay map of their kind 3) from the discovery relays, shared
    /// out under an exposure cap; reports what each relay did.
    pub(crate) async fn fetch_relay_lists_from_discovery(
        &self,
        people: &[PublicKey],
    ) -> Result<BTreeMap<String, RelayOutcome>, EngineError> {
        if people.is_empty() {
            return Ok(BTreeMap::new());
        }
        let shares = self.discovery_shares(&self.config.discovery, people)?;
        let results = join_all(
            shares
                .iter()
                .map(|(relays, people)| self.lists_from(relays, people)),
        )
        .await;
        let mut outcomes = BTreeMap::new();
        for result in results {
            merge(&mut outcomes, result?);
        }
        Ok(outcomes)
    }

    /// One share: relay lists, then the kind-3 relay maps of those without.
    async fn lists_from(
        &self,
        relays: &[RelayUrl],
        people: &[PublicKey],
    ) -> Result<BTreeMap<String, RelayOutcome>, EngineError> {
        let lists = Filter::new()
            .authors(people.iter().copied())
            .kind(Kind::RelayList);
        let mut outcomes = self.fetch("relay-lists", relays, vec![lists]).await?;
        // People with no relay list may still have the legacy relay map in
        // their follow list (kind 3); the same relays were just asked about
        // the same people, so this tells them nothing new.
        let with_list: BTreeSet<PublicKey> = self
            .store
            .query(&[Filter::new()
                .authors(people.iter().copied())
                .kind(Kind::RelayList)
                .limit(people.len())])?
            .iter()
            .map(|e| e.pubkey)
            .collect();
        let without = crate::engine::evidence::missing_from(people, &with_list);
        if !without.is_empty() {
            let legacy = Filter::new()
                .authors(without.iter().copied())
                .kind(Kind::ContactList)
                .limit(without.len());
            let more = self.fetch("legacy-relays", relays, vec![legacy]).await?;
            merge(&mut outcomes, more);
        }
        Ok(outcomes)
    }
}

/// Adds `more` to `outcomes`, relay by relay.
fn merge(outcomes: &mut BTreeMap<String, RelayOutcome>, more: BTreeMap<String, RelayOutcome>) {
    for (relay, o) in more {
        match outcomes.get_mut(&relay) {
            None => {
                outcomes.insert(relay, o);
            }
            Some(total) => {
                total.events += o.events;
                total.finished &= o.finished;
                total.error = total.error.take().or(o.error);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::Keys;

    #[test]
    fn with_a_cap_each_discovery_relay_gets_its_own_share() {
        let relays: Vec<RelayUrl> = ["ws://127.0.0.1:1", "ws://127.0.0.1:2", "ws://127.0.0.1:3"]
            .iter()
            .map(|u| RelayUrl::parse(u).unwrap())
            .collect();
        let people: Vec<PublicKey> = (0..10).map(|_| Keys::generate().public_key()).collect();
        let open = shares(&relays, &people, false, &[]);
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].0.len(), open[0].1.len()), (3, 10));
        let split = shares(&relays, &people, true, &[]);
        assert_eq!(split.len(), 3);
        let mut everyone: Vec<PublicKey> = split.iter().flat_map(|(_, p)| p.clone()).collect();
        everyone.sort();
        let mut expected = people.clone();
        expected.sort();
        assert_eq!(everyone, expected, "everyone once");
        for (r, p) in &split {
            assert_eq!(r.len(), 1);
            assert!((3..=4).contains(&p.len()), "{}", p.len());
        }
        // One relay: nothing to split.
        assert_eq!(shares(&relays[..1], &people, true, &[])[0].1.len(), 10);

        // One person looked up alone goes where the whole list put them.
        for (relay, share) in &split {
            for p in share {
                let alone = shares(&relays, &[*p], true, &people);
                assert_eq!(alone, vec![(relay.clone(), vec![*p])]);
            }
        }
    }
}
