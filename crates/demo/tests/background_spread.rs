//! A background refresh spreads its REQs: each relay is asked after a
//! random delay of its own, so relays comparing logs do not see every
//! connection of the user asked in the same second. An interactive refresh
//! (the one the user waits for) asks them all at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use samizdat_demo::coalition::{Log, What};
use samizdat_demo::{DemoNetwork, DemoOptions};

/// Per relay, when its first REQ arrived after `from`.
fn first_reqs(log: &Log, from: Duration) -> BTreeMap<String, Duration> {
    let mut first = BTreeMap::new();
    for s in log.seen() {
        if s.at >= from && matches!(s.what, What::Req { .. }) {
            first.entry(s.relay.clone()).or_insert(s.at);
        }
    }
    first
}

fn range(times: &BTreeMap<String, Duration>) -> Duration {
    let lo = times.values().min().copied().unwrap_or_default();
    let hi = times.values().max().copied().unwrap_or_default();
    hi - lo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_refresh_asks_each_relay_at_a_time_of_its_own() {
    let log = Arc::new(Log::default());
    let network = DemoNetwork::start(&DemoOptions {
        up: 6,
        down: 0,
        tap: Some(Arc::clone(&log)),
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = samizdat_demo::session_config();
    config.engine.background_spread = Duration::from_secs(3);
    let session = network.open_session(dir.path(), config).unwrap();

    let start = log.seen().last().map(|s| s.at).unwrap_or_default();
    session.refresh().await.unwrap();
    let interactive = first_reqs(&log, start);
    assert!(interactive.len() >= 4, "{interactive:?}");
    assert!(
        range(&interactive) < Duration::from_secs(1),
        "the refresh the user waits for asks at once: {interactive:?}"
    );

    let start = log.seen().last().map(|s| s.at).unwrap_or_default() + Duration::from_millis(1);
    session
        .engine()
        .in_background(session.refresh())
        .await
        .unwrap();
    let background = first_reqs(&log, start);
    assert!(background.len() >= 4, "{background:?}");
    assert!(
        range(&background) > Duration::from_millis(300),
        "each relay at a time of its own: {background:?}"
    );
    session.shutdown().await;
    network.shutdown().await;
}
