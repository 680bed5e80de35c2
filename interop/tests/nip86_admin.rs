//! nostr-tools as a NIP-86 admin of our relay: NIP-98 headers signed by
//! nostr-tools' `nip98` authorize a ban over HTTP; the banned key's next
//! event is refused with `blocked:`; a key that is not an admin gets 403;
//! nostr-tools' NIP-45 `count` gets the relay's count.

use std::sync::Arc;

use nostr::prelude::*;
use samizdat_interop::node_script;
use samizdat_relay::{PolicyConfig, RelayConfig};
use samizdat_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nostr_tools_bans_a_key_through_nip86_with_nip98() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("relay.sqlite")).unwrap());
    let admin = Keys::generate();
    let config = RelayConfig {
        policy: PolicyConfig {
            admins: vec![admin.public_key().to_hex()],
            ..Default::default()
        },
        ..RelayConfig::default()
    };
    let relay = samizdat_relay::start(config, store.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = relay.url();
    let secret = admin.secret_key().to_secret_hex();
    let report =
        tokio::task::spawn_blocking(move || node_script("nip86_admin.mjs", &[&url, &secret]))
            .await
            .unwrap();
    assert_eq!(report["before"], "ok", "{report}");
    assert_eq!(report["not_admin"]["status"], 403, "{report}");
    assert_eq!(report["ban"]["status"], 200, "{report}");
    assert_eq!(report["ban"]["body"]["result"], true, "{report}");
    let after = report["after"].as_str().unwrap();
    assert!(after.starts_with("blocked:"), "{report}");
    let spammer = report["spammer"].as_str().unwrap();
    assert_eq!(
        report["listed"]["body"]["result"][0]["pubkey"], spammer,
        "{report}"
    );
    assert_eq!(report["count"], 1, "{report}");
    let banned = store.moderation_list("banned_pubkey").unwrap();
    assert_eq!(banned[0].admin, admin.public_key().to_hex());
    relay.shutdown().await;
}
