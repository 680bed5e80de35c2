//! NIP-46 in both directions: [`RemoteSigner`] signs through another app's
//! bunker, [`Bunker`] serves other apps with the user's key. Both talk over
//! relays through the net layer, so proxies and policies apply.

mod bunker;
mod login;
mod permissions;
mod remote;
mod transport;

pub use bunker::{
    parse_nostrconnect, parse_unsigned, summary as sign_request_summary, AuditRecord, Bunker,
    BunkerConfig, Prompt,
};
pub use login::{
    is_remote, login, remember, remote_profile, resume, LoginError, RemoteConnection, RemoteProfile,
};
pub use permissions::{AppPermissions, Decision as PermissionDecision, PermissionBook};
pub use remote::{parse_bunker_uri, Pairing, RemoteSigner, RemoteSignerError};

/// Percent-encodes a URI query value.
pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Decodes a percent-encoded URI query value (invalid escapes stay as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
