//! `samizdat replicate`: check that each of your relays still holds your
//! events (negentropy where it can, ids where not) and re-send what is missing.

use super::keys::Context;
use super::social::{session, Access};

/// Runs `samizdat replicate [--json]`.
pub async fn replicate(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let spinner = (!as_json).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar.set_message("checking your relays");
        bar
    });
    let report = session
        .replicate(|msg| {
            if let Some(bar) = &spinner {
                bar.set_message(msg.to_owned());
            }
        })
        .await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    session.shutdown().await;
    let report = report?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} of your events, {} DM gift wraps to you",
        report.own_events, report.dm_wraps
    );
    for r in &report.relays {
        println!("  {}", r.sentence());
    }
    Ok(())
}

/// Runs `samizdat restore [--json]`: a new device fetches the user's whole
/// history from every relay they ever listed.
pub async fn restore(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    // Signing: DM relays serve gift wraps only after AUTH.
    let session = session(ctx, Access::Sign).await?;
    let bar = (!as_json).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} relays  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let report = session
        .restore(|p| {
            if let Some(bar) = &bar {
                bar.set_length(p.total as u64);
                bar.set_position(p.done as u64);
                bar.set_message(p.message);
            }
        })
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    session.shutdown().await;
    let report = report?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for line in report.lines() {
        println!("{line}");
    }
    Ok(())
}
