//! `samizdat relay`: run the relay on a store file until a signal arrives;
//! SIGHUP re-reads the config file and puts it in force without dropping
//! connections.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nostr::prelude::Filter;
use samizdat_relay::{PgStore, RelayConfig, RelayHandle, RelayStorage, WriteMode};
use samizdat_store::{Store, StoreConfig};

use super::relay_mirror::Mirror;

/// Arguments of `samizdat relay`. Flags override the config file.
#[derive(clap::Args)]
pub struct RelayArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7777")]
    listen: SocketAddr,
    /// The relay's database: a SQLite file (created if missing), or a
    /// PostgreSQL URL (`postgres://user:password@host:port/db`; tables are
    /// created or migrated; `?sslmode=require[&sslrootcert=ca.pem]` for TLS,
    /// the server's certificate always verified).
    #[arg(long, value_name = "FILE|URL")]
    db: PathBuf,
    /// Append the heap's size to this CSV file every 5 s (the soak's
    /// memory curve: the allocator's bytes in use and free, and RssAnon).
    #[arg(long, value_name = "FILE")]
    heap_log: Option<PathBuf>,
    /// TOML config file (identity, limits, rate limits, policy); re-read on SIGHUP.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Who may write: public, owner (the owner's keys only) or personal (the
    /// owner, whom they follow, and events that tag them).
    #[arg(long, value_name = "public|owner|personal")]
    policy: Option<WriteMode>,
    /// The owner's key (npub or hex); repeat for several. Owners are admins.
    #[arg(long = "owner", value_name = "KEY")]
    owners: Vec<String>,
    /// A key allowed to use the NIP-86 management API; repeat for several.
    #[arg(long = "admin", value_name = "KEY")]
    admins: Vec<String>,
    /// NIP-13: least proof of work (bits) an event needs.
    #[arg(long, value_name = "BITS")]
    min_pow: Option<u8>,
    /// Every reader must authenticate (NIP-42) before reading anything.
    #[arg(long)]
    auth_read_all: bool,
    /// Another relay to pull missing events from by NIP-77 negentropy (at
    /// start, then every --mirror-every seconds); repeat for several. The
    /// events pass this relay's checks and policy like any EVENT.
    #[arg(long = "mirror", value_name = "URL")]
    mirrors: Vec<String>,
    /// Seconds between mirror passes.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    mirror_every: u64,
    /// Folder for Blossom media (BUD-01/02/04/06 on the same port; the
    /// owners and allowed keys upload). Default: `<db>-blobs` beside a
    /// SQLite database; none for PostgreSQL unless given.
    #[arg(long, value_name = "DIR")]
    media: Option<PathBuf>,
    /// Serve no media.
    #[arg(long, conflicts_with = "media")]
    no_media: bool,
    /// Media storage quota in MiB.
    #[arg(long, value_name = "MIB")]
    media_quota: Option<u64>,
}

impl RelayArgs {
    /// The config file (or the defaults) with the flags applied, checked.
    fn config(&self) -> anyhow::Result<RelayConfig> {
        let mut config = match &self.config {
            Some(path) => RelayConfig::from_file(path)?,
            None => RelayConfig::default(),
        };
        if let Some(mode) = self.policy {
            config.policy.write = mode;
        }
        config.policy.owners.extend(self.owners.iter().cloned());
        config.policy.admins.extend(self.admins.iter().cloned());
        if let Some(bits) = self.min_pow {
            config.min_pow = bits;
        }
        if self.auth_read_all {
            config.policy.auth_read_all = true;
        }
        if self.no_media {
            config.media.dir = None;
        } else if let Some(dir) = &self.media {
            config.media.dir = Some(dir.clone());
        } else if config.media.dir.is_none() && !self.db.to_string_lossy().starts_with("postgres") {
            let mut name = self.db.file_stem().unwrap_or_default().to_os_string();
            name.push("-blobs");
            config.media.dir = Some(self.db.with_file_name(name));
        }
        if let Some(mib) = self.media_quota {
            config.media.quota_mib = mib;
        }
        config.check().map_err(anyhow::Error::msg)?;
        Ok(config)
    }
}

/// Runs the relay until SIGINT or SIGTERM, then shuts down gracefully:
/// in-flight writes are committed before the process exits.
pub async fn run(args: RelayArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    if let Some(path) = &args.heap_log {
        crate::heap::start_log(path)?;
    }
    let store = open_storage(&args.db, config.cache_mib, config.db_connections)?;
    tracing::info!(db = %store.describe(), "relay database open");
    let policy = config.policy.write.as_str();
    let media = config.media.dir.clone();
    let relay = samizdat_relay::start(config, store, args.listen).await?;
    // One line: scripts read the first line and may close the pipe.
    let media = match &media {
        Some(dir) => format!(
            "; media (Blossom) on http://{}, blobs in {}",
            relay.local_addr(),
            dir.display()
        ),
        None => String::new(),
    };
    println!(
        "samizdat relay listening on {} (write policy: {policy}){media}",
        relay.url()
    );
    let mut mirrors = Vec::new();
    for url in &args.mirrors {
        mirrors.push(Mirror::new(url)?);
    }
    serve_until_stopped(&args, &relay, &mut mirrors).await?;
    for mirror in mirrors {
        mirror.shutdown().await;
    }
    println!("shutting down: committing queued events");
    relay.shutdown().await;
    println!("stopped");
    Ok(())
}

/// The relay's database: PostgreSQL for a `postgres://` URL, else a SQLite file.
fn open_storage(
    db: &std::path::Path,
    cache_mib: u32,
    connections: usize,
) -> anyhow::Result<Arc<dyn RelayStorage>> {
    let text = db.to_string_lossy();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        let store = PgStore::connect_with(&text, None, connections)
            .context("opening the PostgreSQL database")?;
        return Ok(Arc::new(store));
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let config = StoreConfig {
        cache_kib: i64::from(cache_mib.max(1)) * 1024,
        ..StoreConfig::relay()
    };
    Ok(Arc::new(Store::open_with(db, config)?))
}

/// One pass over every mirror, each reported on its own line.
async fn mirror_all(relay: &RelayHandle, mirrors: &mut [Mirror]) {
    for mirror in mirrors.iter_mut() {
        let from = mirror.url().to_string();
        match mirror.run(relay, Filter::new()).await {
            Ok(report) => println!("{}", report.line(&from)),
            Err(e) => eprintln!("mirror {from} failed, will try again: {e:#}"),
        }
    }
}

/// Waits for SIGINT/SIGTERM; on SIGHUP reloads the config (a bad file is
/// reported and the running config stays); runs the mirrors on their tick.
async fn serve_until_stopped(
    args: &RelayArgs,
    relay: &RelayHandle,
    mirrors: &mut [Mirror],
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(args.mirror_every.max(1)));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        loop {
            tokio::select! {
                _ = tick.tick(), if !mirrors.is_empty() => mirror_all(relay, mirrors).await,
                r = tokio::signal::ctrl_c() => return r.context("waiting for SIGINT"),
                _ = term.recv() => return Ok(()),
                _ = hup.recv() => match args.config().and_then(|c| Ok(relay.reload(c)?)) {
                    Ok(()) => println!("config reloaded"),
                    Err(e) => eprintln!("config not reloaded, the running one stays: {e:#}"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    loop {
        tokio::select! {
            _ = tick.tick(), if !mirrors.is_empty() => mirror_all(relay, mirrors).await,
            r = tokio::signal::ctrl_c() => return r.context("waiting for Ctrl-C"),
        }
    }
}
