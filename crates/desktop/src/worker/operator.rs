//! The "My relay" tab's work: read the overview of the relay the user runs,
//! run one NIP-86 call and read it again. Both are single client calls.

use std::sync::Arc;

use serde_json::Value;

use super::views::Ctx;
use crate::protocol::Update;

impl Ctx {
    /// Reads `relay`'s overview (lists, queue, roles, metrics).
    pub(crate) fn relay_overview(&self, relay: String) {
        let (session, sink) = (Arc::clone(&self.session), self.sink.clone());
        tokio::spawn(async move {
            let result = session
                .relay_overview(&relay)
                .await
                .map_err(|e| e.to_string());
            sink.send(Update::Operator(Box::new(result)));
        });
    }

    /// Calls `method` on `relay`, says what happened, and reads the
    /// overview again.
    pub(crate) fn manage_relay(&self, relay: String, method: String, params: Vec<Value>) {
        let (session, sink) = (Arc::clone(&self.session), self.sink.clone());
        tokio::spawn(async move {
            let line = match session.manage_relay(&relay, &method, params).await {
                Ok(_) => format!("{relay}: {method} done"),
                Err(e) => format!("{relay}: {e}"),
            };
            sink.send(Update::Alert(line));
            let result = session
                .relay_overview(&relay)
                .await
                .map_err(|e| e.to_string());
            sink.send(Update::Operator(Box::new(result)));
        });
    }
}
