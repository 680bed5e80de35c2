//! One module per subcommand.

pub mod backup;
pub mod bench;
mod bench_feed;
mod bench_ingest;
mod bench_privacy;
mod bench_replicate;
mod bench_soak;
mod bench_trust;
pub mod bunker;
pub mod changes;
pub mod demo;
mod demo_media;
mod demo_trust;
pub mod dm;
pub mod identity;
pub mod keys;
pub mod lists;
pub mod media;
pub mod outbox;
pub mod reading;
pub mod relay;
pub mod relay_mirror;
pub mod relays;
pub mod replicate;
pub mod social;
pub mod trust;
pub mod watch;
