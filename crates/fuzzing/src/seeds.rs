//! Seed inputs for every target, made from real messages: events signed by
//! real keys, the frames our client and relay exchange, documents our relay
//! serves, a backup our export writes. `examples/write_seeds.rs` writes them
//! under `fuzz/seeds/`; the corpus test replays them too.

use nostr::nips::nip49::{EncryptedSecretKey, KeySecurity};
use nostr::prelude::*;
use serde_json::json;

use crate::storage::seed_events;

/// The seeds of one target, by target name.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let strings: Vec<String> = match target {
        "relay_frame" => relay_frames(),
        "relay_message" => relay_messages(),
        "event" => events().iter().map(|e| e.as_json()).collect(),
        "store_query" => filters(),
        "nip19" => nip19(),
        "nip44_wrap" => return nip44_wraps(),
        "nip49" => return nip49(),
        "nip46" => nip46(),
        "http_json" => http_answers(),
        "backup" => backups(),
        "relay_config" => relay_configs(),
        _ => Vec::new(),
    };
    strings.into_iter().map(String::into_bytes).collect()
}

fn keys(byte: u8) -> Keys {
    Keys::new(SecretKey::from_slice(&[byte; 32]).unwrap_or_else(|_| SecretKey::generate()))
}

/// A handful of real events: a note, a reply, a deletion, an expiring note,
/// a replaceable and an addressable event, plus the query store's events.
fn events() -> Vec<Event> {
    let a = keys(1);
    let mut out: Vec<Event> = seed_events().into_iter().step_by(15).collect();
    let note = EventBuilder::new(
        Kind::TextNote,
        "hello #nostr nostr:npub1sg6plzptd64u62a878hep2kev88swjh3tw00gjsfl8f237lmu63q0uf63m",
    )
    .tag(Tag::hashtag("nostr"))
    .finalize(&a);
    if let Ok(note) = note {
        let reply = EventBuilder::new(Kind::TextNote, "a reply")
            .tag(Tag::event(note.id))
            .tag(Tag::public_key(a.public_key()))
            .finalize(&keys(2));
        let deletion = EventBuilder::new(Kind::EventDeletion, "")
            .tag(Tag::event(note.id))
            .finalize(&a);
        out.extend([reply, deletion].into_iter().flatten());
        out.push(note);
    }
    let expiring = EventBuilder::new(Kind::TextNote, "gone soon")
        .tag(Tag::expiration(Timestamp::from_secs(1_700_000_000)))
        .finalize(&a);
    let metadata = EventBuilder::new(
        Kind::Metadata,
        r#"{"name":"alice","nip05":"alice@example.invalid"}"#,
    )
    .finalize(&a);
    let article = EventBuilder::new(Kind::LongFormTextNote, "# title")
        .tag(Tag::identifier("post"))
        .finalize(&a);
    out.extend([expiring, metadata, article].into_iter().flatten());
    out
}

fn relay_frames() -> Vec<String> {
    let a = keys(1);
    let mut out: Vec<String> = events()
        .iter()
        .map(|e| json!(["EVENT", e]).to_string())
        .collect();
    out.extend(
        [
            json!(["REQ", "feed", {"kinds": [1, 6], "authors": [a.public_key().to_hex()], "limit": 50}]),
            json!(["REQ", "thread", {"#e": ["a".repeat(64)]}, {"ids": ["b".repeat(64)]}]),
            json!(["REQ", "search", {"search": "nostr relay", "since": 1_700_000_000, "until": 1_800_000_000}]),
            json!(["COUNT", "c", {"kinds": [3], "#p": [a.public_key().to_hex()]}]),
            json!(["CLOSE", "feed"]),
            json!(["NEG-OPEN", "neg", {"kinds": [1]}, "6100000200"]),
            json!(["NEG-MSG", "neg", "61000002"]),
            json!(["NEG-CLOSE", "neg"]),
        ]
        .iter()
        .map(|v| v.to_string()),
    );
    if let Ok(auth) = EventBuilder::new(Kind::Authentication, "")
        .tag(Tag::parse(["relay", "ws://127.0.0.1:7777"]).unwrap_or_else(|_| Tag::hashtag("x")))
        .tag(Tag::parse(["challenge", "abc"]).unwrap_or_else(|_| Tag::hashtag("x")))
        .finalize(&a)
    {
        out.push(json!(["AUTH", auth]).to_string());
    }
    out
}

fn relay_messages() -> Vec<String> {
    let mut out: Vec<String> = events()
        .iter()
        .map(|e| json!(["EVENT", "feed", e]).to_string())
        .collect();
    let id = "c".repeat(64);
    out.extend(
        [
            json!(["OK", id, true, ""]),
            json!(["OK", id, false, "blocked: you are banned"]),
            json!(["OK", "", false, "invalid: bad signature"]),
            json!(["EOSE", "feed"]),
            json!(["CLOSED", "feed", "auth-required: sign in"]),
            json!(["NOTICE", "slow down"]),
            json!(["AUTH", "challenge-string"]),
            json!(["COUNT", "c", {"count": 12}]),
            json!(["NEG-MSG", "neg", "6100000200"]),
            json!(["NEG-ERR", "neg", "blocked: too many records"]),
        ]
        .iter()
        .map(|v| v.to_string()),
    );
    out
}

fn filters() -> Vec<String> {
    let a = keys(10).public_key().to_hex();
    [
        json!({"kinds": [1], "limit": 20}),
        json!({"authors": [a], "kinds": [0, 3, 10002]}),
        json!([{"#t": ["nostr"]}, {"#p": [a], "since": 1_700_000_000}]),
        json!({"search": "privacy tor", "limit": 5}),
        json!({"kinds": [30023], "#d": ["article-1"], "authors": [a]}),
        json!({"ids": ["ab"], "until": 1_700_003_000}),
        json!({"#e": ["0".repeat(64)], "kinds": [1, 7]}),
        json!({}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect()
}

fn nip19() -> Vec<String> {
    let a = keys(1);
    let mut out = Vec::new();
    let Ok(npub) = a.public_key().to_bech32();
    out.push(npub.clone());
    out.push(format!(
        "gm nostr:{npub} see https://example.invalid/x #tag"
    ));
    let Ok(nsec) = a.secret_key().to_bech32();
    out.push(nsec);
    out.push(a.secret_key().to_secret_hex());
    let relay = RelayUrl::parse("wss://relay.example.invalid").ok();
    let profile = Nip19Profile::new(a.public_key(), relay.clone());
    if let Ok(p) = profile.to_bech32() {
        out.push(format!("nostr:{p}"));
    }
    let id = EventId::from_byte_array([0; 32]);
    let Ok(note) = id.to_bech32();
    out.push(note);
    let nevent = Nip19Event::new(id)
        .author(a.public_key())
        .relays(relay.clone());
    if let Ok(e) = nevent.to_bech32() {
        out.push(format!("quoting nostr:{e}"));
    }
    let coordinate = Coordinate::new(Kind::LongFormTextNote, a.public_key()).identifier("post");
    if let Ok(naddr) = Nip19Coordinate::new(coordinate, relay).to_bech32() {
        out.push(naddr);
    }
    out
}

fn nip44_wraps() -> Vec<Vec<u8>> {
    let (me, sender) = (keys(1), keys(2));
    let rumor = EventBuilder::new(Kind::PrivateDirectMessage, "hi")
        .tag(Tag::public_key(me.public_key()))
        .finalize_unsigned(sender.public_key());
    let mut out = vec![[&[2u8][..], rumor.as_json().as_bytes()].concat()];
    if let Ok(sealed) = nip44::encrypt(
        sender.secret_key(),
        &me.public_key(),
        rumor.as_json(),
        nip44::Version::V2,
    ) {
        if let Ok(seal) = EventBuilder::new(Kind::Seal, sealed.clone()).finalize(&sender) {
            out.push([&[1u8][..], seal.as_json().as_bytes()].concat());
        }
        out.push([&[0u8][..], sealed.as_bytes()].concat());
    }
    out
}

fn nip49() -> Vec<Vec<u8>> {
    let secret = keys(1).secret_key().clone();
    let mut out = Vec::new();
    if let Ok(enc) = EncryptedSecretKey::new(&secret, "x", 4, KeySecurity::Medium) {
        if let Ok(text) = enc.to_bech32() {
            out.push(text.into_bytes());
        }
        out.push(enc.as_vec());
    }
    out
}

fn nip46() -> Vec<String> {
    let app = keys(2).public_key().to_hex();
    let signer = keys(1).public_key().to_hex();
    vec![
        format!("nostrconnect://{app}?relay=ws%3A%2F%2F127.0.0.1%3A7777&secret=s3cr3t&name=My%20App"),
        format!("nostrconnect://{app}?relay=wss://r.example.invalid&metadata=%7B%22name%22%3A%22Old%22%7D&secret=x"),
        format!("bunker://{signer}?relay=ws%3A%2F%2F127.0.0.1%3A7777&secret=abc"),
        json!({"id": "1", "method": "sign_event", "params": [json!({"kind": 1, "content": "hi", "tags": [["t", "x"]], "created_at": 1_700_000_000}).to_string()]}).to_string(),
        json!({"id": "2", "method": "connect", "params": [signer, "s3cr3t"]}).to_string(),
        json!({"id": "3", "result": "ack"}).to_string(),
        json!({"id": "4", "result": "", "error": "refused"}).to_string(),
        json!({"kind": 30023, "content": "x", "tags": [["d", "a"], ["p", app]]}).to_string(),
    ]
}

fn http_answers() -> Vec<String> {
    let document = samizdat_relay::information_document(&Default::default()).to_string();
    let nip05 =
        json!({"names": {"bob": keys(2).public_key().to_hex(), "_": keys(1).public_key().to_hex()},
        "relays": {keys(2).public_key().to_hex(): ["wss://relay.example.invalid"]}})
        .to_string();
    let plain = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let chunked = |body: &str| {
        let (a, b) = body.split_at(body.len() / 2);
        format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
    };
    vec![
        plain(&document),
        chunked(&document),
        plain(&nip05),
        chunked(&nip05),
        "HTTP/1.1 404 Not Found\r\n\r\n".into(),
    ]
}

/// Backups as `samizdat export` writes them: with and without the key.
fn backups() -> Vec<String> {
    let me = keys(1);
    let ncryptsec = EncryptedSecretKey::new(me.secret_key(), "x", 4, KeySecurity::Medium)
        .ok()
        .and_then(|e| e.to_bech32().ok());
    let body: Vec<String> = events()
        .iter()
        .filter(|e| e.pubkey == me.public_key())
        .map(|e| e.as_json())
        .collect();
    [None, ncryptsec]
        .into_iter()
        .map(|key| {
            let header =
                json!({"samizdat_backup": 1, "pubkey": me.public_key().to_hex(), "ncryptsec": key});
            let mut lines = vec![header.to_string()];
            lines.extend(body.iter().cloned());
            lines.push("not json".into());
            lines.join("\n")
        })
        .collect()
}

fn relay_configs() -> Vec<String> {
    let owner = keys(1).public_key().to_hex();
    vec![
        include_str!("../../../bench/relay-bench.toml").to_owned(),
        format!("name = \"mine\"\n[policy]\nwrite = \"personal\"\nowners = [\"{owner}\"]\nauth_read_all = true\n"),
        "[limits]\nmax_message_length = 1024\nmax_filters = 2\n".to_owned(),
    ]
}
