//! A feature: the user's own data, everywhere — replication checks
//! ([`replicate`]), a new device's restore ([`restore`]), backups
//! ([`backup`]).

pub mod backup;
pub mod replicate;
pub mod restore;
