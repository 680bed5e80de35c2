//! `samizdat bench relay` runs end to end against a real `samizdat relay`
//! process and prints its figures as JSON (no timing is asserted).

mod common;

use std::process::Command;

use common::{json_of, RelayProcess};

#[test]
fn bench_relay_prints_figures_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/relay-bench.toml");
    let relay = RelayProcess::start(&dir.path().join("r.sqlite"), &["--config", config]);
    let port = relay.port;
    let out = Command::new(env!("CARGO_BIN_EXE_samizdat"))
        .args([
            "--log",
            "warn",
            "bench",
            "relay",
            "--url",
            &format!("ws://127.0.0.1:{port}"),
        ])
        .args([
            "--events",
            "300",
            "--reqs",
            "60",
            "--clients",
            "4",
            "--json",
        ])
        .output()
        .unwrap();
    drop(relay);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accepted"], 300);
    assert_eq!(v["rejected"], 0);
    assert_eq!(v["reqs"], 60);
    assert!(v["publish_eps"].as_f64().unwrap() > 0.0);
    assert!(v["req_p99_ms"].as_f64().unwrap() >= v["req_p50_ms"].as_f64().unwrap());
}

#[test]
fn bench_ingest_reports_both_rates_as_json() {
    let v = json_of(&[
        "--log", "warn", "bench", "ingest", "--events", "600", "--json",
    ]);
    assert_eq!(v["events"], 600);
    assert!(v["verify_eps"].as_f64().unwrap() > 0.0);
    assert!(v["ingest_eps"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_trust_reports_build_update_and_memory_as_json() {
    let v = json_of(&[
        "--log",
        "warn",
        "bench",
        "trust",
        "--follows",
        "100",
        "--each",
        "50",
        "--json",
    ]);
    assert_eq!(v["follows"], 100);
    assert!(v["edges"].as_u64().unwrap() >= 100 * 50);
    assert!(v["build_ms"].as_f64().unwrap() > 0.0);
    assert!(v["graph_heap_mib"].as_f64().unwrap() > 0.0);
    assert_eq!(v["store"]["lists"], 100);
    assert_eq!(
        v["store"]["lists_reread"], 20,
        "one changed list read per refresh"
    );
}
