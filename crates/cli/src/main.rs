//! `samizdat`: the command-line face of Samizdat.
//!
//! So far: `samizdat relay` (run the personal relay) and `samizdat bench
//! relay` (a load generator that measures any relay over websockets). The
//! client commands and the demo arrive with the engine.

mod commands;

use clap::{Parser, Subcommand};

/// Samizdat: follow people, not relays.
#[derive(Parser)]
#[command(name = "samizdat", version, about)]
struct Cli {
    /// Log filter (e.g. `info`, `samizdat_relay=debug`); logs go to stderr.
    #[arg(long, global = true, default_value = "info", env = "SAMIZDAT_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relay (NIP-01, 09, 11, 40, 42, 50, 70) until SIGINT or SIGTERM.
    Relay(commands::relay::RelayArgs),
    /// Run the outbox network simulator: every relay-selection algorithm on
    /// the same synthetic network and budget, over several sessions.
    Sim(commands::outbox::SimArgs),
    /// The outbox planner as a tool: `samizdat outbox plan --input FILE.json`.
    #[command(subcommand)]
    Outbox(commands::outbox::OutboxCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Relay(args) => commands::relay::run(args).await,
            Command::Bench(cmd) => commands::bench::run(cmd).await,
            Command::Sim(args) => commands::outbox::sim(args),
            Command::Outbox(cmd) => commands::outbox::run(cmd),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
