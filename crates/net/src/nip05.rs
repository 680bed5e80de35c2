//! NIP-05: `name@domain` to a public key (and the relays the domain names),
//! fetched over the same transport as relays, so a proxy applies. HTTPS
//! only, except for loopback hosts (tests, a local server).

use nostr::prelude::*;
use serde_json::Value;

use crate::transport::TransportConfig;
use crate::url::RelayUrl;

/// Largest `nostr.json` read.
const MAX_DOCUMENT: usize = 64 * 1024;

/// Why an identifier did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Nip05Error {
    /// Not `name@domain`.
    #[error("{0:?} is not a NIP-05 identifier (name@domain)")]
    NotAnIdentifier(String),
    /// The domain did not answer with a usable document.
    #[error("{0} did not answer with a NIP-05 document")]
    NoDocument(String),
    /// The document does not name this user, or not with a valid key.
    #[error("{0} is not listed by its domain")]
    NotListed(String),
}

/// Resolves `name@domain` to a public key and the relays the document lists for it.
pub async fn resolve(
    identifier: &str,
    config: &TransportConfig,
) -> Result<(PublicKey, Vec<String>), Nip05Error> {
    let not_id = || Nip05Error::NotAnIdentifier(identifier.to_owned());
    let (name, domain) = identifier.trim().split_once('@').ok_or_else(not_id)?;
    let name = if name.is_empty() { "_" } else { name };
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || domain.is_empty()
    {
        return Err(not_id());
    }
    let name = name.to_ascii_lowercase();
    let loopback = RelayUrl::parse(&format!("ws://{domain}"))
        .map(|u| u.is_loopback())
        .unwrap_or(false);
    let base = if loopback {
        format!("ws://{domain}")
    } else {
        format!("wss://{domain}")
    };
    let url = RelayUrl::parse(&base).map_err(|_| not_id())?;
    let path = format!("/.well-known/nostr.json?name={name}");
    let doc: Value = crate::web::get_json(&url, &path, "application/json", config, MAX_DOCUMENT)
        .await
        .ok_or_else(|| Nip05Error::NoDocument(domain.to_owned()))?;
    read_answer(&doc, &name, identifier)
}

/// Reads a `nostr.json` document for `name` (lower case): the key it lists
/// and the relays it names for that key (strings, unchecked).
pub fn read_answer(
    doc: &Value,
    name: &str,
    identifier: &str,
) -> Result<(PublicKey, Vec<String>), Nip05Error> {
    let hex = doc["names"][name]
        .as_str()
        .ok_or_else(|| Nip05Error::NotListed(identifier.to_owned()))?;
    let key = PublicKey::from_hex(hex).map_err(|_| Nip05Error::NotListed(identifier.to_owned()))?;
    let relays = doc["relays"][hex]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok((key, relays))
}
