//! BUD-11 authorization: `Authorization: Nostr <base64 kind-24242 event>`,
//! signed, unexpired, for this verb, and (for blob verbs) naming the blob.

use axum::http::{header, HeaderMap};
use nostr::prelude::*;
use samizdat_media::BlobHash;

/// Clock skew tolerated for `created_at`.
const SKEW_SECS: u64 = 60;

/// Largest authorization header read.
const MAX_HEADER: usize = 16 * 1024;

/// A checked authorization: who signed it and which blobs it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The signer.
    pub key: PublicKey,
    /// The blobs its `x` tags name.
    pub blobs: Vec<BlobHash>,
}

impl Authorization {
    /// `Err` with the reason for a 401 unless it names `hash`.
    pub fn names(&self, hash: &BlobHash) -> Result<(), String> {
        if self.blobs.contains(hash) {
            Ok(())
        } else {
            Err(format!("the authorization does not name blob {hash}"))
        }
    }
}

/// Checks the request's authorization for `verb` (and `hash`, when the verb
/// concerns one blob) and returns the signer's key, or the reason for a 401.
pub fn authorize(
    headers: &HeaderMap,
    verb: &str,
    hash: Option<&BlobHash>,
) -> Result<PublicKey, String> {
    let authorization = read(headers, verb)?;
    if let Some(hash) = hash {
        authorization.names(hash)?;
    }
    Ok(authorization.key)
}

/// Reads and checks the request's authorization for `verb` (signature,
/// kind, dates, verb), whatever blob it names.
pub fn read(headers: &HeaderMap, verb: &str) -> Result<Authorization, String> {
    use base64::Engine;
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("an authorization (kind 24242) is required")?;
    if value.len() > MAX_HEADER {
        return Err("the authorization is too large".into());
    }
    let encoded = value
        .strip_prefix("Nostr ")
        .ok_or("the authorization must be \"Nostr <base64 event>\"")?;
    // Standard or URL-safe alphabet, padded or not (clients differ).
    let normal: String = encoded
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let json = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(normal)
        .map_err(|_| "the authorization is not base64")?;
    let event = Event::from_json(&json).map_err(|_| "the authorization is not an event")?;
    event
        .verify()
        .map_err(|_| "the authorization's signature does not verify")?;
    if event.kind != Kind::Custom(24242) {
        return Err("the authorization must be kind 24242".into());
    }
    let now = Timestamp::now().as_secs();
    if event.created_at.as_secs() > now + SKEW_SECS {
        return Err("the authorization is dated in the future".into());
    }
    let tag = |name: &'static str| {
        event
            .tags
            .iter()
            .filter(move |t| t.as_slice().first().map(String::as_str) == Some(name))
            .filter_map(|t| t.as_slice().get(1).cloned())
    };
    let expiration = tag("expiration")
        .next()
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or("the authorization has no expiration")?;
    if expiration <= now {
        return Err("the authorization has expired".into());
    }
    if !tag("t").any(|t| t == verb) {
        return Err(format!("the authorization is not for {verb}"));
    }
    let blobs = tag("x").filter_map(|x| BlobHash::parse(&x)).collect();
    Ok(Authorization {
        key: event.pubkey,
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn header_for(keys: &Keys, tags: Vec<Vec<String>>) -> HeaderMap {
        use base64::Engine;
        let event = EventBuilder::new(Kind::Custom(24242), "upload")
            .tags(tags.into_iter().map(|t| Tag::parse(t).unwrap()))
            .finalize(keys)
            .unwrap();
        let mut h = HeaderMap::new();
        let value = format!(
            "Nostr {}",
            base64::engine::general_purpose::STANDARD.encode(event.as_json())
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&value).unwrap(),
        );
        h
    }

    #[test]
    fn accepts_the_right_verb_and_blob_only() {
        let keys = Keys::generate();
        let hash = BlobHash::of(b"x");
        let later = (Timestamp::now().as_secs() + 60).to_string();
        let tags = |t: &str, x: &str, exp: &str| {
            vec![
                vec!["t".into(), t.into()],
                vec!["x".into(), x.into()],
                vec!["expiration".into(), exp.into()],
            ]
        };
        let good = header_for(&keys, tags("upload", &hash.to_hex(), &later));
        assert_eq!(
            authorize(&good, "upload", Some(&hash)).unwrap(),
            keys.public_key()
        );
        assert!(authorize(&good, "delete", Some(&hash)).is_err());
        assert!(authorize(&good, "upload", Some(&BlobHash::of(b"y"))).is_err());
        let expired = header_for(&keys, tags("upload", &hash.to_hex(), "1000"));
        assert!(authorize(&expired, "upload", Some(&hash))
            .unwrap_err()
            .contains("expired"));
        assert!(authorize(&HeaderMap::new(), "upload", None).is_err());
        let mut garbage = HeaderMap::new();
        garbage.insert(header::AUTHORIZATION, HeaderValue::from_static("Nostr !!!"));
        assert!(authorize(&garbage, "upload", None).is_err());
    }
}
