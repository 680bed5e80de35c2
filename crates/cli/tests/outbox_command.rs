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
    assert_eq!(
        v.as_object().unwrap().len(),
        3,
        "exactly assignments, orphans, connections"
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
    assert_eq!(v["results"].as_array().unwrap().len(), 4);
    let out = samizdat()
        .args(["sim", "--users", "300", "--sessions", "2"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("greedy-cover"));
}
