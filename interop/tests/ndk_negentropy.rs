//! NIP-77 with an implementation we did not write: NDK's negentropy client
//! (`@nostr-dev-kit/sync`) reconciles an author's events held in its cache
//! with our relay, and finds exactly what each side lacks. (No independent
//! NIP-77 relay installs here — strfry is not packaged — so our client's
//! side is paired with our relay only, in `samizdat-net`'s tests.)

use std::sync::Arc;

use nostr::prelude::*;
use samizdat_interop::node_script;
use samizdat_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndk_sync_reconciles_with_our_relay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("relay.sqlite")).unwrap());
    let author = Keys::generate();
    let events: Vec<Event> = (0..300u64)
        .map(|i| {
            EventBuilder::new(Kind::TextNote, format!("note {i}"))
                .custom_created_at(Timestamp::from(1_700_000_000 + i * 60))
                .finalize(&author)
                .unwrap()
        })
        .collect();
    // The relay lacks every 30th; NDK's cache lacks every 15th that the
    // relay has.
    let on_relay: Vec<Event> = events
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 30 != 0)
        .map(|(_, e)| e.clone())
        .collect();
    store.insert_batch(&on_relay).unwrap();
    let cached: Vec<&Event> = events
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 15 != 1)
        .map(|(_, e)| e)
        .collect();
    let cache_file = dir.path().join("cache.json");
    std::fs::write(&cache_file, serde_json::to_string(&cached).unwrap()).unwrap();
    let relay = samizdat_relay::start(Default::default(), store, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = relay.url();
    let pk = author.public_key().to_hex();
    let file = cache_file.to_str().unwrap().to_owned();
    let report =
        tokio::task::spawn_blocking(move || node_script("ndk_sync.mjs", &[&url, &pk, &file]))
            .await
            .unwrap();
    assert_eq!(report["neg_open_sent"], 1, "it used NIP-77: {report}");
    let ids = |field: &str| -> Vec<String> {
        let mut v: Vec<String> = report[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let expect = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        let mut v: Vec<String> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, e)| e.id.to_hex())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids("need"),
        expect(&|i| i % 15 == 1 && i % 30 != 0),
        "{report}"
    );
    assert_eq!(
        ids("have"),
        expect(&|i| i % 30 == 0 && i % 15 != 1),
        "{report}"
    );
    assert_eq!(report["fetched"], 20, "{report}");
    relay.shutdown().await;
}
