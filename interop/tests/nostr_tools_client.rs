//! nostr-tools as a client of our relay: publish, stored and live
//! subscriptions, rejections with the right prefixes, and NIP-42 AUTH.

use std::sync::Arc;

use samizdat_interop::node_script;
use samizdat_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nostr_tools_client_against_our_relay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("relay.sqlite")).unwrap());
    let relay = samizdat_relay::start(Default::default(), store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = relay.url();
    let report = tokio::task::spawn_blocking(move || node_script("client.mjs", &[&url]))
        .await
        .unwrap();
    let first = report["first_id"].as_str().unwrap();
    assert_eq!(report["publish"], "ok", "{report}");
    assert_eq!(report["stored"][0]["id"], first, "{report}");
    assert_eq!(
        report["stored"][0]["content"],
        "from nostr-tools \"quoted\" \n é 😀"
    );
    assert_eq!(report["live"], true, "{report}");
    for (field, prefix) in [
        ("tampered", "invalid:"),
        ("future", "invalid:"),
        ("protected_before_auth", "auth-required:"),
        ("dm_before_auth", "auth-required:"),
    ] {
        let text = report[field].as_str().unwrap_or_default();
        assert!(
            text.starts_with(prefix),
            "{field}: expected {prefix} got {text:?}"
        );
    }
    assert_eq!(report["auth"], "ok", "{report}");
    assert_eq!(report["dm_after_auth"][0], report["dm_id"], "{report}");
    assert_eq!(report["protected_after_auth"], "accepted", "{report}");
    relay.shutdown().await;
}
