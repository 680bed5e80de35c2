//! The planner case by case: orphan reasons, learning from delivery, the JSON
//! interface, and a deterministic simulator.

use std::collections::BTreeMap;

use samizdat_outbox::sim::{self, SimConfig};
use samizdat_outbox::{
    plan, plan_with, Algorithm, Delivery, OrphanReason, PlanInput, RelayHealth, RelayList,
};

fn list(write: &[&str]) -> RelayList {
    RelayList {
        write: write.iter().map(|s| s.to_string()).collect(),
        read: vec![],
    }
}

#[test]
fn every_orphan_has_its_reason() {
    let mut input = PlanInput {
        follows: ["silent", "denied", "dead", "a", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..PlanInput::default()
    };
    input
        .relay_lists
        .insert("denied".into(), list(&["wss://bad"]));
    input
        .relay_lists
        .insert("dead".into(), list(&["wss://down"]));
    input.relay_lists.insert("a".into(), list(&["wss://a1"]));
    input.relay_lists.insert("b".into(), list(&["wss://b1"]));
    input.policy.denied.insert("wss://bad".into());
    input.relay_health.insert(
        "wss://down".into(),
        RelayHealth {
            reachable: false,
            success_rate: 0.0,
        },
    );
    input.policy.max_connections = 1;
    let plan = plan(&input);
    let reasons: BTreeMap<&str, OrphanReason> = plan
        .orphans
        .iter()
        .map(|o| (o.pubkey.as_str(), o.reason))
        .collect();
    assert_eq!(reasons["silent"], OrphanReason::NoRelayList);
    assert_eq!(reasons["denied"], OrphanReason::DeniedByPolicy);
    assert_eq!(reasons["dead"], OrphanReason::AllRelaysUnusable);
    assert_eq!(plan.connections, 1);
    let over: Vec<_> = plan
        .orphans
        .iter()
        .filter(|o| o.reason == OrphanReason::OverConnectionCap)
        .collect();
    assert_eq!(
        over.len(),
        1,
        "one of a/b did not fit under a cap of 1: {:?}",
        plan.orphans
    );
}

#[test]
fn a_relay_that_never_delivers_is_dropped_by_ours_not_by_greedy_cover() {
    let mut input = PlanInput::default();
    input.policy.max_connections = 1;
    input.policy.per_person = 1;
    for i in 0..10 {
        let p = format!("p{i}");
        input.follows.push(p.clone());
        // Everyone lists the big relay; six also list a small one.
        let relays: &[&str] = if i < 6 {
            &["wss://big", "wss://small"]
        } else {
            &["wss://big"]
        };
        input.relay_lists.insert(p.clone(), list(relays));
        // The big relay answers but never serves anyone (paid); the small one delivers.
        input
            .delivery
            .entry("wss://big".into())
            .or_default()
            .insert(
                p.clone(),
                Delivery {
                    asked: 4,
                    delivered: 0,
                    ..Delivery::default()
                },
            );
        if i < 6 {
            input
                .delivery
                .entry("wss://small".into())
                .or_default()
                .insert(
                    p,
                    Delivery {
                        asked: 4,
                        delivered: 4,
                        ..Delivery::default()
                    },
                );
        }
    }
    let ours = plan(&input);
    assert!(
        ours.assignments.contains_key("wss://small"),
        "{:?}",
        ours.assignments
    );
    let greedy = plan_with(&input, Algorithm::GreedyCover);
    assert!(
        greedy.assignments.contains_key("wss://big"),
        "greedy counts people, not deliveries"
    );
}

#[test]
fn the_documented_json_interface_parses_and_answers() {
    let input: PlanInput = serde_json::from_str(
        r#"{
          "follows": ["aa", "bb", "cc"],
          "relay_lists": {"aa": {"write": ["wss://one"], "read": []}, "bb": {"write": ["wss://one", "wss://two"]}},
          "relay_health": {"wss://two": {"reachable": false, "success_rate": 0.0}},
          "delivery": {"wss://one": {"aa": {"asked": 3, "delivered": 3}}}
        }"#,
    )
    .unwrap();
    let plan = plan(&input);
    let out = serde_json::to_value(&plan).unwrap();
    assert_eq!(
        out["assignments"]["wss://one"],
        serde_json::json!(["aa", "bb"])
    );
    assert_eq!(out["orphans"][0]["pubkey"], "cc");
    assert_eq!(out["orphans"][0]["reason"], "no_relay_list");
    assert_eq!(out["connections"], 1);
}

#[test]
fn the_simulator_is_deterministic_and_calibrated() {
    let config = SimConfig {
        seed: 7,
        users: 400,
        sessions: 3,
        ..SimConfig::default()
    };
    let a = serde_json::to_string(&sim::run(&config)).unwrap();
    let b = serde_json::to_string(&sim::run(&config)).unwrap();
    assert_eq!(a, b);
    let report = sim::run(&config);
    assert!((0.5..=0.9).contains(&report.adoption));
    let names: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.algorithm.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "samizdat",
            "greedy-cover",
            "top-n",
            "stochastic",
            "applesauce",
            "coracle"
        ]
    );
    for r in &report.results {
        assert!(r.connections <= config.max_connections);
        assert!((0.0..=1.0).contains(&r.recall_7d) && (0.0..=1.0).contains(&r.recall_1y));
    }
    assert!(report.table().contains("margin over best baseline"));
}

#[test]
fn a_stale_list_falls_back_to_other_evidence_and_is_named() {
    use samizdat_outbox::{Evidence, Source};
    let mut input = PlanInput {
        follows: vec!["dead-list".into(), "fine".into()],
        ..PlanInput::default()
    };
    input
        .relay_lists
        .insert("dead-list".into(), list(&["wss://down"]));
    input.relay_lists.insert("fine".into(), list(&["wss://up"]));
    input.relay_health.insert(
        "wss://down".into(),
        RelayHealth {
            reachable: false,
            success_rate: 0.0,
        },
    );
    input.evidence.insert(
        "dead-list".into(),
        vec![Evidence {
            url: "wss://seen".into(),
            source: Source::Seen,
            age_days: 3.0,
        }],
    );
    let first = plan(&input);
    assert_eq!(first.stale_lists, vec!["dead-list".to_string()]);
    assert_eq!(
        first.assignments["wss://seen"],
        vec!["dead-list".to_string()]
    );
    assert!(first.orphans.is_empty(), "{:?}", first.orphans);
    // Without the other evidence the stale list leaves them orphaned.
    input.evidence.clear();
    let second = plan(&input);
    assert_eq!(second.orphans[0].reason, OrphanReason::AllRelaysUnusable);
    assert_eq!(second.stale_lists, vec!["dead-list".to_string()]);
}

#[test]
fn the_cap_counts_whom_a_relay_already_knows_so_it_holds_over_time() {
    // Both relays were asked about amy and zed before: asking again tells
    // them nothing new, so the 50% cap does not stop it. A third person,
    // new to both, would make each relay know 3 of 4: no room for them.
    let mut input = PlanInput {
        follows: vec![
            "amy".into(),
            "zed".into(),
            "new-person".into(),
            "quiet".into(),
        ],
        ..PlanInput::default()
    };
    for p in ["amy", "zed", "new-person"] {
        input
            .relay_lists
            .insert(p.into(), list(&["wss://deep", "wss://shallow"]));
    }
    let seen = |events| Delivery {
        asked: 1,
        delivered: 1,
        events,
    };
    for url in ["wss://deep", "wss://shallow"] {
        let d = input.delivery.entry(url.into()).or_default();
        d.insert("amy".into(), seen(50));
        d.insert("zed".into(), seen(50));
    }
    input.policy.max_exposure = Some(0.5);
    input.policy.cap_floor = 1;
    input.policy.explore = false;
    let plan = plan(&input);
    for url in ["wss://deep", "wss://shallow"] {
        assert_eq!(
            plan.assignments[url],
            vec!["amy".to_string(), "zed".to_string()]
        );
    }
    let over: Vec<&str> = plan
        .orphans
        .iter()
        .filter(|o| o.reason == OrphanReason::OverExposureCap)
        .map(|o| o.pubkey.as_str())
        .collect();
    assert_eq!(over, vec!["new-person"]);
}

#[test]
fn what_a_relay_learned_elsewhere_counts_against_the_cap() {
    // wss://deep was the discovery relay for "new-person" (the ledger says
    // it was asked for their relay list): reading them there tells it
    // nothing new, so it takes no place; wss://shallow has no room left.
    let mut input = PlanInput {
        follows: vec!["amy".into(), "new-person".into()],
        ..PlanInput::default()
    };
    for p in ["amy", "new-person"] {
        input
            .relay_lists
            .insert(p.into(), list(&["wss://deep", "wss://shallow"]));
    }
    for url in ["wss://deep", "wss://shallow"] {
        input.delivery.entry(url.into()).or_default().insert(
            "amy".into(),
            Delivery {
                asked: 1,
                delivered: 1,
                events: 5,
            },
        );
    }
    input
        .known
        .insert("wss://deep".into(), vec!["new-person".into()]);
    input.policy.max_exposure = Some(0.5); // one person per relay
    input.policy.cap_floor = 1;
    input.policy.explore = false;
    let plan = plan(&input);
    assert_eq!(
        plan.assignments["wss://deep"],
        vec!["amy".to_string(), "new-person".to_string()]
    );
    assert_eq!(plan.assignments["wss://shallow"], vec!["amy".to_string()]);
}

#[test]
fn under_a_cap_the_scarce_relay_goes_to_whoever_has_no_other_way() {
    // "amy-heavy" posts far more (an old relay returned 300 of her events),
    // so serving people heaviest first would give her the one new place on
    // wss://big; but wss://alt serves her as well, while "zed-light" has no
    // other relay: the auction gives zed the place.
    let mut input = PlanInput {
        follows: vec![
            "amy-heavy".into(),
            "zed-light".into(),
            "x".into(),
            "y".into(),
        ],
        ..PlanInput::default()
    };
    input
        .relay_lists
        .insert("amy-heavy".into(), list(&["wss://big", "wss://alt"]));
    input
        .relay_lists
        .insert("zed-light".into(), list(&["wss://big"]));
    let seen = |events| Delivery {
        asked: 2,
        delivered: 2,
        events,
    };
    let old = input.delivery.entry("wss://old".into()).or_default();
    old.insert("amy-heavy".into(), seen(300));
    old.insert("zed-light".into(), seen(20));
    input.policy.max_exposure = Some(0.25); // one new person per relay
    input.policy.cap_floor = 1;
    input.policy.explore = false;
    let plan = plan(&input);
    assert_eq!(plan.assignments["wss://big"], vec!["zed-light".to_string()]);
    assert_eq!(plan.assignments["wss://alt"], vec!["amy-heavy".to_string()]);
}

#[test]
fn exploration_asks_a_connected_relay_about_someone_without_evidence_then_uses_what_it_learned() {
    use samizdat_outbox::{Evidence, Source};
    let mut input = PlanInput {
        follows: vec!["listed".into(), "unknown".into()],
        ..PlanInput::default()
    };
    input
        .relay_lists
        .insert("listed".into(), list(&["wss://big"]));
    let first = plan(&input);
    assert_eq!(first.orphans[0].pubkey, "unknown");
    assert_eq!(first.orphans[0].reason, OrphanReason::NoRelayList);
    assert_eq!(first.probes["wss://big"], vec!["unknown".to_string()]);
    assert_eq!(first.pairs_asked(), 2);
    assert!(first.asked()["wss://big"].contains(&"unknown"));

    // The relay had their events: next time they are read there, not probed.
    input
        .delivery
        .entry("wss://big".into())
        .or_default()
        .insert(
            "unknown".into(),
            Delivery {
                asked: 1,
                delivered: 1,
                events: 12,
            },
        );
    input.evidence.insert(
        "unknown".into(),
        vec![Evidence {
            url: "wss://big".into(),
            source: Source::Seen,
            age_days: 0.0,
        }],
    );
    let second = plan(&input);
    assert!(second.orphans.is_empty(), "{:?}", second.orphans);
    assert!(second.assignments["wss://big"].contains(&"unknown".to_string()));
    assert!(second.probes.is_empty(), "{:?}", second.probes);

    // A relay that was asked and had nothing is not asked again, and with
    // exploration off no one is probed at all.
    input.evidence.clear();
    input
        .delivery
        .entry("wss://big".into())
        .or_default()
        .insert(
            "unknown".into(),
            Delivery {
                asked: 1,
                delivered: 0,
                events: 0,
            },
        );
    assert!(plan(&input).probes.is_empty());
    input.delivery.clear();
    input.policy.explore = false;
    assert!(plan(&input).probes.is_empty());
}

#[test]
fn the_ceiling_is_above_every_algorithm_and_the_sweep_reports_the_goals() {
    let config = SimConfig {
        seed: 3,
        users: 400,
        sessions: 3,
        max_exposure: Some(0.25),
        ..SimConfig::default()
    };
    let report = sim::run(&config);
    for r in &report.results {
        assert!(
            r.recall_1y <= report.ceiling.recall_1y + 1e-9,
            "{} above the ceiling",
            r.algorithm
        );
        assert!(
            r.recall_7d <= report.ceiling.recall_7d + 1e-9,
            "{} above the ceiling",
            r.algorithm
        );
    }
    assert!(report.table().contains("ceiling"));
    let sweep = sim::sweep(
        &SimConfig {
            users: 400,
            sessions: 2,
            ..SimConfig::default()
        },
        2,
        0.25,
    );
    assert_eq!(sweep.rows.len(), 2);
    for row in &sweep.rows {
        assert!(row.max_exposure <= 0.25 + 1e-9);
        assert!(
            row.exposure_ever <= 0.25 + 1e-9,
            "over all sessions a relay learned {}",
            row.exposure_ever
        );
    }
    let table = sweep.table();
    assert!(
        table.contains("cap cost") && table.contains("ours / best baseline"),
        "{table}"
    );
}
