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
    // Everyone any relay was asked about (probes included: someone with no
    // relay list found by exploring shows up in the feed too).
    let follows_seen: std::collections::BTreeSet<&str> = v["outbox"]["asked"]
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
    assert!(!reasons.contains(&"no_relay_list"), "{reasons:?}");
    // People without a relay list are read from the user's relays instead.
    let unlisted = v["outbox"]["unlisted"].as_object().unwrap();
    assert!(!unlisted.is_empty(), "{unlisted:?}");
    // The two dead relays: the demo's NIP-66 monitor reports them dead, so
    // they are skipped, never tried.
    let skipped = v["outbox"]["skipped_as_dead"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    for url in skipped {
        assert!(
            v["outbox"]["relays"].get(url.as_str().unwrap()).is_none(),
            "{url} was tried"
        );
    }

    // The privacy ledger: each relay was asked about exactly the people the
    // sync's plans assigned to it or probed it about, no one else it follows;
    // the final plan's assignments and probes are among them.
    let follows: std::collections::BTreeSet<String> = v["outbox"]["assignments"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
        })
        .chain(
            v["outbox"]["orphans"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|o| o["pubkey"].as_str().map(str::to_owned)),
        )
        .chain(unlisted.values().flat_map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
        }))
        .collect();
    let ledger = v["privacy"]["relays"].as_array().unwrap();
    for (relay, assigned) in v["outbox"]["assignments"].as_object().unwrap() {
        let entry = ledger
            .iter()
            .find(|r| r["relay"] == relay.as_str())
            .unwrap_or_else(|| panic!("{relay} is not in the ledger"));
        let asked: std::collections::BTreeSet<&str> = entry["people_asked"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .filter(|p| follows.contains(*p))
            .collect();
        let planned: std::collections::BTreeSet<&str> = v["outbox"]["asked"][relay.as_str()]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        assert_eq!(
            asked, planned,
            "{relay}: the ledger holds exactly whom the sync's plans asked it about"
        );
        let probed = v["outbox"]["probes"][relay.as_str()].as_array();
        let unlisted = v["outbox"]["unlisted"][relay.as_str()].as_array();
        for p in assigned
            .as_array()
            .unwrap()
            .iter()
            .chain(probed.into_iter().flatten())
            .chain(unlisted.into_iter().flatten())
        {
            assert!(
                planned.contains(p.as_str().unwrap()),
                "{relay}: {p} planned, not asked"
            );
        }
        assert!(
            entry["summary"].as_str().unwrap().contains("your IP: yes"),
            "{entry}"
        );
    }
    assert!(v["privacy"]["max_follow_share"].as_f64().unwrap() > 0.0);
    // The web of trust: the spammer's and the impostor's mentions hidden,
    // the friend of a friend's shown; the spammer's thread reply hidden;
    // the follow's message opened, the two strangers' waiting as requests;
    // the impostor's name flagged.
    let trust = &v["trust"];
    assert_eq!(trust["inbox_hidden"], 2, "{trust}");
    assert_eq!(
        trust["inbox_shown"].as_array().map(Vec::len),
        Some(1),
        "{trust}"
    );
    assert_eq!(trust["thread_hidden"], 1, "{trust}");
    assert_eq!(
        trust["conversations"].as_array().map(Vec::len),
        Some(1),
        "{trust}"
    );
    assert_eq!(
        trust["requests"].as_array().map(Vec::len),
        Some(2),
        "{trust}"
    );
    assert_eq!(
        trust["lookalikes"].as_array().map(Vec::len),
        Some(1),
        "{trust}"
    );
    assert!(started.elapsed().as_secs() < 60);
    let text = samizdat().args(["--log", "warn", "demo"]).output().unwrap();
    let printed = String::from_utf8_lossy(&text.stdout);
    assert!(
        printed.contains("Following feed")
            && printed.contains("Outbox picture")
            && printed.contains("orphaned")
            && printed.contains("Web of trust")
    );
}
