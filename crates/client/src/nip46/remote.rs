//! The NIP-46 client: signing through a remote signer ("bunker") over relays.
//! Each request waits for its answer up to a timeout, so a signer that goes
//! away mid-request is a clear error, not a hang.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nostr::nips::nip46::{NostrConnectMessage, NostrConnectMethod, NostrConnectUri};
use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook, PoolEvent, RelayUrl};
use samizdat_store::Store;
use tokio::sync::{mpsc, oneshot};

use super::transport::Channel;
use crate::signer::{Signer, SignerError, SignerFuture};

/// Why connecting to a remote signer failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteSignerError {
    /// The URI is not a usable `bunker://` URI.
    #[error("not a usable bunker:// URI: {0}")]
    BadUri(String),
    /// The signer refused the connection (bad secret, not allowed).
    #[error("the remote signer refused: {0}")]
    Refused(String),
    /// No answer in time.
    #[error("the remote signer did not answer within {0:?}")]
    Timeout(Duration),
}

type Answer = (Option<String>, Option<String>);

struct Inner {
    channel: Channel,
    remote: PublicKey,
    user: Mutex<Option<PublicKey>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    timeout: Duration,
}

/// A [`Signer`] whose key lives in another app, reached over NIP-46.
#[derive(Clone)]
pub struct RemoteSigner {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RemoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSigner")
            .field("remote", &self.inner.remote.to_hex())
            .finish_non_exhaustive()
    }
}

impl RemoteSigner {
    /// Connects with a `bunker://` URI: sends `connect` (with its secret),
    /// then asks for the user's public key.
    pub async fn connect_bunker(
        uri: &str,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
        timeout: Duration,
    ) -> Result<Self, RemoteSignerError> {
        let parsed =
            NostrConnectUri::parse(uri).map_err(|e| RemoteSignerError::BadUri(e.to_string()))?;
        let Some(remote) = parsed.remote_signer_public_key().copied() else {
            return Err(RemoteSignerError::BadUri(
                "a nostrconnect:// URI is for the signer, not the client".into(),
            ));
        };
        let relays: Vec<RelayUrl> = parsed
            .relays()
            .iter()
            .filter_map(|r| RelayUrl::parse_checked(&r.to_string(), config.allow_plain_ws).ok())
            .collect();
        if relays.is_empty() {
            return Err(RemoteSignerError::BadUri("no usable relay".into()));
        }
        let (channel, rx) = Channel::open(Keys::generate(), relays, store, config, policies);
        let signer = Self {
            inner: Arc::new(Inner {
                channel,
                remote,
                user: Mutex::new(None),
                pending: Mutex::new(HashMap::new()),
                timeout,
            }),
        };
        tokio::spawn(route(Arc::downgrade(&signer.inner), rx));
        let secret = parsed.secret().map(str::to_owned).unwrap_or_default();
        let to_err = |e: SignerError| match e {
            SignerError::Timeout => RemoteSignerError::Timeout(timeout),
            other => RemoteSignerError::Refused(other.to_string()),
        };
        signer
            .request(NostrConnectMethod::Connect, vec![remote.to_hex(), secret])
            .await
            .map_err(to_err)?;
        let user = signer
            .request(NostrConnectMethod::GetPublicKey, vec![])
            .await
            .map_err(to_err)?;
        let user = PublicKey::from_hex(user.trim_matches('"'))
            .map_err(|e| RemoteSignerError::Refused(e.to_string()))?;
        if let Ok(mut u) = signer.inner.user.lock() {
            *u = Some(user);
        }
        Ok(signer)
    }

    /// Sends one request and waits for its answer.
    async fn request(
        &self,
        method: NostrConnectMethod,
        params: Vec<String>,
    ) -> Result<String, SignerError> {
        let id = format!("{:016x}", rand::random::<u64>());
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.inner.pending.lock() {
            p.insert(id.clone(), tx);
        }
        let message = NostrConnectMessage::Request {
            id: id.clone(),
            method,
            params,
        };
        let sent = self.inner.channel.send(&self.inner.remote, &message).await;
        let answer = if sent {
            tokio::time::timeout(self.inner.timeout, rx)
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        if let Ok(mut p) = self.inner.pending.lock() {
            p.remove(&id);
        }
        if !sent {
            return Err(SignerError::Unreachable(
                "no relay accepted the request".into(),
            ));
        }
        match answer {
            Some((_, Some(error))) => Err(SignerError::Refused(error)),
            Some((Some(result), None)) => Ok(result),
            Some((None, None)) => Err(SignerError::Refused("empty answer".into())),
            None => Err(SignerError::Timeout),
        }
    }
}

/// Routes answers from the signer to the requests waiting for them.
async fn route(inner: std::sync::Weak<Inner>, mut rx: mpsc::Receiver<PoolEvent>) {
    while let Some(event) = rx.recv().await {
        let PoolEvent::Events { events, .. } = event else {
            continue;
        };
        let Some(inner) = inner.upgrade() else { break };
        for e in events {
            if e.pubkey != inner.remote {
                continue;
            }
            if let Some(NostrConnectMessage::Response { id, result, error }) =
                inner.channel.open_message(&e)
            {
                let waiting = inner.pending.lock().ok().and_then(|mut p| p.remove(&id));
                if let Some(tx) = waiting {
                    let _ = tx.send((result, error));
                }
            }
        }
    }
}

impl Signer for RemoteSigner {
    fn public_key(&self) -> PublicKey {
        self.inner
            .user
            .lock()
            .ok()
            .and_then(|u| *u)
            .unwrap_or(self.inner.remote)
    }

    fn sign_event(&self, unsigned: UnsignedEvent) -> SignerFuture<'_, Event> {
        Box::pin(async move {
            let expected = self.public_key();
            let json = serde_json::json!({
                "kind": unsigned.kind.as_u16(),
                "content": unsigned.content,
                "tags": unsigned.tags,
                "created_at": unsigned.created_at.as_secs(),
            })
            .to_string();
            let answer = self
                .request(NostrConnectMethod::SignEvent, vec![json])
                .await?;
            let event = Event::from_json(&answer)
                .map_err(|e| SignerError::Crypto(format!("bad signed event: {e}")))?;
            // Trust nothing: the remote signer's answer is verified like any relay's.
            event.verify().map_err(|_| {
                SignerError::Crypto("the remote signer returned an invalid signature".into())
            })?;
            if event.pubkey != expected
                || event.kind != unsigned.kind
                || event.content != unsigned.content
            {
                return Err(SignerError::Crypto(
                    "the remote signer signed something else".into(),
                ));
            }
            Ok(event)
        })
    }

    fn nip44_encrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        plaintext: &'a str,
    ) -> SignerFuture<'a, String> {
        Box::pin(self.request(
            NostrConnectMethod::Nip44Encrypt,
            vec![peer.to_hex(), plaintext.to_owned()],
        ))
    }

    fn nip44_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String> {
        Box::pin(self.request(
            NostrConnectMethod::Nip44Decrypt,
            vec![peer.to_hex(), payload.to_owned()],
        ))
    }

    fn nip04_decrypt<'a>(
        &'a self,
        peer: &'a PublicKey,
        payload: &'a str,
    ) -> SignerFuture<'a, String> {
        Box::pin(self.request(
            NostrConnectMethod::Nip04Decrypt,
            vec![peer.to_hex(), payload.to_owned()],
        ))
    }
}
