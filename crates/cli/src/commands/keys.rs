//! `samizdat init`, `unlock`, `key …`, `profiles`: the identity's key at rest.
//!
//! Passphrases come from `--passphrase-file`, else `SAMIZDAT_PASSPHRASE`, else a
//! prompt without echo. scrypt runs on a blocking thread behind a spinner.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use nostr::nips::nip49::KeySecurity;
use nostr::prelude::*;
use samizdat_client::keystore::{self, ImportedKey, KeyError, DEFAULT_LOG_N};
use samizdat_client::{nip46, LocalSigner, Profile, Profiles, Signer};
use samizdat_store::Store;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// What every key command needs.
pub struct Context {
    /// Profile name.
    pub profile: String,
    /// `--passphrase-file`.
    pub passphrase_file: Option<PathBuf>,
    /// `--proxy` for this run (else the profile's network setting).
    pub proxy: Option<String>,
}

impl Context {
    /// How this run connects: `--proxy`, else the profile's network
    /// setting (every connection through the proxy, never direct).
    pub(crate) fn transport(&self) -> anyhow::Result<samizdat_net::TransportConfig> {
        let mut transport = samizdat_net::TransportConfig::default();
        if let Some(p) = self.proxy.as_deref().filter(|p| *p != "direct") {
            transport.proxy = Some(samizdat_net::ProxyConfig {
                addr: samizdat_client::network::parse_proxy(p)?,
                isolate: true,
            });
            return Ok(transport);
        }
        if self.proxy.as_deref() == Some("direct") {
            return Ok(transport);
        }
        let profile = self.profile()?;
        let settings = samizdat_client::Settings::load(&profile.settings_path())?;
        settings.network.apply(&mut transport)?;
        Ok(transport)
    }

    /// Fails, saying why, when a proxy is set and does not answer: nothing
    /// would connect (there is no direct fallback).
    pub(crate) async fn check_proxy(&self) -> anyhow::Result<()> {
        if let Some(proxy) = self.transport()?.proxy {
            if !samizdat_client::network::proxy_answers(proxy.addr).await {
                anyhow::bail!(
                    "the proxy at {} does not answer: nothing was sent and nothing will connect \
                     (Samizdat never falls back to direct connections). Start it, or run \
                     `samizdat network set --direct`.",
                    proxy.addr
                );
            }
        }
        Ok(())
    }

    pub(crate) fn profile(&self) -> anyhow::Result<Profile> {
        Ok(Profiles::from_env()?.profile(&self.profile)?)
    }

    /// The passphrase from a file or the environment, if one was given.
    fn scripted_passphrase(&self) -> anyhow::Result<Option<SecretString>> {
        if let Some(path) = &self.passphrase_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the passphrase file {}", path.display()))?;
            let line = text.lines().next().unwrap_or("").to_owned();
            return Ok(Some(SecretString::from(line)));
        }
        Ok(std::env::var("SAMIZDAT_PASSPHRASE")
            .ok()
            .map(SecretString::from))
    }

    pub(crate) fn passphrase(&self, prompt: &str) -> anyhow::Result<SecretString> {
        if let Some(p) = self.scripted_passphrase()? {
            return Ok(p);
        }
        let typed = rpassword::prompt_password(prompt)
            .context("reading the passphrase (is this a terminal?)")?;
        Ok(SecretString::from(typed))
    }

    fn new_passphrase(&self, what: &str) -> anyhow::Result<SecretString> {
        if let Some(p) = self.scripted_passphrase()? {
            return Ok(p);
        }
        let first = self.passphrase(&format!("New passphrase for {what}: "))?;
        let second = self.passphrase("Repeat it: ")?;
        if first.expose_secret() != second.expose_secret() {
            bail!("the two passphrases differ; nothing was written");
        }
        Ok(first)
    }
}

/// Arguments of `samizdat init`.
#[derive(clap::Args)]
pub struct InitArgs {
    /// Import a key (nsec, 64 hex characters, or ncryptsec) instead of
    /// generating one, read from standard input or typed at a prompt that
    /// does not echo — never from the command line, where the process list
    /// and shell history would keep it. Prefer an ncryptsec: plain keys are
    /// marked as having been handled unencrypted.
    #[arg(long, num_args = 0..=1, default_missing_value = "-", value_name = "-")]
    import: Option<String>,
    /// scrypt cost (2^N). Lower is faster to unlock and faster to crack.
    #[arg(long, default_value_t = DEFAULT_LOG_N)]
    log_n: u8,
    /// Make a profile whose key stays in a remote signer (NIP-46): every
    /// signature, AUTH and encryption goes to it; no key is kept here.
    #[arg(long, conflicts_with = "import")]
    bunker: Option<String>,
    /// Allow plain ws:// bunker relays that are not loopback or .onion.
    #[arg(long)]
    allow_plain_ws: bool,
    /// Reach the network through Tor on its usual port (127.0.0.1:9050).
    /// Without --tor, --proxy ADDR (kept as the profile's setting) or
    /// --direct, Tor is used when it answers on 127.0.0.1:9050 or 9150.
    #[arg(long, conflicts_with = "direct")]
    tor: bool,
    /// Connect to relays directly: they see your IP address.
    #[arg(long)]
    direct: bool,
}

/// How the new profile reaches the network: what was asked, else Tor when
/// it answers here, else direct with a warning. Saved in its settings.
async fn choose_network(ctx: &Context, profile: &Profile, args: &InitArgs) -> anyhow::Result<()> {
    // `--proxy ADDR` (the global flag) at init is the profile's setting.
    let proxy = ctx.proxy.clone().filter(|p| p != "direct");
    let direct = args.direct || ctx.proxy.as_deref() == Some("direct");
    let chosen = match (&proxy, args.tor, direct) {
        (Some(p), _, _) => {
            samizdat_client::network::parse_proxy(p)?;
            Some(p.clone())
        }
        (None, true, _) => Some(samizdat_client::network::TOR.to_owned()),
        (None, false, true) => None,
        (None, false, false) => match samizdat_client::network::find_tor().await {
            Some(tor) => {
                println!("Tor answers at {tor}: every connection of this profile goes through it (one circuit per relay)");
                Some(tor)
            }
            None => {
                println!(
                    "warning: no Tor answers at 127.0.0.1:9050 or 9150, so this profile connects DIRECTLY: \
                     relays see your IP address. Recommended: start Tor, then `samizdat network set --tor` \
                     (or choose at init: --tor, --proxy ADDR, --direct)"
                );
                None
            }
        },
    };
    let path = profile.settings_path();
    let mut settings = samizdat_client::Settings::load(&path)?;
    settings.network.proxy = chosen;
    settings.save(&path)?;
    println!("network: {}", settings.network.describe());
    Ok(())
}

/// Runs scrypt (slow on purpose) on a blocking thread behind a spinner.
async fn with_spinner<T: Send + 'static>(
    message: &'static str,
    work: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> anyhow::Result<Result<T, KeyError>> {
    let bar = indicatif::ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    let result = tokio::task::spawn_blocking(work).await?;
    bar.finish_and_clear();
    Ok(result)
}

/// The key to import: typed at a prompt that does not echo when standard
/// input is a terminal, else the first line of standard input.
fn read_key_to_import() -> anyhow::Result<SecretString> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        return Ok(SecretString::from(rpassword::prompt_password(
            "Key to import (nsec, hex or ncryptsec): ",
        )?));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let key = SecretString::from(line.trim().to_owned());
    secrecy::zeroize::Zeroize::zeroize(&mut line);
    Ok(key)
}

/// `samizdat init`.
pub async fn init(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let path = profile.key_path();
    if path.exists() {
        bail!(
            "profile {:?} already has a key at {}",
            profile.name(),
            path.display()
        );
    }
    if let Some(uri) = args.bunker.as_deref() {
        // The network first: the pairing itself goes the way it says.
        profile.create_dir()?;
        choose_network(ctx, &profile, &args).await?;
        return init_remote(ctx, &profile, uri, args.log_n, args.allow_plain_ws).await;
    }
    let typed = match args.import.as_deref() {
        None => None,
        Some("-") => Some(read_key_to_import()?),
        Some(_) => bail!(
            "a key is never taken from the command line: other users can see it in the \
             process list and your shell history keeps it. Run `samizdat init --import` and \
             paste it at the prompt, or give it on standard input: \
             `samizdat init --import < key.txt`"
        ),
    };
    let (secret, security) = match typed.as_ref().map(|t| t.expose_secret()) {
        None => (Keys::generate().secret_key().clone(), KeySecurity::Medium),
        Some(input) => match keystore::parse_import(input)? {
            ImportedKey::Plain(secret) => {
                eprintln!("warning: a plain key was imported; it is marked as having been handled unencrypted");
                (secret, KeySecurity::Weak)
            }
            ImportedKey::Encrypted(enc) => {
                let pass = ctx.passphrase("Passphrase of the ncryptsec: ")?;
                let keys = with_spinner("opening the ncryptsec (scrypt)…", move || {
                    keystore::decrypt(&enc, &pass)
                })
                .await??;
                (keys.secret_key().clone(), enc.key_security())
            }
        },
    };
    let passphrase = ctx.new_passphrase(&format!("profile {:?}", profile.name()))?;
    profile.create_dir()?;
    let log_n = args.log_n;
    let key_path = path.clone();
    let secret_for_task = secret.clone();
    with_spinner("encrypting the key (scrypt)…", move || {
        keystore::create(&key_path, &secret_for_task, &passphrase, log_n, security)
    })
    .await??;
    let npub = Keys::new(secret).public_key().to_bech32()?;
    println!("profile {} created: {npub}", profile.name());
    println!(
        "key stored encrypted (NIP-49, log_n {log_n}) at {}",
        path.display()
    );
    choose_network(ctx, &profile, &args).await?;
    println!("next: samizdat relays add URL --read --write; samizdat relays publish");
    println!(
        "      samizdat dm relays set URL…   (where people send you private messages, NIP-17)"
    );
    Ok(())
}

/// `samizdat init --bunker URI`: pairs with a remote signer.
async fn init_remote(
    ctx: &Context,
    profile: &Profile,
    uri: &str,
    log_n: u8,
    allow_plain_ws: bool,
) -> anyhow::Result<()> {
    let passphrase = ctx.new_passphrase(&format!(
        "profile {:?} (it protects this app's pairing with the signer)",
        profile.name()
    ))?;
    profile.create_dir()?;
    let store = Arc::new(Store::open(profile.store_path())?);
    let bar = indicatif::ProgressBar::new_spinner().with_message("pairing with the remote signer…");
    bar.enable_steady_tick(Duration::from_millis(100));
    let signer = samizdat_client::access::create_remote(
        profile,
        uri,
        passphrase,
        log_n,
        store,
        allow_plain_ws,
    )
    .await;
    bar.finish_and_clear();
    let signer = signer?;
    println!(
        "profile {} created: {} (key held by the remote signer; none stored here)",
        profile.name(),
        signer.public_key().to_bech32()?
    );
    Ok(())
}

/// The profile's signer: its local key (unlocked with the passphrase) or
/// its remote signer (the app key unlocked, the pairing resumed).
pub(crate) async fn signer(
    ctx: &Context,
    profile: &Profile,
    store: &Arc<Store>,
) -> anyhow::Result<Arc<dyn Signer>> {
    if nip46::is_remote(profile) {
        let pass = ctx.passphrase(&format!("Passphrase for profile {:?}: ", profile.name()))?;
        return Ok(
            samizdat_client::access::open_signer(profile, Arc::clone(store), pass, true).await?,
        );
    }
    let (keys, _) = open(ctx, profile).await?;
    Ok(Arc::new(LocalSigner::new(keys)))
}

/// Unlocks, asking again after a wrong passphrase (three tries when prompting).
pub(crate) async fn open(ctx: &Context, profile: &Profile) -> anyhow::Result<(Keys, SecretString)> {
    let path = profile.key_path();
    keystore::load(&path)?;
    let scripted = ctx.scripted_passphrase()?.is_some();
    for attempt in 1..=3 {
        let pass = ctx.passphrase(&format!("Passphrase for profile {:?}: ", profile.name()))?;
        let (p, kp) = (pass.clone(), path.clone());
        match with_spinner("unlocking (scrypt)…", move || keystore::unlock(&kp, &p)).await? {
            Ok(keys) => return Ok((keys, pass)),
            Err(KeyError::WrongPassphrase) if !scripted && attempt < 3 => {
                eprintln!("wrong passphrase, try again")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(KeyError::WrongPassphrase.into())
}

/// `samizdat unlock`.
pub async fn unlock(ctx: &Context) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    profile.create_dir()?;
    let store = Arc::new(Store::open(profile.store_path())?);
    let signer = signer(ctx, &profile, &store).await?;
    println!(
        "unlocked profile {}: {}",
        profile.name(),
        signer.public_key().to_bech32()?
    );
    Ok(())
}

/// `samizdat key …`.
#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Public key, scrypt cost and NIP-49 security byte (no passphrase needed).
    Show,
    /// Re-encrypt the key under a new passphrase.
    ChangePassphrase {
        /// scrypt cost for the new encryption.
        #[arg(long, default_value_t = DEFAULT_LOG_N)]
        log_n: u8,
        /// File with the new passphrase (for scripts).
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Print the secret key (nsec). Anyone who sees it owns the identity; the
    /// stored key is marked as having been shown in plain form.
    Export {
        /// Required: you understand the nsec will be printed.
        #[arg(long)]
        i_understand: bool,
    },
}

/// Runs a `key` subcommand.
pub async fn key(ctx: &Context, cmd: KeyCommand) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    match cmd {
        KeyCommand::Show => {
            let info = keystore::info(&profile.key_path())?;
            println!(
                "profile {}: key at {}",
                profile.name(),
                profile.key_path().display()
            );
            println!(
                "scrypt log_n {}, NIP-49 key security {:?}",
                info.log_n, info.security
            );
        }
        KeyCommand::ChangePassphrase {
            log_n,
            new_passphrase_file,
        } => {
            let (_, old) = open(ctx, &profile).await?;
            let new = match new_passphrase_file {
                Some(path) => SecretString::from(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                ),
                None => {
                    let first = SecretString::from(rpassword::prompt_password("New passphrase: ")?);
                    let again = SecretString::from(rpassword::prompt_password("Repeat it: ")?);
                    if first.expose_secret() != again.expose_secret() {
                        bail!("the two passphrases differ; nothing was changed");
                    }
                    first
                }
            };
            let path = profile.key_path();
            with_spinner("re-encrypting (scrypt)…", move || {
                keystore::change_passphrase(&path, &old, &new, log_n)
            })
            .await??;
            println!("passphrase changed for profile {}", profile.name());
        }
        KeyCommand::Export { i_understand } => {
            if !i_understand {
                bail!("export prints your secret key; add --i-understand if you really want that");
            }
            let (_, pass) = open(ctx, &profile).await?;
            let path = profile.key_path();
            let nsec = with_spinner("exporting (scrypt)…", move || {
                keystore::export(&path, &pass)
            })
            .await??;
            eprintln!("warning: this is your secret key. Anyone who sees it can be you, forever.");
            println!("{}", nsec.as_str());
        }
    }
    Ok(())
}

/// `samizdat profiles`.
pub fn profiles() -> anyhow::Result<()> {
    let all = Profiles::from_env()?;
    for name in all.list() {
        let what = match all.profile(&name) {
            Ok(p) if nip46::is_remote(&p) => " (remote signer)",
            Ok(p) if p.key_path().exists() => "",
            _ => " (no key)",
        };
        println!("{name}{what}");
    }
    Ok(())
}
