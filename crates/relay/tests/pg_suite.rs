//! The relay's suites again, on PostgreSQL: NIP-01 conformance, bad input,
//! AUTH and privacy, policies, COUNT, management, PoW and the newer duties, each test on its
//! own schema of the server `SAMIZDAT_TEST_POSTGRES` names (`.ci/run` starts
//! one with `bench/postgres.sh`). The harness picks the engine from this
//! binary's name (`pg_*`). Each suite brings its own copy of the harness.
#![allow(clippy::duplicate_mod)]

#[path = "auth_privacy.rs"]
mod auth_privacy;
#[path = "bad_input.rs"]
mod bad_input;
#[path = "duties.rs"]
mod duties;
#[path = "management.rs"]
mod management;
#[path = "nip01.rs"]
mod nip01;
#[path = "policy.rs"]
mod policy;
#[path = "pow.rs"]
mod pow;
