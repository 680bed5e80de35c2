//! What the coalition learned, computed from its logs alone (the truth is
//! used only to score: whose follow list, which pairs really talked).
//!
//! The coalition ties connections together (union-find) when they come
//! from the same network address (the user's own, or one proxy circuit),
//! share a subscription id, or keep the same clock: at least three of
//! their REQ bursts, and at least half of the bursts of the one with fewer,
//! start within a second of one of the other's (independent clocks meet by
//! chance now and then; a shared one nearly every time). A group of tied
//! connections is tied to the user's key when any of them authenticated as
//! the user, published an event the user signed, or asked for the user's
//! own events or mentions.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use nostr::prelude::{Kind, PublicKey};
use serde::Serialize;

use super::{Circuit, Seen, What};

/// Whom the figures are about, and what really happened.
#[derive(Debug, Clone)]
pub struct Truth {
    /// The user.
    pub me: PublicKey,
    /// Whom the user follows.
    pub follows: BTreeSet<PublicKey>,
    /// Relays that only strangers named (hints, `nevent`s).
    pub strangers: BTreeSet<String>,
    /// The DM relay both sides use.
    pub dm_relay: String,
    /// The people the user wrote to.
    pub partners: BTreeSet<PublicKey>,
    /// Whether a proxy was set for the run.
    pub proxy: bool,
}

/// The figures of `samizdat bench privacy` for one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Connections the relays saw (websocket and HTTP).
    pub connections: usize,
    /// Of them, through the proxy.
    pub through_proxy: usize,
    /// (a) The largest share of the follow list one relay was asked about.
    pub a_max_follow_share: f64,
    /// The relay behind (a).
    pub a_relay: String,
    /// (b) The share of the follow list asked about on connections the
    /// coalition ties to the user's key.
    pub b_tied_share: f64,
    /// (c) Messages to partners the DM relay can tie to their sender (by
    /// AUTH or by a wrap to the sender within 2 s).
    pub c_dms_linkable: usize,
    /// Messages to partners the DM relay received.
    pub c_dms: usize,
    /// (c) Of them, on a connection authenticated as the sender.
    pub c_by_auth: usize,
    /// (c) Of them, with a wrap to the sender within 2 s.
    pub c_by_timing: usize,
    /// (c) Partners with at least one linkable message.
    pub c_pairs_linkable: usize,
    /// (d) Connections to stranger-named relays straight from the user's address.
    pub d_direct_to_strangers: usize,
    /// (e) Connections straight from the user's address although a proxy is
    /// set (`None`: no proxy in this run).
    pub e_direct_with_proxy: Option<usize>,
    /// (f) Pairs of connections from different addresses the coalition can
    /// tie by a shared subscription id or a common clock.
    pub f_linked_pairs: usize,
    /// Of (f), by subscription id.
    pub f_by_sub_id: usize,
    /// Of (f), by clock.
    pub f_by_clock: usize,
    /// Of (f), pairs whose connections both carry the user's key anyway
    /// (their own lists, mentions, AUTH): the tie tells nothing new.
    pub f_both_keyed: usize,
    /// Relays the user's follow list (kind 3, public by design) reached.
    pub kind3_relays: usize,
}

/// Where a connection came from, as the relays see it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// The user's own address.
    Direct,
    /// A proxy circuit, by its SOCKS credentials.
    Circuit(String),
}

#[derive(Debug, Default)]
struct Conn {
    relay: String,
    source: Option<Source>,
    subs: BTreeSet<String>,
    reqs: Vec<Duration>,
    asked: BTreeSet<String>,
    tied: bool,
}

/// REQs this close together are one burst; bursts this close on two
/// connections are one clock tick.
const BURST: Duration = Duration::from_secs(1);
/// Coinciding bursts needed to tie two connections by their clock.
const CLOCK_TICKS: usize = 3;
/// A wrap this close to a wrap to the sender ties a message to her.
const DM_WINDOW: Duration = Duration::from_secs(2);

/// The figures for one run's logs.
pub fn figures(seen: &[Seen], circuits: &[Circuit], truth: &Truth) -> Figures {
    let by_outbound: BTreeMap<SocketAddr, String> = circuits
        .iter()
        .map(|c| {
            let creds = format!(
                "{}:{}",
                c.user.as_deref().unwrap_or("-"),
                c.pass.as_deref().unwrap_or("-")
            );
            (c.outbound, creds)
        })
        .collect();
    let me = truth.me.to_hex();
    let follows: BTreeSet<String> = truth.follows.iter().map(|p| p.to_hex()).collect();
    let mut conns: BTreeMap<u64, Conn> = BTreeMap::new();
    let mut f = Figures::default();
    let mut kind3_relays = BTreeSet::new();
    for s in seen {
        let c = conns.entry(s.conn).or_default();
        c.relay.clone_from(&s.relay);
        match &s.what {
            What::Connected { peer, .. } => {
                c.source = Some(match by_outbound.get(peer) {
                    Some(creds) => Source::Circuit(creds.clone()),
                    None => Source::Direct,
                });
            }
            What::Req { sub, filters } => {
                c.subs.insert(sub.clone());
                c.reqs.push(s.at);
                for filter in filters {
                    tracing::debug!(relay = %s.relay, conn = s.conn, kinds = %filter["kinds"], "a REQ");
                    for key in ["authors", "#p"] {
                        for value in filter[key].as_array().into_iter().flatten() {
                            let Some(hex) = value.as_str() else { continue };
                            if hex == me {
                                c.tied = true;
                            } else if follows.contains(hex) {
                                c.asked.insert(hex.to_owned());
                            }
                        }
                    }
                }
            }
            What::Event(event) => {
                if event.pubkey == truth.me {
                    c.tied = true;
                    if event.kind == Kind::ContactList {
                        kind3_relays.insert(s.relay.clone());
                    }
                }
            }
            What::Auth(key) => c.tied |= *key == truth.me,
        }
    }
    f.kind3_relays = kind3_relays.len();
    f.connections = conns.values().filter(|c| c.source.is_some()).count();
    f.through_proxy = conns
        .values()
        .filter(|c| matches!(c.source, Some(Source::Circuit(_))))
        .count();
    let direct = |c: &Conn| c.source == Some(Source::Direct);
    f.d_direct_to_strangers = conns
        .values()
        .filter(|c| direct(c) && truth.strangers.contains(&c.relay))
        .count();
    f.e_direct_with_proxy = truth
        .proxy
        .then(|| conns.values().filter(|c| direct(c)).count());

    // (a): per relay, over all its connections.
    let mut per_relay: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in conns.values() {
        per_relay
            .entry(c.relay.as_str())
            .or_default()
            .extend(c.asked.iter().map(String::as_str));
    }
    if let Some((relay, asked)) = per_relay.iter().max_by_key(|(_, a)| a.len()) {
        f.a_relay = (*relay).to_owned();
        f.a_max_follow_share = share(asked.len(), follows.len());
    }

    // (f) and the groups behind (b).
    let ids: Vec<u64> = conns.keys().copied().collect();
    let bursts: BTreeMap<u64, Vec<Duration>> = conns
        .iter()
        .map(|(id, c)| (*id, burst_starts(&c.reqs)))
        .collect();
    let mut groups = UnionFind::new(ids.len());
    for (i, a) in ids.iter().enumerate() {
        for (j, b) in ids.iter().enumerate().skip(i + 1) {
            let (ca, cb) = (&conns[a], &conns[b]);
            if ca.source.is_some() && ca.source == cb.source {
                groups.join(i, j);
                continue;
            }
            let by_sub = !ca.subs.is_disjoint(&cb.subs);
            let by_clock = same_clock(&bursts[a], &bursts[b]);
            if by_sub || by_clock {
                tracing::debug!(
                    a = %ca.relay, b = %cb.relay, by_sub, bursts_a = ?bursts[a], bursts_b = ?bursts[b],
                    "connections tied"
                );
                groups.join(i, j);
                f.f_linked_pairs += 1;
                f.f_by_sub_id += usize::from(by_sub);
                f.f_by_clock += usize::from(by_clock && !by_sub);
                f.f_both_keyed += usize::from(ca.tied && cb.tied);
            }
        }
    }
    let tied_groups: BTreeSet<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| conns[id].tied)
        .map(|(i, _)| groups.root(i))
        .collect();
    let tied_asked: BTreeSet<&str> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| tied_groups.contains(&groups.root(*i)))
        .flat_map(|(_, id)| conns[id].asked.iter().map(String::as_str))
        .collect();
    f.b_tied_share = share(tied_asked.len(), follows.len());

    dm_links(seen, truth, &mut f);
    f
}

/// (c): the DM relay's view of each wrap: its recipient, the key its
/// connection had authenticated as, and its arrival.
fn dm_links(seen: &[Seen], truth: &Truth, f: &mut Figures) {
    let mut authed: BTreeMap<u64, PublicKey> = BTreeMap::new();
    let mut wraps: Vec<(Duration, PublicKey, Option<PublicKey>)> = Vec::new();
    for s in seen.iter().filter(|s| s.relay == truth.dm_relay) {
        match &s.what {
            What::Auth(key) => {
                authed.insert(s.conn, *key);
            }
            What::Event(e) if e.kind == Kind::GiftWrap => {
                if let Some(to) = e.tags.public_keys().next() {
                    wraps.push((s.at, to, authed.get(&s.conn).copied()));
                }
            }
            _ => {}
        }
    }
    let to_me: Vec<Duration> = wraps
        .iter()
        .filter(|(_, to, _)| *to == truth.me)
        .map(|(at, _, _)| *at)
        .collect();
    let mut pairs = BTreeSet::new();
    for (at, to, auth) in &wraps {
        if !truth.partners.contains(to) {
            continue;
        }
        f.c_dms += 1;
        let by_auth = *auth == Some(truth.me);
        let by_timing = to_me.iter().any(|t| t.abs_diff(*at) <= DM_WINDOW);
        f.c_by_auth += usize::from(by_auth);
        f.c_by_timing += usize::from(by_timing);
        if by_auth || by_timing {
            f.c_dms_linkable += 1;
            pairs.insert(*to);
        }
    }
    f.c_pairs_linkable = pairs.len();
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The start of each burst of REQs (REQs less than [`BURST`] apart).
fn burst_starts(reqs: &[Duration]) -> Vec<Duration> {
    let mut starts: Vec<Duration> = Vec::new();
    let mut last: Option<Duration> = None;
    for &at in reqs {
        if last.is_none_or(|l| at.saturating_sub(l) >= BURST) {
            starts.push(at);
        }
        last = Some(at);
    }
    starts
}

/// Whether two connections keep one clock: their bursts coincide (within
/// [`BURST`]) at least [`CLOCK_TICKS`] times and for at least half of the
/// bursts of the one with fewer.
fn same_clock(a: &[Duration], b: &[Duration]) -> bool {
    let (fewer, more) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let met = fewer
        .iter()
        .filter(|t| more.iter().any(|u| u.abs_diff(**t) < BURST))
        .count();
    met >= CLOCK_TICKS && met * 2 >= fewer.len()
}

/// Groups of connections.
struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> Self {
        Self((0..n).collect())
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        self.0[ra] = rb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::*;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn seen(conn: u64, relay: &str, ms: u64, what: What) -> Seen {
        Seen {
            conn,
            relay: relay.into(),
            at: at(ms),
            what,
        }
    }

    fn req(sub: &str, authors: &[String]) -> What {
        What::Req {
            sub: sub.into(),
            filters: vec![serde_json::json!({ "authors": authors })],
        }
    }

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn what_each_relay_learned_and_what_ties_to_the_key() {
        let me = Keys::generate();
        let people: Vec<Keys> = (0..4).map(|_| Keys::generate()).collect();
        let hex: Vec<String> = people.iter().map(|k| k.public_key().to_hex()).collect();
        let truth = Truth {
            me: me.public_key(),
            follows: people.iter().map(|k| k.public_key()).collect(),
            strangers: ["stranger".to_owned()].into(),
            dm_relay: "dm".into(),
            partners: BTreeSet::new(),
            proxy: true,
        };
        let circuits = vec![
            Circuit {
                user: Some("a".into()),
                pass: Some("1".into()),
                target: "x".into(),
                outbound: peer(1001),
            },
            Circuit {
                user: Some("b".into()),
                pass: Some("2".into()),
                target: "x".into(),
                outbound: peer(1002),
            },
        ];
        let connected = |p| What::Connected {
            peer: peer(p),
            websocket: true,
        };
        let log = vec![
            // Relay one, through circuit a: asked about two people, and the
            // user's own notes: tied to the key.
            seen(1, "one", 0, connected(1001)),
            seen(1, "one", 10, req("s1", &hex[..2])),
            seen(1, "one", 20, req("s2", &[me.public_key().to_hex()])),
            // Relay two, through circuit b: asked about the other two, untied.
            seen(2, "two", 0, connected(1002)),
            seen(2, "two", 10, req("s3", &hex[2..])),
            // A stranger's relay, straight from the user's address.
            seen(3, "stranger", 5_000, connected(4000)),
        ];
        let f = figures(&log, &circuits, &truth);
        assert_eq!(f.connections, 3);
        assert_eq!(f.through_proxy, 2);
        assert_eq!(f.a_max_follow_share, 0.5);
        assert_eq!(f.b_tied_share, 0.5, "only relay one's half is tied");
        assert_eq!(f.d_direct_to_strangers, 1);
        assert_eq!(f.e_direct_with_proxy, Some(1));
        assert_eq!(f.f_linked_pairs, 0);

        // The same sub id on both circuits ties them: the whole list is tied.
        let mut log2 = log.clone();
        log2.push(seen(2, "two", 30, req("s1", &[])));
        let f = figures(&log2, &circuits, &truth);
        assert_eq!((f.f_linked_pairs, f.f_by_sub_id), (1, 1));
        assert_eq!(f.b_tied_share, 1.0);

        // So does a common clock: three bursts within a second of each other.
        let mut log3 = log.clone();
        for tick in 1..=3u64 {
            log3.push(seen(1, "one", tick * 60_000, req(&format!("p{tick}"), &[])));
            log3.push(seen(
                2,
                "two",
                tick * 60_000 + 300,
                req(&format!("q{tick}"), &[]),
            ));
        }
        let f = figures(&log3, &circuits, &truth);
        assert_eq!((f.f_linked_pairs, f.f_by_clock), (1, 1));
        assert_eq!(f.f_both_keyed, 0, "relay two's connection named no key");
    }

    #[test]
    fn independent_clocks_that_meet_now_and_then_are_not_one() {
        let secs = |list: &[u64]| list.iter().map(|s| at(s * 1_000)).collect::<Vec<_>>();
        let a = secs(&[0, 60, 120, 180, 240, 300, 360, 420]);
        // Three of eight meet by chance.
        let b = secs(&[0, 95, 120, 170, 250, 300, 390, 440]);
        assert!(!same_clock(&a, &b));
        // The same ticks, a fraction of a second apart: one clock.
        let c: Vec<Duration> = a.iter().map(|t| *t + at(400)).collect();
        assert!(same_clock(&a, &c));
        assert_eq!(
            burst_starts(&[at(0), at(300), at(900), at(5_000)]),
            [at(0), at(5_000)]
        );
    }

    #[test]
    fn a_dm_is_linkable_by_auth_or_by_a_wrap_to_the_sender_close_by() {
        let me = Keys::generate();
        let partner = Keys::generate();
        let truth = Truth {
            me: me.public_key(),
            follows: BTreeSet::new(),
            strangers: BTreeSet::new(),
            dm_relay: "dm".into(),
            partners: [partner.public_key()].into(),
            proxy: false,
        };
        let wrap = |to: PublicKey| {
            let ephemeral = Keys::generate();
            What::Event(Box::new(
                EventBuilder::new(Kind::GiftWrap, "x")
                    .tag(Tag::public_key(to))
                    .finalize(&ephemeral)
                    .unwrap(),
            ))
        };
        let log = vec![
            // On a connection authenticated as the sender.
            seen(1, "dm", 0, What::Auth(me.public_key())),
            seen(1, "dm", 10, wrap(partner.public_key())),
            // Unauthenticated, with the self-copy a second later.
            seen(2, "dm", 10_000, wrap(partner.public_key())),
            seen(3, "dm", 11_000, wrap(me.public_key())),
            // Unauthenticated, the self-copy 20 s later.
            seen(4, "dm", 30_000, wrap(partner.public_key())),
            seen(5, "dm", 50_000, wrap(me.public_key())),
        ];
        let f = figures(&log, &[], &truth);
        assert_eq!(f.c_dms, 3);
        assert_eq!((f.c_by_auth, f.c_by_timing), (1, 1));
        assert_eq!(f.c_dms_linkable, 2);
        assert_eq!(f.c_pairs_linkable, 1);
    }
}
