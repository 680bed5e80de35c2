//! NIP-17 private messages between our client session and nostr-tools
//! (`nip17.wrapManyEvents` / `unwrapEvent`), over our relays on 127.0.0.1:
//! a message wrapped by nostr-tools to our user is read by the session call
//! behind `samizdat dm read`; ours is opened by nostr-tools; a group of three
//! both ways.

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::{LocalSigner, RelayRoles, Session, SessionConfig, Settings};
use samizdat_interop::nostr_tools;
use samizdat_relay::{RelayConfig, RelayHandle};
use samizdat_store::Store;
use serde_json::json;

async fn relay(dir: &tempfile::TempDir, name: &str) -> (RelayHandle, Arc<Store>, String) {
    let store = Arc::new(Store::open(dir.path().join(format!("{name}.sqlite"))).unwrap());
    let handle = samizdat_relay::start(
        RelayConfig::default(),
        store.clone(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let url = samizdat_net::RelayUrl::parse(&handle.url())
        .unwrap()
        .to_string();
    (handle, store, url)
}

fn dm_relay_list(keys: &Keys, url: &str) -> Event {
    EventBuilder::new(Kind::InboxRelays, "")
        .tag(Tag::parse(["relay", url]).unwrap())
        .finalize(keys)
        .unwrap()
}

fn wrapped_for(wraps: &serde_json::Value, who: &PublicKey) -> Vec<Event> {
    wraps
        .as_array()
        .unwrap()
        .iter()
        .map(|w| Event::from_json(w.to_string()).unwrap())
        .filter(|w| w.tags.public_keys().any(|p| p == *who))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nip17_messages_and_groups_both_ways_with_nostr_tools() {
    let dir = tempfile::tempdir().unwrap();
    let (_indexer, indexer_store, indexer) = relay(&dir, "indexer").await;
    let (_home, _, home) = relay(&dir, "home").await;
    let (_ours_dm, ours_dm_store, ours_dm) = relay(&dir, "ours-dm").await;
    let (_theirs_dm, theirs_dm_store, theirs_dm) = relay(&dir, "theirs-dm").await;
    let (me, alice, carol) = (Keys::generate(), Keys::generate(), Keys::generate());
    // alice and carol (nostr-tools users) read their messages on theirs-dm.
    indexer_store
        .insert_batch(&[
            dm_relay_list(&alice, &theirs_dm),
            dm_relay_list(&carol, &theirs_dm),
        ])
        .unwrap();

    let profile = dir.path().join("me");
    std::fs::create_dir_all(&profile).unwrap();
    let mut settings = Settings {
        discovery: vec![indexer.clone()],
        ..Settings::default()
    };
    settings.relays.insert(
        home.clone(),
        RelayRoles {
            read: true,
            write: true,
        },
    );
    settings.save(&profile.join("settings.json")).unwrap();
    let mut config = SessionConfig::default();
    config.engine.phase_timeout = Duration::from_secs(5);
    let session = Session::with_store(
        Arc::new(Store::open(profile.join("events.sqlite")).unwrap()),
        profile.join("settings.json"),
        Arc::new(LocalSigner::new(me.clone())),
        config,
    )
    .unwrap();
    session
        .set_dm_relays(std::slice::from_ref(&ours_dm))
        .await
        .unwrap();

    // nostr-tools → us (one to one, with a subject).
    let wraps = nostr_tools(json!({
        "op": "nip17_wrap_many", "sk": alice.secret_key().to_secret_hex(),
        "recipients": [me.public_key().to_hex()], "message": "hi from nostr-tools", "subject": "interop"
    }));
    ours_dm_store
        .insert_batch(&wrapped_for(&wraps, &me.public_key()))
        .unwrap();
    session.sync_dms().await.unwrap();
    let read = session.conversation(&[alice.public_key()]).await.unwrap();
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].text, "hi from nostr-tools");
    assert_eq!(read[0].author, alice.public_key());
    assert_eq!(read[0].subject.as_deref(), Some("interop"));

    // us → nostr-tools.
    session
        .send_dm(&[alice.public_key()], "hi from samizdat", None)
        .await
        .unwrap();
    let at_alice = theirs_dm_store
        .query(&[Filter::new()
            .kind(Kind::GiftWrap)
            .pubkey(alice.public_key())
            .limit(10)])
        .unwrap();
    assert_eq!(at_alice.len(), 1, "one wrap on alice's DM relay");
    let rumor = nostr_tools(json!({
        "op": "nip17_unwrap", "sk": alice.secret_key().to_secret_hex(),
        "wrap": serde_json::to_value(&at_alice[0]).unwrap()
    }));
    assert_eq!(rumor["content"], "hi from samizdat");
    assert_eq!(rumor["pubkey"], me.public_key().to_hex());
    assert_eq!(rumor["kind"], 14);

    // A group of three, nostr-tools → us. (nostr-tools' `wrapManyEvents`
    // tags each copy with its own recipient only, which makes every copy a
    // one-to-one chat; the group rumor is built with nostr-tools' nip59.)
    let wraps = nostr_tools(json!({
        "op": "nip17_group_wrap", "sk": alice.secret_key().to_secret_hex(),
        "recipients": [me.public_key().to_hex(), carol.public_key().to_hex()], "message": "group hello"
    }));
    ours_dm_store
        .insert_batch(&wrapped_for(&wraps, &me.public_key()))
        .unwrap();
    session.sync_dms().await.unwrap();
    let group = session
        .conversation(&[alice.public_key(), carol.public_key()])
        .await
        .unwrap();
    assert_eq!(
        group.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["group hello"]
    );
    let conversations = session.conversations().await.unwrap();
    assert_eq!(conversations.len(), 2, "one-to-one and the group are apart");

    // A group of three, us → nostr-tools: both open it and see all three.
    session
        .send_dm(
            &[alice.public_key(), carol.public_key()],
            "group reply",
            None,
        )
        .await
        .unwrap();
    for who in [&alice, &carol] {
        let wraps = theirs_dm_store
            .query(&[Filter::new()
                .kind(Kind::GiftWrap)
                .pubkey(who.public_key())
                .limit(10)])
            .unwrap();
        let opened: Vec<serde_json::Value> = wraps
            .iter()
            .map(|w| {
                nostr_tools(json!({
                    "op": "nip17_unwrap", "sk": who.secret_key().to_secret_hex(),
                    "wrap": serde_json::to_value(w).unwrap()
                }))
            })
            .collect();
        let reply = opened
            .iter()
            .find(|r| r["content"] == "group reply")
            .expect("nostr-tools opens our group message");
        let tagged: Vec<&str> = reply["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t[0] == "p")
            .map(|t| t[1].as_str().unwrap())
            .collect();
        let mut expected = vec![alice.public_key().to_hex(), carol.public_key().to_hex()];
        expected.sort();
        let mut tagged: Vec<String> = tagged.into_iter().map(str::to_owned).collect();
        tagged.sort();
        assert_eq!(tagged, expected);
    }
    session.shutdown().await;
}
