//! The start screen's work: list profiles, create one (new key, import, or
//! remote signer), unlock one, or start the demo. scrypt and pairing run
//! off the UI thread (in `samizdat_client::access`, on the blocking pool).

use std::sync::Arc;

use samizdat_client::access::{self, NewKey};
use samizdat_client::{nip46, Profile, Session, SessionConfig};
use samizdat_store::Store;
use secrecy::SecretString;

use super::Worker;
use crate::prefs::Prefs;
use crate::protocol::{KeyChoice, ProfileEntry, Update};

impl Worker {
    pub(super) fn list_profiles(&self) {
        let entries = self
            .profiles
            .list()
            .into_iter()
            .filter_map(|name| {
                let p = self.profiles.profile(&name).ok()?;
                Some(ProfileEntry {
                    remote: nip46::is_remote(&p),
                    has_key: access::has_key(&p),
                    name,
                })
            })
            .collect();
        self.send(Update::Profiles(entries));
    }

    fn session_config(&self) -> SessionConfig {
        let mut config = self.config.session.clone();
        config.approver = Some(self.approver.clone());
        // Every account its own circuits, even from one app's settings.
        config.engine.net.transport.renew_isolation();
        config
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) {
        self.send(Update::Busy(None));
        self.send(Update::StartFailed(format!("{what}: {e}")));
    }

    fn profile(&self, name: &str) -> Option<Profile> {
        match self.profiles.profile(name) {
            Ok(p) => Some(p),
            Err(e) => {
                self.fail("profile name", e);
                None
            }
        }
    }

    pub(super) async fn create(&mut self, name: String, key: KeyChoice, passphrase: SecretString) {
        let Some(profile) = self.profile(&name) else {
            return;
        };
        if access::has_key(&profile) {
            self.fail("create", format!("profile {name:?} already exists"));
            return;
        }
        let log_n = self.config.log_n;
        let opened = match key {
            KeyChoice::Bunker(uri) => {
                self.send(Update::Busy(Some("pairing with the remote signer…".into())));
                let store = match open_store(&profile) {
                    Ok(s) => s,
                    Err(e) => return self.fail("opening the store", e),
                };
                match access::create_remote(
                    &profile,
                    &uri,
                    passphrase,
                    log_n,
                    Arc::clone(&store),
                    true,
                )
                .await
                {
                    Ok(signer) => Session::with_store(
                        store,
                        profile.settings_path(),
                        signer,
                        self.session_config(),
                    ),
                    Err(e) => return self.fail("remote signer", e),
                }
            }
            local => {
                self.send(Update::Busy(Some("encrypting your key (scrypt)…".into())));
                let new_key = match local {
                    KeyChoice::Import { key, passphrase } => NewKey::Import {
                        input: key,
                        passphrase,
                    },
                    _ => NewKey::Generate,
                };
                if let Err(e) =
                    access::create_local(&profile, new_key, passphrase.clone(), log_n).await
                {
                    return self.fail("create", e);
                }
                return self.unlock(name, passphrase).await;
            }
        };
        match opened {
            Ok(session) => self.finish_open(&profile, session),
            Err(e) => self.fail("open", e),
        }
    }

    pub(super) async fn unlock(&mut self, name: String, passphrase: SecretString) {
        let Some(profile) = self.profile(&name) else {
            return;
        };
        self.close().await;
        self.send(Update::Busy(Some("unlocking (scrypt)…".into())));
        let store = match open_store(&profile) {
            Ok(s) => s,
            Err(e) => return self.fail("opening the store", e),
        };
        let signer = match access::open_signer(&profile, Arc::clone(&store), passphrase, true).await
        {
            Ok(s) => s,
            Err(e) => return self.fail("unlock", e),
        };
        match Session::with_store(
            store,
            profile.settings_path(),
            signer,
            self.session_config(),
        ) {
            Ok(session) => self.finish_open(&profile, session),
            Err(e) => self.fail("open", e),
        }
    }

    fn finish_open(&mut self, profile: &Profile, session: Arc<Session>) {
        self.send(Update::Busy(None));
        let prefs = profile.dir().join(Prefs::FILE);
        self.opened(profile.name().to_owned(), session, prefs, None);
    }

    pub(super) async fn demo(&mut self) {
        self.close().await;
        self.send(Update::Busy(Some(
            "starting the demo network on 127.0.0.1…".into(),
        )));
        let network = match samizdat_demo::DemoNetwork::start(&Default::default()).await {
            Ok(n) => n,
            Err(e) => return self.fail("demo", e),
        };
        let (path, temp) = match &self.config.demo_dir {
            Some(kept) => match std::fs::create_dir_all(kept) {
                Ok(()) => (kept.clone(), None),
                Err(e) => return self.fail("demo", e),
            },
            None => match tempfile::tempdir() {
                Ok(d) => (d.path().to_path_buf(), Some(d)),
                Err(e) => return self.fail("demo", e),
            },
        };
        if self.config.bench_fill > 0 {
            let authors: Vec<nostr::prelude::Keys> = network
                .follows()
                .iter()
                .filter_map(|pk| network.people.iter().find(|p| p.keys.public_key() == *pk))
                .map(|p| p.keys.clone())
                .collect();
            let (dir, target) = (path.clone(), self.config.bench_fill);
            let fill_started = std::time::Instant::now();
            let filled = tokio::task::spawn_blocking(move || {
                super::bench_fill::fill(&dir, &authors, target)
            })
            .await;
            match filled {
                Ok(Ok(n)) => eprintln!(
                    "bench: {n} events added to the demo store ({} ms, not part of a real start)",
                    fill_started.elapsed().as_millis()
                ),
                Ok(Err(e)) => return self.fail("filling the demo store", e),
                Err(e) => return self.fail("filling the demo store", e),
            }
        }
        let mut config = samizdat_demo::session_config();
        config.approver = Some(self.approver.clone());
        config.engine.net.transport.renew_isolation();
        match network.open_session(&path, config) {
            Ok(session) => {
                self.send(Update::Busy(None));
                let prefs = path.join(Prefs::FILE);
                // The demo user runs the home relay: the "My relay" tab knows it.
                let mut saved = Prefs::load(&prefs);
                if saved.my_relay.is_none() {
                    saved.my_relay = Some(network.home_relay());
                    if let Err(e) = saved.save(&prefs) {
                        tracing::warn!("demo preferences not saved: {e}");
                    }
                }
                self.opened("demo".into(), session, prefs, Some((network, temp)));
            }
            Err(e) => self.fail("demo", e),
        }
    }
}

fn open_store(profile: &Profile) -> Result<Arc<Store>, String> {
    profile.create_dir().map_err(|e| e.to_string())?;
    Store::open(profile.store_path())
        .map(Arc::new)
        .map_err(|e| e.to_string())
}
