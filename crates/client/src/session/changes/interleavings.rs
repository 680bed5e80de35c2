//! Property test: two devices with the same key edit one follow list while
//! the relay goes up and down. Each device runs the rules the session runs
//! (`trusted`, `apply`, `guard`, dated strictly after the copy replaced) on
//! its own local copy and queue; the relay keeps the newest version it was
//! sent. No accepted version may lose an entry that neither device removed,
//! and once the relay stays up every add that was not refused or undone
//! ends up in the list.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::model::{apply, guard, trusted, Change, ListContent, ListItem, OwnList};

#[derive(Debug, Clone)]
enum Op {
    Edit { device: usize, add: bool, who: u8 },
    Flush { device: usize },
    Up(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, any::<bool>(), 0..12u8).prop_map(|(device, add, who)| Op::Edit { device, add, who }),
        2 => (0..2usize).prop_map(|device| Op::Flush { device }),
        2 => any::<bool>().prop_map(Op::Up),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Version {
    at: u64,
    content: ListContent,
}

#[derive(Default)]
struct Device {
    local: Option<Version>,
    /// (change, queued at, the copy seen then)
    queue: Vec<(Change, u64, Option<Version>)>,
    answered_at: Option<u64>,
}

struct World {
    clock: u64,
    up: bool,
    relay: Option<Version>,
    accepted: Vec<Version>,
    devices: [Device; 2],
    removed: BTreeSet<String>,
    added: BTreeSet<String>,
    refused: BTreeSet<String>,
}

fn person(n: u8) -> ListItem {
    ListItem::Person(format!("{n:064x}"))
}

fn entry(n: u8) -> String {
    format!("p:{n:064x}")
}

impl World {
    fn new(start: &[u8]) -> Self {
        let content = ListContent {
            tags: start
                .iter()
                .map(|n| vec!["p".into(), format!("{n:064x}")])
                .collect(),
            ..ListContent::default()
        };
        let v = Version { at: 1, content };
        Self {
            clock: 2,
            up: true,
            relay: Some(v.clone()),
            accepted: vec![v],
            devices: Default::default(),
            removed: BTreeSet::new(),
            added: BTreeSet::new(),
            refused: BTreeSet::new(),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn edit(&mut self, d: usize, add: bool, who: u8) {
        let at = self.tick();
        let change = if add {
            self.added.insert(entry(who));
            Change::Add {
                item: person(who),
                private: false,
            }
        } else {
            self.removed.insert(entry(who));
            Change::Remove { item: person(who) }
        };
        let seen = self.devices[d].local.clone();
        self.devices[d].queue.push((change, at, seen));
        self.flush(d);
    }

    /// What `Session::settle` does: fetch, then apply if trusted, guard,
    /// build a version dated after the copy, publish.
    fn flush(&mut self, d: usize) {
        let now = self.tick();
        if self.up {
            let dev = &mut self.devices[d];
            if let Some(r) = &self.relay {
                if dev.local.as_ref().is_none_or(|l| l.at < r.at) {
                    dev.local = Some(r.clone());
                }
            }
            dev.answered_at = Some(now);
        }
        let dev = &mut self.devices[d];
        let Some(oldest) = dev.queue.first().map(|q| q.1) else {
            return;
        };
        if !trusted(dev.answered_at, oldest) {
            return;
        }
        let current = dev.local.clone();
        let base = current
            .as_ref()
            .map(|v| v.content.clone())
            .unwrap_or_default();
        let changes: Vec<Change> = dev.queue.iter().map(|q| q.0.clone()).collect();
        let out = apply(&OwnList::Follows, &base, &changes);
        let queue = std::mem::take(&mut dev.queue);
        if out.applied.is_empty() {
            return;
        }
        if let Some(saw) = queue.iter().rev().find_map(|q| q.2.clone()) {
            let before = saw.content.entries(&OwnList::Follows);
            let after = out.content.entries(&OwnList::Follows);
            if guard(&before, &after, &out.asked_removed).is_err() {
                for (c, _, _) in &queue {
                    if let Change::Add { item, .. } = c {
                        self.refused.insert(format!(
                            "p:{}",
                            match item {
                                ListItem::Person(p) => p.clone(),
                                _ => String::new(),
                            }
                        ));
                    }
                }
                return;
            }
        }
        let at = now.max(current.as_ref().map_or(0, |c| c.at + 1));
        let version = Version {
            at,
            content: out.content,
        };
        dev.local = Some(version.clone());
        if self.up && self.relay.as_ref().is_none_or(|r| r.at < version.at) {
            self.relay = Some(version.clone());
            self.accepted.push(version);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_accepted_version_loses_what_nobody_removed(
        start in proptest::collection::btree_set(0..12u8, 0..8),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let start: Vec<u8> = start.into_iter().collect();
        let mut world = World::new(&start);
        for op in ops {
            match op {
                Op::Edit { device, add, who } => world.edit(device, add, who),
                Op::Flush { device } => world.flush(device),
                Op::Up(up) => world.up = up,
            }
        }
        // The relays come back and both queues drain.
        world.up = true;
        world.flush(0);
        world.flush(1);
        world.flush(0);
        for pair in world.accepted.windows(2) {
            let before = pair[0].content.entries(&OwnList::Follows);
            let after = pair[1].content.entries(&OwnList::Follows);
            let lost: Vec<&String> = before
                .difference(&after)
                .filter(|e| !world.removed.contains(*e))
                .collect();
            prop_assert!(lost.is_empty(), "version at {} lost {lost:?}", pair[1].at);
        }
        let last = world.relay.as_ref().map(|v| v.content.entries(&OwnList::Follows)).unwrap_or_default();
        for e in world.added.iter().chain(start.iter().map(|n| entry(*n)).collect::<Vec<_>>().iter()) {
            if !world.removed.contains(e) && !world.refused.contains(e) {
                prop_assert!(last.contains(e), "{e} was added, never removed, and is missing");
            }
        }
        prop_assert!(world.devices.iter().all(|d| d.queue.is_empty()));
    }
}
