//! The web of trust end to end on loopback relays: the follow and mute
//! lists of the people followed are fetched from their own write relays in
//! the feed's REQ (no relay asked about anyone new); a stranger's replies,
//! mentions and messages are hidden and counted; a friend of a friend's are
//! shown; someone muted by two follows is hidden; a lookalike name is
//! flagged; and a flood of gift wraps costs at most the hourly limit's
//! number of decryptions.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{asked_about, url};
use nostr::prelude::*;
use samizdat_client::dm::wrap;
use samizdat_client::session::trust::Distance;
use samizdat_client::{LocalSigner, Signer, SignerFuture};

fn note(k: &Keys, text: &str, tags: Vec<Tag>) -> Event {
    EventBuilder::new(Kind::TextNote, text)
        .tags(tags)
        .finalize(k)
        .unwrap()
}

fn relay_list(k: &Keys, write: &str) -> Event {
    EventBuilder::new(Kind::RelayList, "")
        .tag(Tag::parse(["r", write]).unwrap())
        .finalize(k)
        .unwrap()
}

fn list(k: &Keys, kind: Kind, people: &[&Keys]) -> Event {
    EventBuilder::new(kind, "")
        .tags(people.iter().map(|p| Tag::public_key(p.public_key())))
        .finalize(k)
        .unwrap()
}

fn profile(k: &Keys, name: &str) -> Event {
    EventBuilder::new(Kind::Metadata, format!(r#"{{"name":"{name}"}}"#))
        .finalize(k)
        .unwrap()
}

async fn dm_from(from: &Keys, to: PublicKey, text: &str) -> Event {
    let r = wrap::rumor(from.public_key(), &[to], text, None);
    wrap::gift_wrap(&LocalSigner::new(from.clone()), &r, to)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_hidden_and_counted_friends_of_friends_shown_lookalikes_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, disc_store) = common::relay(&dir, "discovery").await;
    let (home, home_store) = common::relay(&dir, "home").await;
    let (alice_relay, alice_store) = common::relay(&dir, "alice").await;
    let (bob_relay, bob_store) = common::relay(&dir, "bob").await;
    let [me, alice, bob, carol, spammer, muted, fake_alice] =
        std::array::from_fn(|_| Keys::generate());

    // Alice and Bob list their own relays; their follow and mute lists are
    // only there (not on the discovery relay).
    disc_store
        .insert_batch(&[
            relay_list(&alice, &url(&alice_relay)),
            relay_list(&bob, &url(&bob_relay)),
            profile(&alice, "Alice Liddell"),
            profile(&fake_alice, "Аlice Lidde\u{200B}ll"),
        ])
        .unwrap();
    alice_store
        .insert_batch(&[
            note(&alice, "alice writes", vec![]),
            list(&alice, Kind::ContactList, &[&carol, &muted]),
            list(&alice, Kind::MuteList, &[&muted]),
        ])
        .unwrap();
    bob_store
        .insert_batch(&[
            note(&bob, "bob writes", vec![]),
            list(&bob, Kind::MuteList, &[&muted, &spammer]),
        ])
        .unwrap();
    // The user's thread and what others sent: all on the user's own relay.
    let root = note(&me, "my thread", vec![]);
    let reply = |k: &Keys, text: &str| {
        note(
            k,
            text,
            vec![
                Tag::parse(["e", &root.id.to_hex(), "", "root"]).unwrap(),
                Tag::public_key(me.public_key()),
            ],
        )
    };
    home_store
        .insert_batch(&[
            root.clone(),
            reply(&carol, "carol, a friend of a friend, replies"),
            reply(&spammer, "spammer replies: buy now"),
            reply(&muted, "muted by two of your follows"),
            note(
                &fake_alice,
                "it's me, Alice, new key",
                vec![Tag::public_key(me.public_key())],
            ),
        ])
        .unwrap();

    let profile_dir = dir.path().join("me");
    let s = common::local_session(&profile_dir, &me, &[(&url(&home), true, true)], &url(&disc));
    // The user's own note, as if posted from this device.
    s.engine().store().insert(&root).unwrap();
    s.follow(alice.public_key(), true).await.unwrap();
    s.follow(bob.public_key(), true).await.unwrap();
    let report = s.sync(|_| {}).await.unwrap();

    // The lists came from the follows' own relays, in the feed's REQ: those
    // relays were asked about exactly the people the plan reads there.
    let store = s.engine().store();
    for relay in [&alice_relay, &bob_relay] {
        let planned: std::collections::BTreeSet<String> =
            report.asked[&url(relay)].iter().cloned().collect();
        assert_eq!(
            asked_about(store, &url(relay)),
            planned,
            "nothing beyond the plan"
        );
    }
    assert!(report.asked[&url(&alice_relay)].contains(&alice.public_key().to_hex()));
    // Computing trust asks nobody anything.
    let ledger_before = store.ledger().unwrap();
    let carol_trust = s.trust_of(carol.public_key()).unwrap();
    assert_eq!(
        (carol_trust.distance, carol_trust.followed_by),
        (Distance::FriendOfFriend, 1)
    );
    let why = s.explain_trust(muted.public_key()).unwrap();
    assert_eq!((why.trust.followed_by, why.trust.muted_by), (1, 2));
    assert_eq!(why.trust.score, 1 - 2 * 2);
    let names = s.names(&[alice.public_key()]).unwrap();
    let sentence = why.sentence(&names);
    assert!(
        sentence.contains("muted by 2 of your follows"),
        "{sentence}"
    );
    assert_eq!(
        store.ledger().unwrap(),
        ledger_before,
        "trust is computed locally"
    );

    // Inbox: carol shows; the spammer, the muted one and the impostor are
    // hidden and counted; `--all` has them.
    s.fetch_inbox(50).await.unwrap();
    let (shown, held) = s.inbox_with_held(50).unwrap();
    let texts: Vec<&str> = shown.iter().map(|e| e.content.as_str()).collect();
    assert_eq!(texts, ["carol, a friend of a friend, replies"]);
    assert_eq!(held.outside_network, 3, "{held:?}");
    assert_eq!(s.inbox_all(50).unwrap().len(), 4);

    // The thread: carol's reply shown, the spammer's and the muted one's hidden.
    let thread = s.thread_read(root.id, false).await.unwrap();
    let texts: Vec<&str> = thread.events.iter().map(|e| e.content.as_str()).collect();
    assert_eq!(texts, ["my thread", "carol, a friend of a friend, replies"]);
    assert_eq!(thread.hidden.len(), 2);

    // Search: strangers are found (threshold 0) unless follows mute them
    // (bob mutes the spammer).
    let found = s.search_screened("new key", 10).unwrap();
    assert_eq!(
        (found.shown.len(), found.hidden.len()),
        (1, 0),
        "a stranger, found"
    );
    let found = s.search_screened("replies", 10).unwrap();
    assert_eq!(
        found.shown[0].content,
        "carol, a friend of a friend, replies"
    );
    assert_eq!(found.hidden[0].content, "spammer replies: buy now");
    let found = s.search_screened("muted", 10).unwrap();
    assert_eq!((found.shown.len(), found.hidden.len()), (0, 1));

    // A name that imitates Alice's is flagged; Alice's own is not.
    s.fetch_profiles_of(&[alice.public_key(), fake_alice.public_key()])
        .await
        .unwrap();
    let flagged = s
        .lookalikes(&[
            alice.public_key(),
            fake_alice.public_key(),
            carol.public_key(),
        ])
        .unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[&fake_alice.public_key()], alice.public_key());
    assert_eq!(
        s.explain_trust(fake_alice.public_key())
            .unwrap()
            .lookalike_of,
        Some(alice.public_key())
    );

    // Messages: carol's opens, the spammer's waits in requests unopened.
    s.set_dm_relays(&[url(&home)]).await.unwrap();
    home_store
        .insert_batch(&[
            dm_from(&carol, me.public_key(), "hi from carol").await,
            dm_from(&spammer, me.public_key(), "claim your prize").await,
        ])
        .unwrap();
    s.sync_dms().await.unwrap();
    let conversations = s.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].with, vec![carol.public_key()]);
    let gate = s.dm_requests().await.unwrap();
    assert_eq!(gate.requests.len(), 1);
    assert_eq!(gate.requests[0].from, spammer.public_key());
    // Opening the request shows it (and lets the sender in this session).
    let opened = s.accept_requests(spammer.public_key()).await.unwrap();
    assert_eq!(opened[0].text, "claim your prize");
    assert_eq!(s.conversations().await.unwrap().len(), 2);
    assert!(s.dm_requests().await.unwrap().requests.is_empty());

    // Following the muted person's muters away changes the score at once:
    // bob unfollowed, one mute fewer.
    s.follow(bob.public_key(), false).await.unwrap();
    assert_eq!(s.trust_of(muted.public_key()).unwrap().muted_by, 1);

    s.shutdown().await;
    for r in [disc, home, alice_relay, bob_relay] {
        r.shutdown().await;
    }
}

/// Counts the decryptions a signer is asked for.
struct CountingSigner {
    inner: LocalSigner,
    decrypts: AtomicUsize,
}

impl Signer for CountingSigner {
    fn public_key(&self) -> PublicKey {
        self.inner.public_key()
    }
    fn sign_event(&self, unsigned: UnsignedEvent) -> SignerFuture<'_, Event> {
        self.inner.sign_event(unsigned)
    }
    fn nip44_encrypt<'a>(&'a self, peer: &'a PublicKey, text: &'a str) -> SignerFuture<'a, String> {
        self.inner.nip44_encrypt(peer, text)
    }
    fn nip44_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String> {
        self.decrypts.fetch_add(1, Ordering::SeqCst);
        self.inner.nip44_decrypt(peer, payload)
    }
    fn nip04_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String> {
        self.decrypts.fetch_add(1, Ordering::SeqCst);
        self.inner.nip04_decrypt(peer, payload)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wraps_costs_at_most_the_hourly_limit_of_decryptions() {
    let dir = tempfile::tempdir().unwrap();
    let (disc, _) = common::relay(&dir, "discovery").await;
    // A DM relay that sends a whole flood in answer to one REQ.
    let mut config = samizdat_relay::RelayConfig::default();
    config.limits.default_limit = 5_000;
    let (home, home_store) = common::relay_with(&dir, "home", config).await;
    let me = Keys::generate();
    let signer = Arc::new(CountingSigner {
        inner: LocalSigner::new(me.clone()),
        decrypts: AtomicUsize::new(0),
    });
    let s = common::session_at(
        &dir.path().join("me"),
        signer.clone(),
        &[(&url(&home), true, true)],
        &[&url(&disc)],
        &[],
    );
    let mut trust = s.trust_settings();
    trust.stranger_wraps_per_hour = 10;
    trust.wrap_pow_accepted = 8;
    s.set_trust_settings(trust).unwrap();
    s.set_dm_relays(&[url(&home)]).await.unwrap();

    // 1,000 wraps from 1,000 strangers (one-time keys, as a flooder would).
    let mut flood = Vec::new();
    while flood.len() < 1_000 {
        let w = dm_from(
            &Keys::generate(),
            me.public_key(),
            &format!("spam {}", flood.len()),
        )
        .await;
        // One random id in 256 has 8 zero bits by chance; a flooder's
        // wraps carry no work, so such a wrap is not part of the flood.
        if samizdat_client::pow::leading_zero_bits(w.id.as_bytes()) < 8 {
            flood.push(w);
        }
    }
    for chunk in flood.chunks(250) {
        home_store.insert_batch(chunk).unwrap();
    }
    // A stranger who did the work: 8 bits on the wrap.
    let worker = Keys::generate();
    let r = wrap::rumor(
        worker.public_key(),
        &[me.public_key()],
        "worth your time",
        None,
    );
    let worked =
        wrap::gift_wrap_with_pow(&LocalSigner::new(worker.clone()), &r, me.public_key(), 8)
            .await
            .unwrap();
    assert!(samizdat_client::pow::leading_zero_bits(worked.id.as_bytes()) >= 8);
    home_store.insert(&worked).unwrap();

    let before = signer.decrypts.load(Ordering::SeqCst);
    s.sync_dms().await.unwrap();
    let conversations = s.conversations().await.unwrap();
    let gate = s.dm_requests().await.unwrap();
    let spent = signer.decrypts.load(Ordering::SeqCst) - before;
    // 10 outer layers (the limit) + the worked wrap's two layers (+ the
    // read markers, which are not wraps: none read yet).
    assert_eq!(spent, 10 + 2, "decryptions: {spent}");
    assert_eq!(
        conversations.len(),
        1,
        "the worked wrap skipped the requests folder"
    );
    assert_eq!(conversations[0].with, vec![worker.public_key()]);
    let requests: usize = gate.requests.iter().map(|r| r.messages).sum();
    assert_eq!(requests, 10);
    assert_eq!(gate.waiting, 1_000 - 10);
    // Asking again costs nothing more this hour.
    s.conversations().await.unwrap();
    assert_eq!(signer.decrypts.load(Ordering::SeqCst) - before, 12);
    s.shutdown().await;
    disc.shutdown().await;
    home.shutdown().await;
}
