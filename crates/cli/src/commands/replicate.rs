//! `samizdat replicate`: check that each of your relays still holds your
//! events (negentropy where it can, ids where not) and re-send what is missing.

use samizdat_client::replicate::Method;

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
        let how = match r.method {
            Some(Method::Negentropy) => "negentropy",
            Some(Method::Ids) => "ids",
            None => "failed",
        };
        print!(
            "  {} ({}, {how}, {} bytes, {} ms): ",
            r.relay, r.scope, r.bytes, r.millis
        );
        if let Some(e) = &r.error {
            println!("could not check: {e}");
            continue;
        }
        println!(
            "holds {} of {}, missing {}, re-sent {} ({} accepted, {} still queued), refused {}{}",
            r.held,
            r.checked,
            r.missing,
            r.requeued,
            r.delivered,
            r.pending,
            r.refused.len(),
            if r.fetched > 0 {
                format!(", {} of yours fetched from it", r.fetched)
            } else {
                String::new()
            }
        );
        if let Some((_, why)) = r.refused.first() {
            println!("      refused: {why}");
        }
        if r.losing_runs >= 2 {
            println!(
                "      this relay lacked some of your events {} checks in a row",
                r.losing_runs
            );
        }
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
    let kind_name = |k: u16| match k {
        0 => "profile".to_owned(),
        1 => "notes".to_owned(),
        3 => "follow list".to_owned(),
        5 => "deletions".to_owned(),
        6 => "reposts".to_owned(),
        7 => "reactions".to_owned(),
        10000 => "mute list".to_owned(),
        10002 => "relay list".to_owned(),
        10003 => "bookmarks".to_owned(),
        10050 => "DM relays".to_owned(),
        30000 => "follow sets".to_owned(),
        other => format!("kind {other}"),
    };
    println!("restored:");
    for (kind, n) in &report.by_kind {
        let versions = report
            .versions
            .get(kind)
            .filter(|v| **v > 1)
            .map(|v| format!(" ({v} versions kept)"))
            .unwrap_or_default();
        println!("  {:<12} {n}{versions}", kind_name(*kind));
    }
    println!("  {:<12} {}", "DM wraps", report.dm_wraps);
    println!("found where:");
    for r in &report.relays {
        match &r.error {
            Some(e) => println!("  {} ({}): could not read: {e}", r.relay, r.found_through),
            None => println!("  {} ({}): {} events", r.relay, r.found_through, r.events),
        }
    }
    if report.adopted_relays {
        println!("your relays were taken from your newest relay list (samizdat relays)");
    }
    Ok(())
}
