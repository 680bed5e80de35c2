//! One module per subcommand.

pub mod bench;
mod bench_ingest;
pub mod outbox;
pub mod relay;
