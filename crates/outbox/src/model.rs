//! What the planner is told and what it answers. Public keys and relay URLs
//! are plain strings (hex and normalised URLs): the planner never parses
//! them, so it has no protocol dependency and no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A person's NIP-65 relay list (kind 10002).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelayList {
    /// Relays they write to (their outbox): where to read them.
    pub write: Vec<String>,
    /// Relays they read from (their inbox): where to reach them.
    pub read: Vec<String>,
}

/// Where a piece of evidence about a person's relays came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Legacy relay list in the kind-3 content.
    Kind3,
    /// The `relays` of their NIP-05 document.
    Nip05,
    /// A hint in a tag, an nprofile or an nevent.
    Hint,
    /// Their events were actually received from this relay.
    Seen,
}

impl Source {
    /// How much a piece of evidence from this source says, before age.
    pub fn weight(self) -> f64 {
        match self {
            Source::Seen => 0.8,
            Source::Kind3 => 0.5,
            Source::Nip05 => 0.45,
            Source::Hint => 0.3,
        }
    }
}

/// One piece of evidence besides the NIP-65 list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The relay.
    pub url: String,
    /// Where the evidence came from.
    pub source: Source,
    /// Its age in days (older evidence counts less).
    #[serde(default)]
    pub age_days: f64,
}

/// What is known of a relay's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelayHealth {
    /// False when the relay is known to be down (or in the penalty box).
    pub reachable: bool,
    /// Share of recent attempts that succeeded, 0 to 1.
    pub success_rate: f64,
}

impl Default for RelayHealth {
    fn default() -> Self {
        Self {
            reachable: true,
            success_rate: 1.0,
        }
    }
}

/// How often a relay was asked for a person and delivered something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivery {
    /// Times the relay was asked for this person.
    pub asked: u32,
    /// Times it delivered at least one of their events.
    pub delivered: u32,
    /// How many of their events it returned the last time it was asked (0:
    /// unknown): relays that keep more of someone's history are worth more.
    pub events: u32,
}

/// The user's rules for relay selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Most relays to connect to for reading.
    pub max_connections: usize,
    /// Relays wanted per followed person.
    pub per_person: usize,
    /// Relays never to use.
    pub denied: BTreeSet<String>,
    /// Relays always used (they count toward the cap).
    pub always: Vec<String>,
    /// Seed for the randomised parts (Thompson sampling); same seed and input,
    /// same plan.
    pub seed: u64,
    /// The largest share of the follow list any one relay may be asked
    /// about (privacy: no relay learns more than this); `None`: no cap.
    pub max_exposure: Option<f64>,
    /// Ask relays already connected about people they have no evidence
    /// for, within the exposure cap, to learn where those people write
    /// (`Plan::probes`). Costs privacy (more relays learn of more follows)
    /// and buys recall; on by default.
    #[serde(default = "yes")]
    pub explore: bool,
    /// The fewest people the exposure cap lets one relay be asked about
    /// (default [`CAP_FLOOR`]; the planner's own tests set 1 to see the
    /// cap's share at work on small inputs).
    #[serde(default = "cap_floor")]
    pub cap_floor: usize,
}

fn yes() -> bool {
    true
}

fn cap_floor() -> usize {
    CAP_FLOOR
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_connections: 20,
            per_person: 2,
            denied: BTreeSet::new(),
            always: Vec::new(),
            seed: 0,
            max_exposure: None,
            explore: true,
            cap_floor: CAP_FLOOR,
        }
    }
}

impl Policy {
    /// How many people one relay may be asked about, out of `follows`: the
    /// cap's share, and never fewer than `cap_floor` people (a cap of 25%
    /// on a new user's 6 follows would leave one person per relay and most
    /// of them unread).
    pub fn relay_capacity(&self, follows: usize) -> usize {
        match self.max_exposure {
            Some(share) if share.is_finite() && share > 0.0 => {
                ((share * follows as f64).floor() as usize).max(self.cap_floor.max(1))
            }
            _ => usize::MAX,
        }
    }
}

/// The fewest people an exposure cap lets one relay be asked about: below
/// 20 follows a 25% cap is this floor rather than a share.
pub const CAP_FLOOR: usize = 5;

/// Everything the planner knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanInput {
    /// People followed (hex public keys).
    pub follows: Vec<String>,
    /// NIP-65 lists by person.
    pub relay_lists: BTreeMap<String, RelayList>,
    /// Other evidence by person.
    pub evidence: BTreeMap<String, Vec<Evidence>>,
    /// Health by relay; relays not listed are assumed healthy.
    pub relay_health: BTreeMap<String, RelayHealth>,
    /// Delivery history by relay, then person.
    pub delivery: BTreeMap<String, BTreeMap<String, Delivery>>,
    /// How far back each relay was seen to keep events (the age in days of
    /// the oldest event it returned to anyone): a lower bound on its retention.
    pub relay_depth: BTreeMap<String, f64>,
    /// Relay → followed people it already learned of some other way (the
    /// client fills it from the privacy ledger: a discovery relay asked for
    /// their relay lists). The exposure cap counts them as known, like the
    /// people in `delivery`.
    pub known: BTreeMap<String, Vec<String>>,
    /// Relays the client is connected to whatever the plan says (the
    /// user's own read relays, then the discovery relays), best first.
    /// Followed people with no evidence anywhere (no relay list, nothing
    /// seen, no hint) are asked about there, within the exposure cap
    /// (`Plan::unlisted`), instead of being left unread; like exploration,
    /// only while `Policy::explore` is on.
    pub in_use: Vec<String>,
    /// Rules.
    pub policy: Policy,
}

/// Why a followed person has no relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanReason {
    /// No relay list and no other evidence of where they write.
    NoRelayList,
    /// Every known relay is down or failing.
    AllRelaysUnusable,
    /// Every known relay is denied by the user's policy.
    DeniedByPolicy,
    /// Their relays did not fit under the connection cap.
    OverConnectionCap,
    /// Every chosen relay of theirs is already asked about as many people
    /// as the exposure cap allows.
    OverExposureCap,
}

/// A followed person with no relay, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    /// Hex public key.
    pub pubkey: String,
    /// Why.
    pub reason: OrphanReason,
}

/// The planner's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Relay → the people to ask it about (and no one else).
    pub assignments: BTreeMap<String, Vec<String>>,
    /// People with no relay.
    pub orphans: Vec<Orphan>,
    /// Relays used.
    pub connections: usize,
    /// Followed people whose NIP-65 relay list is stale: it names no usable
    /// write relay (every one down, failing or denied, or none at all), so
    /// whatever they are read from comes from the other evidence.
    #[serde(default)]
    pub stale_lists: Vec<String>,
    /// Relay → people it is asked about to learn whether it has their events
    /// (exploration): a relay already connected for the assignments, with
    /// room under the exposure cap, that has no evidence for them or was
    /// never asked. Disjoint from `assignments`; what it delivers becomes
    /// evidence for the next plan.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub probes: BTreeMap<String, Vec<String>>,
    /// Relay → followed people with no evidence of where they write, asked
    /// about at a relay the client uses anyway (`PlanInput::in_use`): "read
    /// from your relays (no relay list)". What it delivers becomes `Seen`
    /// evidence, and the next plan reads them like anyone else.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unlisted: BTreeMap<String, Vec<String>>,
}

impl Plan {
    /// Share of `follows` with at least one relay.
    pub fn coverage(&self, follows: usize) -> f64 {
        if follows == 0 {
            return 1.0;
        }
        let covered: BTreeSet<&String> = self.assignments.values().flatten().collect();
        covered.len() as f64 / follows as f64
    }

    /// The largest share of the follow list revealed to any one relay.
    pub fn max_exposure(&self, follows: usize) -> f64 {
        if follows == 0 {
            return 0.0;
        }
        self.asked()
            .values()
            .map(|people| people.len())
            .max()
            .unwrap_or(0) as f64
            / follows as f64
    }

    /// Relay → everyone it is asked about: assignments, probes and unlisted
    /// people together
    /// (what a relay learns, and what a sync sends).
    pub fn asked(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (url, people) in self
            .assignments
            .iter()
            .chain(&self.probes)
            .chain(&self.unlisted)
        {
            out.entry(url.as_str())
                .or_default()
                .extend(people.iter().map(String::as_str));
        }
        for people in out.values_mut() {
            people.sort_unstable();
            people.dedup();
        }
        out
    }

    /// Followed people with no relay list read from the relays in use
    /// (`unlisted`), each once.
    pub fn unlisted_people(&self) -> BTreeSet<&str> {
        self.unlisted
            .values()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// How many (relay, person) pairs the plan asks about in all.
    pub fn pairs_asked(&self) -> usize {
        self.asked().values().map(Vec::len).sum()
    }
}
