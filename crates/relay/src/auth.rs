//! NIP-42: challenges and the checks on a client's AUTH event.

use nostr::prelude::*;
use rand::Rng;

/// How far an AUTH event's `created_at` may be from now, in seconds.
const AUTH_WINDOW: u64 = 600;

/// A fresh random challenge for one connection.
pub fn new_challenge() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a kind-22242 AUTH event against this connection's challenge and the
/// relay's URL (or, when none is configured, the host the client connected to).
/// Returns the authenticated key, or the reason for refusal.
pub fn verify_auth(
    event: &Event,
    challenge: &str,
    relay_url: Option<&str>,
    host: Option<&str>,
) -> Result<PublicKey, String> {
    if event.kind != Kind::Authentication {
        return Err(format!(
            "invalid: AUTH needs kind 22242, got {}",
            event.kind.as_u16()
        ));
    }
    event
        .verify()
        .map_err(|_| "invalid: bad id or signature".to_string())?;
    let now = Timestamp::now().as_secs();
    let at = event.created_at.as_secs();
    if at.abs_diff(now) > AUTH_WINDOW {
        return Err("invalid: AUTH created_at is more than 10 minutes from now".into());
    }
    let tag = |name: &str| {
        event.tags.iter().find_map(|t| {
            let s = t.as_slice();
            (s.first().map(String::as_str) == Some(name))
                .then(|| s.get(1).cloned())
                .flatten()
        })
    };
    if tag("challenge").as_deref() != Some(challenge) {
        return Err("invalid: AUTH challenge does not match this connection's".into());
    }
    let named = tag("relay").ok_or("invalid: AUTH has no relay tag")?;
    let ok = match (relay_url, host) {
        (Some(url), _) => normalise(&named) == normalise(url),
        (None, Some(host)) => host_of(&named).is_some_and(|h| h.eq_ignore_ascii_case(host)),
        (None, None) => true,
    };
    if !ok {
        return Err(format!("invalid: AUTH names relay {named}, not this one"));
    }
    Ok(event.pubkey)
}

fn normalise(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `host[:port]` of a ws/wss URL.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.trim().split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_event(keys: &Keys, relay: &str, challenge: &str, at: u64) -> Event {
        EventBuilder::new(Kind::Authentication, "")
            .tags([
                Tag::parse(["relay", relay]).unwrap(),
                Tag::parse(["challenge", challenge]).unwrap(),
            ])
            .custom_created_at(Timestamp::from_secs(at))
            .finalize(keys)
            .unwrap()
    }

    #[test]
    fn accepts_the_right_challenge_and_host() {
        let keys = Keys::generate();
        let now = Timestamp::now().as_secs();
        let e = auth_event(&keys, "ws://127.0.0.1:7777/", "abc", now);
        assert_eq!(
            verify_auth(&e, "abc", None, Some("127.0.0.1:7777")),
            Ok(keys.public_key())
        );
        assert_eq!(
            verify_auth(&e, "abc", Some("ws://127.0.0.1:7777"), None),
            Ok(keys.public_key())
        );
    }

    #[test]
    fn refuses_wrong_challenge_relay_time_and_kind() {
        let keys = Keys::generate();
        let now = Timestamp::now().as_secs();
        let e = auth_event(&keys, "ws://127.0.0.1:7777", "abc", now);
        assert!(verify_auth(&e, "other", None, Some("127.0.0.1:7777")).is_err());
        assert!(verify_auth(&e, "abc", None, Some("evil.example")).is_err());
        let old = auth_event(&keys, "ws://127.0.0.1:7777", "abc", now - 3_600);
        assert!(verify_auth(&old, "abc", None, Some("127.0.0.1:7777")).is_err());
        let note = EventBuilder::new(Kind::TextNote, "x")
            .finalize(&keys)
            .unwrap();
        assert!(verify_auth(&note, "abc", None, None).is_err());
    }
}
