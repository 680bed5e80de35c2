//! What a UI reads besides the feeds: names and profiles of people, local
//! full-text search, where each own event was delivered, the coverage
//! picture and relay health. All of it comes from the store (no network);
//! `Engine::fetch_profiles` refreshes people's kind-0 profiles.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use nostr::prelude::*;
use samizdat_outbox::Plan;
use samizdat_store::{QueuedEvent, RelayStats};
use serde_json::{Map, Value};

use crate::base::content::short_npub;
use crate::session::hints::StrangerRelays;
use crate::session::trust::{Screened, Surface};
use crate::session::{own_and_discovery, Session, SessionError};

/// A person's profile as a UI shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonProfile {
    /// `display_name`, else `name`, else a short npub.
    pub name: String,
    /// `about`.
    pub about: String,
    /// The NIP-05 identifier they claim (not yet verified here).
    pub nip05: Option<String>,
    /// `picture` URL (never fetched unless the user opts in).
    pub picture: Option<String>,
    /// Whether a kind-0 profile is in the store at all.
    pub known: bool,
}

/// The name a profile's fields give, if any.
fn name_in(fields: &Map<String, Value>) -> Option<String> {
    ["display_name", "name"]
        .iter()
        .filter_map(|k| fields.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .find(|n| !n.is_empty())
        .map(|n| n.chars().take(64).collect())
}

fn profile_from(pubkey: &PublicKey, event: Option<&Event>) -> PersonProfile {
    let fields: Map<String, Value> = event
        .and_then(|e| serde_json::from_str(&e.content).ok())
        .unwrap_or_default();
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
    };
    PersonProfile {
        name: name_in(&fields).unwrap_or_else(|| short_npub(pubkey)),
        about: text("about").unwrap_or_default(),
        nip05: text("nip05"),
        picture: text("picture"),
        known: event.is_some(),
    }
}

impl Session {
    /// Display names of `people` from their profiles in the store (a short
    /// npub for anyone without one). One query for all of them.
    pub fn names(&self, people: &[PublicKey]) -> Result<HashMap<PublicKey, String>, SessionError> {
        let unique: BTreeSet<PublicKey> = people.iter().copied().collect();
        let mut names: HashMap<PublicKey, String> =
            unique.iter().map(|p| (*p, short_npub(p))).collect();
        if unique.is_empty() {
            return Ok(names);
        }
        let profiles = self.engine.store().query(&[Filter::new()
            .authors(unique.iter().copied())
            .kind(Kind::Metadata)
            .limit(unique.len())])?;
        for e in profiles {
            let fields: Map<String, Value> = serde_json::from_str(&e.content).unwrap_or_default();
            if let Some(n) = name_in(&fields) {
                names.insert(e.pubkey, n);
            }
        }
        Ok(names)
    }

    /// Fetches the kind-0 profiles of `people` (for names of people not on
    /// the live feed: DM partners, strangers in a thread) where
    /// [`Session::lookup_asks`] says, and from each person's write relays; a stranger's own relays
    /// only through the proxy (see [`Session::vet_relays`]).
    pub async fn fetch_profiles_of(&self, people: &[PublicKey]) -> Result<(), SessionError> {
        if people.is_empty() {
            return Ok(());
        }
        let mut asks = self.lookup_asks(people)?;
        for p in people {
            let named: Vec<_> = self
                .engine
                .write_relays_of(*p)?
                .into_iter()
                .map(|r| (r, *p))
                .collect();
            for relay in self.vet_relays(named, StrangerRelays::ProxyOnly)?.relays {
                asks.entry(relay).or_default().insert(*p);
            }
        }
        self.engine
            .fetch_each("profiles-of", &asks, |who| {
                Filter::new()
                    .authors(who.iter().copied())
                    .kind(Kind::Metadata)
                    .limit(who.len())
            })
            .await?;
        self.forget_names_index();
        Ok(())
    }

    /// Where to look a few people up (their DM relays, their names): the
    /// user's relays, which under an exposure cap are asked only about the
    /// user, and the discovery relays, under a cap each about its share
    /// (the one the whole follow list's sync asks).
    pub(crate) fn lookup_asks(
        &self,
        people: &[PublicKey],
    ) -> Result<BTreeMap<samizdat_net::RelayUrl, BTreeSet<PublicKey>>, SessionError> {
        let settings = self.settings();
        let capped = self.engine.config().max_exposure.is_some();
        let mut asks: BTreeMap<samizdat_net::RelayUrl, BTreeSet<PublicKey>> = BTreeMap::new();
        for relay in settings.relays.keys() {
            if let Ok(relay) = samizdat_net::RelayUrl::parse(relay) {
                let who = asks.entry(relay).or_default();
                who.extend(people.iter().filter(|p| !capped || **p == self.me));
            }
        }
        let discovery = settings.discovery_relays();
        for (relays, share) in self.engine.discovery_shares(&discovery, people)? {
            for relay in relays {
                asks.entry(relay).or_default().extend(share.iter().copied());
            }
        }
        Ok(asks)
    }

    /// Records `hints` (an nprofile's relays, a NIP-05 document's) as
    /// evidence of where `who` writes, and fetches their relay list (kind
    /// 10002) and profile from there: for people whose list is on no
    /// discovery relay. Unusable URLs are skipped; so are the hinted relays
    /// of someone the user does not follow when there is no proxy (each
    /// returned with why: a hint is not a beacon).
    pub async fn fetch_relay_list_from(
        &self,
        who: PublicKey,
        hints: &[String],
        source: samizdat_store::HintSource,
    ) -> Result<Vec<(String, String)>, SessionError> {
        self.engine
            .store()
            .record_relay_hints(&who, hints, source)?;
        let named: Vec<_> = hints
            .iter()
            .filter_map(|h| samizdat_net::RelayUrl::parse(h).ok())
            .map(|r| (r, who))
            .collect();
        let vetted = self.vet_relays(named, StrangerRelays::ProxyOnly)?;
        if vetted.relays.is_empty() {
            return Ok(vetted.skipped);
        }
        let filter = Filter::new()
            .author(who)
            .kinds([Kind::RelayList, Kind::Metadata]);
        self.engine
            .fetch("hinted", &vetted.relays, vec![filter])
            .await?;
        Ok(vetted.skipped)
    }

    /// Where `who` writes, per relay: every piece of evidence with its age,
    /// the relay's delivery record for them, and whether the plan reads
    /// them there; their relay list is fetched from the discovery relays
    /// first.
    pub async fn person_relays(
        &self,
        who: PublicKey,
    ) -> Result<crate::engine::evidence::PersonRelays, SessionError> {
        self.engine.fetch_relay_lists(&[who]).await?;
        Ok(self
            .engine
            .person_relays(who, &self.follows()?, &self.own_read_relays())?)
    }

    /// One person's profile from the store.
    pub fn profile_of(&self, who: PublicKey) -> Result<PersonProfile, SessionError> {
        let found = self
            .engine
            .store()
            .query(&[Filter::new().author(who).kind(Kind::Metadata).limit(1)])?;
        Ok(profile_from(&who, found.first()))
    }

    /// Notes in the local store matching `text` (NIP-50 words, FTS5),
    /// newest first, without those from people below the search threshold
    /// (see [`Session::search_screened`]). Nothing is sent to any relay.
    pub fn search_local(&self, text: &str, limit: usize) -> Result<Vec<Event>, SessionError> {
        Ok(self.search_screened(text, limit)?.shown)
    }

    /// Local search results split by the web of trust: shown, and hidden as
    /// from people outside the user's network (mutes removed from both).
    pub fn search_screened(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Screened<Event>, SessionError> {
        if text.trim().is_empty() {
            return Ok(Screened::default());
        }
        let found = self.without_muted(
            self.engine.store().query(&[Filter::new()
                .kinds([Kind::TextNote])
                .search(text)
                .limit(limit)])?,
        );
        self.screen(Surface::Search, found, |e| e.pubkey)
    }

    /// Per own event, where it was delivered (newest `limit` events).
    pub fn deliveries(&self, limit: usize) -> Result<HashMap<EventId, QueuedEvent>, SessionError> {
        Ok(self
            .publish_status(limit)?
            .into_iter()
            .map(|q| (q.event.id, q))
            .collect())
    }

    /// The coverage picture the next sync would use: who is read from
    /// where, who is orphaned and why (from the store).
    pub fn coverage(&self) -> Result<(Plan, usize), SessionError> {
        let follows = self.follows()?;
        Ok((
            self.engine.plan(&follows, &self.own_read_relays())?,
            follows.len(),
        ))
    }

    /// Relays followed people list that the trusted NIP-66 monitors report
    /// dead and this profile never tried, so the planner skips them (from
    /// the store).
    pub fn skipped_as_dead(
        &self,
    ) -> Result<Vec<(String, crate::engine::liveness::MonitorReport)>, SessionError> {
        Ok(self
            .engine
            .skipped_as_dead(&self.follows()?, &self.own_read_relays())?)
    }

    /// What the store knows of each relay this profile uses or reads from:
    /// its own relays, the discovery relays and the relays of the plan.
    pub fn relay_health(&self) -> Result<Vec<RelayStats>, SessionError> {
        let mut urls: BTreeSet<String> = own_and_discovery(&self.settings())
            .iter()
            .map(|u| u.to_string())
            .collect();
        urls.extend(self.engine.live_feed().keys().map(|u| u.to_string()));
        let mut out = Vec::new();
        for url in urls {
            let stats = self.engine.store().relay_stats(&url)?;
            out.push(stats.unwrap_or(RelayStats {
                url,
                ..RelayStats::default()
            }));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_prefer_display_name_and_fall_back_to_npub() {
        let k = Keys::generate();
        let e = EventBuilder::new(Kind::Metadata, r#"{"name":"al","display_name":" Alice "}"#)
            .finalize(&k)
            .unwrap();
        let p = profile_from(&k.public_key(), Some(&e));
        assert_eq!(p.name, "Alice");
        assert!(p.known);
        let junk = EventBuilder::new(Kind::Metadata, "not json")
            .finalize(&k)
            .unwrap();
        let p = profile_from(&k.public_key(), Some(&junk));
        assert!(p.name.starts_with("npub1"), "{}", p.name);
        assert_eq!(p.about, "");
    }
}
