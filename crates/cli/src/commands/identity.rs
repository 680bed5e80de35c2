//! `samizdat follows history|restore` and `samizdat profile show|set`: the
//! user's replaceable events, never clobbered — every change starts from the
//! newest copy on the user's relays, and earlier versions stay restorable.

use nostr::prelude::*;
use serde_json::Value;

use super::keys::Context;
use super::social::{report, session, Access};

/// `samizdat follows history` / `restore N`.
pub async fn follows_history(ctx: &Context, restore: Option<usize>) -> anyhow::Result<()> {
    let Some(n) = restore else {
        let session = session(ctx, Access::Read).await?;
        let fetched = session.fetch_own().await;
        session.shutdown().await;
        fetched?;
        for (i, v) in session.follow_list_versions()?.iter().enumerate() {
            let people = v.tags.public_keys().count();
            let label = if i == 0 { " (current)" } else { "" };
            println!(
                "#{i}{label}  {}  {people} people  {}",
                v.created_at,
                v.id.to_bech32()?
            );
        }
        return Ok(());
    };
    let session = session(ctx, Access::Sign).await?;
    let result = session.restore_follows(n).await;
    session.shutdown().await;
    let published = result?;
    println!(
        "restored version #{n} ({} people)",
        published.event.tags.public_keys().count()
    );
    report("follow list", &published)
}

/// `samizdat profile …`.
#[derive(clap::Subcommand)]
pub enum ProfileCommand {
    /// Your profile (kind 0), newest from your relays.
    Show,
    /// Change fields of your profile; the others are kept as they are.
    Set {
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// About text.
        #[arg(long)]
        about: Option<String>,
        /// Picture URL.
        #[arg(long)]
        picture: Option<String>,
        /// NIP-05 identifier.
        #[arg(long)]
        nip05: Option<String>,
    },
}

/// Runs `samizdat profile …`.
pub async fn profile(ctx: &Context, cmd: ProfileCommand) -> anyhow::Result<()> {
    match cmd {
        ProfileCommand::Show => {
            let session = session(ctx, Access::Read).await?;
            let fetched = session.fetch_own().await;
            session.shutdown().await;
            fetched?;
            let fields = session.own_profile()?;
            println!("{}", serde_json::to_string_pretty(&Value::Object(fields))?);
        }
        ProfileCommand::Set {
            name,
            about,
            picture,
            nip05,
        } => {
            let changes: Vec<(String, String)> = [
                ("name", name),
                ("about", about),
                ("picture", picture),
                ("nip05", nip05),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect();
            if changes.is_empty() {
                anyhow::bail!("nothing to change: give --name, --about, --picture or --nip05");
            }
            let session = session(ctx, Access::Sign).await?;
            let result = session.set_profile(&changes).await;
            session.shutdown().await;
            super::social::report_edit("profile updated:", &result?)?;
        }
    }
    Ok(())
}
