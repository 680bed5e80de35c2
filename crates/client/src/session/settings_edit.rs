//! Settings changes: each is saved to the profile and applied to the
//! running engine at once (policies), or from the next unlock (network).

use samizdat_net::RelayUrl;

use crate::base::settings::{RelayPolicy, RelayRoles, Settings};
use crate::session::{Session, SessionError};

impl Session {
    /// Changes the settings with `change`, saves them, and applies them.
    pub(crate) fn change_settings(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<(), SessionError>,
    ) -> Result<(), SessionError> {
        let mut settings = self.settings();
        change(&mut settings)?;
        settings.save(&self.settings_path)?;
        settings.apply_policies(self.engine.policies());
        if let Ok(mut s) = self.settings.lock() {
            *s = settings;
        }
        Ok(())
    }

    /// Adds a relay with roles (and/or as a discovery relay).
    pub fn add_relay(
        &self,
        url: &str,
        roles: RelayRoles,
        discovery: bool,
    ) -> Result<(), SessionError> {
        if !(roles.read || roles.write || discovery) {
            return Err(SessionError::NoRole);
        }
        let url = RelayUrl::parse_checked(url, false)?.to_string();
        self.change_settings(|s| {
            if roles.read || roles.write {
                let r = s.relays.entry(url.clone()).or_default();
                r.read |= roles.read;
                r.write |= roles.write;
            }
            if discovery && !s.discovery.contains(&url) {
                s.discovery.push(url.clone());
            }
            Ok(())
        })
    }

    /// Changes the network setting (saved; it applies when the profile is
    /// opened next, since open connections keep their path).
    pub fn set_network(
        &self,
        setting: crate::base::network::NetworkSetting,
    ) -> Result<(), SessionError> {
        setting.proxy_config().map_err(|e| {
            SessionError::Settings(crate::base::settings::SettingsError::Network(e))
        })?;
        self.change_settings(|s| {
            s.network = setting;
            Ok(())
        })
    }

    /// Reaches `url` directly even with a proxy set (`direct`), or through
    /// the proxy again. An exception is only ever made by name: the relay
    /// then sees the IP address, and the ledger says so.
    pub fn set_direct(&self, url: &str, direct: bool) -> Result<(), SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        self.change_settings(|s| {
            s.network.set_direct(&url, direct);
            Ok(())
        })
    }

    /// Sets the exposure cap for reading (percent of the follow list one
    /// relay may be asked about, 1–100; `None`: no cap) and whether relays
    /// are probed about people they have no evidence for. Saved in the
    /// profile; a session opened after this uses them.
    pub fn set_reading_privacy(
        &self,
        cap_percent: Option<u8>,
        explore: bool,
    ) -> Result<(), SessionError> {
        self.change_settings(|s| {
            s.max_exposure_percent = cap_percent.filter(|p| *p > 0).map(|p| p.min(100));
            s.no_exploration = !explore;
            Ok(())
        })
    }

    /// Sets (or with `None` clears) the profile's default proof of work.
    pub fn set_pow_default(&self, bits: Option<u8>) -> Result<(), SessionError> {
        if let Some(b) = bits.filter(|b| *b > 64) {
            return Err(SessionError::Pow(crate::base::pow::PowError::TooHard(b)));
        }
        self.change_settings(|s| {
            s.pow = bits.filter(|b| *b > 0);
            Ok(())
        })
    }

    /// Sets a relay's read / write roles exactly.
    pub fn set_roles(&self, url: &str, roles: RelayRoles) -> Result<(), SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        self.change_settings(|s| {
            if roles.read || roles.write {
                s.relays.insert(url.clone(), roles);
            } else if s.relays.remove(&url).is_none() {
                return Err(SessionError::UnknownRelay(url.clone()));
            }
            Ok(())
        })
    }

    /// Removes a relay from every role.
    pub fn remove_relay(&self, url: &str) -> Result<(), SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        self.change_settings(|s| {
            let before = s.relays.len() + s.discovery.len();
            s.relays.remove(&url);
            s.discovery.retain(|d| *d != url);
            if s.relays.len() + s.discovery.len() == before {
                return Err(SessionError::UnknownRelay(url.clone()));
            }
            Ok(())
        })
    }

    /// Sets a relay's connect / AUTH policy and the whitelist-only mode.
    pub fn set_policy(
        &self,
        url: &str,
        connect: Option<String>,
        auth: Option<String>,
        whitelist_only: Option<bool>,
    ) -> Result<RelayPolicy, SessionError> {
        let url = RelayUrl::parse(url)?.to_string();
        let mut result = RelayPolicy::default();
        self.change_settings(|s| {
            let entry = s.policies.entry(url.clone()).or_default();
            if connect.is_some() {
                entry.connect = connect;
            }
            if auth.is_some() {
                entry.auth = auth;
            }
            result = entry.clone();
            if let Some(w) = whitelist_only {
                s.whitelist_only = w;
            }
            Ok(())
        })?;
        Ok(result)
    }
}
