//! `samizdat bench privacy`: what a coalition of relays learns about one
//! user over a scripted week (see `samizdat_demo::coalition`), under the
//! old defaults and today's, each on a fresh copy of the same network.
//! Every figure is computed from the relays' and the proxy's logs alone.

use samizdat_demo::coalition::{run_week, Posture, WeekOptions, WeekResult};
use serde_json::json;

/// Arguments of `samizdat bench privacy`.
#[derive(clap::Args, Clone)]
pub struct PrivacyBenchArgs {
    /// Seed of the network and the script.
    #[arg(long, default_value_t = 3)]
    seed: u64,
    /// People the user follows.
    #[arg(long, default_value_t = 200)]
    follow: usize,
    /// Days in the week (each a run of the profile).
    #[arg(long, default_value_t = 7)]
    days: usize,
    /// Run only these postures (`old`, `tor`, `direct`; default all three).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
pub async fn run(args: PrivacyBenchArgs) -> anyhow::Result<()> {
    let options = WeekOptions {
        seed: args.seed,
        follow: args.follow,
        people: (args.follow * 5 / 2).max(50),
        days: args.days,
        ..WeekOptions::default()
    };
    let mut results = Vec::new();
    for (word, posture) in [
        ("old", Posture::OldDefaults),
        ("tor", Posture::DefaultsWithTor),
        ("direct", Posture::DefaultsDirect),
    ] {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == word) {
            continue;
        }
        if !args.json {
            eprintln!("running the week: {}…", posture.name());
        }
        results.push(run_week(&options, posture).await?);
    }
    if args.json {
        let out: Vec<_> = results.iter().map(as_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "follows": options.follow,
                "days": options.days,
                "threads": options.threads,
                "dms": options.dms,
                "partners": options.partners,
                "runs": out,
            }))?
        );
        return Ok(());
    }
    println!(
        "A week: {} follows, {} days, {} threads with strangers' hints, {} DMs to {} people through one DM relay.",
        options.follow, options.days, options.threads, options.dms, options.partners
    );
    print_table(&results);
    Ok(())
}

fn as_json(r: &WeekResult) -> serde_json::Value {
    json!({
        "posture": r.posture.name(),
        "figures": r.figures,
        "hinted_contacted": r.hinted_contacted,
        "threads_with_hints_refused": r.hinted_refused,
        "threads_missing": r.threads_missing,
        "dms_sent": r.dms_sent,
        "seconds": r.elapsed.as_secs_f64(),
    })
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// One cell of the table, from one week's result.
type Cell = Box<dyn Fn(&WeekResult) -> String>;

fn print_table(results: &[WeekResult]) {
    let rows: Vec<(&str, Cell)> = vec![
        (
            "(a) most of the follow list one relay learned",
            Box::new(|r| {
                format!(
                    "{} ({})",
                    percent(r.figures.a_max_follow_share),
                    r.figures.a_relay
                )
            }),
        ),
        (
            "(b) follow list the coalition ties to the key",
            Box::new(|r| percent(r.figures.b_tied_share)),
        ),
        (
            "(c) DMs the DM relay can tie to the sender",
            Box::new(|r| {
                format!(
                    "{}/{} (auth {}, timing {}; pairs {})",
                    r.figures.c_dms_linkable,
                    r.figures.c_dms,
                    r.figures.c_by_auth,
                    r.figures.c_by_timing,
                    r.figures.c_pairs_linkable
                )
            }),
        ),
        (
            "(d) direct connections to strangers' relays",
            Box::new(|r| r.figures.d_direct_to_strangers.to_string()),
        ),
        (
            "(e) direct connections with a proxy set",
            Box::new(|r| {
                r.figures
                    .e_direct_with_proxy
                    .map_or("no proxy".to_owned(), |n| n.to_string())
            }),
        ),
        (
            "(f) connection pairs tied by sub id or clock",
            Box::new(|r| {
                format!(
                    "{} (sub id {}, clock {}; both keyed {})",
                    r.figures.f_linked_pairs,
                    r.figures.f_by_sub_id,
                    r.figures.f_by_clock,
                    r.figures.f_both_keyed
                )
            }),
        ),
        (
            "connections (through the proxy)",
            Box::new(|r| format!("{} ({})", r.figures.connections, r.figures.through_proxy)),
        ),
        (
            "stranger relays contacted / refused / missing",
            Box::new(|r| {
                format!(
                    "{} / {} / {}",
                    r.hinted_contacted, r.hinted_refused, r.threads_missing
                )
            }),
        ),
        (
            "relays holding the kind 3 (public)",
            Box::new(|r| r.figures.kind3_relays.to_string()),
        ),
        (
            "week took",
            Box::new(|r| format!("{:.0} s", r.elapsed.as_secs_f64())),
        ),
    ];
    print!("{:<48}", "");
    for r in results {
        print!(" | {:<36}", r.posture.name());
    }
    println!();
    for (label, cell) in rows {
        print!("{label:<48}");
        for r in results {
            print!(" | {:<36}", cell(r));
        }
        println!();
    }
}
