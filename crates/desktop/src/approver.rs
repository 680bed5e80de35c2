//! The net layer's [`Approver`] for "ask" policies, answered by the user in
//! a dialog. The net layer calls it on a blocking thread; it posts the
//! question to the UI and waits for the answer (denying after a time-out,
//! or when the app goes away), so the UI thread never waits for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use samizdat_net::{Approver, Question};

use crate::bridge::UpdateSink;
use crate::protocol::Update;

/// Asks the user through the UI.
pub struct DialogApprover {
    sink: UpdateSink,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, mpsc::Sender<bool>>>,
    timeout: Duration,
}

impl DialogApprover {
    /// An approver posting questions to `sink`; unanswered after `timeout`
    /// means no.
    pub fn new(sink: UpdateSink, timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            sink,
            next: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
            timeout,
        })
    }

    /// The user answered question `id`.
    pub fn answer(&self, id: u64, allow: bool) {
        let waiter = self.waiting.lock().ok().and_then(|mut w| w.remove(&id));
        if let Some(tx) = waiter {
            let _ = tx.send(allow);
        }
    }
}

impl Approver for DialogApprover {
    fn approve(&self, question: &Question) -> bool {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(id, tx);
        }
        if !self.sink.send(Update::Ask(id, question.clone())) {
            return false;
        }
        let allowed = rx.recv_timeout(self.timeout).unwrap_or(false);
        if let Ok(mut w) = self.waiting.lock() {
            w.remove(&id);
        }
        tracing::info!(?question, allowed, "policy question answered");
        allowed
    }
}
