//! `samizdat replicate`: check that each of your relays still holds your
//! events (negentropy where it can, ids where not) and re-send what is
//! missing; `samizdat restore`: a new device fetches your whole history.

use indicatif::{ProgressBar, ProgressStyle};

use super::keys::Context;
use super::social::{session, Access};

/// A progress bar for people (none with `--json`), `template` in
/// indicatif's syntax, ticking while the relays answer.
fn progress(as_json: bool, template: &str) -> Option<ProgressBar> {
    (!as_json).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    })
}

/// Clears the bar and prints the report as JSON or as its lines.
fn print(
    bar: Option<ProgressBar>,
    report: serde_json::Value,
    lines: Vec<String>,
    as_json: bool,
) -> anyhow::Result<()> {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(())
}

/// Runs `samizdat replicate [--json]`.
pub async fn replicate(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let bar = progress(as_json, "{spinner} {msg}");
    let report = session
        .replicate(|msg| {
            if let Some(bar) = &bar {
                bar.set_message(msg.to_owned());
            }
        })
        .await;
    session.shutdown().await;
    let report = report?;
    print(bar, serde_json::to_value(&report)?, report.lines(), as_json)
}

/// Runs `samizdat restore [--json]`: a new device fetches the user's whole
/// history from every relay they ever listed.
pub async fn restore(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    // Signing: DM relays serve gift wraps only after AUTH.
    let session = session(ctx, Access::Sign).await?;
    let bar = progress(as_json, "{bar:30} {pos}/{len} relays  {msg}");
    let report = session
        .restore(|p| {
            if let Some(bar) = &bar {
                bar.set_length(p.total as u64);
                bar.set_position(p.done as u64);
                bar.set_message(p.message);
            }
        })
        .await;
    session.shutdown().await;
    let report = report?;
    print(bar, serde_json::to_value(&report)?, report.lines(), as_json)
}
