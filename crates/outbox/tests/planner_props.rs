//! Properties every plan keeps, for every algorithm, on random networks: no
//! relay beyond the cap, no person assigned to a relay with no evidence for
//! them, no denied relay ever, at most `per_person` relays a person, every
//! follow either covered or orphaned with a reason, and the same plan for the
//! same seed and input.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use samizdat_outbox::{
    evidence, plan_with, Algorithm, Delivery, Evidence, PlanInput, Policy, RelayHealth, RelayList,
    Source,
};

fn relay(i: usize) -> String {
    format!("wss://r{i}.test")
}

fn person(i: usize) -> String {
    format!("{i:064x}")
}

prop_compose! {
    fn arb_input()(
        n_people in 0usize..30,
        lists in prop::collection::vec(prop::option::of(prop::collection::vec(0usize..15, 0..4)), 30),
        hints in prop::collection::vec(prop::collection::vec((0usize..15, 0usize..4, 0.0f64..400.0), 0..3), 30),
        health in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 15),
        delivery in prop::collection::vec((0usize..15, 0usize..30, 0u32..6, 0u32..6), 0..40),
        cap in 0usize..10,
        per_person in 0usize..4,
        denied in prop::collection::btree_set(0usize..15, 0..4),
        always in prop::collection::vec(0usize..15, 0..3),
        seed in any::<u64>(),
        exposure in prop::option::of(0.05f64..1.0),
        explore in any::<bool>(),
        in_use in prop::collection::vec(0usize..15, 0..3),
    ) -> PlanInput {
        let mut input = PlanInput::default();
        for p in 0..n_people {
            input.follows.push(person(p));
            if let Some(list) = &lists[p] {
                input.relay_lists.insert(person(p), RelayList {
                    write: list.iter().map(|&r| relay(r)).collect(),
                    read: vec![],
                });
            }
            let ev: Vec<Evidence> = hints[p].iter().map(|&(r, s, age)| Evidence {
                url: relay(r),
                source: [Source::Kind3, Source::Nip05, Source::Hint, Source::Seen][s],
                age_days: age,
            }).collect();
            if !ev.is_empty() {
                input.evidence.insert(person(p), ev);
            }
        }
        // A follow listed twice must not be planned twice.
        if n_people > 0 {
            input.follows.push(person(0));
        }
        for (i, (reachable, rate)) in health.into_iter().enumerate() {
            input.relay_health.insert(relay(i), RelayHealth { reachable, success_rate: rate });
        }
        for (r, p, asked, delivered) in delivery {
            input.delivery.entry(relay(r)).or_insert_with(BTreeMap::new).insert(person(p), Delivery { asked, delivered: delivered.min(asked), ..Delivery::default() });
        }
        input.in_use = in_use.into_iter().map(relay).collect();
        input.policy = Policy {
            max_connections: cap,
            per_person,
            denied: denied.into_iter().map(relay).collect(),
            always: always.into_iter().map(relay).collect(),
            seed,
            max_exposure: exposure,
            explore,
            cap_floor: 1,
        };
        input
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn plans_keep_their_promises(input in arb_input()) {
        let unique: BTreeSet<&String> = input.follows.iter().collect();
        for algorithm in Algorithm::ALL {
            let plan = plan_with(&input, algorithm);
            // Relays in use cost no connection (ours reads people there too).
            let opened = plan.assignments.keys().filter(|u| algorithm != Algorithm::Samizdat || !input.in_use.contains(u)).count();
            prop_assert!(opened <= input.policy.max_connections, "{:?}: {} relays over cap {}", algorithm, opened, input.policy.max_connections);
            prop_assert!(plan.connections <= input.policy.max_connections);
            let mut per_person: BTreeMap<&String, usize> = BTreeMap::new();
            for (url, people) in &plan.assignments {
                prop_assert!(!input.policy.denied.contains(url), "{:?} used denied relay {}", algorithm, url);
                for p in people {
                    // Coracle sends a chunk's whole filter to its relays.
                    if algorithm != Algorithm::Coracle {
                        prop_assert!(evidence(&input, p).contains_key(url), "{:?}: {} assigned to {} without evidence", algorithm, p, url);
                    }
                    *per_person.entry(p).or_insert(0) += 1;
                }
            }
            // applesauce asks everyone at every picked relay they list.
            if algorithm != Algorithm::Applesauce {
                for n in per_person.values() {
                    prop_assert!(*n <= input.policy.per_person.max(1));
                }
            }
            let capacity = input.policy.relay_capacity(unique.len());
            // The cap counts everyone a relay was ever asked about: people it
            // already knows are free, new ones only fill the room left.
            for (url, people) in plan.asked() {
                let known: BTreeSet<&String> = input.delivery.get(url).into_iter().flatten()
                    .filter(|(p, d)| d.asked > 0 && unique.contains(p))
                    .map(|(p, _)| p)
                    .collect();
                let new = people.iter().filter(|p| !known.iter().any(|k| k.as_str() == **p)).count();
                prop_assert!(known.len() + new <= capacity.max(known.len()), "{:?}: {} would know {} + {} people, cap {}", algorithm, url, known.len(), new, capacity);
            }
            // Probes: ours only, when exploring; never a new connection, a
            // denied relay, a pair already assigned or a pair asked before.
            if algorithm != Algorithm::Samizdat || !input.policy.explore {
                prop_assert!(plan.probes.is_empty());
            }
            // People read from the relays in use: ours only, on those relays,
            // each with no evidence anywhere, never also orphaned.
            for (url, people) in &plan.unlisted {
                prop_assert!(algorithm == Algorithm::Samizdat && input.policy.explore);
                prop_assert!(input.in_use.contains(url) && !input.policy.denied.contains(url));
                for p in people {
                    prop_assert!(evidence(&input, p).is_empty(), "{} has evidence", p);
                    prop_assert!(!plan.orphans.iter().any(|o| &o.pubkey == p));
                }
            }
            for (url, people) in &plan.probes {
                prop_assert!(plan.assignments.contains_key(url) || input.policy.always.contains(url) || input.in_use.contains(url), "probe opened {}", url);
                prop_assert!(!input.policy.denied.contains(url));
                for p in people {
                    prop_assert!(unique.contains(p));
                    prop_assert!(!plan.assignments.get(url).is_some_and(|a| a.contains(p)), "{} both assigned and probed on {}", p, url);
                    let asked_before = input.delivery.get(url).and_then(|d| d.get(p)).is_some_and(|d| d.asked > 0);
                    prop_assert!(!asked_before, "{} probed again on {}", p, url);
                }
            }
            let orphans: BTreeSet<&String> = plan.orphans.iter().map(|o| &o.pubkey).collect();
            prop_assert_eq!(orphans.len(), plan.orphans.len(), "a person orphaned twice");
            let unlisted = plan.unlisted_people();
            for p in &unique {
                let read = per_person.contains_key(p) || unlisted.contains(p.as_str());
                prop_assert!(read != orphans.contains(p), "{:?}: {} neither covered nor orphaned (or both)", algorithm, p);
            }
            prop_assert_eq!(&plan, &plan_with(&input, algorithm), "not deterministic");
        }
    }
}
