//! One module per subcommand.

pub mod bench;
mod bench_ingest;
pub mod relay;
