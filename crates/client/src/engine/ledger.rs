//! The privacy ledger's writer: what each relay has learned from this
//! profile, kept in the store (`privacy_ledger`) as it happens — the people we asked it
//! about (recorded once the relay answered, so a dead relay learned
//! nothing), how we reached it (direct, or the proxy and its circuit
//! isolation), whether we authenticated and as which key, the search terms
//! it saw. The report that reads it back is `session::privacy`.

use std::collections::BTreeSet;
use std::sync::Arc;

use nostr::prelude::*;
use samizdat_net::{PoolEvent, TransportConfig};
use samizdat_store::Store;

use crate::engine::updates::EngineUpdate;

/// Fact names in the store.
pub(crate) const ASKED: &str = "asked";
pub(crate) const CONTACT: &str = "contact";
pub(crate) const AUTH: &str = "auth";
pub(crate) const SEARCH: &str = "search";
/// A picture fetched from a media server ("blob <hash>" or "link <path>").
pub(crate) const MEDIA_FETCH: &str = "media";
/// A picture uploaded to a media server ("blob <hash>").
pub(crate) const MEDIA_UPLOAD: &str = "upload";
/// A NIP-05 name looked up at its domain.
pub(crate) const NIP05: &str = "nip05";

/// How connections are made, as the ledger records it.
pub(crate) fn path_of(transport: &TransportConfig) -> String {
    match &transport.proxy {
        Some(p) if p.isolate => format!(
            "proxy {} (circuit per relay, isolation samizdat-{})",
            p.addr, transport.isolation_nonce
        ),
        Some(p) => format!("proxy {} (shared circuit)", p.addr),
        None => "direct".to_owned(),
    }
}

/// The ledger, for a site reached over HTTP (a NIP-05 domain, a media
/// server): `site` was contacted by this profile's path (direct when its
/// `host:port` is a direct exception) and learned `detail` under `fact`.
pub(crate) fn record_site(
    store: &Store,
    transport: &TransportConfig,
    site: &str,
    fact: &str,
    detail: &str,
) {
    let authority = site.split_once("://").map_or(site, |(_, a)| a);
    let path = if transport.direct.iter().any(|d| d == authority) {
        "direct".to_owned()
    } else {
        path_of(transport)
    };
    let recorded = store
        .record_learned(site, CONTACT, &[path])
        .and_then(|()| store.record_learned(site, fact, &[detail.to_owned()]));
    if let Err(e) = recorded {
        tracing::debug!(error = %e, %fact, "could not record a contact in the ledger");
    }
}

/// What the pump records from pool events.
#[derive(Clone)]
pub(crate) struct LedgerWriter {
    pub store: Arc<Store>,
    pub path: String,
    /// Relays (authorities) reached directly despite a proxy.
    pub direct: Vec<String>,
    pub me: Option<PublicKey>,
}

impl LedgerWriter {
    fn write(&self, relay: String, fact: &'static str, detail: String) {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.record_learned(&relay, fact, &[detail]) {
                tracing::warn!(error = %e, "privacy ledger not updated");
            }
        });
    }

    /// Records contact (with the path) and AUTH (with the key).
    pub fn on_pool_event(
        &self,
        event: &PoolEvent,
        updates: &tokio::sync::broadcast::Sender<EngineUpdate>,
    ) {
        let (relay, fact, detail) = match event {
            PoolEvent::Connected { relay } => {
                let path = if self.direct.contains(&relay.authority()) {
                    "direct".to_owned()
                } else {
                    self.path.clone()
                };
                (relay.to_string(), CONTACT, path)
            }
            PoolEvent::Authenticated { relay } => {
                let Some(me) = self.me else { return };
                (relay.to_string(), AUTH, me.to_hex())
            }
            _ => return,
        };
        let _ = updates.send(EngineUpdate::Learned {
            relay: relay.clone(),
            fact: fact.to_owned(),
        });
        self.write(relay, fact, detail);
    }
}

/// Everyone a set of filters asks about: authors and `#p` values.
pub(crate) fn people_in(filters: &[Filter]) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for f in filters {
        if let Some(a) = &f.authors {
            out.extend(a.iter().map(|p| p.to_hex()));
        }
        for (tag, values) in &f.generic_tags {
            if tag.as_char() == 'p' {
                out.extend(values.iter().cloned());
            }
        }
    }
    out.into_iter().collect()
}
