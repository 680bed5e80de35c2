//! `samizdat trust [PERSON] [--inbox N …]`: the web of trust, computed on
//! this machine from the follow and mute lists of the people you follow.
//! With a person, why they have their score; with threshold flags, the
//! thresholds change; with neither, the thresholds in force.

use std::collections::HashMap;

use nostr::prelude::*;
use samizdat_client::session::trust::{Surface, TrustReport};
use samizdat_client::Session;
use serde_json::json;

use super::keys::Context;
use super::social::{parse_person, session, Access};

/// `samizdat trust` arguments.
#[derive(clap::Args)]
pub struct TrustArgs {
    /// Whom to explain (npub, nprofile, hex or name@domain).
    person: Option<String>,
    /// Inbox threshold (replies, mentions, reactions, reposts).
    #[arg(long, allow_negative_numbers = true)]
    inbox: Option<i32>,
    /// Private messages threshold (below: the requests folder).
    #[arg(long, allow_negative_numbers = true)]
    dms: Option<i32>,
    /// Thread replies threshold.
    #[arg(long, allow_negative_numbers = true)]
    replies: Option<i32>,
    /// Local search threshold.
    #[arg(long, allow_negative_numbers = true)]
    search: Option<i32>,
    /// Threshold for new inbox items announced as they arrive (`watch`).
    #[arg(long, allow_negative_numbers = true)]
    notifications: Option<i32>,
    /// Gift wraps from strangers opened per relay and hour.
    #[arg(long)]
    wraps_per_hour: Option<u32>,
    /// NIP-13 bits on a stranger's gift wrap that let it skip the requests folder.
    #[arg(long)]
    wrap_pow_accepted: Option<u8>,
    /// NIP-13 bits added to your own gift wraps (0: none).
    #[arg(long)]
    wrap_pow: Option<u8>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Runs `samizdat trust`.
pub async fn trust(ctx: &Context, args: TrustArgs) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let result = run(ctx, &session, &args).await;
    session.shutdown().await;
    result
}

async fn run(ctx: &Context, session: &Session, args: &TrustArgs) -> anyhow::Result<()> {
    let mut settings = session.trust_settings();
    let before = settings;
    let set = |slot: &mut i32, v: Option<i32>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut settings.inbox, args.inbox);
    set(&mut settings.dms, args.dms);
    set(&mut settings.replies, args.replies);
    set(&mut settings.search, args.search);
    set(&mut settings.notifications, args.notifications);
    if let Some(v) = args.wraps_per_hour {
        settings.stranger_wraps_per_hour = v;
    }
    if let Some(v) = args.wrap_pow_accepted {
        settings.wrap_pow_accepted = v;
    }
    if let Some(v) = args.wrap_pow {
        settings.wrap_pow = v;
    }
    if settings != before {
        session.set_trust_settings(settings)?;
    }
    let Some(person) = &args.person else {
        if args.json {
            println!("{}", serde_json::to_string(&settings)?);
        } else {
            println!(
                "thresholds (score = followed by N of your follows − 2 × muted by M of them; \
                 everyone you follow passes):"
            );
            println!(
                "  inbox {}   dms {}   replies {}   search {}   notifications {}",
                settings.inbox,
                settings.dms,
                settings.replies,
                settings.search,
                settings.notifications
            );
            println!(
                "gift wraps: {} from strangers opened per relay and hour; {} bits of work skip the requests folder; yours carry {} bits",
                settings.stranger_wraps_per_hour, settings.wrap_pow_accepted, settings.wrap_pow
            );
        }
        return Ok(());
    };
    let who = parse_person(ctx, person).await?;
    let report = session.explain_trust(who)?;
    let mut people: Vec<PublicKey> = report.followed_by.clone();
    people.extend(&report.muted_by);
    people.push(who);
    people.extend(report.lookalike_of);
    let names = session.names(&people)?;
    print_report(&report, &names, args.json)
}

fn surface_name(s: Surface) -> &'static str {
    match s {
        Surface::Inbox => "inbox",
        Surface::Dms => "messages (requests folder)",
        Surface::Replies => "thread replies",
        Surface::Search => "search",
        Surface::Notifications => "notifications",
    }
}

fn print_report(
    report: &TrustReport,
    names: &HashMap<PublicKey, String>,
    as_json: bool,
) -> anyhow::Result<()> {
    let sentence = report.sentence(names);
    if as_json {
        println!(
            "{}",
            json!({
                "person": report.person.to_hex(),
                "name": names.get(&report.person),
                "trust": report.trust,
                "followed_by": report.followed_by.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
                "muted_by": report.muted_by.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
                "lookalike_of": report.lookalike_of.map(|p| p.to_hex()),
                "hidden_on": report.hidden_on,
                "explanation": sentence,
            })
        );
        return Ok(());
    }
    let name = names.get(&report.person).cloned().unwrap_or_default();
    println!("{name} ({})", report.person.to_bech32()?);
    println!("  score {}: {sentence}", report.trust.score);
    if report.hidden_on.is_empty() {
        println!("  shown everywhere");
    } else {
        let on: Vec<&str> = report.hidden_on.iter().map(|s| surface_name(*s)).collect();
        println!("  hidden in: {} (--all shows them)", on.join(", "));
    }
    if let Some(real) = report.lookalike_of {
        println!(
            "  ⚠ the name imitates {} ({}), whom you follow",
            names.get(&real).cloned().unwrap_or_default(),
            real.to_bech32()?
        );
    }
    Ok(())
}
