//! Async entry points: the same calls, run on tokio's blocking pool so that a
//! disk write never stalls the async runtime.

use std::sync::Arc;

use nostr::prelude::{Event, Filter};

use crate::error::{StoreError, StoreResult};
use crate::{InsertOutcome, Store};

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

impl Store {
    /// [`Store::insert_batch_from`] on the blocking pool.
    pub async fn insert_batch_async(
        self: &Arc<Self>,
        relay: Option<String>,
        events: Vec<Event>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        let store = Arc::clone(self);
        blocking(move || store.insert_batch_from(relay.as_deref(), &events)).await
    }

    /// [`Store::query`] on the blocking pool.
    pub async fn query_async(self: &Arc<Self>, filters: Vec<Filter>) -> StoreResult<Vec<Event>> {
        let store = Arc::clone(self);
        blocking(move || store.query(&filters)).await
    }
}
