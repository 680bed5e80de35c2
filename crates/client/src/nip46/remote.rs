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
use crate::base::signer::{Signer, SignerError, SignerFuture};

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
    /// The signer's key; unknown while a nostrconnect:// pairing waits.
    remote: Mutex<Option<PublicKey>>,
    /// For a nostrconnect:// pairing: the secret the signer must echo, and who waits for it.
    pairing: Mutex<Option<(String, oneshot::Sender<PublicKey>)>>,
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
            .field("remote", &self.remote().map(|r| r.to_hex()))
            .finish_non_exhaustive()
    }
}

impl RemoteSigner {
    /// Connects with a `bunker://` URI: sends `connect` (with its secret),
    /// then asks for the user's public key.
    pub async fn connect_bunker(
        uri: &str,
        perms: Option<&str>,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
        timeout: Duration,
    ) -> Result<Self, RemoteSignerError> {
        Self::connect_bunker_as(
            Keys::generate(),
            uri,
            perms,
            store,
            config,
            policies,
            timeout,
        )
        .await
    }

    /// Like [`RemoteSigner::connect_bunker`], speaking as `client` (an app
    /// key the caller keeps, so the bunker knows this app next time).
    pub async fn connect_bunker_as(
        client: Keys,
        uri: &str,
        perms: Option<&str>,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
        timeout: Duration,
    ) -> Result<Self, RemoteSignerError> {
        let (remote, relays, secret) = parse_bunker_uri(uri, config.allow_plain_ws)?;
        let signer = Self::open(
            client,
            relays,
            store,
            config,
            policies,
            timeout,
            Some(remote),
        );
        let secret = secret.unwrap_or_default();
        let mut params = vec![remote.to_hex(), secret];
        if let Some(perms) = perms {
            params.push(perms.to_owned());
        }
        signer
            .request(NostrConnectMethod::Connect, params)
            .await
            .map_err(|e| to_connect_error(e, timeout))?;
        signer.fetch_user(timeout).await?;
        Ok(signer)
    }

    /// Resumes a pairing made earlier with [`RemoteSigner::connect_bunker_as`]:
    /// the same app key, the bunker's key and relays from `uri` (its secret,
    /// spent long ago, is ignored), and the user's key as remembered. Sends
    /// nothing until the first request.
    pub fn resume(
        client: Keys,
        uri: &str,
        user: PublicKey,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
        timeout: Duration,
    ) -> Result<Self, RemoteSignerError> {
        let (remote, relays, _spent_secret) = parse_bunker_uri(uri, config.allow_plain_ws)?;
        let signer = Self::open(
            client,
            relays,
            store,
            config,
            policies,
            timeout,
            Some(remote),
        );
        if let Ok(mut u) = signer.inner.user.lock() {
            *u = Some(user);
        }
        Ok(signer)
    }

    /// The bunker's key and relays as a `bunker://` URI without any secret
    /// (what a profile remembers to resume).
    pub fn bunker_uri(&self) -> Option<String> {
        let remote = self.remote()?;
        let relays: Vec<String> = self
            .inner
            .channel
            .relays
            .iter()
            .map(|r| format!("relay={}", super::percent_encode(&r.to_string())))
            .collect();
        Some(format!("bunker://{}?{}", remote.to_hex(), relays.join("&")))
    }

    /// The user's key as hex ("" before the signer said who it holds).
    pub(crate) fn public_key_hex(&self) -> String {
        self.inner
            .user
            .lock()
            .ok()
            .and_then(|u| *u)
            .map(|u| u.to_hex())
            .unwrap_or_default()
    }

    /// The app key this client speaks as (a secret: keep it encrypted).
    pub(crate) fn client_keys(&self) -> &Keys {
        &self.inner.channel.keys
    }

    fn open(
        client: Keys,
        relays: Vec<RelayUrl>,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
        timeout: Duration,
        remote: Option<PublicKey>,
    ) -> Self {
        let (channel, rx) = Channel::open(client, relays, store, config, policies);
        let signer = Self {
            inner: Arc::new(Inner {
                channel,
                remote: Mutex::new(remote),
                pairing: Mutex::new(None),
                user: Mutex::new(None),
                pending: Mutex::new(HashMap::new()),
                timeout,
            }),
        };
        tokio::spawn(route(Arc::downgrade(&signer.inner), rx));
        signer
    }

    /// Asks the signer whose key it holds.
    async fn fetch_user(&self, timeout: Duration) -> Result<(), RemoteSignerError> {
        let user = self
            .request(NostrConnectMethod::GetPublicKey, vec![])
            .await
            .map_err(|e| to_connect_error(e, timeout))?;
        let user = PublicKey::from_hex(user.trim_matches('"'))
            .map_err(|e| RemoteSignerError::Refused(e.to_string()))?;
        if let Ok(mut u) = self.inner.user.lock() {
            *u = Some(user);
        }
        Ok(())
    }

    /// Starts a client-initiated pairing: returns the `nostrconnect://` URI to
    /// show the user (for their signer app) and a pairing to wait on.
    pub fn pair(
        relays: Vec<RelayUrl>,
        app_name: &str,
        perms: Option<&str>,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
        timeout: Duration,
    ) -> (String, Pairing) {
        let secret = format!("{:032x}", rand::random::<u128>());
        let signer = Self::open(
            Keys::generate(),
            relays.clone(),
            store,
            config,
            policies,
            timeout,
            None,
        );
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = signer.inner.pairing.lock() {
            *p = Some((secret.clone(), tx));
        }
        let mut uri = format!(
            "nostrconnect://{}?",
            signer.inner.channel.keys.public_key().to_hex()
        );
        for r in &relays {
            uri.push_str(&format!("relay={}&", super::percent_encode(&r.to_string())));
        }
        uri.push_str(&format!(
            "secret={secret}&name={}",
            super::percent_encode(app_name)
        ));
        if let Some(perms) = perms {
            uri.push_str(&format!("&perms={}", super::percent_encode(perms)));
        }
        (uri, Pairing { signer, answer: rx })
    }

    fn remote(&self) -> Option<PublicKey> {
        self.inner.remote.lock().ok().and_then(|r| *r)
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
        let Some(remote) = self.remote() else {
            return Err(SignerError::Unreachable("not paired yet".into()));
        };
        let sent = self.inner.channel.send(&remote, &message).await;
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

fn to_connect_error(e: SignerError, timeout: Duration) -> RemoteSignerError {
    match e {
        SignerError::Timeout => RemoteSignerError::Timeout(timeout),
        other => RemoteSignerError::Refused(other.to_string()),
    }
}

/// A `nostrconnect://` pairing waiting for the user's signer app.
pub struct Pairing {
    signer: RemoteSigner,
    answer: oneshot::Receiver<PublicKey>,
}

impl Pairing {
    /// Waits for a signer to answer with our secret, then asks whose key it holds.
    pub async fn wait(self) -> Result<RemoteSigner, RemoteSignerError> {
        let timeout = self.signer.inner.timeout;
        match tokio::time::timeout(timeout, self.answer).await {
            Ok(Ok(_)) => {}
            _ => return Err(RemoteSignerError::Timeout(timeout)),
        }
        self.signer.fetch_user(timeout).await?;
        Ok(self.signer)
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
            let remote = inner.remote.lock().ok().and_then(|r| *r);
            if remote.is_some_and(|r| r != e.pubkey) {
                continue;
            }
            let Some(NostrConnectMessage::Response { id, result, error }) =
                inner.channel.open_message(&e)
            else {
                continue;
            };
            if remote.is_none() {
                // A nostrconnect:// pairing: the signer proves itself by echoing our secret.
                let Ok(mut pairing) = inner.pairing.lock() else {
                    continue;
                };
                let echoed = pairing
                    .as_ref()
                    .is_some_and(|(secret, _)| result.as_deref() == Some(secret.as_str()));
                if echoed {
                    if let (Some((_, tx)), Ok(mut r)) = (pairing.take(), inner.remote.lock()) {
                        *r = Some(e.pubkey);
                        let _ = tx.send(e.pubkey);
                    }
                }
                continue;
            }
            let waiting = inner.pending.lock().ok().and_then(|mut p| p.remove(&id));
            if let Some(tx) = waiting {
                let _ = tx.send((result, error));
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
            .or_else(|| self.remote())
            .unwrap_or_else(|| self.inner.channel.keys.public_key())
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

/// Reads a `bunker://` URI: the signer's key, its usable relays, and the
/// pairing secret if there is one.
pub fn parse_bunker_uri(
    uri: &str,
    allow_plain_ws: bool,
) -> Result<(PublicKey, Vec<RelayUrl>, Option<String>), RemoteSignerError> {
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
        .filter_map(|r| RelayUrl::parse_checked(&r.to_string(), allow_plain_ws).ok())
        .collect();
    if relays.is_empty() {
        return Err(RemoteSignerError::BadUri("no usable relay".into()));
    }
    Ok((remote, relays, parsed.secret().map(str::to_owned)))
}
