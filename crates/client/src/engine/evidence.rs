//! Where people write, from every source: the evidence the outbox planner
//! weighs besides NIP-65 lists, and the per-relay picture `samizdat person
//! --relays` shows.
//!
//! Sources, strongest first: the person's kind-10002 list (from discovery
//! relays and from their own relays; the store keeps the newest), the relays
//! their events were actually received from (`event_seen`), the legacy relay
//! map in their kind-3 content (only when they have no 10002), their NIP-05
//! document's `relays`, and hints (relay URLs in `p` / `e` / `a` / `q` tags
//! of other people's events, and in nprofile / nevent references the user
//! gave). Hints are recorded as given; here they are normalised and what is
//! not a usable relay URL is dropped.

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use samizdat_outbox::{Evidence, Source};
use samizdat_store::HintSource;
use serde::Serialize;

use crate::engine::{relay_list, Engine, EngineError};

const DAY: f64 = 86_400.0;

/// One piece of evidence that a person writes to a relay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelayEvidence {
    /// The relay (normalised URL).
    pub relay: String,
    /// `nip65` (their write list), `nip65-read` (their read list: where to
    /// reach them, not where they write), `seen`, `kind3`, `nip05`,
    /// `hint-tag`, `hint-reference`.
    pub source: &'static str,
    /// How old the evidence is, in days.
    pub age_days: f64,
    /// What exactly (e.g. "12 events received", "named 3 times").
    pub detail: String,
}

impl RelayEvidence {
    /// The planner's view of this evidence (`None` for the NIP-65 list,
    /// which the planner takes as a list, and for read relays).
    fn for_planner(&self) -> Option<Evidence> {
        let source = match self.source {
            "seen" => Source::Seen,
            "kind3" => Source::Kind3,
            "nip05" => Source::Nip05,
            "hint-tag" | "hint-reference" => Source::Hint,
            _ => return None,
        };
        Some(Evidence {
            url: self.relay.clone(),
            source,
            age_days: self.age_days,
        })
    }
}

/// What is known of one relay for one person.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRelay {
    /// The relay.
    pub relay: String,
    /// Every piece of evidence for it.
    pub evidence: Vec<RelayEvidence>,
    /// Times it was asked for this person's notes.
    pub asked: u32,
    /// Times it delivered some.
    pub delivered: u32,
    /// Whether the next sync would read this person from it.
    pub planned: bool,
    /// Whether the next sync would ask it about this person only to learn
    /// whether it has their events (exploration: no evidence yet).
    pub probed: bool,
    /// Whether the relay answers at all (from its connection record).
    pub reachable: bool,
}

/// Where one person writes, per relay, and whether their list is stale.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRelays {
    /// The person (hex).
    pub person: String,
    /// When their newest kind-10002 list was made (unix), if any.
    pub relay_list_at: Option<u64>,
    /// Their list names no usable write relay: reading rests on the rest.
    pub stale_list: bool,
    /// Per relay, strongest evidence first.
    pub relays: Vec<PersonRelay>,
}

fn age_days(now: u64, at: u64) -> f64 {
    now.saturating_sub(at) as f64 / DAY
}

/// The people among `people` not in `have`, in order.
pub(crate) fn missing_from(people: &[PublicKey], have: &BTreeSet<PublicKey>) -> Vec<PublicKey> {
    people
        .iter()
        .filter(|p| !have.contains(p))
        .copied()
        .collect()
}

/// Reads the legacy relay map of a kind-3 event's content:
/// `{"wss://…": {"read": true, "write": true}}`; the relays marked for
/// writing (or with no marks). Anything else in the content is ignored.
pub fn legacy_write_relays(content: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(content)
    else {
        return Vec::new();
    };
    map.iter()
        .filter(|(_, marks)| {
            marks
                .get("write")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true)
        })
        .filter_map(|(url, _)| RelayUrl::parse(url).ok().map(|u| u.to_string()))
        .collect()
}

impl Engine {
    /// Every piece of evidence about where `people` write, NIP-65 lists
    /// included, per person.
    pub fn relay_evidence(
        &self,
        people: &[PublicKey],
    ) -> Result<BTreeMap<PublicKey, Vec<RelayEvidence>>, EngineError> {
        let now = Timestamp::now().as_secs();
        let lists = self.store.query(&[Filter::new()
            .authors(people.iter().copied())
            .kind(Kind::RelayList)
            .limit(people.len().max(1))])?;
        let with_list: BTreeSet<PublicKey> = lists.iter().map(|e| e.pubkey).collect();
        let mut out = self.other_evidence(people, &with_list)?;
        for event in &lists {
            let list = relay_list(event);
            let age_days = age_days(now, event.created_at.as_secs());
            let mut items: Vec<RelayEvidence> = list
                .write
                .iter()
                .map(|url| (url, "nip65", "write relay"))
                .chain(
                    list.read
                        .iter()
                        .filter(|u| !list.write.contains(u))
                        .map(|url| (url, "nip65-read", "read relay")),
                )
                .map(|(url, source, detail)| RelayEvidence {
                    relay: url.clone(),
                    source,
                    age_days,
                    detail: detail.into(),
                })
                .collect();
            let mine = out.entry(event.pubkey).or_default();
            items.append(mine);
            *mine = items;
        }
        Ok(out)
    }

    /// The evidence besides NIP-65 lists: the kind-3 relay map of those not
    /// in `with_list`, where their events were seen, and hints.
    fn other_evidence(
        &self,
        people: &[PublicKey],
        with_list: &BTreeSet<PublicKey>,
    ) -> Result<BTreeMap<PublicKey, Vec<RelayEvidence>>, EngineError> {
        let now = Timestamp::now().as_secs();
        let mut out: BTreeMap<PublicKey, Vec<RelayEvidence>> = BTreeMap::new();
        let mut push = |who: PublicKey, relay: String, source, at: u64, detail: String| {
            out.entry(who).or_default().push(RelayEvidence {
                relay,
                source,
                age_days: age_days(now, at),
                detail,
            });
        };
        let without = missing_from(people, with_list);
        if !without.is_empty() {
            let contacts = self.store.query(&[Filter::new()
                .authors(without.iter().copied())
                .kind(Kind::ContactList)
                .limit(without.len())])?;
            for event in contacts {
                for url in legacy_write_relays(&event.content) {
                    let at = event.created_at.as_secs();
                    push(event.pubkey, url, "kind3", at, "legacy relay map".into());
                }
            }
        }
        for seen in self.store.seen_relays(people)? {
            if let Ok(url) = RelayUrl::parse(&seen.relay) {
                let detail = format!("{} events received", seen.events);
                push(seen.pubkey, url.to_string(), "seen", seen.last_seen, detail);
            }
        }
        for hint in self.store.relay_hints(people)? {
            let Ok(url) = RelayUrl::parse(&hint.relay) else {
                continue;
            };
            let source = match hint.source {
                HintSource::Tag => "hint-tag",
                HintSource::Reference => "hint-reference",
                HintSource::Nip05 => "nip05",
            };
            let detail = format!("named {} times", hint.count);
            push(hint.pubkey, url.to_string(), source, hint.last_at, detail);
        }
        Ok(out)
    }

    /// The evidence the planner weighs besides NIP-65 lists, per person
    /// (hex); `with_list` are the people whose lists the planner already has.
    pub(crate) fn planner_evidence(
        &self,
        people: &[PublicKey],
        with_list: &BTreeSet<PublicKey>,
    ) -> Result<BTreeMap<String, Vec<Evidence>>, EngineError> {
        Ok(self
            .other_evidence(people, with_list)?
            .into_iter()
            .map(|(who, items)| {
                let items: Vec<Evidence> = items
                    .iter()
                    .filter_map(RelayEvidence::for_planner)
                    .collect();
                (who.to_hex(), items)
            })
            .filter(|(_, items)| !items.is_empty())
            .collect())
    }

    /// Where `who` writes, per relay: evidence, delivery record, whether the
    /// plan for `follows` reads them there, and whether their list is stale.
    pub fn person_relays(
        &self,
        who: PublicKey,
        follows: &[PublicKey],
        own_read: &[RelayUrl],
    ) -> Result<PersonRelays, EngineError> {
        let mut people = follows.to_vec();
        if !people.contains(&who) {
            people.push(who);
        }
        let input = self.plan_input(&people, own_read)?;
        let plan = samizdat_outbox::plan_with(&input, self.config.algorithm);
        let hex = who.to_hex();
        let evidence = self
            .relay_evidence(&[who])?
            .remove(&who)
            .unwrap_or_default();
        let mut per_relay: BTreeMap<String, Vec<RelayEvidence>> = BTreeMap::new();
        for item in evidence {
            per_relay.entry(item.relay.clone()).or_default().push(item);
        }
        let probed = |relay: &str| plan.probes.get(relay).is_some_and(|p| p.contains(&hex));
        for relay in plan.probes.keys().filter(|r| probed(r)) {
            per_relay.entry(relay.clone()).or_default();
        }
        let mut relays: Vec<PersonRelay> = per_relay
            .into_iter()
            .map(|(relay, evidence)| {
                let record = input
                    .delivery
                    .get(&relay)
                    .and_then(|m| m.get(&hex))
                    .copied()
                    .unwrap_or_default();
                PersonRelay {
                    planned: plan
                        .assignments
                        .get(&relay)
                        .is_some_and(|p| p.contains(&hex)),
                    probed: probed(&relay),
                    reachable: input.relay_health.get(&relay).is_none_or(|h| h.reachable),
                    asked: record.asked,
                    delivered: record.delivered,
                    relay,
                    evidence,
                }
            })
            .collect();
        let rank = |r: &PersonRelay| {
            r.evidence
                .iter()
                .map(|e| source_rank(e.source))
                .min()
                .unwrap_or(u8::MAX)
        };
        relays.sort_by(|a, b| {
            b.planned
                .cmp(&a.planned)
                .then(rank(a).cmp(&rank(b)))
                .then(a.relay.cmp(&b.relay))
        });
        let relay_list_at = self
            .store
            .query(&[Filter::new().author(who).kind(Kind::RelayList).limit(1)])?
            .first()
            .map(|e| e.created_at.as_secs());
        Ok(PersonRelays {
            stale_list: samizdat_outbox::stale_lists(&input).contains(&hex),
            person: hex,
            relay_list_at,
            relays,
        })
    }
}

/// Someone whose relay list is stale, and what they are read from instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleFallback {
    /// The person (hex).
    pub person: String,
    /// Relays the plan reads them from, with the sources of the evidence
    /// for each (`seen`, `kind3`, `nip05`, `hint-tag`, …); empty: orphaned.
    pub read_from: Vec<(String, Vec<&'static str>)>,
}

impl Engine {
    /// For each person `plan` names as having a stale relay list: the
    /// relays it reads them from instead, and why those.
    pub fn stale_fallbacks(
        &self,
        plan: &samizdat_outbox::Plan,
    ) -> Result<Vec<StaleFallback>, EngineError> {
        let people: Vec<PublicKey> = plan
            .stale_lists
            .iter()
            .filter_map(|p| PublicKey::from_hex(p).ok())
            .collect();
        let mut evidence = self.relay_evidence(&people)?;
        Ok(people
            .iter()
            .map(|who| {
                let hex = who.to_hex();
                let items = evidence.remove(who).unwrap_or_default();
                let read_from = plan
                    .assignments
                    .iter()
                    .filter(|(_, p)| p.contains(&hex))
                    .map(|(url, _)| {
                        let mut sources: Vec<&'static str> = items
                            .iter()
                            .filter(|e| &e.relay == url)
                            .map(|e| e.source)
                            .collect();
                        sources.sort_by_key(|s| source_rank(s));
                        sources.dedup();
                        (url.clone(), sources)
                    })
                    .collect();
                StaleFallback {
                    person: hex,
                    read_from,
                }
            })
            .collect())
    }
}

/// Display order of sources: strongest first.
fn source_rank(source: &str) -> u8 {
    match source {
        "nip65" => 0,
        "seen" => 1,
        "kind3" => 2,
        "nip05" => 3,
        "hint-reference" => 4,
        "hint-tag" => 5,
        _ => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_relay_map_reads_write_relays_and_survives_junk() {
        let content = r#"{"wss://w.example":{"read":false,"write":true},
            "wss://r.example":{"read":true,"write":false},
            "wss://both.example":{},
            "not a url":{"write":true}}"#;
        let mut got = legacy_write_relays(content);
        got.sort();
        assert_eq!(got, vec!["wss://both.example", "wss://w.example"]);
        assert!(legacy_write_relays("").is_empty());
        assert!(legacy_write_relays("[1,2]").is_empty());
        assert!(legacy_write_relays("{\"wss://x.example\": 5}").len() == 1);
    }
}
