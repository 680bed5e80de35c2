//! The read path: follow people, not relays.
//!
//! `sync` finds where each followed person writes (their kind-10002 relay
//! lists, fetched from discovery relays and kept in the store), asks the
//! outbox planner which relays to use under the connection cap, subscribes on
//! each relay only to the people assigned to it, and waits until every relay
//! has answered or given up; relays that failed are planned around at once.
//! The subscriptions stay open afterwards (the live `feed`), so new notes
//! keep arriving; the next sync replaces them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use samizdat_outbox::{Plan, PlanInput, Policy, RelayHealth};
use serde::Serialize;

use crate::engine::{relay_list, Engine, EngineError, EngineUpdate, RelayOutcome};

/// The live subscription id for the following feed.
pub(crate) const FEED_SUB: &str = "feed";

/// The outbox picture after a sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The planner's answer.
    pub plan: Plan,
    /// Per relay: what it was asked and what it did.
    pub relays: BTreeMap<String, RelayOutcome>,
    /// Relay → every followed person (hex) this sync asked it about, over
    /// all its rounds: the final plan's assignments and probes plus what an
    /// earlier round asked (a probe that found nothing is not in the final
    /// plan, but the relay learned of it). Equals what the privacy ledger
    /// records for this sync.
    pub asked: BTreeMap<String, Vec<String>>,
    /// Followed people with a relay list in the store.
    pub with_relay_list: usize,
    /// Followed people.
    pub follows: usize,
}

/// What one sync has done so far, over its rounds.
#[derive(Default)]
struct Reading {
    /// (relay, person) pairs asked about in this sync.
    asked: BTreeSet<(String, String)>,
    /// Relay → everyone its live feed subscription covers.
    live: HashMap<RelayUrl, BTreeSet<PublicKey>>,
    /// The latest round's plan.
    plan: Plan,
    /// Followed people with a relay list, at the latest plan.
    with_relay_list: usize,
    /// Per relay: what it was asked and did.
    outcomes: BTreeMap<String, RelayOutcome>,
}

impl Engine {
    /// Fetches relay lists, plans, reads everyone followed from their relays,
    /// and leaves those subscriptions open. `own_read` are the user's read
    /// relays: with the discovery relays, where people with no relay list
    /// are read. `progress` is told each phase and each relay that finishes
    /// (the update stream hears the phases too).
    pub async fn sync(
        &self,
        follows: &[PublicKey],
        own_read: &[RelayUrl],
        progress: impl Fn(&str) + Sync,
    ) -> Result<SyncReport, EngineError> {
        let updates = self.updates.clone();
        let progress = move |msg: &str| {
            let _ = updates.send(EngineUpdate::Phase(msg.to_owned()));
            progress(msg);
        };
        // 1. Relay lists from the discovery relays, and beside them what the
        // trusted NIP-66 monitors say is dead (a failure there costs only
        // the skipping of dead relays).
        progress("fetching relay lists from discovery relays");
        let refresh = async {
            let (lists, liveness) = tokio::join!(
                self.fetch_relay_lists_from_discovery(follows),
                self.fetch_liveness()
            );
            if let Err(e) = liveness {
                tracing::debug!(error = %e, "NIP-66 liveness reports not fetched");
            }
            lists
        };
        let mut reading = Reading::default();
        // 2. Plan, read, and plan again around relays that turned out dead
        // or people whose newer relay list turned up. A returning user's
        // store already holds the lists: the notes phase starts from them
        // at once, while the discovery refresh runs beside it.
        let warm = !self.relay_lists_of(follows)?.is_empty();
        let (failed, planned_from) = if warm {
            let (lists, first) = tokio::join!(
                refresh,
                self.read_round(follows, own_read, 1, &mut reading, &progress)
            );
            for (relay, outcome) in lists? {
                reading.outcomes.entry(relay).or_insert(outcome);
            }
            first?
        } else {
            reading.outcomes = refresh.await?;
            self.read_round(follows, own_read, 1, &mut reading, &progress)
                .await?
        };
        // A warm start's first round ran before the refresh: one more round
        // lets a list the refresh brought lead to a newer one on the
        // person's own relays, as a cold start's two rounds do.
        let last_round = if warm { 3 } else { 2 };
        let mut again = failed || self.relay_lists_of(follows)? != planned_from;
        let mut round = 2;
        while again && round <= last_round {
            let (failed, planned_from) = self
                .read_round(follows, own_read, round, &mut reading, &progress)
                .await?;
            again = failed || self.relay_lists_of(follows)? != planned_from;
            round += 1;
        }
        let Reading {
            asked,
            live,
            plan,
            with_relay_list,
            outcomes,
        } = reading;
        self.replace_live_feed(live)?;
        // Events that arrived but could not be kept make the sync a failure:
        // the user must not read "done" over a feed with holes in it.
        let not_stored: usize = outcomes
            .values()
            .filter_map(|o| o.not_stored.as_ref())
            .map(|(n, _)| n)
            .sum();
        if let Some((_, error)) = outcomes.values().find_map(|o| o.not_stored.as_ref()) {
            return Err(EngineError::NotStored {
                events: not_stored,
                error: error.clone(),
            });
        }
        let mut asked_by_relay: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (relay, person) in asked {
            asked_by_relay.entry(relay).or_default().push(person);
        }
        Ok(SyncReport {
            plan,
            asked: asked_by_relay,
            relays: outcomes,
            with_relay_list,
            follows: follows.len(),
        })
    }

    /// One round of the notes phase: plan from the store, subscribe each
    /// relay to the people it was not yet asked about in this sync, wait
    /// for its EOSE. Answers whether a relay failed, and the relay lists
    /// the plan was made from (a newer one found since means another round).
    async fn read_round(
        &self,
        follows: &[PublicKey],
        own_read: &[RelayUrl],
        round: usize,
        reading: &mut Reading,
        progress: &(impl Fn(&str) + Sync),
    ) -> Result<(bool, BTreeMap<String, samizdat_outbox::RelayList>), EngineError> {
        progress(if round == 1 {
            "planning which relays to ask about whom"
        } else {
            "re-planning around failed relays and newer relay lists"
        });
        let input = self.plan_input(follows, own_read)?;
        reading.with_relay_list = input.relay_lists.len();
        reading.plan = samizdat_outbox::plan_with(&input, self.config.algorithm);
        let rx = self.listen();
        let (relays, assigned) = self.subscribe_plan(
            &reading.plan,
            &mut reading.asked,
            &mut reading.live,
            &mut reading.outcomes,
        )?;
        if relays.is_empty() {
            return Ok((false, input.relay_lists));
        }
        progress(&format!(
            "reading {} people from {} relays",
            assigned.values().map(BTreeSet::len).sum::<usize>(),
            relays.len()
        ));
        let round_started = Timestamp::now().as_secs();
        self.wait_for_eose(
            rx,
            &relays,
            FEED_SUB,
            &mut reading.outcomes,
            &assigned,
            progress,
        )
        .await;
        self.record_delivery_history(&assigned, round_started)?;
        for (relay, people) in &assigned {
            if let Ok(url) = RelayUrl::parse(relay) {
                let people: Vec<String> = people.iter().map(|p| p.to_hex()).collect();
                self.learned_asked(&[url], &reading.outcomes, &people)?;
            }
        }
        let failed = relays.iter().any(|r| {
            reading
                .outcomes
                .get(&r.to_string())
                .is_some_and(|o| !o.finished && o.error.is_some())
        });
        Ok((failed, input.relay_lists))
    }

    /// Closes the live feed on relays the new plan no longer uses.
    fn replace_live_feed(
        &self,
        new: HashMap<RelayUrl, BTreeSet<PublicKey>>,
    ) -> Result<(), EngineError> {
        let old = match self.live.lock() {
            Ok(mut live) => std::mem::replace(&mut *live, new.clone()),
            Err(_) => HashMap::new(),
        };
        for relay in old.keys().filter(|r| !new.contains_key(*r)) {
            self.pool.unsubscribe(relay, FEED_SUB)?;
        }
        Ok(())
    }

    /// Relays the live feed is open on, with the people each is asked about.
    pub fn live_feed(&self) -> HashMap<RelayUrl, BTreeSet<PublicKey>> {
        self.live.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Remembers, per relay and person asked, whether the relay delivered
    /// anything (new or known events): the planner learns from it next time.
    fn record_delivery_history(
        &self,
        assigned: &HashMap<String, BTreeSet<PublicKey>>,
        since: u64,
    ) -> Result<(), EngineError> {
        for (relay, people) in assigned {
            let people: Vec<PublicKey> = people.iter().copied().collect();
            let delivered = self.store.delivered_since(relay, &people, since)?;
            let outcomes: Vec<(PublicKey, u32)> = people
                .iter()
                .map(|p| (*p, delivered.get(p).copied().unwrap_or(0)))
                .collect();
            self.store.record_asked(relay, &outcomes)?;
        }
        Ok(())
    }

    /// Subscribes each relay of the plan to the people it is asked about
    /// (assigned or probed) that it was not already asked about in this sync
    /// (the relay's `feed` subscription grows to cover everyone it is asked
    /// about).
    #[allow(clippy::type_complexity)]
    fn subscribe_plan(
        &self,
        plan: &Plan,
        asked: &mut BTreeSet<(String, String)>,
        live: &mut HashMap<RelayUrl, BTreeSet<PublicKey>>,
        outcomes: &mut BTreeMap<String, RelayOutcome>,
    ) -> Result<(Vec<RelayUrl>, HashMap<String, BTreeSet<PublicKey>>), EngineError> {
        let since = Timestamp::from_secs(
            Timestamp::now()
                .as_secs()
                .saturating_sub(self.config.window.as_secs()),
        );
        let mut relays = Vec::new();
        let mut assigned: HashMap<String, BTreeSet<PublicKey>> = HashMap::new();
        for (url, people) in plan.asked() {
            let Ok(relay) = RelayUrl::parse(url) else {
                continue;
            };
            let authors: BTreeSet<PublicKey> = people
                .iter()
                .filter(|p| asked.insert((url.to_owned(), (**p).to_owned())))
                .filter_map(|p| PublicKey::from_hex(p).ok())
                .collect();
            if authors.is_empty() {
                continue;
            }
            let everyone = live.entry(relay.clone()).or_default();
            everyone.extend(authors.iter().copied());
            let filter = Filter::new()
                .authors(everyone.iter().copied())
                .kinds([Kind::TextNote, Kind::Repost])
                .since(since)
                .limit(self.config.limit);
            // The same people's relay lists, from the same relay (no one
            // else learns anything): a list kept only on the person's own
            // relays, or newer there, is found this way.
            let lists = Filter::new()
                .authors(everyone.iter().copied())
                .kind(Kind::RelayList);
            let mut filters = vec![filter, lists];
            filters.extend(self.trust_list_filters(&relay, everyone));
            self.send_req(&relay, FEED_SUB, filters)?;
            let o = outcomes.entry(relay.to_string()).or_default();
            o.asked += authors.len();
            o.finished = false;
            assigned.insert(relay.to_string(), authors);
            relays.push(relay);
        }
        Ok((relays, assigned))
    }

    /// The follow lists (kind 3) and mute lists (kind 10000) of the people a
    /// relay's `feed` reads, asked in the same REQ: the web of trust's input,
    /// from the same relay about the same people, so the relay learns no one
    /// new. People whose lists this relay was asked for before in this run
    /// are asked only for copies made since (less an hour's slack).
    fn trust_list_filters(&self, relay: &RelayUrl, everyone: &BTreeSet<PublicKey>) -> Vec<Filter> {
        const SLACK_SECS: u64 = 3600;
        // Their Blossom server lists (kind 10063) ride along: same people, same relays.
        let kinds = [Kind::ContactList, Kind::MuteList, Kind::Custom(10063)];
        let mut asked = self
            .trust_lists_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let now = Timestamp::now();
        let (before, known) = asked
            .get(relay)
            .map(|(at, who)| (Some(*at), who.clone()))
            .unwrap_or_default();
        let (old, new): (Vec<PublicKey>, Vec<PublicKey>) =
            everyone.iter().partition(|p| known.contains(p));
        let mut filters = Vec::new();
        if !new.is_empty() {
            filters.push(Filter::new().authors(new).kinds(kinds));
        }
        if let (false, Some(at)) = (old.is_empty(), before) {
            filters.push(
                Filter::new()
                    .authors(old)
                    .kinds(kinds)
                    .since(Timestamp::from_secs(
                        at.as_secs().saturating_sub(SLACK_SECS),
                    )),
            );
        }
        asked.insert(relay.clone(), (now, everyone.clone()));
        filters
    }

    /// The plan the next sync would use, from the store alone (no network):
    /// who is read from where, and who is orphaned and why.
    pub fn plan(&self, follows: &[PublicKey], own_read: &[RelayUrl]) -> Result<Plan, EngineError> {
        let t = std::time::Instant::now();
        let input = self.plan_input(follows, own_read)?;
        let t_input = t.elapsed();
        let plan = samizdat_outbox::plan_with(&input, self.config.algorithm);
        tracing::debug!(
            input_ms = t_input.as_secs_f64() * 1e3,
            plan_ms = (t.elapsed() - t_input).as_secs_f64() * 1e3,
            "planned"
        );
        Ok(plan)
    }

    /// The newest relay list of each of `people` in the store, by person (hex).
    fn relay_lists_of(
        &self,
        people: &[PublicKey],
    ) -> Result<BTreeMap<String, samizdat_outbox::RelayList>, EngineError> {
        let lists = self.store.query(&[Filter::new()
            .authors(people.iter().copied())
            .kind(Kind::RelayList)
            .limit(people.len().max(1))])?;
        Ok(lists
            .iter()
            .map(|e| (e.pubkey.to_hex(), relay_list(e)))
            .collect())
    }

    /// What the planner needs, from the store; `own_read` and the discovery
    /// relays are the relays in use anyway.
    pub(crate) fn plan_input(
        &self,
        follows: &[PublicKey],
        own_read: &[RelayUrl],
    ) -> Result<PlanInput, EngineError> {
        let mut in_use: Vec<String> = Vec::new();
        for url in own_read.iter().chain(&self.config.discovery) {
            let url = url.to_string();
            if !in_use.contains(&url) {
                in_use.push(url);
            }
        }
        let relay_lists = self.relay_lists_of(follows)?;
        let mut urls: BTreeSet<String> = relay_lists
            .values()
            .flat_map(|l| l.write.iter().cloned())
            .collect();
        let with_list: BTreeSet<PublicKey> = relay_lists
            .keys()
            .filter_map(|p| PublicKey::from_hex(p).ok())
            .collect();
        let evidence = self.planner_evidence(follows, &with_list)?;
        urls.extend(evidence.values().flatten().map(|e| e.url.clone()));
        urls.extend(in_use.iter().cloned());
        let mut relay_health = BTreeMap::new();
        let urls: Vec<String> = urls.into_iter().collect();
        let reports = self.liveness(&urls).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "NIP-66 liveness not read");
            BTreeMap::new()
        });
        for url in urls {
            // This client's own connections first; only a relay it never
            // tried is judged by what the monitors report.
            match self.store.relay_stats(&url)?.filter(|s| s.attempts > 0) {
                Some(stats) => {
                    let last_failed = stats.last_attempt_at.is_some()
                        && stats.last_attempt_at != stats.last_success_at;
                    relay_health.insert(
                        url,
                        RelayHealth {
                            reachable: !(last_failed && stats.successes == 0),
                            success_rate: stats.success_rate(),
                        },
                    );
                }
                None if reports
                    .get(&url)
                    .is_some_and(|r| r.state == crate::engine::liveness::Reported::Dead) =>
                {
                    relay_health.insert(
                        url,
                        RelayHealth {
                            reachable: false,
                            success_rate: 0.0,
                        },
                    );
                }
                None => {}
            }
        }
        let mut delivery = BTreeMap::new();
        let volume = self.store.delivery_volume(follows)?;
        for (relay, per_author) in self.store.delivery_history(follows)? {
            let events_of = volume.get(&relay);
            let m: BTreeMap<String, samizdat_outbox::Delivery> = per_author
                .into_iter()
                .map(|(p, (asked, delivered))| {
                    let events = events_of.and_then(|v| v.get(&p)).copied().unwrap_or(0);
                    (
                        p.to_hex(),
                        samizdat_outbox::Delivery {
                            asked,
                            delivered,
                            events,
                        },
                    )
                })
                .collect();
            delivery.insert(relay, m);
        }
        Ok(PlanInput {
            follows: follows.iter().map(|p| p.to_hex()).collect(),
            relay_lists,
            evidence,
            relay_health,
            delivery,
            relay_depth: BTreeMap::new(),
            // Only a cap needs it (a read of the whole ledger).
            known: if self.config.max_exposure.is_some() {
                self.known_from_ledger()?
            } else {
                BTreeMap::new()
            },
            in_use,
            policy: Policy {
                max_connections: self.config.max_connections,
                per_person: self.config.per_person,
                max_exposure: self.config.max_exposure,
                explore: self.config.explore,
                ..Policy::default()
            },
        })
    }
}
