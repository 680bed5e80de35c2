//! NIP-05 badges: whether a person's claimed `name@domain` names their key.
//! Looked up over the engine's transport (so a proxy applies), remembered
//! for an hour when it verifies and ten minutes when it does not, so a
//! page shown twice asks the domain once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nostr::prelude::*;

use crate::session::Session;

/// How long a verified answer is kept.
const VERIFIED_FOR: Duration = Duration::from_secs(3600);
/// How long a failed or mismatching answer is kept.
const FAILED_FOR: Duration = Duration::from_secs(600);

/// What a NIP-05 claim turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nip05Badge {
    /// The domain lists this name with this person's key.
    Verified,
    /// The domain lists this name with another key.
    Mismatch,
    /// It could not be checked (the reason, for a tooltip).
    Unverified(String),
}

/// Answers remembered per (person, identifier).
#[derive(Default)]
pub(crate) struct Nip05Cache {
    entries: Mutex<HashMap<(PublicKey, String), (Nip05Badge, Instant)>>,
}

impl Nip05Cache {
    fn get(&self, key: &(PublicKey, String)) -> Option<Nip05Badge> {
        let entries = self.entries.lock().ok()?;
        let (badge, at) = entries.get(key)?;
        let ttl = if *badge == Nip05Badge::Verified {
            VERIFIED_FOR
        } else {
            FAILED_FOR
        };
        (at.elapsed() < ttl).then(|| badge.clone())
    }

    fn put(&self, key: (PublicKey, String), badge: Nip05Badge) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(key, (badge, Instant::now()));
        }
    }
}

impl Session {
    /// The ledger: the name's domain was contacted (by this path) and
    /// learned which name the user looked up.
    fn record_nip05_lookup(&self, identifier: &str, transport: &samizdat_net::TransportConfig) {
        let Some(domain) = identifier.rsplit_once('@').map(|(_, d)| d) else {
            return;
        };
        crate::engine::ledger::record_site(
            self.engine.store(),
            transport,
            &format!("https://{domain}"),
            crate::engine::ledger::NIP05,
            identifier,
        );
    }

    /// Whether NIP-05 names are checked (saved in the profile).
    pub fn set_nip05_checks(&self, on: bool) -> Result<(), crate::session::SessionError> {
        self.change_settings(|s| {
            s.no_nip05_checks = !on;
            Ok(())
        })
    }

    /// Whether `identifier` (a NIP-05 `name@domain`) names `who`, from the
    /// cache or from the domain.
    pub async fn nip05_badge(&self, who: PublicKey, identifier: &str) -> Nip05Badge {
        let key = (who, identifier.trim().to_ascii_lowercase());
        if let Some(badge) = self.feature::<Nip05Cache>().get(&key) {
            return badge;
        }
        if self.settings().no_nip05_checks {
            return Nip05Badge::Unverified("NIP-05 checks are off in this profile".into());
        }
        let transport = &self.engine.config().net.transport;
        let result = samizdat_net::resolve_nip05(&key.1, transport).await;
        self.record_nip05_lookup(&key.1, transport);
        let badge = match result {
            Ok((listed, relays)) if listed == who => {
                // A verified document's relays are evidence of where they write.
                if let Err(e) = self.engine.store().record_relay_hints(
                    &who,
                    &relays,
                    samizdat_store::HintSource::Nip05,
                ) {
                    tracing::debug!(error = %e, "could not record NIP-05 relays");
                }
                Nip05Badge::Verified
            }
            Ok(_) => Nip05Badge::Mismatch,
            Err(e) => Nip05Badge::Unverified(e.to_string()),
        };
        self.feature::<Nip05Cache>().put(key, badge.clone());
        badge
    }
}
