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
