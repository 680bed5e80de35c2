//! `samizdat demo`, the README's first command: runs alone, on loopback,
//! exits by itself, and its JSON has the feed and the outbox picture.

mod common;

use common::samizdat;

#[test]
fn the_demo_runs_and_reports_feed_and_outbox() {
    let started = std::time::Instant::now();
    let out = samizdat()
        .args(["--log", "warn", "demo", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let feed = v["feed"].as_array().unwrap();
    assert_eq!(feed.len(), 20);
    let follows_seen: std::collections::BTreeSet<&str> = v["outbox"]["assignments"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_array().unwrap().iter().filter_map(|x| x.as_str()))
        .collect();
    for item in feed {
        assert!(
            follows_seen.contains(item["author"].as_str().unwrap()),
            "feed item from someone not followed"
        );
    }
    assert!(v["outbox"]["connections"].as_u64().unwrap() <= 20);
    let reasons: Vec<&str> = v["outbox"]["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"no_relay_list"), "{reasons:?}");
    let failed = v["outbox"]["relays"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["error"].is_string())
        .count();
    assert!(failed >= 2, "the two dead relays show as failed");
    assert!(started.elapsed().as_secs() < 60);
    let text = samizdat().args(["--log", "warn", "demo"]).output().unwrap();
    let printed = String::from_utf8_lossy(&text.stdout);
    assert!(
        printed.contains("Following feed")
            && printed.contains("Outbox picture")
            && printed.contains("orphaned")
    );
}
