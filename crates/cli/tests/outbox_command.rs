//! `samizdat outbox plan` and `samizdat sim` as scripts use them.

mod common;

use common::samizdat;

#[test]
fn outbox_plan_reads_json_and_answers_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("net.json");
    std::fs::write(
        &input,
        r#"{"follows": ["aa", "bb"], "relay_lists": {"aa": {"write": ["wss://one", "wss://two"], "read": []}},
            "relay_health": {"wss://two": {"reachable": true, "success_rate": 0.5}}}"#,
    )
    .unwrap();
    let out = samizdat()
        .args([
            "outbox",
            "plan",
            "--max-connections",
            "1",
            "--per-person",
            "1",
            "--json",
            "--input",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["connections"], 1);
    assert_eq!(v["assignments"]["wss://one"], serde_json::json!(["aa"]));
    assert_eq!(v["orphans"][0]["reason"], "no_relay_list");
    // bb has no relay list: the connected relay is asked about them too,
    // to learn whether they write there.
    assert_eq!(v["probes"]["wss://one"], serde_json::json!(["bb"]));
    assert_eq!(
        v.as_object().unwrap().len(),
        5,
        "exactly assignments, probes, unlisted, orphans, connections"
    );
}

#[test]
fn outbox_plan_explains_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.json");
    std::fs::write(&input, r#"{"follows": "not a list"}"#).unwrap();
    let out = samizdat()
        .args(["outbox", "plan", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("not a valid planner input"),
        "{err}"
    );
}

#[test]
fn sim_prints_a_table_or_json() {
    let out = samizdat()
        .args([
            "sim",
            "--seed",
            "3",
            "--users",
            "300",
            "--sessions",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], 3);
    assert_eq!(v["results"].as_array().unwrap().len(), 6);
    assert!(v["with_liveness"]["dead_connections"].is_u64());
    let out = samizdat()
        .args(["sim", "--users", "300", "--sessions", "2"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    for name in [
        "greedy-cover",
        "applesauce",
        "coracle",
        "with NIP-66 liveness",
    ] {
        assert!(table.contains(name), "{table}");
    }
}

#[test]
fn sim_sweeps_seeds_and_refuses_a_bad_cap() {
    let out = samizdat()
        .args(["sim", "--users", "300", "--sessions", "2", "--sweep", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("exposure cap 25% vs none"), "{text}");
    assert!(text.contains("cap cost (7-day points)"), "{text}");
    assert!(text.contains("ours / best baseline"), "{text}");
    for bad in [
        ["--max-exposure", "1.5"],
        ["--max-exposure", "0"],
        ["--sweep", "0"],
    ] {
        let out = samizdat()
            .args(["sim", "--users", "300", "--sessions", "1"])
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
    }
}

#[test]
fn outbox_cap_and_explore_are_saved_in_the_profile() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = samizdat()
            .env("SAMIZDAT_HOME", home.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(&["outbox", "cap", "25"]).contains("25%"));
    assert!(run(&["outbox", "explore", "off"]).contains("exploration off"));
    // Read back without changing: both kept.
    assert!(run(&["outbox", "cap"]).contains("25%"));
    assert!(run(&["outbox", "explore"]).contains("exploration off"));
    let settings = std::fs::read_to_string(home.path().join("default/settings.json")).unwrap();
    assert!(settings.contains("\"no_exploration\": true"), "{settings}");
    assert!(run(&["outbox", "cap", "0"]).contains("no exposure cap"));
    assert!(run(&["outbox", "explore", "on"]).contains("exploration on"));
}
