//! `samizdat export` and `samizdat import`: the user's own data as JSON Lines.

use std::io::BufReader;
use std::path::Path;

use anyhow::Context as _;
use nostr::prelude::*;
use samizdat_client::backup::{self, ImportReport};
use samizdat_client::{keystore, Settings};

use super::keys::Context;
use super::social::{session, Access};

/// Runs `samizdat export FILE [--with-key]`.
pub async fn export(ctx: &Context, file: &Path, with_key: bool) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let ncryptsec = if with_key {
        let key = keystore::load(&profile.key_path()).context(
            "--with-key needs this profile's key file (a remote-signer profile has none)",
        )?;
        Some(key.to_bech32()?)
    } else {
        None
    };
    let session = session(ctx, Access::Read).await?;
    let out =
        std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?;
    let mut out = std::io::BufWriter::new(out);
    let report = session.export_backup(ncryptsec, &mut out);
    session.shutdown().await;
    let report = report?;
    println!(
        "wrote {} events to {} ({} earlier versions of your profile and lists, {} DM gift wraps){}",
        report.events,
        file.display(),
        report.earlier_versions,
        report.dm_wraps,
        if report.with_key {
            "; with your key, still encrypted under its passphrase"
        } else {
            ""
        }
    );
    Ok(())
}

/// Runs `samizdat import FILE [--publish]`. A profile with no key yet takes
/// the backup's key (still encrypted) if the backup carries one.
pub async fn import(
    ctx: &Context,
    file: &Path,
    publish: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    let open = || -> anyhow::Result<BufReader<std::fs::File>> {
        Ok(BufReader::new(
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
        ))
    };
    let profile = ctx.profile()?;
    profile.create_dir()?;
    let mut settings = Settings::load(&profile.settings_path())?;
    if settings.pubkey.is_none() && !profile.key_path().exists() {
        // A fresh profile: the backup says whose it is.
        let peek = backup::read(&mut open()?, None)?;
        let owner = peek
            .header
            .as_ref()
            .map(|h| h.pubkey.clone())
            .or_else(|| peek.events.first().map(|e| e.pubkey.to_hex()))
            .context("the backup names no key and holds no event")?;
        if let Some(key) = peek.header.as_ref().and_then(|h| h.ncryptsec.as_deref()) {
            keystore::store_encrypted(&profile.key_path(), key)?;
            eprintln!("took the backup's key (still encrypted under its passphrase)");
        }
        settings.pubkey = Some(owner);
        settings.save(&profile.settings_path())?;
    }
    let session = session(ctx, Access::Read).await?;
    let result = async {
        let report = session.import_backup(&mut open()?)?;
        let queued = if publish {
            session.republish(&report.events).await?
        } else {
            0
        };
        anyhow::Ok((report, queued))
    }
    .await;
    session.shutdown().await;
    let (report, queued) = result?;
    print_import(&report, queued, as_json)
}

fn print_import(report: &ImportReport, queued: usize, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let mut v = serde_json::to_value(report)?;
        v["queued_deliveries"] = serde_json::json!(queued);
        println!("{v}");
        return Ok(());
    }
    println!(
        "{} lines: {} events stored, {} already here, {} older than what is held, {} bad lines",
        report.lines,
        report.stored,
        report.already_had,
        report.older_than_held,
        report.bad.len()
    );
    for (line, why) in &report.bad {
        println!("  line {line}: {why}");
    }
    if queued > 0 {
        println!("{queued} deliveries queued to your relays (see samizdat status)");
    }
    Ok(())
}
