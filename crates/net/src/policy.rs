//! Who may be connected to, and who may learn the user's key through AUTH.
//!
//! Per relay, connection and AUTH each have a policy: allow, deny, or ask.
//! "Ask" goes to an [`Approver`] that the UI supplies; without one, asking is
//! a denial. In whitelist-only mode, relays without an explicit "allow" are
//! never connected to. A denied AUTH is simply never answered: the relay
//! learns nothing about the user's key.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::url::RelayUrl;

/// A decision about one relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Never.
    Deny,
    /// Ask the user each time (through the [`Approver`]).
    #[default]
    Ask,
}

/// What the user is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// May we open a connection to this relay?
    Connect(RelayUrl),
    /// May we authenticate (reveal our public key) to this relay?
    Auth(RelayUrl),
}

/// Answers "ask" decisions, usually by asking the user through the UI.
pub trait Approver: Send + Sync {
    /// True to allow. May take as long as the user needs.
    fn approve(&self, question: &Question) -> bool;
}

/// Per-relay connection and AUTH policies.
#[derive(Clone, Default)]
pub struct PolicyBook {
    inner: Arc<RwLock<Policies>>,
    approver: Option<Arc<dyn Approver>>,
}

#[derive(Default)]
struct Policies {
    connect: HashMap<RelayUrl, Decision>,
    auth: HashMap<RelayUrl, Decision>,
    whitelist_only: bool,
    default_connect: Decision,
    default_auth: Decision,
}

impl std::fmt::Debug for PolicyBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyBook").finish_non_exhaustive()
    }
}

impl PolicyBook {
    /// Connect to any relay not denied; never AUTH unless allowed.
    pub fn new() -> Self {
        let book = Self::default();
        book.set_defaults(Decision::Allow, Decision::Deny);
        book
    }

    /// Sets who answers "ask".
    pub fn with_approver(mut self, approver: Arc<dyn Approver>) -> Self {
        self.approver = Some(approver);
        self
    }

    /// Decisions for relays without their own entry.
    pub fn set_defaults(&self, connect: Decision, auth: Decision) {
        if let Ok(mut p) = self.inner.write() {
            p.default_connect = connect;
            p.default_auth = auth;
        }
    }

    /// Only relays explicitly allowed may be connected to.
    pub fn set_whitelist_only(&self, on: bool) {
        if let Ok(mut p) = self.inner.write() {
            p.whitelist_only = on;
        }
    }

    /// Sets the connection policy of one relay.
    pub fn set_connect(&self, url: &RelayUrl, decision: Decision) {
        if let Ok(mut p) = self.inner.write() {
            p.connect.insert(url.clone(), decision);
        }
    }

    /// Sets the AUTH policy of one relay.
    pub fn set_auth(&self, url: &RelayUrl, decision: Decision) {
        if let Ok(mut p) = self.inner.write() {
            p.auth.insert(url.clone(), decision);
        }
    }

    /// The connection decision before asking anyone.
    pub fn connect_decision(&self, url: &RelayUrl) -> Decision {
        let Ok(p) = self.inner.read() else {
            return Decision::Deny;
        };
        match p.connect.get(url) {
            Some(d) => *d,
            None if p.whitelist_only => Decision::Deny,
            None => p.default_connect,
        }
    }

    /// The AUTH decision before asking anyone.
    pub fn auth_decision(&self, url: &RelayUrl) -> Decision {
        let Ok(p) = self.inner.read() else {
            return Decision::Deny;
        };
        p.auth.get(url).copied().unwrap_or(p.default_auth)
    }

    /// May we connect? Asks the approver when the policy says "ask".
    pub fn may_connect(&self, url: &RelayUrl) -> bool {
        self.resolve(self.connect_decision(url), Question::Connect(url.clone()))
    }

    /// May we AUTH? Asks the approver when the policy says "ask".
    pub fn may_auth(&self, url: &RelayUrl) -> bool {
        self.resolve(self.auth_decision(url), Question::Auth(url.clone()))
    }

    fn resolve(&self, decision: Decision, question: Question) -> bool {
        match decision {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Ask => self.approver.as_ref().is_some_and(|a| a.approve(&question)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Yes;
    impl Approver for Yes {
        fn approve(&self, _: &Question) -> bool {
            true
        }
    }

    #[test]
    fn defaults_whitelist_and_ask() {
        let a = RelayUrl::parse("wss://a.example").unwrap();
        let b = RelayUrl::parse("wss://b.example").unwrap();
        let book = PolicyBook::new();
        assert!(book.may_connect(&a));
        assert!(!book.may_auth(&a), "AUTH is opt-in");
        book.set_connect(&a, Decision::Deny);
        assert!(!book.may_connect(&a));
        book.set_whitelist_only(true);
        assert!(!book.may_connect(&b));
        book.set_connect(&b, Decision::Allow);
        assert!(book.may_connect(&b));
        book.set_auth(&b, Decision::Ask);
        assert!(!book.may_auth(&b), "asking with no approver is a no");
        let book = book.with_approver(Arc::new(Yes));
        assert!(book.may_auth(&b));
        assert!(!book.may_connect(&a), "deny is never asked");
    }
}
