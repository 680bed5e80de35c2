//! `samizdat follows history|restore` and `samizdat profile show|set`: the
//! user's replaceable events, never clobbered — every change starts from the
//! newest copy on the user's relays, and earlier versions stay restorable.

use anyhow::bail;
use nostr::prelude::*;
use samizdat_client::{LocalSigner, Signer};
use serde_json::{json, Map, Value};

use super::keys::Context;
use super::social::{
    engine_for, me, own_and_discovery, report_delivery, settings_of, strictly_after,
};

/// `samizdat follows history` / `restore N`.
pub async fn follows_history(ctx: &Context, restore: Option<usize>) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let me = me(ctx, &profile).await?;
    let mut engine = engine_for(&profile, &settings)?;
    engine.keep_history_for(me)?;
    let targets = own_and_discovery(&settings);
    engine.fetch_own(me, &targets).await?;
    let versions = engine.versions(me, Kind::ContactList)?;
    let Some(n) = restore else {
        for (i, v) in versions.iter().enumerate() {
            let people = v.tags.public_keys().count();
            let label = if i == 0 { " (current)" } else { "" };
            println!(
                "#{i}{label}  {}  {people} people  {}",
                v.created_at,
                v.id.to_bech32()?
            );
        }
        engine.shutdown().await;
        return Ok(());
    };
    let Some(old) = versions.get(n) else {
        bail!(
            "there is no version #{n}; `samizdat follows history` lists {}",
            versions.len()
        );
    };
    if n == 0 {
        bail!("version #0 is the current follow list already");
    }
    let (keys, _) = super::keys::open(ctx, &profile).await?;
    let unsigned = EventBuilder::new(Kind::ContactList, old.content.clone())
        .tags(old.tags.iter().cloned())
        .custom_created_at(strictly_after(versions.first()))
        .finalize_unsigned(me);
    let event = LocalSigner::new(keys).sign_event(unsigned).await?;
    let results = engine.publish(&event, &targets).await?;
    println!(
        "restored version #{n} ({} people)",
        event.tags.public_keys().count()
    );
    report_delivery(&results);
    engine.shutdown().await;
    Ok(())
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
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let me = me(ctx, &profile).await?;
    let mut engine = engine_for(&profile, &settings)?;
    engine.keep_history_for(me)?;
    let targets = own_and_discovery(&settings);
    engine.fetch_own(me, &targets).await?;
    let current = engine.versions(me, Kind::Metadata)?.into_iter().next();
    let mut fields: Map<String, Value> = current
        .as_ref()
        .and_then(|e| serde_json::from_str(&e.content).ok())
        .unwrap_or_default();
    match cmd {
        ProfileCommand::Show => {
            println!("{}", serde_json::to_string_pretty(&Value::Object(fields))?);
        }
        ProfileCommand::Set {
            name,
            about,
            picture,
            nip05,
        } => {
            let changes = [
                ("name", name),
                ("about", about),
                ("picture", picture),
                ("nip05", nip05),
            ];
            if changes.iter().all(|(_, v)| v.is_none()) {
                bail!("nothing to change: give --name, --about, --picture or --nip05");
            }
            for (key, value) in changes {
                if let Some(v) = value {
                    fields.insert(key.to_owned(), json!(v));
                }
            }
            if settings.write_relays().is_empty() {
                bail!("add a relay you write to first: samizdat relays add URL --write");
            }
            let (keys, _) = super::keys::open(ctx, &profile).await?;
            let unsigned = EventBuilder::new(Kind::Metadata, Value::Object(fields).to_string())
                .custom_created_at(strictly_after(current.as_ref()))
                .finalize_unsigned(me);
            let event = LocalSigner::new(keys).sign_event(unsigned).await?;
            let results = engine.publish(&event, &targets).await?;
            println!("profile updated");
            report_delivery(&results);
        }
    }
    engine.shutdown().await;
    Ok(())
}
