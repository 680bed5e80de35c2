//! The read side of a connection: `REQ` (stored events, then live ones) and
//! NIP-45 `COUNT` (answered from the indexes), both behind the same request
//! parsing, rate limit and read policy.

use std::sync::Arc;
use std::time::Instant;

use nostr::prelude::*;
use samizdat_store::StoreError;
use serde_json::json;

use crate::connection::Connection;
use crate::messages;
use crate::subscriptions::SubKey;

impl Connection {
    /// The rate limit and read policy for a parsed `REQ` or `COUNT`: the
    /// `CLOSED` reason when it may not run.
    fn admit_request(&self, verb: &str, filters: &[Filter]) -> Result<(), String> {
        if !self.state.allow_req(self.ip) {
            return Err(format!("rate-limited: too many {verb}s"));
        }
        self.read_access(filters)
    }

    /// The read policy for a request: `auth-required:` when every reader must
    /// authenticate, or when every filter asks only for private kinds.
    pub(crate) fn read_access(&self, filters: &[Filter]) -> Result<(), String> {
        let policy = self.state.policy();
        let anonymous = self.shared.authenticated().is_empty();
        if anonymous && policy.auth_read_all() {
            return Err("auth-required: this relay serves authenticated readers only".into());
        }
        if anonymous && policy.only_auth_read_kinds(filters) {
            return Err(
                "auth-required: these kinds are served only to their authenticated author or recipient"
                    .into(),
            );
        }
        Ok(())
    }

    /// `REQ`: register the subscription, send what is stored, then `EOSE`.
    pub(crate) async fn handle_req(&mut self, sub: String, filters: Vec<Filter>) {
        self.state.metrics.request("REQ");
        if let Err(reason) = self.admit_request("REQ", &filters) {
            return self.send(messages::closed(&sub, &reason));
        }
        let max_subscriptions = self.state.config().limits.max_subscriptions;
        let sub_id = SubscriptionId::new(&sub);
        if !self.subs.contains(&sub_id) && self.subs.len() >= max_subscriptions {
            return self.send(messages::closed(
                &sub,
                &format!(
                    "restricted: {max_subscriptions} open subscriptions is the limit; CLOSE one first"
                ),
            ));
        }
        // Register first so nothing stored during the query is missed.
        let key = SubKey {
            conn: self.shared.id,
            id: sub_id.clone(),
        };
        self.write_subs(|s| s.insert(key.clone(), filters.clone(), Arc::clone(&self.shared)));
        self.subs.insert(sub_id.clone());
        let started = Instant::now();
        let result = crate::storage::query(&self.state.store, filters).await;
        self.state.metrics.query_took(started.elapsed());
        match result {
            Ok(events) => {
                let policy = self.state.policy();
                let authed = self.shared.authenticated();
                for event in events.iter().filter(|e| policy.can_read(e, &authed)) {
                    self.send(messages::event(&sub_id, &event.as_json()));
                }
                self.send(messages::eose(&sub_id));
            }
            Err(e) => {
                self.write_subs(|s| s.remove(&key));
                self.subs.remove(&sub_id);
                self.send(messages::closed(&sub, &query_failure(e)));
            }
        }
    }

    /// NIP-45 `COUNT`: `["COUNT", sub, {"count": n}]`. Private kinds are
    /// counted only for a request scoped to the authenticated key (its own
    /// events, or events tagging it); otherwise they are left out, so a count
    /// never reveals who messages whom.
    pub(crate) async fn handle_count(&mut self, sub: String, filters: Vec<Filter>) {
        self.state.metrics.request("COUNT");
        if let Err(reason) = self.admit_request("COUNT", &filters) {
            return self.send(messages::closed(&sub, &reason));
        }
        let authed = self.shared.authenticated();
        let scoped_to_self = !authed.is_empty()
            && filters.iter().all(|f| {
                let own = f
                    .authors
                    .as_ref()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(|k| authed.contains(k)));
                let tagged = SingleLetterTag::from_char('p')
                    .ok()
                    .and_then(|p| f.generic_tags.get(&p))
                    .is_some_and(|p| {
                        !p.is_empty() && p.iter().all(|v| authed.iter().any(|k| k.to_hex() == *v))
                    });
                own || tagged
            });
        let hidden = if scoped_to_self {
            Vec::new()
        } else {
            self.state.policy().auth_read_kinds()
        };
        let started = Instant::now();
        let result = crate::storage::count(&self.state.store, filters, hidden).await;
        self.state.metrics.query_took(started.elapsed());
        match result {
            Ok(count) => self.send(json!(["COUNT", sub, {"count": count}]).to_string()),
            Err(e) => self.send(messages::closed(&sub, &query_failure(e))),
        }
    }
}

/// The `CLOSED` reason for a store error: the filter's fault says so, any
/// other failure is logged and reported without detail.
pub(crate) fn query_failure(e: StoreError) -> String {
    match e {
        StoreError::FilterTooLarge { .. } | StoreError::UnboundedFilter { .. } => {
            format!("invalid: {e}")
        }
        other => {
            tracing::warn!(error = %other, "query failed");
            "error: could not run the query".to_string()
        }
    }
}
