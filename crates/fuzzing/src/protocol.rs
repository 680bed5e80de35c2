//! Wire formats: client and relay messages, NIP-19 text, HTTP answers
//! (NIP-11, NIP-05), the relay's config file.

use std::sync::OnceLock;

use nostr::prelude::*;
use samizdat_relay::inbound::{self, Frame};
use samizdat_relay::negentropy::Sessions;
use samizdat_relay::{Limits, RelayConfig};

use crate::text;

/// A fixed set of (created_at, id) records a fuzzed reconciliation runs over.
fn records() -> &'static [(u64, [u8; 32])] {
    static RECORDS: OnceLock<Vec<(u64, [u8; 32])>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        (0..64u8)
            .map(|i| (1_700_000_000 + u64::from(i) * 7, [i.wrapping_mul(37); 32]))
            .collect()
    })
}

/// Client → relay: one websocket text frame through the relay's parser;
/// events are verified, negentropy payloads reconciled against a fixed set.
/// Every refusal must be a JSON array naming its verb.
pub fn relay_frame(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match inbound::parse(text, &Limits::default(), true) {
        Ok(Frame::Event(event)) | Ok(Frame::Auth(event)) => {
            let _ = event.verify();
        }
        Ok(Frame::NegOpen(open)) => {
            let mut sessions = Sessions::default();
            let _ = sessions.open(&open.sub, records(), &open.message);
            let _ = sessions.next(&open.sub, &open.message);
        }
        Ok(Frame::NegMsg { sub, message }) => {
            let mut sessions = Sessions::default();
            let _ = sessions.open(&sub, records(), &message);
        }
        Ok(_) => {}
        Err(refusal) => {
            let message = refusal.message();
            let parsed: serde_json::Value =
                serde_json::from_str(&message).unwrap_or(serde_json::Value::Null);
            assert!(
                parsed.get(0).and_then(|v| v.as_str()).is_some(),
                "a refusal that is not a JSON array: {message}"
            );
        }
    }
}

/// Relay → client: one frame through the client's parser, then the cheap
/// checks and the id check every received event gets.
pub fn relay_message(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let samizdat_net::RelayMessage::Event { event, .. } = samizdat_net::parse_relay_message(text)
    {
        let config = samizdat_net::ValidationConfig::default();
        let any = [Filter::new()];
        if samizdat_net::precheck(&event, &any, &config, 1_800_000_000).is_ok() {
            let _ = samizdat_net::verify_batch(std::slice::from_ref(&*event));
        }
    }
}

/// NIP-19 and content: the text of a note split into links, hashtags and
/// `nostr:` references; the text as a reference the user typed; the text as
/// a key to import.
pub fn nip19(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let _ = samizdat_client::content::segments(text);
    let _ = samizdat_client::content::parse_reference(text);
    let _ = Nip19::from_bech32(text);
    let _ = samizdat_client::keystore::parse_import(text);
}

/// An HTTP/1.1 answer (plain or chunked) as NIP-11, NIP-05 and Blossom
/// read it: through the one HTTP client, then as JSON.
pub fn http_json(data: &[u8]) {
    let Ok(answer) = samizdat_http::answer_of(data, 64 * 1024) else {
        return;
    };
    let Some(doc) = samizdat_net::http_json_of(&answer) else {
        return;
    };
    let _ = samizdat_net::RelayLimits::from_document(&doc);
    let _ = samizdat_net::read_nip05_answer(&doc, "bob", "bob@example.invalid");
    let _ = samizdat_net::read_nip05_answer(&doc, "_", "example.invalid");
}

/// The relay's TOML config: parsed and checked, a clear error or a config.
pub fn relay_config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(config) = RelayConfig::from_toml(text) {
        let _ = samizdat_relay::information_document(&config);
    }
}
