//! `samizdat relays …`: the profile's own relays with their roles, discovery
//! relays, per-relay policies, and publishing the relay list.

use nostr::prelude::ToBech32;
use samizdat_client::{RelayRoles, Session, Settings};
use samizdat_net::RelayUrl;

use super::keys::Context;
use super::social::{session, Access};

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
    /// Publish your relay list (kind 10002) where people look: your relays, the
    /// discovery relays and the inboxes of those who follow or mention you.
    /// The newest copy on the network is merged in first (a list edited on
    /// another device is never clobbered).
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
    /// Mark a relay spam-safe (`--off` to unmark): replies and mentions from
    /// people you don't follow are taken only from spam-safe relays. With
    /// none marked, your own write relays are.
    SpamSafe {
        /// Relay URL.
        url: String,
        /// Unmark it.
        #[arg(long)]
        off: bool,
    },
}

/// Runs `samizdat relays …`.
pub async fn relays(ctx: &Context, cmd: RelaysCommand) -> anyhow::Result<()> {
    let access = match cmd {
        RelaysCommand::Publish => Access::Sign,
        _ => Access::Read,
    };
    if let RelaysCommand::List = cmd {
        let settings = Settings::load(&ctx.profile()?.settings_path())?;
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
        return Ok(());
    }
    let session = session(ctx, access).await?;
    let result = run(&session, cmd).await;
    session.shutdown().await;
    result
}

async fn run(session: &Session, cmd: RelaysCommand) -> anyhow::Result<()> {
    match cmd {
        RelaysCommand::List => {}
        RelaysCommand::Add {
            url,
            read,
            write,
            discovery,
        } => {
            session.add_relay(&url, RelayRoles { read, write }, discovery)?;
            println!("added {}", RelayUrl::parse(&url)?);
        }
        RelaysCommand::Remove { url } => {
            session.remove_relay(&url)?;
            println!("removed {}", RelayUrl::parse(&url)?);
        }
        RelaysCommand::SpamSafe { url, off } => {
            session.set_spam_safe(&url, !off)?;
            println!(
                "spam-safe relays: {}",
                session.settings().spam_safe.join(", ")
            );
        }
        RelaysCommand::Policy {
            url,
            connect,
            auth,
            whitelist_only,
        } => {
            let p = session.set_policy(&url, connect, auth, whitelist_only.map(|w| w == "on"))?;
            println!(
                "{}: connect {}, auth {}{}",
                RelayUrl::parse(&url)?,
                p.connect.as_deref().unwrap_or("allow (default)"),
                p.auth.as_deref().unwrap_or("deny (default)"),
                if session.settings().whitelist_only {
                    "; whitelist-only mode on"
                } else {
                    ""
                }
            );
        }
        RelaysCommand::Publish => {
            let done = session.advertise_relay_list().await?;
            let m = &done.merge;
            if m.from_elsewhere {
                println!("the newest relay list on the network was made elsewhere: merged");
                for (what, urls) in [
                    ("added", &m.added),
                    ("removed", &m.removed),
                    ("roles changed", &m.changed),
                ] {
                    for url in urls {
                        println!("  {what}: {url}");
                    }
                }
            }
            println!(
                "relay list {} {}",
                done.published.event.id.to_bech32()?,
                if done.new_version {
                    "(new version)"
                } else {
                    "(the newest copy, sent again)"
                }
            );
            for (relay, outcome) in &done.published.deliveries {
                println!("  {relay}: {outcome:?}");
            }
        }
    }
    Ok(())
}

/// `samizdat network …`.
#[derive(clap::Subcommand)]
pub enum NetworkCommand {
    /// The current setting.
    Show,
    /// Reach this relay directly even with a proxy set (it will see your IP
    /// address); `--off` removes the exception.
    Direct {
        /// Relay URL.
        url: String,
        /// Remove the exception.
        #[arg(long)]
        off: bool,
    },
    /// Check NIP-05 names (`on`, the default) or not (`off`): each check
    /// asks the name's domain, which then knows whom you looked at.
    Nip05 {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Change it.
    Set {
        /// A SOCKS5 proxy for every connection (`127.0.0.1:9050`, `socks5h://…`).
        #[arg(long, conflicts_with_all = ["tor", "direct"])]
        proxy: Option<String>,
        /// Tor on its usual local port (127.0.0.1:9050).
        #[arg(long, conflicts_with = "direct")]
        tor: bool,
        /// Connect directly (relays see your IP address).
        #[arg(long)]
        direct: bool,
        /// Share one circuit for all relays (default: one per relay).
        #[arg(long)]
        no_isolation: bool,
    },
}

/// Runs `samizdat network`.
pub async fn network(ctx: &Context, cmd: NetworkCommand) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    profile.create_dir()?;
    let path = profile.settings_path();
    let mut settings = samizdat_client::Settings::load(&path)?;
    if let NetworkCommand::Nip05 { state } = &cmd {
        settings.no_nip05_checks = state == "off";
        settings.save(&path)?;
    }
    if let NetworkCommand::Direct { url, off } = &cmd {
        let url = samizdat_net::RelayUrl::parse(url)?.to_string();
        settings.network.set_direct(&url, !off);
        settings.save(&path)?;
    }
    if let NetworkCommand::Set {
        proxy,
        tor,
        direct,
        no_isolation,
    } = cmd
    {
        let proxy = match (proxy, tor, direct) {
            (Some(p), _, _) => Some(p),
            (None, true, _) => Some(samizdat_client::network::TOR.to_owned()),
            (None, false, true) => None,
            (None, false, false) => anyhow::bail!("say --proxy ADDR, --tor or --direct"),
        };
        if let Some(p) = &proxy {
            samizdat_client::network::parse_proxy(p)?;
        }
        settings.network = samizdat_client::network::NetworkSetting {
            proxy,
            no_isolation,
            ..settings.network.clone()
        };
        settings.save(&path)?;
    }
    println!("{}", settings.network.describe());
    println!(
        "NIP-05 checks: {}",
        if settings.no_nip05_checks {
            "off"
        } else {
            "on (each asks the name's domain; see samizdat privacy)"
        }
    );
    Ok(())
}
