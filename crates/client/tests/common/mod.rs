//! Helpers shared by the client's integration tests.

#![allow(dead_code)]

use std::sync::Arc;

use samizdat_relay::{RelayConfig, RelayHandle};
use samizdat_store::Store;

/// Our relay on 127.0.0.1 with `config`, over a store file named `name` in `dir`.
pub async fn relay_with(
    dir: &tempfile::TempDir,
    name: &str,
    config: RelayConfig,
) -> (RelayHandle, Arc<Store>) {
    let store = Arc::new(Store::open(dir.path().join(format!("{name}.sqlite"))).unwrap());
    let handle = samizdat_relay::start(config, Arc::clone(&store), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (handle, store)
}

/// Our relay on 127.0.0.1 with the default configuration.
pub async fn relay(dir: &tempfile::TempDir, name: &str) -> (RelayHandle, Arc<Store>) {
    relay_with(dir, name, RelayConfig::default()).await
}
