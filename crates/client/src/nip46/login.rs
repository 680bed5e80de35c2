//! Profiles whose key lives in a remote signer (NIP-46 "bunker"). The
//! profile keeps no user key at all: only the bunker's public key and relays
//! (`remote-signer.json`, public) and this app's own NIP-46 key, encrypted
//! like any key at rest (`nip46-app.ncryptsec`, NIP-49 under the profile's
//! passphrase), so the bunker recognises the app on the next run without a
//! new pairing secret.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nostr::nips::nip49::KeySecurity;
use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook};
use samizdat_store::Store;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::remote::{RemoteSigner, RemoteSignerError};
use crate::base::keystore::{self, KeyError};
use crate::base::profile::Profile;

const REMOTE_FILE: &str = "remote-signer.json";
const APP_KEY_FILE: &str = "nip46-app.ncryptsec";

/// What a remote-signer profile remembers (all public).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteProfile {
    /// The bunker's key and relays, as a `bunker://` URI without secret.
    pub bunker: String,
    /// The user's public key (hex), as the bunker reported it.
    pub user: String,
}

/// Why a remote-signer login or resume failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The profile already has a key (local or remote).
    #[error("profile {0:?} already has a key; use another --profile")]
    Exists(String),
    /// Connecting to the bunker failed.
    #[error(transparent)]
    Remote(#[from] RemoteSignerError),
    /// The app key could not be stored or opened.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// `remote-signer.json` is unreadable or damaged.
    #[error("remote signer settings {path}: {reason}")]
    Settings {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn remote_path(profile: &Profile) -> PathBuf {
    profile.dir().join(REMOTE_FILE)
}

fn app_key_path(profile: &Profile) -> PathBuf {
    profile.dir().join(APP_KEY_FILE)
}

/// Whether this profile signs through a remote signer.
pub fn is_remote(profile: &Profile) -> bool {
    remote_path(profile).exists()
}

/// Reads what a remote-signer profile remembers.
pub fn remote_profile(profile: &Profile) -> Result<RemoteProfile, LoginError> {
    let path = remote_path(profile);
    let text = std::fs::read_to_string(&path).map_err(|e| LoginError::Settings {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| LoginError::Settings {
        path,
        reason: e.to_string(),
    })
}

/// How to reach a bunker.
#[derive(Clone)]
pub struct RemoteConnection {
    /// Store for relay statistics (NIP-46 events are ephemeral: never stored).
    pub store: Arc<Store>,
    /// Network settings (proxy, plain-ws permission).
    pub net: NetConfig,
    /// Connect / AUTH policies.
    pub policies: PolicyBook,
    /// Longest wait for any answer.
    pub timeout: Duration,
}

/// Makes `profile` a remote-signer profile: pairs with the `bunker://` URI
/// (spending its one-time secret) as a new app key, stores that app key
/// encrypted under `passphrase`, and remembers the bunker and the user.
pub async fn login(
    profile: &Profile,
    uri: &str,
    passphrase: SecretString,
    log_n: u8,
    via: RemoteConnection,
) -> Result<RemoteSigner, LoginError> {
    if profile.key_path().exists() || is_remote(profile) {
        return Err(LoginError::Exists(profile.name().to_owned()));
    }
    let app = Keys::generate();
    let signer = RemoteSigner::connect_bunker_as(
        app.clone(),
        uri,
        Some("sign_event,nip44_encrypt,nip44_decrypt,nip04_decrypt"),
        via.store,
        via.net,
        via.policies,
        via.timeout,
    )
    .await?;
    remember(profile, &signer, passphrase, log_n).await?;
    Ok(signer)
}

/// Stores a connected signer's app key (encrypted) and its bunker in
/// `profile` (also used after a `nostrconnect://` pairing).
pub async fn remember(
    profile: &Profile,
    signer: &RemoteSigner,
    passphrase: SecretString,
    log_n: u8,
) -> Result<(), LoginError> {
    profile.create_dir().map_err(|e| LoginError::Settings {
        path: profile.dir().to_path_buf(),
        reason: e.to_string(),
    })?;
    let secret = signer.client_keys().secret_key().clone();
    let path = app_key_path(profile);
    tokio::task::spawn_blocking(move || {
        keystore::create(&path, &secret, &passphrase, log_n, KeySecurity::Medium)
    })
    .await
    .map_err(|e| LoginError::Settings {
        path: app_key_path(profile),
        reason: e.to_string(),
    })??;
    let remembered = RemoteProfile {
        bunker: signer.bunker_uri().unwrap_or_default(),
        user: signer.public_key_hex(),
    };
    let json = serde_json::to_string_pretty(&remembered).unwrap_or_default();
    std::fs::write(remote_path(profile), json).map_err(|e| LoginError::Settings {
        path: remote_path(profile),
        reason: e.to_string(),
    })
}

/// Opens a remote-signer profile: unlocks the app key with `passphrase`
/// (scrypt, on a blocking thread) and resumes the pairing.
pub async fn resume(
    profile: &Profile,
    passphrase: SecretString,
    via: RemoteConnection,
) -> Result<RemoteSigner, LoginError> {
    let remembered = remote_profile(profile)?;
    let user = PublicKey::from_hex(&remembered.user).map_err(|e| LoginError::Settings {
        path: remote_path(profile),
        reason: e.to_string(),
    })?;
    let path = app_key_path(profile);
    let app = tokio::task::spawn_blocking(move || keystore::unlock(&path, &passphrase))
        .await
        .map_err(|e| LoginError::Settings {
            path: app_key_path(profile),
            reason: e.to_string(),
        })??;
    Ok(RemoteSigner::resume(
        app,
        &remembered.bunker,
        user,
        via.store,
        via.net,
        via.policies,
        via.timeout,
    )?)
}
