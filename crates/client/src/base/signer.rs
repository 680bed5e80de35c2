//! One signing interface for the whole engine: the local key and (to come)
//! a NIP-46 remote signer implement it the same way, and the network layer
//! gets AUTH signatures through it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use nostr::prelude::*;

/// A boxed future, so the trait stays object-safe.
pub type SignerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SignerError>> + Send + 'a>>;

/// Why a signer could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    /// The signer refused (a remote signer's user said no).
    #[error("the signer refused: {0}")]
    Refused(String),
    /// The signer did not answer in time.
    #[error("the signer did not answer in time")]
    Timeout,
    /// Cryptography failed (bad peer key, undecryptable payload).
    #[error("{0}")]
    Crypto(String),
    /// The signer could not be reached at all.
    #[error("the signer is unreachable: {0}")]
    Unreachable(String),
}

/// Signs events and handles encryption for one identity.
pub trait Signer: Send + Sync {
    /// The identity's public key.
    fn public_key(&self) -> PublicKey;
    /// True for a signer that refuses everything (a read-only session), so
    /// background work that would need a signature is not even started.
    fn is_locked(&self) -> bool {
        false
    }
    /// Signs an unsigned event (its `pubkey` must be ours).
    fn sign_event(&self, unsigned: UnsignedEvent) -> SignerFuture<'_, Event>;
    /// NIP-44 v2 encryption to `peer`.
    fn nip44_encrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        plaintext: &'a str,
    ) -> SignerFuture<'a, String>;
    /// NIP-44 decryption from `peer`.
    fn nip44_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String>;
    /// NIP-04 decryption, for reading legacy DMs only (never for sending).
    fn nip04_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String>;
}

/// The user's own key, unlocked in memory (erased on drop by [`Keys`]).
pub struct LocalSigner {
    keys: Keys,
}

impl LocalSigner {
    /// Wraps unlocked keys (and turns core dumps off for the process: see
    /// [`crate::base::harden`]).
    pub fn new(keys: Keys) -> Self {
        crate::base::harden::no_core_dumps();
        Self { keys }
    }
}

impl std::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: only who this is.
        f.debug_struct("LocalSigner")
            .field("public_key", &self.keys.public_key().to_hex())
            .finish()
    }
}

impl Signer for LocalSigner {
    fn public_key(&self) -> PublicKey {
        self.keys.public_key()
    }

    fn sign_event(&self, unsigned: UnsignedEvent) -> SignerFuture<'_, Event> {
        Box::pin(async move {
            if unsigned.pubkey != self.keys.public_key() {
                return Err(SignerError::Refused(
                    "the event names another author".into(),
                ));
            }
            SignEvent::sign_event(&self.keys, unsigned)
                .map_err(|e| SignerError::Crypto(e.to_string()))
        })
    }

    fn nip44_encrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        plaintext: &'a str,
    ) -> SignerFuture<'a, String> {
        Box::pin(async move {
            nip44::encrypt(self.keys.secret_key(), peer, plaintext, nip44::Version::V2)
                .map_err(|e| SignerError::Crypto(e.to_string()))
        })
    }

    fn nip44_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String> {
        Box::pin(async move {
            nip44::decrypt(self.keys.secret_key(), peer, payload)
                .map_err(|e| SignerError::Crypto(e.to_string()))
        })
    }

    fn nip04_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String> {
        Box::pin(async move {
            nip04::decrypt(self.keys.secret_key(), peer, payload)
                .map_err(|e| SignerError::Crypto(e.to_string()))
        })
    }
}

/// A signer that knows only the public key: for sessions that only read
/// (no passphrase asked). Every signature and decryption is refused, so such
/// a session never authenticates to a relay either.
#[derive(Debug, Clone)]
pub struct LockedSigner(pub PublicKey);

fn locked<'a, T: Send + 'a>() -> SignerFuture<'a, T> {
    Box::pin(async {
        Err(SignerError::Refused(
            "this profile is locked (read-only)".into(),
        ))
    })
}

impl Signer for LockedSigner {
    fn public_key(&self) -> PublicKey {
        self.0
    }

    fn is_locked(&self) -> bool {
        true
    }

    fn sign_event(&self, _unsigned: UnsignedEvent) -> SignerFuture<'_, Event> {
        locked()
    }

    fn nip44_encrypt<'a>(&'a self, _: &'a PublicKey, _: &'a str) -> SignerFuture<'a, String> {
        locked()
    }

    fn nip44_decrypt<'a>(&'a self, _: &'a PublicKey, _: &'a str) -> SignerFuture<'a, String> {
        locked()
    }

    fn nip04_decrypt<'a>(&'a self, _: &'a PublicKey, _: &'a str) -> SignerFuture<'a, String> {
        locked()
    }
}

/// Lets the network layer sign NIP-42 AUTH events with any [`Signer`].
pub struct AuthThroughSigner(pub Arc<dyn Signer>);

impl samizdat_net::AuthSigner for AuthThroughSigner {
    fn sign_auth(
        &self,
        unsigned: UnsignedEvent,
    ) -> Pin<Box<dyn Future<Output = Result<Event, String>> + Send + '_>> {
        Box::pin(async move { self.0.sign_event(unsigned).await.map_err(|e| e.to_string()) })
    }

    fn public_key(&self) -> PublicKey {
        self.0.public_key()
    }
}
