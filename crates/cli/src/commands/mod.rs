//! One module per subcommand.

pub mod bench;
mod bench_ingest;
pub mod bunker;
pub mod keys;
pub mod outbox;
pub mod relay;
