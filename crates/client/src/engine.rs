//! The read side of the engine: follow people, not relays.
//!
//! `sync` finds where each followed person writes (their kind-10002 relay
//! lists, fetched from discovery relays and kept in the store), asks the
//! outbox planner which relays to use under the connection cap, subscribes on
//! each relay only to the people assigned to it, and waits until every relay
//! has answered or given up. The feed is then a query on the local store.
//! Publishing, the durable queue and the event stream for UIs come with the
//! rest of issue 7.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook, Pool, PoolEvent, RelayUrl};
use samizdat_outbox::{Plan, PlanInput, Policy, RelayHealth, RelayList};
use samizdat_store::{Store, StoreError};
use serde::Serialize;
use tokio::sync::mpsc;

pub use crate::updates::{Alert, EngineUpdate};

/// How the engine reads.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Relays that index relay lists ("indexers").
    pub discovery: Vec<RelayUrl>,
    /// Relays to read from at most.
    pub max_connections: usize,
    /// Relays per followed person.
    pub per_person: usize,
    /// How far back to fetch notes.
    pub window: Duration,
    /// Notes asked per relay subscription at most.
    pub limit: usize,
    /// Longest wait for one phase (relay lists, then notes).
    pub phase_timeout: Duration,
    /// Network settings.
    pub net: NetConfig,
    /// First wait before retrying a failed delivery (doubles each attempt, at most an hour).
    pub retry_base: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            discovery: Vec::new(),
            max_connections: 20,
            per_person: 2,
            window: Duration::from_secs(7 * 24 * 3600),
            limit: 500,
            phase_timeout: Duration::from_secs(20),
            net: NetConfig::default(),
            retry_base: Duration::from_secs(30),
        }
    }
}

/// What happened at one relay during a sync.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelayOutcome {
    /// People it was asked about.
    pub asked: usize,
    /// New events it delivered.
    pub events: usize,
    /// People it delivered at least one event for.
    pub delivered_for: usize,
    /// Whether it finished (EOSE) before the timeout.
    pub finished: bool,
    /// The last connection error, if any.
    pub error: Option<String>,
}

/// The outbox picture after a sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The planner's answer.
    pub plan: Plan,
    /// Per relay: what it was asked and what it did.
    pub relays: BTreeMap<String, RelayOutcome>,
    /// Followed people with a relay list in the store.
    pub with_relay_list: usize,
    /// Followed people.
    pub follows: usize,
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The pool refused a relay.
    #[error(transparent)]
    Net(#[from] samizdat_net::NetError),
}

/// The engine over one store: reading, publishing, and a stream of updates.
pub struct Engine {
    pub(crate) store: Arc<Store>,
    pub(crate) config: EngineConfig,
    pub(crate) pool: Pool,
    events: mpsc::Receiver<PoolEvent>,
    pub(crate) updates: tokio::sync::broadcast::Sender<EngineUpdate>,
}

impl Engine {
    /// An engine over `store`.
    pub fn new(store: Arc<Store>, config: EngineConfig, policies: PolicyBook) -> Self {
        let (pool, events) = Pool::new(config.net.clone(), Arc::clone(&store), policies, None);
        let (updates, _) = tokio::sync::broadcast::channel(1_024);
        Self {
            store,
            config,
            pool,
            events,
            updates,
        }
    }

    /// Updates as they happen (new events, deliveries, failures, alerts). A
    /// UI subscribes once and redraws from them; a slow subscriber misses
    /// the oldest updates, never blocks the engine.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<EngineUpdate> {
        self.updates.subscribe()
    }

    pub(crate) fn announce(&self, update: EngineUpdate) {
        // No subscriber is fine.
        let _ = self.updates.send(update);
    }

    /// Fetches relay lists, plans, reads everyone followed from their relays.
    /// `progress` is told each phase and each relay that finishes.
    pub async fn sync(
        &mut self,
        follows: &[PublicKey],
        progress: impl Fn(&str),
    ) -> Result<SyncReport, EngineError> {
        let updates = self.updates.clone();
        let progress = move |msg: &str| {
            let _ = updates.send(EngineUpdate::Phase(msg.to_owned()));
            progress(msg);
        };
        // 1. Relay lists from the discovery relays.
        progress("fetching relay lists from discovery relays");
        let mut outcomes = BTreeMap::new();
        self.fetch_relay_lists_into(follows, &mut outcomes, &progress)
            .await?;

        // 2. Plan, read, and plan again around relays that turned out dead.
        let mut asked: BTreeSet<(String, String)> = BTreeSet::new();
        let mut plan = Plan::default();
        let mut with_relay_list = 0;
        for round in 1..=2 {
            progress(if round == 1 {
                "planning which relays to ask about whom"
            } else {
                "re-planning around relays that failed"
            });
            let input = self.plan_input(follows)?;
            with_relay_list = input.relay_lists.len();
            plan = samizdat_outbox::plan(&input);
            let sub = format!("follows-{round}");
            let (relays, assigned) = self.subscribe_plan(&plan, &sub, &mut asked, &mut outcomes)?;
            if relays.is_empty() {
                break;
            }
            progress(&format!(
                "reading {} people from {} relays",
                assigned.values().map(BTreeSet::len).sum::<usize>(),
                relays.len()
            ));
            let round_started = Timestamp::now().as_secs();
            self.wait_for_eose(&relays, &sub, &mut outcomes, &assigned, &progress)
                .await;
            self.record_delivery_history(&assigned, round_started)?;
            let failed = relays.iter().any(|r| {
                outcomes
                    .get(&r.to_string())
                    .is_some_and(|o| !o.finished && o.error.is_some())
            });
            if !failed {
                break;
            }
        }
        Ok(SyncReport {
            plan,
            relays: outcomes,
            with_relay_list,
            follows: follows.len(),
        })
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
            let outcomes: Vec<(PublicKey, bool)> =
                people.iter().map(|p| (*p, delivered.contains(p))).collect();
            self.store.record_asked(relay, &outcomes)?;
        }
        Ok(())
    }

    /// Subscribes each relay of the plan to the people assigned to it that it
    /// was not already asked about in this sync.
    #[allow(clippy::type_complexity)]
    fn subscribe_plan(
        &mut self,
        plan: &Plan,
        sub: &str,
        asked: &mut BTreeSet<(String, String)>,
        outcomes: &mut BTreeMap<String, RelayOutcome>,
    ) -> Result<(Vec<RelayUrl>, HashMap<String, BTreeSet<PublicKey>>), EngineError> {
        let since = Timestamp::from_secs(
            Timestamp::now()
                .as_secs()
                .saturating_sub(self.config.window.as_secs()),
        );
        let mut relays = Vec::new();
        let mut assigned: HashMap<String, BTreeSet<PublicKey>> = HashMap::new();
        for (url, people) in &plan.assignments {
            let Ok(relay) = RelayUrl::parse(url) else {
                continue;
            };
            let authors: BTreeSet<PublicKey> = people
                .iter()
                .filter(|p| asked.insert((url.clone(), (*p).clone())))
                .filter_map(|p| PublicKey::from_hex(p).ok())
                .collect();
            if authors.is_empty() {
                continue;
            }
            let filter = Filter::new()
                .authors(authors.iter().copied())
                .kinds([Kind::TextNote, Kind::Repost])
                .since(since)
                .limit(self.config.limit);
            self.pool.subscribe(&relay, sub, vec![filter])?;
            let o = outcomes.entry(relay.to_string()).or_default();
            o.asked += authors.len();
            o.finished = false;
            assigned.insert(relay.to_string(), authors);
            relays.push(relay);
        }
        Ok((relays, assigned))
    }

    /// Fetches the kind-10002 relay lists of `people` from the discovery relays into the store.
    pub async fn fetch_relay_lists(&mut self, people: &[PublicKey]) -> Result<(), EngineError> {
        self.fetch_relay_lists_into(people, &mut BTreeMap::new(), &|_| {})
            .await
    }

    async fn fetch_relay_lists_into(
        &mut self,
        people: &[PublicKey],
        outcomes: &mut BTreeMap<String, RelayOutcome>,
        progress: &impl Fn(&str),
    ) -> Result<(), EngineError> {
        let lists = Filter::new()
            .authors(people.iter().copied())
            .kind(Kind::RelayList);
        let discovery = self.config.discovery.clone();
        for relay in &discovery {
            self.pool
                .subscribe(relay, "relay-lists", vec![lists.clone()])?;
        }
        self.wait_for_eose(
            &discovery,
            "relay-lists",
            outcomes,
            &HashMap::new(),
            progress,
        )
        .await;
        for relay in &discovery {
            self.pool.unsubscribe(relay, "relay-lists")?;
        }
        Ok(())
    }

    /// Reads replies, mentions, reposts and reactions addressed to `me` from
    /// the user's read relays (their inbox) into the store.
    pub async fn sync_inbox(
        &mut self,
        me: PublicKey,
        read_relays: &[RelayUrl],
    ) -> Result<(), EngineError> {
        let filter = Filter::new()
            .pubkey(me)
            .kinds([Kind::TextNote, Kind::Repost, Kind::Reaction])
            .limit(self.config.limit);
        for relay in read_relays {
            self.pool.subscribe(relay, "inbox", vec![filter.clone()])?;
        }
        let mut outcomes = BTreeMap::new();
        self.wait_for_eose(
            read_relays,
            "inbox",
            &mut outcomes,
            &HashMap::new(),
            &|_| {},
        )
        .await;
        for relay in read_relays {
            self.pool.unsubscribe(relay, "inbox")?;
        }
        Ok(())
    }

    /// Replies, mentions, reposts and reactions addressed to `me`, newest
    /// first (the user's own events excluded).
    pub fn inbox_feed(&self, me: PublicKey, limit: usize) -> Result<Vec<Event>, EngineError> {
        let filter = Filter::new()
            .pubkey(me)
            .kinds([Kind::TextNote, Kind::Repost, Kind::Reaction])
            .limit(limit);
        Ok(self
            .store
            .query(&[filter])?
            .into_iter()
            .filter(|e| e.pubkey != me)
            .collect())
    }

    /// One stored event by id.
    pub fn event(&self, id: EventId) -> Result<Option<Event>, EngineError> {
        Ok(self
            .store
            .query(&[Filter::new().id(id)])?
            .into_iter()
            .next())
    }

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
        let lists = self.store.query(&[Filter::new()
            .authors(tagged.iter().copied())
            .kind(Kind::RelayList)
            .limit(tagged.len().max(1))])?;
        let mut input = PlanInput::default();
        for e in lists {
            input.relay_lists.insert(e.pubkey.to_hex(), relay_list(&e));
        }
        let own = RelayList {
            write: own_write.iter().map(|r| r.to_string()).collect(),
            read: Vec::new(),
        };
        let tagged_hex: Vec<String> = tagged.iter().map(|p| p.to_hex()).collect();
        let targets = samizdat_outbox::publish_targets(&input, &own, &tagged_hex, 2, 12);
        Ok(targets
            .iter()
            .filter_map(|t| RelayUrl::parse(t).ok())
            .collect())
    }

    /// Newest notes and reposts of the people followed.
    pub fn following_feed(
        &self,
        follows: &[PublicKey],
        limit: usize,
    ) -> Result<Vec<Event>, EngineError> {
        let filter = Filter::new()
            .authors(follows.iter().copied())
            .kinds([Kind::TextNote, Kind::Repost])
            .limit(limit);
        Ok(self.store.query(&[filter])?)
    }

    /// Closes every relay connection.
    pub async fn shutdown(&self) {
        self.pool.shutdown().await;
    }

    pub(crate) async fn wait_for_eose(
        &mut self,
        relays: &[RelayUrl],
        sub: &str,
        outcomes: &mut BTreeMap<String, RelayOutcome>,
        assigned: &HashMap<String, BTreeSet<PublicKey>>,
        progress: &impl Fn(&str),
    ) {
        let mut waiting: BTreeSet<String> = relays.iter().map(|r| r.to_string()).collect();
        let mut delivered: HashMap<String, BTreeSet<PublicKey>> = HashMap::new();
        let deadline = tokio::time::Instant::now() + self.config.phase_timeout;
        while !waiting.is_empty() {
            let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.events.recv()).await
            else {
                break;
            };
            match event {
                PoolEvent::Events {
                    relay,
                    sub: s,
                    events,
                } if s == sub => {
                    self.announce(EngineUpdate::NewEvents {
                        relay: relay.to_string(),
                        events: events.clone(),
                    });
                    let o = outcomes.entry(relay.to_string()).or_default();
                    o.events += events.len();
                    let d = delivered.entry(relay.to_string()).or_default();
                    d.extend(events.iter().map(|e| e.pubkey));
                }
                PoolEvent::Eose {
                    relay,
                    sub: s,
                    timed_out,
                } if s == sub => {
                    let key = relay.to_string();
                    outcomes.entry(key.clone()).or_default().finished = !timed_out;
                    if waiting.remove(&key) {
                        progress(&format!("{key} done"));
                    }
                }
                PoolEvent::Closed {
                    relay,
                    sub: s,
                    reason,
                } if s == sub => {
                    outcomes.entry(relay.to_string()).or_default().error =
                        Some(format!("closed: {reason}"));
                    waiting.remove(&relay.to_string());
                }
                PoolEvent::Disconnected { relay, error, .. } => {
                    let key = relay.to_string();
                    self.announce(EngineUpdate::RelayFailed {
                        relay: key.clone(),
                        error: error.clone(),
                    });
                    outcomes.entry(key.clone()).or_default().error = Some(error);
                    // An unreachable relay keeps retrying in the background;
                    // this sync does not wait for it.
                    if waiting.remove(&key) {
                        progress(&format!("{key} unreachable"));
                    }
                }
                PoolEvent::Denied { relay } => {
                    outcomes.entry(relay.to_string()).or_default().error =
                        Some("denied by policy".into());
                    waiting.remove(&relay.to_string());
                }
                _ => {}
            }
        }
        for (relay, people) in delivered {
            let count = assigned
                .get(&relay)
                .map_or(people.len(), |a| people.intersection(a).count());
            outcomes.entry(relay).or_default().delivered_for += count;
        }
    }

    /// The plan the next sync would use, from the store alone (no network):
    /// who is read from where, and who is orphaned and why.
    pub fn plan(&self, follows: &[PublicKey]) -> Result<Plan, EngineError> {
        Ok(samizdat_outbox::plan(&self.plan_input(follows)?))
    }

    /// What the planner needs, from the store.
    fn plan_input(&self, follows: &[PublicKey]) -> Result<PlanInput, EngineError> {
        let lists = self.store.query(&[Filter::new()
            .authors(follows.iter().copied())
            .kind(Kind::RelayList)
            .limit(follows.len().max(1))])?;
        let mut relay_lists = BTreeMap::new();
        let mut urls = BTreeSet::new();
        for event in lists {
            let list = relay_list(&event);
            urls.extend(list.write.iter().cloned());
            relay_lists.insert(event.pubkey.to_hex(), list);
        }
        let mut relay_health = BTreeMap::new();
        for url in urls {
            if let Some(stats) = self.store.relay_stats(&url)? {
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
        }
        let mut delivery = BTreeMap::new();
        for (relay, per_author) in self.store.delivery_history(follows)? {
            let m: BTreeMap<String, samizdat_outbox::Delivery> = per_author
                .into_iter()
                .map(|(p, (asked, delivered))| {
                    (p.to_hex(), samizdat_outbox::Delivery { asked, delivered })
                })
                .collect();
            delivery.insert(relay, m);
        }
        Ok(PlanInput {
            follows: follows.iter().map(|p| p.to_hex()).collect(),
            relay_lists,
            relay_health,
            delivery,
            policy: Policy {
                max_connections: self.config.max_connections,
                per_person: self.config.per_person,
                ..Policy::default()
            },
            ..PlanInput::default()
        })
    }
}

/// Reads a kind-10002 event: `r` tags, marker `read`, `write` or none (both).
pub fn relay_list(event: &Event) -> RelayList {
    let mut list = RelayList::default();
    for tag in event.tags.iter() {
        let s = tag.as_slice();
        if s.first().map(String::as_str) != Some("r") {
            continue;
        }
        let Some(url) = s.get(1).and_then(|u| RelayUrl::parse(u).ok()) else {
            continue;
        };
        match s.get(2).map(String::as_str) {
            Some("read") => list.read.push(url.to_string()),
            Some("write") => list.write.push(url.to_string()),
            _ => {
                list.read.push(url.to_string());
                list.write.push(url.to_string());
            }
        }
    }
    list
}
