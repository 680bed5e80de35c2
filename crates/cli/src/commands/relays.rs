//! `samizdat relays …`: the profile's own relays with their roles, discovery
//! relays, per-relay policies, and publishing the relay list.

use nostr::prelude::*;
use samizdat_client::{LocalSigner, RelayRoles, Signer};
use samizdat_net::RelayUrl;

use anyhow::bail;

use super::keys::Context;
use super::social::{engine_for, own_and_discovery, report_delivery, settings_of};

/// `samizdat relays …`.
#[derive(clap::Subcommand)]
pub enum RelaysCommand {
    /// The profile's relays and discovery relays.
    List,
    /// Add a relay with roles (at least one of --read, --write, --discovery).
    Add {
        /// Relay URL.
        url: String,
        /// You read replies and mentions here (your inbox).
        #[arg(long)]
        read: bool,
        /// You publish here (your outbox).
        #[arg(long)]
        write: bool,
        /// Look up and advertise relay lists here.
        #[arg(long)]
        discovery: bool,
    },
    /// Remove a relay from every role.
    Remove {
        /// Relay URL.
        url: String,
    },
    /// Publish your relay list (kind 10002) to your relays and the discovery relays.
    Publish,
    /// Set a relay's connection or AUTH policy: allow, deny or ask.
    Policy {
        /// Relay URL.
        url: String,
        /// Connecting to it.
        #[arg(long, value_parser = ["allow", "deny", "ask"])]
        connect: Option<String>,
        /// Authenticating to it (NIP-42 reveals your key to it).
        #[arg(long, value_parser = ["allow", "deny", "ask"])]
        auth: Option<String>,
        /// Connect only to relays explicitly allowed (`on`/`off`).
        #[arg(long, value_parser = ["on", "off"])]
        whitelist_only: Option<String>,
    },
}

/// Runs `samizdat relays …`.
pub async fn relays(ctx: &Context, cmd: RelaysCommand) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let mut settings = settings_of(&profile)?;
    match cmd {
        RelaysCommand::List => {
            for (url, roles) in &settings.relays {
                println!(
                    "{url}  {}{}",
                    if roles.read { "read " } else { "" },
                    if roles.write { "write" } else { "" }
                );
            }
            for url in &settings.discovery {
                println!("{url}  discovery");
            }
        }
        RelaysCommand::Add {
            url,
            read,
            write,
            discovery,
        } => {
            if !(read || write || discovery) {
                bail!("say what the relay is for: --read, --write and/or --discovery");
            }
            let url = RelayUrl::parse_checked(&url, false)?.to_string();
            if read || write {
                let roles = settings
                    .relays
                    .entry(url.clone())
                    .or_insert(RelayRoles::default());
                roles.read |= read;
                roles.write |= write;
            }
            if discovery && !settings.discovery.contains(&url) {
                settings.discovery.push(url.clone());
            }
            profile.create_dir()?;
            settings.save(&profile.settings_path())?;
            println!("added {url}");
        }
        RelaysCommand::Remove { url } => {
            let url = RelayUrl::parse(&url)?.to_string();
            let before = settings.relays.len() + settings.discovery.len();
            settings.relays.remove(&url);
            settings.discovery.retain(|d| *d != url);
            if settings.relays.len() + settings.discovery.len() == before {
                bail!("{url} is not one of this profile's relays");
            }
            settings.save(&profile.settings_path())?;
            println!("removed {url}");
        }
        RelaysCommand::Policy {
            url,
            connect,
            auth,
            whitelist_only,
        } => {
            let url = RelayUrl::parse(&url)?.to_string();
            let entry = settings.policies.entry(url.clone()).or_default();
            if connect.is_some() {
                entry.connect = connect;
            }
            if auth.is_some() {
                entry.auth = auth;
            }
            if let Some(w) = whitelist_only {
                settings.whitelist_only = w == "on";
            }
            profile.create_dir()?;
            settings.save(&profile.settings_path())?;
            let p = &settings.policies[&url];
            println!(
                "{url}: connect {}, auth {}{}",
                p.connect.as_deref().unwrap_or("allow (default)"),
                p.auth.as_deref().unwrap_or("deny (default)"),
                if settings.whitelist_only {
                    "; whitelist-only mode on"
                } else {
                    ""
                }
            );
        }
        RelaysCommand::Publish => {
            let (keys, _) = super::keys::open(ctx, &profile).await?;
            let tags = settings.relays.iter().filter_map(|(url, roles)| {
                let marker = match (roles.read, roles.write) {
                    (true, true) => None,
                    (true, false) => Some("read"),
                    (false, true) => Some("write"),
                    (false, false) => return None,
                };
                let mut tag = vec!["r".to_string(), url.clone()];
                tag.extend(marker.map(str::to_owned));
                Tag::parse(tag).ok()
            });
            let unsigned = EventBuilder::new(Kind::RelayList, "")
                .tags(tags.collect::<Vec<_>>())
                .finalize_unsigned(keys.public_key());
            let event = LocalSigner::new(keys).sign_event(unsigned).await?;
            let engine = engine_for(&profile, &settings)?;
            engine.keep_history_for(event.pubkey)?;
            report_delivery(
                &engine
                    .publish(&event, &own_and_discovery(&settings))
                    .await?,
            );
            engine.shutdown().await;
        }
    }
    Ok(())
}
