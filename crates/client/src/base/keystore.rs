//! The private key at rest: only ever a NIP-49 `ncryptsec` (scrypt + XChaCha20-
//! Poly1305), in a file readable by the owner alone, written atomically.
//!
//! Passphrases arrive as [`SecretString`] and are NFKC-normalised by the
//! NIP-49 implementation; decrypted keys live in [`Keys`], which erases its
//! secret on drop. Errors name the file and what is wrong, never a secret.
//! scrypt is slow on purpose (about a second at the default `log_n` 18): call
//! [`unlock`] off any UI or async thread.

use std::path::{Path, PathBuf};

use nostr::nips::nip49::{EncryptedSecretKey, KeySecurity};
use nostr::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// A passphrase: wiped from memory on drop, never `Debug`-printed.
pub type Passphrase = SecretString;

/// The scrypt cost used unless the user asks for another.
pub const DEFAULT_LOG_N: u8 = 18;
/// Lowest cost accepted when the user asks for a cheaper one.
pub const MIN_LOG_N: u8 = 8;
/// Highest cost accepted, written or read (NIP-49's table stops at 22: 4 GiB).
pub const MAX_LOG_N: u8 = 22;

/// Why a key operation failed. No variant ever holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key file at the path.
    #[error("no key at {0}; create one with `samizdat init`")]
    Missing(PathBuf),
    /// A key file already exists and would be overwritten.
    #[error("a key already exists at {0}; refusing to overwrite it")]
    Exists(PathBuf),
    /// The file is not a valid `ncryptsec`.
    #[error("key file {path} is damaged or not an ncryptsec: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Group or others can read the key file.
    #[error("key file {0} is readable by other users; run `chmod 600` on it")]
    InsecurePermissions(PathBuf),
    /// The passphrase does not open the key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// An empty passphrase was given for a new key.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// A `log_n` outside what is allowed.
    #[error("scrypt log_n {0} is out of range ({MIN_LOG_N} to {MAX_LOG_N})")]
    BadLogN(u8),
    /// Input to import that is not a key.
    #[error("not a key: expected an nsec, 64 hex characters or an ncryptsec")]
    NotAKey,
    /// Reading or writing the file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What a key file says without being unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    /// scrypt cost.
    pub log_n: u8,
    /// NIP-49 key-security byte: `Weak` once the key was shown in plain form.
    pub security: KeySecurity,
}

/// A key given to `init --import`, before it is stored.
pub enum ImportedKey {
    /// A plain key (nsec or hex): it has been seen unencrypted.
    Plain(SecretKey),
    /// An `ncryptsec`: needs its own passphrase to open.
    Encrypted(EncryptedSecretKey),
}

/// Recognises an nsec, a 64-hex key, or an ncryptsec.
pub fn parse_import(input: &str) -> Result<ImportedKey, KeyError> {
    crate::base::harden::no_core_dumps();
    let input = input.trim();
    if input.starts_with("ncryptsec1") {
        return EncryptedSecretKey::from_bech32(input)
            .map(ImportedKey::Encrypted)
            .map_err(|_| KeyError::NotAKey);
    }
    if input.starts_with("nsec1") {
        return SecretKey::from_bech32(input)
            .map(ImportedKey::Plain)
            .map_err(|_| KeyError::NotAKey);
    }
    if input.len() == 64 && input.bytes().all(|b| b.is_ascii_hexdigit()) {
        return SecretKey::from_hex(input)
            .map(ImportedKey::Plain)
            .map_err(|_| KeyError::NotAKey);
    }
    Err(KeyError::NotAKey)
}

fn check_log_n(log_n: u8) -> Result<(), KeyError> {
    if (MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
        Ok(())
    } else {
        Err(KeyError::BadLogN(log_n))
    }
}

/// Encrypts `secret` under `passphrase` and writes it to `path` (which must
/// not exist), readable by the owner alone.
pub fn create(
    path: &Path,
    secret: &SecretKey,
    passphrase: &SecretString,
    log_n: u8,
    security: KeySecurity,
) -> Result<(), KeyError> {
    if path.exists() {
        return Err(KeyError::Exists(path.to_path_buf()));
    }
    write_encrypted(path, secret, passphrase, log_n, security)
}

fn write_encrypted(
    path: &Path,
    secret: &SecretKey,
    passphrase: &SecretString,
    log_n: u8,
    security: KeySecurity,
) -> Result<(), KeyError> {
    check_log_n(log_n)?;
    if passphrase.expose_secret().is_empty() {
        return Err(KeyError::EmptyPassphrase);
    }
    let encrypted = EncryptedSecretKey::new(secret, passphrase.expose_secret(), log_n, security)
        .map_err(|e| KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("encryption failed: {e}"),
        })?;
    let text = encrypted.to_bech32().map_err(|e| KeyError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("encoding failed: {e}"),
    })?;
    write_private(path, text.as_bytes())
}

/// Writes an already encrypted key (an `ncryptsec` from a backup) to `path`
/// (which must not exist), readable by the owner alone. It is checked to be
/// a well-formed ncryptsec; it is never decrypted here.
pub fn store_encrypted(path: &Path, ncryptsec: &str) -> Result<(), KeyError> {
    if path.exists() {
        return Err(KeyError::Exists(path.to_path_buf()));
    }
    let key = EncryptedSecretKey::from_bech32(ncryptsec.trim()).map_err(|e| KeyError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let text = key.to_bech32().map_err(|e| KeyError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("encoding failed: {e}"),
    })?;
    write_private(path, text.as_bytes())
}

/// Writes the key file readable by the owner alone, atomically.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    crate::base::private_file::write_private(path, bytes).map_err(|source| KeyError::Io {
        op: "writing",
        path: path.to_path_buf(),
        source,
    })
}

/// Reads and parses the key file, checking that only its owner can read it.
pub fn load(path: &Path) -> Result<EncryptedSecretKey, KeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeyError::Missing(path.to_path_buf()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(KeyError::Corrupt {
                path: path.to_path_buf(),
                reason: "not text".into(),
            })
        }
        Err(source) => {
            return Err(KeyError::Io {
                op: "reading",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| KeyError::Io {
                op: "inspecting",
                path: path.to_path_buf(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::InsecurePermissions(path.to_path_buf()));
        }
    }
    EncryptedSecretKey::from_bech32(text.trim()).map_err(|e| KeyError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Cost and security byte, without unlocking.
pub fn info(path: &Path) -> Result<KeyInfo, KeyError> {
    let enc = load(path)?;
    Ok(KeyInfo {
        log_n: enc.log_n(),
        security: enc.key_security(),
    })
}

/// Opens an encrypted key. Slow by design (scrypt).
pub fn decrypt(
    encrypted: &EncryptedSecretKey,
    passphrase: &SecretString,
) -> Result<Keys, KeyError> {
    // An imported ncryptsec names its own cost: past 22 scrypt would ask for
    // more than 4 GiB (log_n 40: a petabyte) and abort the process.
    let log_n = encrypted.log_n();
    if log_n > MAX_LOG_N {
        return Err(KeyError::BadLogN(log_n));
    }
    crate::base::harden::no_core_dumps();
    encrypted
        .decrypt_with_max_log_n(passphrase.expose_secret(), MAX_LOG_N)
        .map(Keys::new)
        .map_err(|_| KeyError::WrongPassphrase)
}

/// Loads and opens the key file.
pub fn unlock(path: &Path, passphrase: &SecretString) -> Result<Keys, KeyError> {
    decrypt(&load(path)?, passphrase)
}

/// Re-encrypts the key under a new passphrase (and cost), keeping its security byte.
pub fn change_passphrase(
    path: &Path,
    old: &SecretString,
    new: &SecretString,
    log_n: u8,
) -> Result<(), KeyError> {
    let enc = load(path)?;
    let keys = decrypt(&enc, old)?;
    write_encrypted(path, keys.secret_key(), new, log_n, enc.key_security())
}

/// Returns the key as an nsec for the user to copy, and marks the stored key
/// as having been handled in plain form (NIP-49 security byte `Weak`).
pub fn export(path: &Path, passphrase: &SecretString) -> Result<Zeroizing<String>, KeyError> {
    let enc = load(path)?;
    let keys = decrypt(&enc, passphrase)?;
    write_encrypted(
        path,
        keys.secret_key(),
        passphrase,
        enc.log_n(),
        KeySecurity::Weak,
    )?;
    keys.secret_key()
        .to_bech32()
        .map(Zeroizing::new)
        .map_err(|e| KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}
