//! `samizdat bunker` (serve other apps with this profile's key over NIP-46)
//! and `samizdat signer test` (check a bunker:// URI from the client side).

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use nostr::nips::nip49::KeySecurity;
use nostr::prelude::*;
use samizdat_client::keystore;
use samizdat_client::nip46::{Bunker, BunkerConfig, Prompt, RemoteSigner};
use samizdat_client::{LocalSigner, Signer};
use samizdat_net::{NetConfig, PolicyBook, RelayUrl};
use samizdat_store::Store;

use super::keys::Context;

/// Arguments of `samizdat bunker`.
#[derive(clap::Args)]
pub struct BunkerArgs {
    /// Relay to listen on (repeatable).
    #[arg(long = "relay", required = true)]
    relays: Vec<String>,
    /// Kinds to sign for paired apps without asking, e.g. `1,7`.
    #[arg(long, value_delimiter = ',')]
    approve: Vec<u16>,
    /// Allow plain ws:// relays that are not loopback or .onion.
    #[arg(long)]
    allow_plain_ws: bool,
    /// Accept a pairing started by an app (its nostrconnect:// URI).
    #[arg(long)]
    connect: Option<String>,
}

/// Asks on the terminal; without a terminal every "ask" is a no.
struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn approve(&self, summary: &str) -> bool {
        if !std::io::stdin().is_terminal() {
            eprintln!("{summary}\n  -> denied (no terminal to ask on; use --approve KIND)");
            return false;
        }
        eprint!("{summary}\nApprove? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            return false;
        }
        matches!(line.trim(), "y" | "Y" | "yes")
    }
}

fn relay_urls(inputs: &[String], allow_plain: bool) -> anyhow::Result<Vec<RelayUrl>> {
    inputs
        .iter()
        .map(|r| RelayUrl::parse_checked(r, allow_plain).map_err(anyhow::Error::from))
        .collect()
}

/// `samizdat bunker`.
pub async fn bunker(ctx: &Context, args: BunkerArgs) -> anyhow::Result<()> {
    let relays = relay_urls(&args.relays, args.allow_plain_ws)?;
    let profile = ctx.profile()?;
    let (keys, passphrase) = super::keys::open(ctx, &profile).await?;
    profile.create_dir()?;
    // The bunker speaks with a key of its own, kept like the user's key
    // (NIP-49, same passphrase), so its URI and its pairings survive restarts.
    let bunker_key_path = profile.dir().join("bunker.ncryptsec");
    let log_n = keystore::info(&profile.key_path())?.log_n;
    let bunker_keys = tokio::task::spawn_blocking(move || -> Result<Keys, keystore::KeyError> {
        if bunker_key_path.exists() {
            keystore::unlock(&bunker_key_path, &passphrase)
        } else {
            let fresh = Keys::generate();
            keystore::create(
                &bunker_key_path,
                fresh.secret_key(),
                &passphrase,
                log_n,
                KeySecurity::Medium,
            )?;
            Ok(fresh)
        }
    })
    .await??;
    let store = Arc::new(Store::open(profile.dir().join("bunker.sqlite"))?);
    ctx.check_proxy().await?;
    let net = NetConfig {
        allow_plain_ws: args.allow_plain_ws,
        transport: ctx.transport()?,
        ..NetConfig::default()
    };
    let bunker = Bunker::start(
        Arc::new(LocalSigner::new(keys)),
        bunker_keys,
        BunkerConfig {
            relays,
            auto_approve_kinds: args.approve.iter().copied().collect::<BTreeSet<u16>>(),
            state_dir: profile.dir().to_path_buf(),
            net,
            policies: PolicyBook::new(),
        },
        store,
        Arc::new(TerminalPrompt),
    );
    println!(
        "bunker running for profile {}; give this URI to ONE app (its secret works once):",
        profile.name()
    );
    println!("{}", bunker.uri());
    if let Some(uri) = &args.connect {
        match bunker.accept(uri).await {
            Ok(app) => println!("paired with app {}", app.to_bech32()?),
            Err(e) => eprintln!("could not accept the nostrconnect:// pairing: {e}"),
        }
    }
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    bunker.stop().await;
    println!(
        "bunker stopped; decisions are in {}",
        profile.dir().join("bunker-audit.log").display()
    );
    Ok(())
}

/// `samizdat signer …`.
#[derive(clap::Subcommand)]
pub enum SignerCommand {
    /// Start a pairing from this side: print a nostrconnect:// URI for a
    /// signer app and wait for it to answer.
    Pair {
        /// Relay the signer and this app meet on (repeatable).
        #[arg(long = "relay", required = true)]
        relays: Vec<String>,
        /// The name the signer shows for this app.
        #[arg(long, default_value = "samizdat")]
        name: String,
        /// Seconds to wait for the signer.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Allow plain ws:// relays that are not loopback or .onion.
        #[arg(long)]
        allow_plain_ws: bool,
    },
    /// Connect to a bunker:// URI, show whose key it holds, and have it sign a
    /// test event (not published).
    Test {
        /// The bunker:// URI.
        uri: String,
        /// Seconds to wait for each answer.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// Allow plain ws:// relays that are not loopback or .onion.
        #[arg(long)]
        allow_plain_ws: bool,
    },
}

/// Runs a `signer` subcommand.
pub async fn signer(ctx: &super::keys::Context, cmd: SignerCommand) -> anyhow::Result<()> {
    ctx.check_proxy().await?;
    match cmd {
        SignerCommand::Pair {
            relays,
            name,
            timeout,
            allow_plain_ws,
        } => {
            let relays = relay_urls(&relays, allow_plain_ws)?;
            let dir = tempfile::tempdir()?;
            let store = Arc::new(Store::open(dir.path().join("signer.sqlite"))?);
            let net = NetConfig {
                allow_plain_ws,
                transport: ctx.transport().unwrap_or_default(),
                ..NetConfig::default()
            };
            let (uri, pairing) = RemoteSigner::pair(
                relays,
                &name,
                Some("sign_event,nip44_encrypt,nip44_decrypt"),
                store,
                net,
                PolicyBook::new(),
                Duration::from_secs(timeout),
            );
            println!("give this to your signer app (it works once):");
            println!("{uri}");
            let _ = std::io::stdout().flush();
            let remote = pairing.wait().await?;
            println!(
                "paired; the signer holds {}",
                remote.public_key().to_bech32()?
            );
            Ok(())
        }
        SignerCommand::Test {
            uri,
            timeout,
            allow_plain_ws,
        } => {
            let dir = tempfile::tempdir()?;
            let store = Arc::new(Store::open(dir.path().join("signer.sqlite"))?);
            let net = NetConfig {
                allow_plain_ws,
                transport: ctx.transport().unwrap_or_default(),
                ..NetConfig::default()
            };
            let remote = RemoteSigner::connect_bunker(
                &uri,
                Some("sign_event:1"),
                store,
                net,
                PolicyBook::new(),
                Duration::from_secs(timeout),
            )
            .await?;
            println!(
                "connected; the bunker holds {}",
                remote.public_key().to_bech32()?
            );
            let unsigned = samizdat_client::compose::signer_probe(remote.public_key());
            match remote.sign_event(unsigned).await {
                Ok(event) => println!("signed test event {}", event.id),
                Err(e) => bail!("the bunker did not sign: {e}"),
            }
            Ok(())
        }
    }
}
