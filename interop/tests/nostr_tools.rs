//! Samizdat (the `nostr` crate we ship) paired with nostr-tools, which shares
//! none of its code: each side's output must be accepted by the other.

use std::str::FromStr;

use nostr::nips::nip19::{Nip19, Nip19Coordinate, Nip19Event, Nip19Profile};
use nostr::nips::nip49::{EncryptedSecretKey, KeySecurity};
use nostr::nips::nip59::{GiftWrapBuilder, UnwrappedGift};
use nostr::prelude::*;
use samizdat_client::keystore;
use samizdat_interop::nostr_tools;
use serde_json::json;

fn pass(s: &str) -> keystore::Passphrase {
    keystore::Passphrase::from(s.to_owned())
}

const TRICKY: &str = "line\nbreak \"quotes\" \\ back é 😀 \u{1} </script> \u{2028}";

#[test]
fn events_signed_by_nostr_tools_verify_here() {
    let keys = Keys::generate();
    let js = nostr_tools(json!({
        "op": "sign", "sk": keys.secret_key().to_secret_hex(), "kind": 1,
        "content": TRICKY, "tags": [["t", "interop"], ["p", keys.public_key().to_hex()]], "created_at": 1_700_000_000
    }));
    let event = Event::from_json(js.to_string()).expect("nostr-tools' event parses");
    event
        .verify()
        .expect("nostr-tools' signature verifies here");
    assert_eq!(event.content, TRICKY);
}

#[test]
fn events_signed_here_verify_in_nostr_tools() {
    let keys = Keys::generate();
    let event = EventBuilder::new(Kind::TextNote, TRICKY)
        .tag(Tag::hashtag("interop"))
        .finalize(&keys)
        .unwrap();
    let answer =
        nostr_tools(json!({"op": "verify", "event": serde_json::to_value(&event).unwrap()}));
    assert_eq!(answer["ok"], true, "nostr-tools rejects our event");
    let mut forged = serde_json::to_value(&event).unwrap();
    forged["content"] = json!("changed");
    assert_eq!(
        nostr_tools(json!({"op": "verify", "event": forged}))["ok"],
        false
    );
}

#[test]
fn nip44_payloads_decrypt_both_ways() {
    let (a, b) = (Keys::generate(), Keys::generate());
    for plaintext in ["a", TRICKY, &"x".repeat(70_000)] {
        let ours = nip44::encrypt(
            a.secret_key(),
            &b.public_key(),
            plaintext,
            nip44::Version::V2,
        )
        .unwrap();
        let theirs_read = nostr_tools(
            json!({"op": "nip44_decrypt", "sk": b.secret_key().to_secret_hex(), "pk": a.public_key().to_hex(), "payload": ours}),
        );
        assert_eq!(theirs_read["plaintext"], plaintext);
        let theirs = nostr_tools(
            json!({"op": "nip44_encrypt", "sk": b.secret_key().to_secret_hex(), "pk": a.public_key().to_hex(), "plaintext": plaintext}),
        );
        let read = nip44::decrypt(
            a.secret_key(),
            &b.public_key(),
            theirs["payload"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(read, plaintext);
    }
}

#[test]
fn nip49_ncryptsec_opens_both_ways() {
    let keys = Keys::generate();
    let theirs = nostr_tools(
        json!({"op": "nip49_encrypt", "sk": keys.secret_key().to_secret_hex(), "password": "ÅΩẛ̣ pw", "logn": 10, "ksb": 1}),
    );
    let enc = EncryptedSecretKey::from_bech32(theirs["ncryptsec"].as_str().unwrap()).unwrap();
    assert_eq!(enc.key_security(), KeySecurity::Medium);
    let opened = keystore::decrypt(&enc, &pass("ÅΩẛ̣ pw")).unwrap();
    assert_eq!(opened.public_key(), keys.public_key());
    let ours =
        EncryptedSecretKey::new(keys.secret_key(), "ÅΩẛ̣ pw", 10, KeySecurity::Medium).unwrap();
    let opened = nostr_tools(
        json!({"op": "nip49_decrypt", "ncryptsec": ours.to_bech32().unwrap(), "password": "ÅΩẛ̣ pw"}),
    );
    assert_eq!(opened["sk"], keys.secret_key().to_secret_hex());
}

#[test]
fn nip59_gift_wraps_unwrap_both_ways() {
    let (alice, bob) = (Keys::generate(), Keys::generate());
    let wrap = nostr_tools(
        json!({"op": "nip59_wrap", "sk": alice.secret_key().to_secret_hex(), "recipient": bob.public_key().to_hex(), "kind": 14, "content": "hi bob", "tags": [["p", bob.public_key().to_hex()]]}),
    );
    let wrap = Event::from_json(wrap.to_string()).unwrap();
    wrap.verify().unwrap();
    let gift =
        UnwrappedGift::from_gift_wrap(&bob, &wrap).expect("we unwrap nostr-tools' gift wrap");
    assert_eq!(
        (gift.sender, gift.rumor.content.as_str()),
        (alice.public_key(), "hi bob")
    );

    let rumor = EventBuilder::new(Kind::PrivateDirectMessage, "hi alice")
        .tag(Tag::public_key(alice.public_key()))
        .finalize_unsigned(bob.public_key());
    let ours = GiftWrapBuilder::new(alice.public_key(), rumor)
        .finalize(&bob)
        .unwrap();
    let rumor = nostr_tools(
        json!({"op": "nip59_unwrap", "sk": alice.secret_key().to_secret_hex(), "wrap": serde_json::to_value(&ours).unwrap()}),
    );
    assert_eq!(rumor["content"], "hi alice");
    assert_eq!(rumor["pubkey"], bob.public_key().to_hex());
}

#[test]
fn nip19_entities_parse_both_ways() {
    let keys = Keys::generate();
    let pk = keys.public_key();
    let relay = "wss://relay.example.com";
    let id = EventBuilder::new(Kind::TextNote, "x")
        .finalize(&keys)
        .unwrap()
        .id;

    // Theirs → ours.
    let npub = nostr_tools(json!({"op": "nip19_encode", "type": "npub", "hex": pk.to_hex()}));
    assert_eq!(
        PublicKey::from_bech32(npub["code"].as_str().unwrap()).unwrap(),
        pk
    );
    let nsec = nostr_tools(
        json!({"op": "nip19_encode", "type": "nsec", "hex": keys.secret_key().to_secret_hex()}),
    );
    assert_eq!(
        SecretKey::from_bech32(nsec["code"].as_str().unwrap())
            .unwrap()
            .to_secret_hex(),
        keys.secret_key().to_secret_hex()
    );
    let nprofile = nostr_tools(
        json!({"op": "nip19_encode", "type": "nprofile", "data": {"pubkey": pk.to_hex(), "relays": [relay]}}),
    );
    let p = Nip19Profile::from_bech32(nprofile["code"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            p.public_key,
            p.relays[0].to_string().trim_end_matches('/').to_owned()
        ),
        (pk, relay.to_owned())
    );
    let nevent = nostr_tools(
        json!({"op": "nip19_encode", "type": "nevent", "data": {"id": id.to_hex(), "relays": [relay], "author": pk.to_hex(), "kind": 1}}),
    );
    let e = Nip19Event::from_bech32(nevent["code"].as_str().unwrap()).unwrap();
    assert_eq!(
        (e.event_id, e.author, e.kind),
        (id, Some(pk), Some(Kind::TextNote))
    );
    let naddr = nostr_tools(
        json!({"op": "nip19_encode", "type": "naddr", "data": {"identifier": "post", "pubkey": pk.to_hex(), "kind": 30023, "relays": [relay]}}),
    );
    let a = Nip19Coordinate::from_bech32(naddr["code"].as_str().unwrap()).unwrap();
    assert_eq!(
        (a.identifier.as_str(), a.public_key, a.kind),
        ("post", pk, Kind::LongFormTextNote)
    );

    // Ours → theirs.
    let check = |code: String, expect_type: &str| {
        let d = nostr_tools(json!({"op": "nip19_decode", "code": code}));
        assert_eq!(d["type"], expect_type, "{d}");
        d["data"].clone()
    };
    assert_eq!(check(pk.to_bech32().unwrap(), "npub"), json!(pk.to_hex()));
    assert_eq!(
        check(keys.secret_key().to_bech32().unwrap(), "nsec"),
        json!(keys.secret_key().to_secret_hex())
    );
    let url = RelayUrl::from_str(relay).unwrap();
    let d = check(
        Nip19Profile::new(pk, [url.clone()]).to_bech32().unwrap(),
        "nprofile",
    );
    assert_eq!(d["pubkey"], pk.to_hex());
    let d = check(
        Nip19Event::new(id)
            .author(pk)
            .kind(Kind::TextNote)
            .relays([url.clone()])
            .to_bech32()
            .unwrap(),
        "nevent",
    );
    assert_eq!(
        (d["id"].as_str(), d["author"].as_str(), d["kind"].as_u64()),
        (
            Some(id.to_hex().as_str()),
            Some(pk.to_hex().as_str()),
            Some(1)
        )
    );
    let coord = Coordinate::new(Kind::LongFormTextNote, pk).identifier("post");
    let d = check(
        Nip19Coordinate::new(coord, [url]).to_bech32().unwrap(),
        "naddr",
    );
    assert_eq!(
        (d["identifier"].as_str(), d["kind"].as_u64()),
        (Some("post"), Some(30023))
    );
    let _ = Nip19::from_bech32(&pk.to_bech32().unwrap()).unwrap();
}

#[test]
fn nip13_difficulty_of_our_mined_events_is_confirmed_by_nostr_tools() {
    let keys = Keys::generate();
    for bits in [8u8, 16] {
        let unsigned =
            EventBuilder::new(Kind::TextNote, "mined here").finalize_unsigned(keys.public_key());
        let progress = samizdat_client::pow::PowProgress::new();
        let mined = samizdat_client::pow::mine(&unsigned, bits, 2, &progress).unwrap();
        let event = mined.finalize(&keys).unwrap();
        let answer = nostr_tools(json!({"op": "nip13_pow", "id": event.id.to_hex()}));
        let theirs = answer["difficulty"].as_u64().unwrap();
        assert!(
            theirs >= u64::from(bits),
            "nostr-tools counts {theirs} bits, we mined {bits}"
        );
        assert_eq!(
            theirs,
            u64::from(samizdat_client::pow::leading_zero_bits(event.id.as_bytes())),
            "both count the same leading zero bits"
        );
    }
}
