//! Live fan-out across the nodes of a cluster (several relay processes on
//! one PostgreSQL database): a thread of its own reads the other nodes'
//! changes (`RelayStorage::listen`), fetches the events they stored by id
//! and delivers them to this node's subscriptions, delivers their ephemeral
//! events, and re-reads the moderation lists and settings when they changed
//! (a ban, an allowed kind, a rename made on any node holds on all). Rate
//! limits and connection caps stay per node. The connection is reopened
//! after an error (1 s, then up to 30 s apart); what was announced while it
//! was down is not fanned out (the events are stored: a REQ finds them).

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;

use crate::state::RelayState;
use crate::storage::Change;

/// How long one wait for a change lasts (the shutdown flag is read between).
const WAIT: Duration = Duration::from_millis(250);

/// Starts listening when the storage is shared; the thread ends at shutdown.
pub(crate) fn spawn(state: Arc<RelayState>) {
    let Some(first) = state.store.listen() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("samizdat-cluster".into())
        .spawn(move || run(&state, first));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the cluster listener");
    }
}

fn stopping(state: &RelayState) -> bool {
    *state.shutdown.borrow()
}

fn run(
    state: &RelayState,
    mut opened: samizdat_store::StoreResult<Box<dyn crate::storage::ChangeFeed>>,
) {
    let mut backoff = Duration::from_secs(1);
    while !stopping(state) {
        let mut feed = match opened {
            Ok(feed) => feed,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "cluster listener down");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
                opened = match state.store.listen() {
                    Some(next) => next,
                    None => return,
                };
                continue;
            }
        };
        tracing::info!("listening to the cluster's other nodes");
        backoff = Duration::from_secs(1);
        let failed = loop {
            if stopping(state) {
                return;
            }
            match feed.next_change(WAIT) {
                Ok(Some(change)) => apply(state, change),
                Ok(None) => {}
                Err(e) => break e,
            }
        };
        opened = Err(failed);
    }
}

/// Applies one change from another node.
fn apply(state: &RelayState, change: Change) {
    match change {
        Change::Stored(ids) => {
            let n = ids.len();
            let filter = Filter::new().ids(ids).limit(n);
            match state.store.query(&[filter]) {
                Ok(events) => {
                    let owners = state.policy().owners().clone();
                    let owner_list = events
                        .iter()
                        .any(|e| e.kind == Kind::ContactList && owners.contains(&e.pubkey));
                    for event in &events {
                        state.fan_out(event);
                    }
                    state.metrics.cluster_received(events.len());
                    if owner_list {
                        reload(state);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading another node's events failed"),
            }
        }
        Change::Ephemeral(event) => {
            state.fan_out(&event);
            state.metrics.cluster_received(1);
        }
        Change::Moderation => reload(state),
    }
}

fn reload(state: &RelayState) {
    let config = crate::config::RelayConfig::clone(&state.config());
    match state.reload(config) {
        Ok(()) => tracing::info!("moderation or settings changed on another node: reloaded"),
        Err(e) => tracing::warn!(error = %e, "reloading after another node's change failed"),
    }
}
