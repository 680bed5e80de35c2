//! `samizdat sim` and `samizdat outbox plan`: the outbox planner, measured and
//! as a tool any program can call with JSON.

use std::path::PathBuf;

use anyhow::Context;
use samizdat_outbox::sim::{self, SimConfig};
use samizdat_outbox::PlanInput;
use serde_json::json;

/// Arguments of `samizdat sim`.
#[derive(clap::Args)]
pub struct SimArgs {
    /// Network seed (the same seed gives the same network and figures).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// People in the network (a quarter are followed, at most 1,000).
    #[arg(long, default_value_t = 2_000)]
    users: usize,
    /// Sessions to run; the figures are from the last.
    #[arg(long, default_value_t = 5)]
    sessions: usize,
    /// Connection budget for every algorithm.
    #[arg(long, default_value_t = 20)]
    max_connections: usize,
    /// Relays per followed person.
    #[arg(long, default_value_t = 2)]
    per_person: usize,
    /// Plan under an exposure cap: no relay is asked about more than this
    /// share of the follow list (e.g. 0.25).
    #[arg(long)]
    max_exposure: Option<f64>,
    /// Plan from NIP-65 lists alone (no kind-3, NIP-05, hint or seen-on
    /// evidence): shows what the other sources of evidence are worth.
    #[arg(long)]
    lists_only: bool,
    /// Ours does not probe connected relays about people they have no
    /// evidence for (shows what exploration is worth, and what it spreads).
    #[arg(long)]
    no_explore: bool,
    /// Every planner knows from the start which relays NIP-66 monitors
    /// report dead and skips them (the table's last line shows the gain
    /// either way).
    #[arg(long)]
    liveness: bool,
    /// Run seeds 1..=N, each with the exposure cap (`--max-exposure`,
    /// default 0.25) and without, and print the planner's goals: what the
    /// cap costs ours in 7-day recall, and ours' 1-year recall over the
    /// best baseline's with the cap on, next to the omniscient ceiling.
    #[arg(long, value_name = "N")]
    sweep: Option<u64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the simulator and prints its table.
pub fn sim(args: SimArgs) -> anyhow::Result<()> {
    if args.users < 4 {
        anyhow::bail!("--users must be at least 4");
    }
    if args.max_exposure.is_some_and(|x| !(x > 0.0 && x <= 1.0)) {
        anyhow::bail!("--max-exposure must be a share between 0 and 1 (e.g. 0.25)");
    }
    let config = SimConfig {
        seed: args.seed,
        users: args.users,
        sessions: args.sessions,
        max_connections: args.max_connections,
        per_person: args.per_person,
        max_exposure: args.max_exposure,
        lists_only: args.lists_only,
        explore: !args.no_explore,
        liveness: args.liveness,
    };
    if let Some(seeds) = args.sweep {
        if seeds == 0 {
            anyhow::bail!("--sweep needs at least one seed");
        }
        let sweep = sim::sweep(&config, seeds, args.max_exposure.unwrap_or(0.25));
        if args.json {
            println!("{}", serde_json::to_string(&sweep)?);
        } else {
            print!("{}", sweep.table());
        }
        return Ok(());
    }
    let mut report = sim::run(&config);
    if !config.liveness {
        report.with_liveness = Some(sim::ours_with_liveness(&config));
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// The outbox subcommands.
#[derive(clap::Subcommand)]
pub enum OutboxCommand {
    /// Plan which relays to ask about whom, from a JSON description of the network.
    Plan(PlanArgs),
    /// This profile's coverage picture from what it knows (no network): which
    /// relays are read for whom, and who is orphaned and why.
    Show {
        /// JSON output (assignments, orphans, connections).
        #[arg(long)]
        json: bool,
    },
    /// This profile's exposure cap: no relay is asked about more than this
    /// percentage of your follow list (25 by default, and never fewer than 5
    /// people; `cap 40`; `cap 0` removes it; `cap` shows it). It costs
    /// recall: see the closing figures of `samizdat sim --max-exposure`.
    Cap {
        /// Percent (1–100; 0 removes the cap).
        percent: Option<u8>,
    },
    /// Exploration: ask relays you connect to anyway about followed people
    /// they have no evidence for (within the exposure cap), to learn where
    /// those people write (`explore on|off`; `explore` shows it). On by
    /// default: it finds people with no relay list and stale lists, and
    /// more relays learn of more of your follows.
    Explore {
        /// `on` or `off`.
        setting: Option<OnOff>,
    },
    /// The NIP-66 relay monitors this profile trusts: relays they report
    /// dead are skipped before connecting (unless this client reached them
    /// itself). `monitors` lists them; `--add` / `--remove` take an npub or
    /// hex key.
    Monitors {
        /// Trust this monitor too.
        #[arg(long, value_name = "KEY")]
        add: Option<String>,
        /// Stop trusting this monitor.
        #[arg(long, value_name = "KEY")]
        remove: Option<String>,
    },
}

/// A switch.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// Arguments of `samizdat outbox plan`.
#[derive(clap::Args)]
pub struct PlanArgs {
    /// JSON input: {"follows": [hex], "relay_lists": {hex: {"write": [url], "read": [url]}},
    /// "relay_health": {url: {"reachable": bool, "success_rate": 0..1}},
    /// "delivery": {url: {hex: {"asked": n, "delivered": m}}}}; `-` for stdin.
    #[arg(long)]
    input: PathBuf,
    /// Connection cap (overrides the input's policy).
    #[arg(long)]
    max_connections: Option<usize>,
    /// Relays per person (overrides the input's policy).
    #[arg(long)]
    per_person: Option<usize>,
    /// Exposure cap: no relay asked about more than this share of the
    /// follow list (overrides the input's policy).
    #[arg(long)]
    max_exposure: Option<f64>,
    /// Print JSON (the default output is a readable summary).
    #[arg(long)]
    json: bool,
}

/// Runs a subcommand.
pub async fn run(ctx: &super::keys::Context, cmd: OutboxCommand) -> anyhow::Result<()> {
    match cmd {
        OutboxCommand::Plan(args) => plan(args),
        OutboxCommand::Show { json } => show(ctx, json).await,
        OutboxCommand::Cap { percent } => {
            let settings = edit_settings(
                ctx,
                percent.map(|p| {
                    move |s: &mut samizdat_client::Settings| {
                        s.max_exposure_percent = (p > 0).then_some(p.min(100));
                    }
                }),
            )?;
            match settings.max_exposure_percent {
                Some(p) => println!(
                    "no relay is asked about more than {p}% of your follow list (or 5 people, if that is more)"
                ),
                None => println!(
                    "no exposure cap: a relay may learn your whole follow list (`samizdat outbox cap 25` sets the default again)"
                ),
            }
            Ok(())
        }
        OutboxCommand::Explore { setting } => {
            let settings = edit_settings(
                ctx,
                setting.map(|on| {
                    move |s: &mut samizdat_client::Settings| {
                        s.no_exploration = matches!(on, OnOff::Off);
                    }
                }),
            )?;
            if settings.no_exploration {
                println!("exploration off: relays are asked only about people there is evidence they write to");
            } else {
                println!("exploration on: relays you connect to anyway are also asked about people with no evidence there (within the exposure cap)");
            }
            Ok(())
        }
        OutboxCommand::Monitors { add, remove } => monitors(ctx, add, remove),
    }
}

/// `outbox monitors`: show, add or remove trusted NIP-66 monitors.
fn monitors(
    ctx: &super::keys::Context,
    add: Option<String>,
    remove: Option<String>,
) -> anyhow::Result<()> {
    let key = |input: &str| {
        nostr::prelude::PublicKey::parse(input.trim())
            .map(|k| k.to_hex())
            .with_context(|| format!("{input:?} is not a public key (npub or 64 hex characters)"))
    };
    let add = add.as_deref().map(key).transpose()?;
    let remove = remove.as_deref().map(key).transpose()?;
    let change = (add.is_some() || remove.is_some()).then_some({
        move |s: &mut samizdat_client::Settings| {
            if let Some(k) = add {
                if !s.monitors.contains(&k) {
                    s.monitors.push(k);
                }
            }
            if let Some(k) = remove {
                s.monitors.retain(|m| *m != k);
            }
        }
    });
    let settings = edit_settings(ctx, change)?;
    if settings.monitors.is_empty() {
        println!("no NIP-66 monitors trusted: every relay is tried until this client's own connections say otherwise");
    } else {
        println!("NIP-66 monitors trusted (relays they report dead are skipped unless this client reached them itself):");
        for m in &settings.monitors {
            println!("  {m}");
        }
    }
    Ok(())
}

async fn show(ctx: &super::keys::Context, as_json: bool) -> anyhow::Result<()> {
    let session = super::social::session(ctx, super::social::Access::Read).await?;
    let follows = session.follows()?;
    let plan = session
        .engine()
        .plan(&follows, &session.own_read_relays())?;
    let stale = session.engine().stale_fallbacks(&plan)?;
    let dead = session.skipped_as_dead()?;
    if as_json {
        let dead: serde_json::Map<String, serde_json::Value> = dead
            .iter()
            .map(|(url, r)| (url.clone(), json!(r)))
            .collect();
        println!(
            "{}",
            json!({"assignments": plan.assignments, "probes": plan.probes,
                   "unlisted": plan.unlisted,
                   "orphans": plan.orphans, "connections": plan.connections,
                   "stale_lists": stale, "skipped_as_dead": dead})
        );
        return Ok(());
    }
    println!(
        "{} follows, {} relays, {:.0}% covered",
        follows.len(),
        plan.connections,
        plan.coverage(follows.len()) * 100.0
    );
    for (url, people) in &plan.assignments {
        println!("  {url}: {} people", people.len());
    }
    print_probes(&plan);
    for o in &plan.orphans {
        let reason = serde_json::to_value(o.reason)?;
        println!("  orphan {}: {}", o.pubkey, reason.as_str().unwrap_or(""));
    }
    let now = nostr::prelude::Timestamp::now().as_secs();
    for (url, report) in &dead {
        println!(
            "  skipped {url}: NIP-66 monitors report it dead (last seen up {:.1} days ago by {} monitor{})",
            now.saturating_sub(report.last_seen_up) as f64 / 86_400.0,
            report.monitors,
            if report.monitors == 1 { "" } else { "s" }
        );
    }
    for s in &stale {
        let from: Vec<String> = s
            .read_from
            .iter()
            .map(|(url, why)| format!("{url} ({})", why.join(", ")))
            .collect();
        println!(
            "  stale relay list {}: none of its relays works; read from {}",
            s.person,
            if from.is_empty() {
                "nowhere".to_owned()
            } else {
                from.join(", ")
            }
        );
    }
    Ok(())
}

fn plan(args: PlanArgs) -> anyhow::Result<()> {
    let text = if args.input.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the plan input from stdin")?
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))?
    };
    let mut input: PlanInput = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid planner input", args.input.display()))?;
    if let Some(n) = args.max_connections {
        input.policy.max_connections = n;
    }
    if let Some(k) = args.per_person {
        input.policy.per_person = k;
    }
    if args.max_exposure.is_some() {
        input.policy.max_exposure = args.max_exposure;
    }
    let plan = samizdat_outbox::plan(&input);
    if args.json {
        println!(
            "{}",
            json!({"assignments": plan.assignments, "probes": plan.probes,
                   "unlisted": plan.unlisted,
                   "orphans": plan.orphans, "connections": plan.connections})
        );
    } else {
        println!(
            "{} relays cover {:.0}% of {} follows",
            plan.connections,
            plan.coverage(input.follows.len()) * 100.0,
            input.follows.len()
        );
        for (url, people) in &plan.assignments {
            println!("  {url}: {} people", people.len());
        }
        print_probes(&plan);
        for o in &plan.orphans {
            println!("  orphan {}: {:?}", o.pubkey, o.reason);
        }
    }
    Ok(())
}

/// The exploration part of a plan, one line per relay.
fn print_probes(plan: &samizdat_outbox::Plan) {
    for (url, people) in &plan.probes {
        println!(
            "  {url}: also asked about {} people it has no evidence for (to learn where they write)",
            people.len()
        );
    }
    for (url, people) in &plan.unlisted {
        println!(
            "  {url}: read from your relays (no relay list): {} people",
            people.len()
        );
    }
}

/// The profile's settings, first changed by `change` and saved when there
/// is one (the reading-privacy switches need no session).
fn edit_settings(
    ctx: &super::keys::Context,
    change: Option<impl FnOnce(&mut samizdat_client::Settings)>,
) -> anyhow::Result<samizdat_client::Settings> {
    let profile = ctx.profile()?;
    profile.create_dir()?;
    let path = profile.settings_path();
    let mut settings = samizdat_client::Settings::load(&path)?;
    if let Some(change) = change {
        change(&mut settings);
        settings.save(&path)?;
    }
    Ok(settings)
}
