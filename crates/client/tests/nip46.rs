//! NIP-46 end to end over our relay on 127.0.0.1: our client signs through
//! our bunker; permission denied is reported as such; a spent pairing secret
//! is refused; a bunker that goes away makes requests time out cleanly; the
//! audit log records decisions without content.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::nip46::{Bunker, BunkerConfig, Prompt, RemoteSigner, RemoteSignerError};
use samizdat_client::{LocalSigner, Signer, SignerError};
use samizdat_net::{NetConfig, PolicyBook, RelayUrl};
use samizdat_store::Store;

struct Answer(bool);
impl Prompt for Answer {
    fn approve(&self, summary: &str) -> bool {
        assert!(summary.contains("asks to"), "{summary}");
        self.0
    }
}

/// Our bunker for `user` on one relay, approving `kinds` and answering every "ask" with `yes`.
fn start_bunker(
    dir: &tempfile::TempDir,
    user: &Keys,
    relay: &RelayUrl,
    kinds: &[u16],
    yes: bool,
) -> Bunker {
    Bunker::start(
        Arc::new(LocalSigner::new(user.clone())),
        Keys::generate(),
        BunkerConfig {
            relays: vec![relay.clone()],
            auto_approve_kinds: kinds.iter().copied().collect::<BTreeSet<u16>>(),
            state_dir: dir.path().to_path_buf(),
            net: NetConfig::default(),
            policies: PolicyBook::new(),
        },
        store(dir, "bunker.sqlite"),
        Arc::new(Answer(yes)),
    )
}

/// Our relay on 127.0.0.1 over a store in `dir`.
async fn our_relay(dir: &tempfile::TempDir) -> samizdat_relay::RelayHandle {
    samizdat_relay::start(
        Default::default(),
        store(dir, "relay.sqlite"),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn store(dir: &tempfile::TempDir, name: &str) -> Arc<Store> {
    Arc::new(Store::open(dir.path().join(name)).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_through_our_bunker_over_our_relay() {
    let dir = tempfile::tempdir().unwrap();
    let relay = our_relay(&dir).await;
    let relay_url = RelayUrl::parse(&relay.url()).unwrap();
    let user = Keys::generate();
    let bunker = start_bunker(&dir, &user, &relay_url, &[1], false);
    let uri = bunker.uri().to_owned();
    assert!(uri.starts_with("bunker://") && uri.contains("secret="));

    let remote = RemoteSigner::connect_bunker(
        &uri,
        Some("sign_event:1"),
        store(&dir, "client.sqlite"),
        NetConfig::default(),
        PolicyBook::new(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(
        remote.public_key(),
        user.public_key(),
        "get_public_key names the user, not the bunker"
    );
    assert_eq!(bunker.paired().len(), 1);

    // Kind 1 is approved by --approve; the answer is verified by the client.
    let unsigned = EventBuilder::new(Kind::TextNote, "signed far away")
        .tag(Tag::hashtag("nip46"))
        .finalize_unsigned(remote.public_key());
    let event = remote.sign_event(unsigned).await.unwrap();
    event.verify().unwrap();
    assert_eq!(event.pubkey, user.public_key());

    // Kind 0 needs asking, and the user says no.
    let profile = EventBuilder::new(Kind::Metadata, "{\"name\":\"x\"}")
        .finalize_unsigned(remote.public_key());
    assert_eq!(
        remote.sign_event(profile).await.unwrap_err(),
        SignerError::Refused("permission denied".into())
    );
    let peer = Keys::generate().public_key();
    assert!(matches!(
        remote.nip44_encrypt(&peer, "hi").await,
        Err(SignerError::Refused(_))
    ));

    // The pairing secret was single use.
    let again = RemoteSigner::connect_bunker(
        &uri,
        Some("sign_event:1"),
        store(&dir, "client2.sqlite"),
        NetConfig::default(),
        PolicyBook::new(),
        Duration::from_secs(3),
    )
    .await;
    assert!(
        matches!(again, Err(RemoteSignerError::Refused(_))),
        "{again:?}"
    );

    // The audit log knows what happened, not what was said.
    let audit = std::fs::read_to_string(dir.path().join("bunker-audit.log")).unwrap();
    assert!(audit.contains("\"decision\":\"paired\""));
    assert!(audit.contains(&event.id.to_hex()) && audit.contains("\"decision\":\"approved\""));
    assert!(audit.contains("\"decision\":\"denied\""));
    assert!(audit.contains("\"decision\":\"refused\""));
    assert!(
        !audit.contains("signed far away"),
        "no content in the audit log"
    );
    assert!(!audit.contains(&user.secret_key().to_secret_hex()));

    // The bunker goes away: the next request times out cleanly.
    bunker.stop().await;
    let remote_slow = remote.clone();
    let late = EventBuilder::new(Kind::TextNote, "anyone there?")
        .finalize_unsigned(remote_slow.public_key());
    let started = std::time::Instant::now();
    assert_eq!(
        remote_slow.sign_event(late).await.unwrap_err(),
        SignerError::Timeout
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_the_user_can_approve_and_a_dead_bunker_uri_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let relay = our_relay(&dir).await;
    let relay_url = RelayUrl::parse(&relay.url()).unwrap();
    let user = Keys::generate();
    let bunker = start_bunker(&dir, &user, &relay_url, &[], true);
    let remote = RemoteSigner::connect_bunker(
        bunker.uri(),
        None,
        store(&dir, "c.sqlite"),
        NetConfig::default(),
        PolicyBook::new(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let reaction = EventBuilder::new(Kind::Reaction, "+").finalize_unsigned(remote.public_key());
    remote.sign_event(reaction).await.unwrap().verify().unwrap();
    let peer = Keys::generate();
    let ct = remote
        .nip44_encrypt(&peer.public_key(), "via bunker")
        .await
        .unwrap();
    assert_eq!(
        nip44::decrypt(peer.secret_key(), &user.public_key(), &ct).unwrap(),
        "via bunker"
    );
    bunker.stop().await;

    // A URI whose signer never answers.
    let nobody = format!(
        "bunker://{}?relay={}&secret=abc",
        Keys::generate().public_key().to_hex(),
        relay.url()
    );
    let err = RemoteSigner::connect_bunker(
        &nobody,
        None,
        store(&dir, "d.sqlite"),
        NetConfig::default(),
        PolicyBook::new(),
        Duration::from_millis(800),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RemoteSignerError::Timeout(_)), "{err}");
    assert!(matches!(
        RemoteSigner::connect_bunker(
            "https://nope",
            None,
            store(&dir, "e.sqlite"),
            NetConfig::default(),
            PolicyBook::new(),
            Duration::from_millis(100)
        )
        .await,
        Err(RemoteSignerError::BadUri(_))
    ));
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nostrconnect_pairing_started_by_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let relay = our_relay(&dir).await;
    let relay_url = RelayUrl::parse(&relay.url()).unwrap();
    let user = Keys::generate();
    let (uri, pairing) = RemoteSigner::pair(
        vec![relay_url.clone()],
        "samizdat test app",
        Some("sign_event:1"),
        store(&dir, "client.sqlite"),
        NetConfig::default(),
        PolicyBook::new(),
        Duration::from_secs(5),
    );
    assert!(uri.starts_with("nostrconnect://") && uri.contains("secret="));
    let bunker = start_bunker(&dir, &user, &relay_url, &[1], false);
    let waiting = tokio::spawn(pairing.wait());
    tokio::time::sleep(Duration::from_millis(200)).await;
    bunker.accept(&uri).await.unwrap();
    let remote = waiting.await.unwrap().unwrap();
    assert_eq!(remote.public_key(), user.public_key());
    let note = EventBuilder::new(Kind::TextNote, "paired from the app side")
        .finalize_unsigned(remote.public_key());
    remote.sign_event(note).await.unwrap().verify().unwrap();
    assert!(bunker.accept("bunker://nope").await.is_err());
    bunker.stop().await;
    relay.shutdown().await;
}
