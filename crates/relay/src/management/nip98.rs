//! NIP-98 authorizations, checked here rather than by the protocol crate so
//! that the `method` tag is compared without regard to case, as nostr-tools'
//! own validator does (a token with `post` was refused with a misleading
//! "missing tag: method"). Everything else is as strict: a kind-27235 event
//! with a valid id and signature, at most 60 s old (30 s ahead), whose `u`
//! names one of this relay's URLs and whose `payload` is the body's SHA-256.

use base64::Engine;
use nostr::prelude::*;
use sha2::{Digest, Sha256};

/// Largest header accepted (base64 of the event).
const MAX_HEADER: usize = 16 * 1024;

/// Checks `header` for a POST of `body` to one of `urls`; the signer's key,
/// or why not.
pub(super) fn verify(
    header: &str,
    urls: &[Url],
    body: &[u8],
    now: Timestamp,
) -> Result<PublicKey, String> {
    let (scheme, encoded) = header
        .split_once(' ')
        .ok_or("malformed authorization header")?;
    if scheme != "Nostr" || encoded.is_empty() || encoded.len() > MAX_HEADER {
        return Err("malformed authorization header".into());
    }
    let json = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("authorization is not base64: {e}"))?;
    let event =
        Event::from_json(json).map_err(|e| format!("authorization is not an event: {e}"))?;
    if event.kind != Kind::HttpAuth {
        return Err(format!(
            "authorization has kind {}, not 27235",
            event.kind.as_u16()
        ));
    }
    event
        .verify()
        .map_err(|e| format!("authorization signature: {e}"))?;
    let age = now.as_secs() as i64 - event.created_at.as_secs() as i64;
    if !(-30..=60).contains(&age) {
        return Err("authorization is too old (or dated in the future)".into());
    }
    let tag = |name: &str| {
        event
            .tags
            .iter()
            .map(|t| t.as_slice())
            .find(|t| t.first().map(String::as_str) == Some(name))
            .and_then(|t| t.get(1).cloned())
    };
    let u = tag("u").ok_or("missing tag: u")?;
    let u = Url::parse(&u).map_err(|e| format!("tag u is not a URL: {e}"))?;
    if !urls.contains(&u) {
        return Err("the authorization names no URL of this relay".into());
    }
    let method = tag("method").ok_or("missing tag: method")?;
    if !method.eq_ignore_ascii_case("POST") {
        return Err(format!("the authorization is for {method}, not POST"));
    }
    let payload = tag("payload").ok_or("missing tag: payload")?;
    let hash = faster_hex::hex_string(&Sha256::digest(body));
    if !payload.eq_ignore_ascii_case(&hash) {
        return Err("the payload tag is not the body's SHA-256".into());
    }
    Ok(event.pubkey)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(keys: &Keys, url: &str, method: &str, body: &[u8], at: Timestamp) -> String {
        let payload = faster_hex::hex_string(&Sha256::digest(body));
        let event = EventBuilder::new(Kind::HttpAuth, "")
            .tags([
                Tag::parse(["u", url]).unwrap(),
                Tag::parse(["method", method]).unwrap(),
                Tag::parse(["payload", &payload]).unwrap(),
            ])
            .custom_created_at(at)
            .finalize(keys)
            .unwrap();
        format!(
            "Nostr {}",
            base64::engine::general_purpose::STANDARD.encode(event.as_json())
        )
    }

    #[test]
    fn the_method_is_compared_without_case_and_the_rest_strictly() {
        let keys = Keys::generate();
        let urls = [Url::parse("ws://relay.example").unwrap()];
        let now = Timestamp::now();
        let body = b"{}";
        for method in ["POST", "post", "Post"] {
            let h = header(&keys, "ws://relay.example", method, body, now);
            assert_eq!(
                verify(&h, &urls, body, now),
                Ok(keys.public_key()),
                "{method}"
            );
        }
        let h = header(&keys, "ws://relay.example", "GET", body, now);
        assert!(verify(&h, &urls, body, now)
            .unwrap_err()
            .contains("not POST"));
        let h = header(&keys, "ws://other.example", "POST", body, now);
        assert!(verify(&h, &urls, body, now).unwrap_err().contains("no URL"));
        let h = header(&keys, "ws://relay.example", "POST", b"other", now);
        assert!(verify(&h, &urls, body, now)
            .unwrap_err()
            .contains("payload"));
        let old = Timestamp::from_secs(now.as_secs() - 120);
        let h = header(&keys, "ws://relay.example", "POST", body, old);
        assert!(verify(&h, &urls, body, now)
            .unwrap_err()
            .contains("too old"));
        for bad in ["", "Nostr", "Basic abc", "Nostr !!!", "Nostr e30="] {
            assert!(verify(bad, &urls, body, now).is_err(), "{bad}");
        }
    }
}
