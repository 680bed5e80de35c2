//! Getting into a profile, for every UI: create a key (new or imported),
//! log in with a remote signer, and open the profile's signer (local key or
//! remote pairing). scrypt runs on the blocking pool, so an async caller
//! (the desktop's worker, the CLI) never stalls its runtime. A passphrase
//! strength hint lives here too, so every UI gives the same advice.

use std::sync::Arc;
use std::time::Duration;

use nostr::nips::nip49::KeySecurity;
use nostr::prelude::*;
use samizdat_net::NetConfig;
use samizdat_store::Store;
use secrecy::{ExposeSecret, SecretString};

use crate::base::keystore::{self, ImportedKey, KeyError};
use crate::base::profile::Profile;
use crate::base::settings::{Settings, SettingsError};
use crate::base::signer::{LocalSigner, Signer};
use crate::nip46::{self, LoginError, RemoteConnection};

/// Why a profile could not be created or opened. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The key file (or the key given) is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Pairing with or resuming the remote signer failed.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// The profile's settings are damaged.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The profile directory is unusable.
    #[error(transparent)]
    Profile(#[from] crate::base::profile::ProfileError),
    /// The profile already has a key.
    #[error("profile {0:?} already has a key")]
    Exists(String),
    /// An imported ncryptsec needs its own passphrase.
    #[error("this ncryptsec needs its own passphrase to be imported")]
    ImportPassphraseNeeded,
    /// The blocking task running scrypt was lost.
    #[error("the key task stopped: {0}")]
    Task(String),
}

/// Where a new profile's key comes from.
pub enum NewKey {
    /// A fresh key, generated here.
    Generate,
    /// An nsec / hex key or an ncryptsec (with its own passphrase).
    Import {
        /// What the user pasted.
        input: SecretString,
        /// The ncryptsec's passphrase, when it is one.
        passphrase: Option<SecretString>,
    },
}

/// What a new local profile got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    /// The profile's public key.
    pub pubkey: PublicKey,
    /// `Weak` when the key was seen in plain form (an nsec import).
    pub security: KeySecurity,
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, AccessError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AccessError::Task(e.to_string()))?
        .map_err(AccessError::from)
}

/// Creates `profile`'s key, encrypted under `passphrase` with scrypt
/// cost `log_n`, and remembers the public key in its settings.
pub async fn create_local(
    profile: &Profile,
    key: NewKey,
    passphrase: SecretString,
    log_n: u8,
) -> Result<Created, AccessError> {
    if profile.key_path().exists() || nip46::is_remote(profile) {
        return Err(AccessError::Exists(profile.name().to_owned()));
    }
    let (secret, security) = match key {
        NewKey::Generate => (Keys::generate().secret_key().clone(), KeySecurity::Medium),
        NewKey::Import { input, passphrase } => {
            match keystore::parse_import(input.expose_secret())? {
                ImportedKey::Plain(secret) => (secret, KeySecurity::Weak),
                ImportedKey::Encrypted(enc) => {
                    let pass = passphrase.ok_or(AccessError::ImportPassphraseNeeded)?;
                    let security = enc.key_security();
                    let keys = blocking(move || keystore::decrypt(&enc, &pass)).await?;
                    (keys.secret_key().clone(), security)
                }
            }
        }
    };
    profile.create_dir()?;
    let path = profile.key_path();
    let for_task = secret.clone();
    blocking(move || keystore::create(&path, &for_task, &passphrase, log_n, security)).await?;
    let pubkey = Keys::new(secret).public_key();
    remember_pubkey(profile, pubkey)?;
    Ok(Created { pubkey, security })
}

/// Makes `profile` a remote-signer profile by pairing with `uri`
/// (`bunker://…`); the app key rests encrypted under `passphrase`.
pub async fn create_remote(
    profile: &Profile,
    uri: &str,
    passphrase: SecretString,
    log_n: u8,
    store: Arc<Store>,
    allow_plain_ws: bool,
) -> Result<Arc<dyn Signer>, AccessError> {
    profile.create_dir()?;
    let via = remote_connection(profile, store, allow_plain_ws)?;
    let signer = nip46::login(profile, uri, passphrase, log_n, via).await?;
    remember_pubkey(profile, signer.public_key())?;
    Ok(Arc::new(signer))
}

/// The profile's signer: its local key unlocked with `passphrase`, or its
/// remote signer (the app key unlocked, the pairing resumed).
pub async fn open_signer(
    profile: &Profile,
    store: Arc<Store>,
    passphrase: SecretString,
    allow_plain_ws: bool,
) -> Result<Arc<dyn Signer>, AccessError> {
    if nip46::is_remote(profile) {
        let via = remote_connection(profile, store, allow_plain_ws)?;
        return Ok(Arc::new(nip46::resume(profile, passphrase, via).await?));
    }
    let path = profile.key_path();
    let keys = blocking(move || keystore::unlock(&path, &passphrase)).await?;
    Ok(Arc::new(LocalSigner::new(keys)))
}

/// Whether the profile has a key of either kind.
pub fn has_key(profile: &Profile) -> bool {
    profile.key_path().exists() || nip46::is_remote(profile)
}

/// How a profile reaches its remote signer: the profile's store for relay
/// statistics, its policies, and a timeout long enough for a person to
/// approve on the signer's side.
pub fn remote_connection(
    profile: &Profile,
    store: Arc<Store>,
    allow_plain_ws: bool,
) -> Result<RemoteConnection, AccessError> {
    let settings = Settings::load(&profile.settings_path())?;
    let mut net = NetConfig {
        allow_plain_ws,
        ..NetConfig::default()
    };
    settings
        .network
        .apply(&mut net.transport)
        .map_err(SettingsError::from)?;
    Ok(RemoteConnection {
        store,
        net,
        policies: settings.policy_book(),
        timeout: Duration::from_secs(60),
    })
}

fn remember_pubkey(profile: &Profile, pubkey: PublicKey) -> Result<(), AccessError> {
    let path = profile.settings_path();
    let mut settings = Settings::load(&path)?;
    settings.pubkey = Some(pubkey.to_hex());
    settings.save(&path)?;
    Ok(())
}

/// How hard a passphrase looks to guess, for a hint beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Empty.
    Empty,
    /// Short or from one kind of character.
    Weak,
    /// Acceptable.
    Fair,
    /// Long, or long enough and varied.
    Strong,
}

impl Strength {
    /// A hint for the user.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Empty => "enter a passphrase",
            Self::Weak => "weak: use 12+ characters or several words",
            Self::Fair => "fair: a few more words make it strong",
            Self::Strong => "strong",
        }
    }
}

/// Estimates a passphrase's strength from its length and variety (a hint,
/// not a promise: the key is also protected by scrypt).
pub fn passphrase_strength(passphrase: &str) -> Strength {
    let len = passphrase.chars().count();
    if len == 0 {
        return Strength::Empty;
    }
    let classes = [
        passphrase.chars().any(|c| c.is_lowercase()),
        passphrase.chars().any(|c| c.is_uppercase()),
        passphrase.chars().any(|c| c.is_numeric()),
        passphrase.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let distinct = passphrase
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len();
    match (len, classes, distinct) {
        (_, _, d) if d < 4 => Strength::Weak,
        (l, _, _) if l >= 20 => Strength::Strong,
        (l, c, _) if l >= 14 && c >= 2 => Strength::Strong,
        (l, c, _) if l >= 10 && c >= 2 => Strength::Fair,
        (l, _, _) if l >= 12 => Strength::Fair,
        _ => Strength::Weak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::profile::Profiles;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn strength_hints() {
        assert_eq!(passphrase_strength(""), Strength::Empty);
        assert_eq!(
            passphrase_strength("aaaaaaaaaaaaaaaaaaaaaaaa"),
            Strength::Weak
        );
        assert_eq!(passphrase_strength("hunter2"), Strength::Weak);
        assert_eq!(passphrase_strength("Tr0ub4dor&3x"), Strength::Fair);
        assert_eq!(
            passphrase_strength("correct horse battery staple"),
            Strength::Strong
        );
    }

    #[tokio::test]
    async fn create_import_and_open() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = Profiles::at(dir.path());
        let a = profiles.profile("a").unwrap();
        let made = create_local(&a, NewKey::Generate, secret("pass one"), 8)
            .await
            .unwrap();
        let text = std::fs::read_to_string(a.key_path()).unwrap();
        assert!(text.trim().starts_with("ncryptsec1"));
        assert!(matches!(
            create_local(&a, NewKey::Generate, secret("x"), 8).await,
            Err(AccessError::Exists(_))
        ));
        let store = Arc::new(Store::open(a.store_path()).unwrap());
        let signer = open_signer(&a, Arc::clone(&store), secret("pass one"), false)
            .await
            .unwrap();
        assert_eq!(signer.public_key(), made.pubkey);
        assert!(matches!(
            open_signer(&a, store, secret("wrong"), false).await,
            Err(AccessError::Key(KeyError::WrongPassphrase))
        ));
        let settings = Settings::load(&a.settings_path()).unwrap();
        assert_eq!(settings.pubkey, Some(made.pubkey.to_hex()));

        // Import: an nsec is marked weak; garbage is refused with a clear error.
        let keys = Keys::generate();
        let b = profiles.profile("b").unwrap();
        let nsec = keys.secret_key().to_bech32().unwrap();
        let imported = create_local(
            &b,
            NewKey::Import {
                input: secret(&nsec),
                passphrase: None,
            },
            secret("pass two"),
            8,
        )
        .await
        .unwrap();
        assert_eq!(imported.pubkey, keys.public_key());
        assert_eq!(imported.security, KeySecurity::Weak);
        let c = profiles.profile("c").unwrap();
        let bad = create_local(
            &c,
            NewKey::Import {
                input: secret("not a key"),
                passphrase: None,
            },
            secret("p"),
            8,
        )
        .await;
        assert!(matches!(bad, Err(AccessError::Key(KeyError::NotAKey))));
        assert!(!c.key_path().exists(), "nothing written for a bad import");
    }
}
