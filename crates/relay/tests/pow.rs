//! NIP-13 on the relay, over a real websocket: with `min_pow` set, events
//! with too little work, or that commit to a lower target, get `pow:`;
//! mined ones are stored; NIP-11 declares the minimum.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::RelayConfig;

/// A note whose id has at least `bits` leading zero bits, committing to `target`.
fn mined(keys: &Keys, text: &str, bits: u8, target: u8) -> Event {
    for nonce in 0u64.. {
        let builder = EventBuilder::new(Kind::TextNote, text)
            .tag(Tag::parse(["nonce", &nonce.to_string(), &target.to_string()]).unwrap());
        let mut unsigned = builder.clone().finalize_unsigned(keys.public_key());
        if unsigned.id().check_pow(bits) {
            return unsigned.finalize(keys).unwrap();
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_work_is_refused_with_pow() {
    let relay = start_relay(RelayConfig {
        min_pow: 8,
        ..RelayConfig::default()
    })
    .await;
    let keys = Keys::generate();
    let mut c = Client::connect(&relay.handle.url()).await;
    let plain = EventBuilder::new(Kind::TextNote, "no work at all")
        .tag(Tag::parse(["nonce", "0", "8"]).unwrap())
        .finalize(&keys)
        .unwrap();
    // (one in 256 plain ids has 8 zero bits by luck: skip those)
    if !plain.id.check_pow(8) {
        let ok = c.publish(&plain).await;
        assert_eq!(ok[2], false, "{ok}");
        assert!(ok[3].as_str().unwrap().starts_with("pow:"), "{ok}");
    }
    let low_target = mined(&keys, "mined for 4, lucky", 8, 4);
    let ok = c.publish(&low_target).await;
    assert_eq!(ok[2], false, "{ok}");
    assert!(
        ok[3].as_str().unwrap().contains("committed target 4"),
        "{ok}"
    );
    let good = mined(&keys, "mined for 8", 8, 8);
    let ok = c.publish(&good).await;
    assert_eq!(ok[2], true, "{ok}");
    let doc = samizdat_relay::information_document(&RelayConfig {
        min_pow: 8,
        ..RelayConfig::default()
    });
    assert_eq!(doc["limitation"]["min_pow_difficulty"], 8);
}
