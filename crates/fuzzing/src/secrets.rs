//! Encrypted and signed material: NIP-44 payloads and NIP-17 gift wraps,
//! NIP-49 keys, NIP-46 URIs and requests, backup files.

use std::sync::OnceLock;

use nostr::nips::nip49::EncryptedSecretKey;
use nostr::prelude::*;
use samizdat_client::keystore::{self, ImportedKey, KeyError, MAX_LOG_N};
use samizdat_client::LocalSigner;

use crate::{ready, text};

/// Fixed keys: the recipient (us), a sender, and a wrap's one-time key.
struct Parties {
    me: Keys,
    sender: Keys,
    one_time: Keys,
}

fn parties() -> &'static Parties {
    static PARTIES: OnceLock<Parties> = OnceLock::new();
    PARTIES.get_or_init(|| {
        let key = |byte: u8| {
            Keys::new(SecretKey::from_slice(&[byte; 32]).unwrap_or_else(|_| SecretKey::generate()))
        };
        Parties {
            me: key(1),
            sender: key(2),
            one_time: key(3),
        }
    })
}

/// NIP-44 and NIP-17. The fuzzer cannot forge ciphertext, so the input is
/// what a sender controls *inside* the encryption: by its first byte,
/// 0 → the wrap's content as is (the NIP-44 payload parser);
/// 1 → the seal, encrypted to us and wrapped properly;
/// anything else → the rumor, sealed by the sender and wrapped properly.
/// Then the client's `unwrap` opens it as it opens every received wrap.
pub fn nip44_wrap(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some(inner) = text(rest) else { return };
    let p = parties();
    let me = LocalSigner::new(p.me.clone());
    let seal_for_me = |from: &Keys, plaintext: &str| {
        nip44::encrypt(
            from.secret_key(),
            &p.me.public_key(),
            plaintext,
            nip44::Version::V2,
        )
        .ok()
    };
    let wrap_content = match mode {
        0 => Some(inner.to_owned()),
        1 => seal_for_me(&p.one_time, inner),
        _ => seal_for_me(&p.sender, inner).and_then(|sealed| {
            let seal = EventBuilder::new(Kind::Seal, sealed)
                .finalize(&p.sender)
                .ok()?;
            seal_for_me(&p.one_time, &seal.as_json())
        }),
    };
    let Some(content) = wrap_content else { return };
    let Ok(wrap) = EventBuilder::new(Kind::GiftWrap, content)
        .tag(Tag::public_key(p.me.public_key()))
        .finalize(&p.one_time)
    else {
        return;
    };
    if let Some(Ok(rumor)) = ready(samizdat_client::dm::wrap::unwrap(&me, &wrap)) {
        assert_eq!(
            rumor.pubkey,
            p.sender.public_key(),
            "a rumor opened under another author"
        );
    }
    let _ = nip44::decrypt(p.me.secret_key(), &p.sender.public_key(), inner);
}

/// NIP-49: the text as a key to import, and the bytes as an encrypted key's
/// payload. A cost past what we accept must be refused at once, never run
/// (scrypt at log_n 40 would ask for a petabyte).
pub fn nip49(data: &[u8]) {
    if let Some(text) = text(data) {
        if let Ok(ImportedKey::Encrypted(enc)) = keystore::parse_import(text) {
            try_decrypt(&enc);
        }
    }
    if let Ok(enc) = EncryptedSecretKey::from_slice(data) {
        try_decrypt(&enc);
        if let Ok(bech32) = enc.to_bech32() {
            assert!(
                EncryptedSecretKey::from_bech32(&bech32).is_ok(),
                "{bech32} does not read back"
            );
        }
    }
}

fn try_decrypt(enc: &EncryptedSecretKey) {
    let log_n = enc.log_n();
    if log_n > MAX_LOG_N {
        let refused = keystore::decrypt(enc, &passphrase("x"));
        assert!(
            matches!(refused, Err(KeyError::BadLogN(_))),
            "log_n {log_n} was not refused"
        );
    } else if log_n <= 6 {
        // Cheap enough to run on every input.
        let _ = keystore::decrypt(enc, &passphrase("x"));
    }
}

/// NIP-46: the text as a `nostrconnect://` URI (the bunker reads it), as a
/// `bunker://` URI (the client reads it), as a request or response message,
/// and as a `sign_event` parameter, summarised as the approval prompt shows it.
pub fn nip46(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let _ = samizdat_client::nip46::parse_nostrconnect(text);
    let _ = samizdat_client::nip46::parse_bunker_uri(text, true);
    if let Ok(message) = NostrConnectMessage::from_json(text) {
        let _ = message.clone().to_request();
        let _ = message.to_response(NostrConnectMethod::SignEvent);
    }
    let app = parties().sender.public_key();
    if let Some(unsigned) = samizdat_client::nip46::parse_unsigned(text, parties().me.public_key())
    {
        let summary = samizdat_client::nip46::sign_request_summary(&app, Some(text), &unsigned);
        assert!(
            summary.chars().count() < 2_000,
            "an unbounded approval prompt"
        );
    }
}

/// A backup file (`samizdat import`): every line verified, bad lines named.
pub fn backup(data: &[u8]) {
    let me = parties().me.public_key();
    let mut input = data;
    if let Ok(report) = samizdat_client::backup::read(&mut input, Some(me)) {
        assert!(report
            .events
            .iter()
            .all(|e| e.pubkey == me || e.kind == Kind::GiftWrap));
    }
}

fn passphrase(text: &str) -> keystore::Passphrase {
    text.to_owned().into()
}
