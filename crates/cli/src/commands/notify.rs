//! `samizdat notify [MODE] [--quiet 22-7 | --no-quiet] [--show-text yes|no]`:
//! when the desktop app raises OS notifications (off, on, dms-only), its
//! quiet hours, and whether a message's text may be in one. Who notifies is
//! the web of trust's "notifications" threshold (`samizdat trust`).

use samizdat_client::notify::{NotifyMode, NotifySettings};
use serde_json::json;

use super::keys::Context;
use super::social::{session, Access};

/// `samizdat notify` arguments.
#[derive(clap::Args)]
pub struct NotifyArgs {
    /// off, on (mentions, replies, reactions, messages) or dms-only.
    mode: Option<NotifyMode>,
    /// Quiet hours, local time, FROM-TO in whole hours (`22-7` spans midnight).
    #[arg(long, value_parser = parse_quiet, conflicts_with = "no_quiet")]
    quiet: Option<(u8, u8)>,
    /// No quiet hours.
    #[arg(long)]
    no_quiet: bool,
    /// Show a private message's text in its notification (yes or no).
    #[arg(long, value_parser = parse_yes_no)]
    show_text: Option<bool>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

fn parse_quiet(s: &str) -> Result<(u8, u8), String> {
    let bad = || format!("quiet hours are FROM-TO in hours 0-23, like 22-7: not {s:?}");
    let (from, to) = s.split_once('-').ok_or_else(bad)?;
    let hour = |h: &str| h.trim().parse::<u8>().ok().filter(|h| *h < 24);
    Ok((hour(from).ok_or_else(bad)?, hour(to).ok_or_else(bad)?))
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s {
        "yes" | "true" | "on" => Ok(true),
        "no" | "false" | "off" => Ok(false),
        other => Err(format!("say yes or no, not {other:?}")),
    }
}

/// Runs `samizdat notify`.
pub async fn notify(ctx: &Context, args: NotifyArgs) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let mut settings: NotifySettings = session.notify_settings();
    let before = settings.clone();
    if let Some(mode) = args.mode {
        settings.mode = mode;
    }
    if let Some(q) = args.quiet {
        settings.quiet = Some(q);
    }
    if args.no_quiet {
        settings.quiet = None;
    }
    if let Some(show) = args.show_text {
        settings.show_dm_text = show;
    }
    let saved = if settings != before {
        session.set_notify_settings(settings.clone())
    } else {
        Ok(())
    };
    session.shutdown().await;
    saved?;
    if args.json {
        println!(
            "{}",
            json!({ "notify": settings, "changed": settings != before })
        );
    } else {
        println!("notifications: {}", settings.describe());
    }
    Ok(())
}
