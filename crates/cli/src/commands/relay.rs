//! `samizdat relay`: run the relay on a store file until a signal arrives.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use samizdat_relay::RelayConfig;
use samizdat_store::{Store, StoreConfig};

/// Arguments of `samizdat relay`.
#[derive(clap::Args)]
pub struct RelayArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7777")]
    listen: SocketAddr,
    /// The relay's database file (created if missing).
    #[arg(long)]
    db: PathBuf,
    /// TOML config file (limits, rate limits, NIP-11 identity).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs the relay until SIGINT or SIGTERM, then shuts down gracefully:
/// in-flight writes are committed before the process exits.
pub async fn run(args: RelayArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => RelayConfig::from_file(path)?,
        None => RelayConfig::default(),
    };
    if let Some(dir) = args.db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = Arc::new(Store::open_with(&args.db, StoreConfig::relay())?);
    let relay = samizdat_relay::start(config, store, args.listen).await?;
    println!("samizdat relay listening on {}", relay.url());
    wait_for_signal().await?;
    println!("shutting down: committing queued events");
    relay.shutdown().await;
    println!("stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
