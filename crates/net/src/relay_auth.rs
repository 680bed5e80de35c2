//! NIP-42 on the client side: AUTH is sent only when a relay asks for it
//! (CLOSED or OK with `auth-required:`), a challenge is known, the policy
//! allows it for this relay and a signer exists. A declined AUTH is never
//! answered, so the relay learns nothing about the user's key.

use nostr::prelude::*;
use serde_json::json;

use crate::pool::{PoolEvent, PublishOutcome};
use crate::relay::RelayActor;
use crate::session::Session;

impl RelayActor {
    /// Sends AUTH if a challenge is known, the policy allows it and a signer
    /// exists. Returns false when AUTH is not possible.
    pub(crate) async fn try_auth(&self, s: &mut Session, out: &mut Vec<String>) -> bool {
        if s.auth_event.is_some() {
            return true;
        }
        let (Some(challenge), Some(signer)) = (s.challenge.clone(), self.shared.signer.clone())
        else {
            return false;
        };
        let url = self.url.clone();
        let policies = self.shared.policies.clone();
        let allowed = tokio::task::spawn_blocking(move || policies.may_auth(&url))
            .await
            .unwrap_or(false);
        if !allowed {
            return false;
        }
        let unsigned = EventBuilder::new(Kind::Authentication, "")
            .tags([
                Tag::parse(["relay", &self.url.to_string()])
                    .unwrap_or_else(|_| Tag::identifier("")),
                Tag::parse(["challenge", &challenge]).unwrap_or_else(|_| Tag::identifier("")),
            ])
            .finalize_unsigned(signer.public_key());
        match signer.sign_auth(unsigned).await {
            Ok(event) => {
                s.auth_event = Some(event.id);
                out.push(json!(["AUTH", event]).to_string());
                true
            }
            Err(e) => {
                tracing::warn!(relay = %self.url, error = %e, "cannot sign AUTH");
                false
            }
        }
    }

    pub(crate) async fn decline_auth(&mut self, s: &mut Session, reason: &str) {
        self.emit(PoolEvent::AuthDeclined {
            relay: self.url.clone(),
        })
        .await;
        self.negs.refuse_waiting_for_auth(reason);
        for (id, _) in std::mem::take(&mut s.deferred_subs) {
            self.emit(PoolEvent::Closed {
                relay: self.url.clone(),
                sub: id,
                reason: reason.to_owned(),
            })
            .await;
        }
        let waiting: Vec<EventId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.auth_retried)
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            if let Some(p) = self.pending.remove(&id) {
                let _ = p
                    .reply
                    .send(PublishOutcome::AuthRequired(reason.to_owned()));
            }
        }
    }
}
