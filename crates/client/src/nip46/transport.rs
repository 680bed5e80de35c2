//! Kind-24133 envelopes: NIP-44 encrypted JSON-RPC between two keys, carried
//! by a dedicated relay pool.

use std::sync::Arc;

use nostr::nips::nip46::NostrConnectMessage;
use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook, Pool, PoolEvent, PublishOutcome, RelayUrl};
use samizdat_store::Store;
use tokio::sync::mpsc;

/// One side of a NIP-46 conversation: its keys and its relays.
pub(crate) struct Channel {
    pub keys: Keys,
    pub relays: Vec<RelayUrl>,
    pub pool: Pool,
}

impl Channel {
    /// Opens a pool on `relays` listening for kind 24133 addressed to `keys`.
    pub fn open(
        keys: Keys,
        relays: Vec<RelayUrl>,
        store: Arc<Store>,
        config: NetConfig,
        policies: PolicyBook,
    ) -> (Self, mpsc::Receiver<PoolEvent>) {
        let (pool, rx) = Pool::new(config, store, policies, None);
        let filter = Filter::new()
            .kind(Kind::NostrConnect)
            .pubkey(keys.public_key())
            .since(Timestamp::from_secs(
                Timestamp::now().as_secs().saturating_sub(10),
            ));
        for relay in &relays {
            if let Err(e) = pool.subscribe(relay, "nip46", vec![filter.clone()]) {
                tracing::warn!(%relay, error = %e, "cannot listen for NIP-46 messages");
            }
        }
        (Self { keys, relays, pool }, rx)
    }

    /// Encrypts and sends a message to `to` on every relay; true if any relay took it.
    pub async fn send(&self, to: &PublicKey, message: &NostrConnectMessage) -> bool {
        let Ok(json) = serde_json::to_string(message) else {
            return false;
        };
        let Ok(content) = nip44::encrypt(self.keys.secret_key(), to, json, nip44::Version::V2)
        else {
            return false;
        };
        let Ok(event) = EventBuilder::new(Kind::NostrConnect, content)
            .tag(Tag::public_key(*to))
            .finalize(&self.keys)
        else {
            return false;
        };
        let mut delivered = false;
        for relay in &self.relays {
            let outcome = self.pool.publish(relay, event.clone()).await;
            delivered |= matches!(
                outcome,
                PublishOutcome::Accepted | PublishOutcome::Duplicate
            );
        }
        delivered
    }

    /// Decrypts a received kind-24133 event addressed to us.
    pub fn open_message(&self, event: &Event) -> Option<NostrConnectMessage> {
        if event.kind != Kind::NostrConnect {
            return None;
        }
        let json = nip44::decrypt(self.keys.secret_key(), &event.pubkey, &event.content).ok()?;
        serde_json::from_str(&json).ok()
    }
}
