//! # samizdat-outbox
//!
//! The heart of "follow people, not relays": deciding which relays to ask
//! about whom, where to publish, where to deliver DMs and where to advertise
//! the user's relay list. Pure algorithms — no I/O, no async, no clock — so
//! they can be simulated and benchmarked; the [`sim`] module measures them
//! against the baselines on a synthetic network.
//!
//! - [`plan`]: relay → people assignment with orphans and their reasons,
//!   under a connection cap, learning from delivery history.
//! - [`publish_targets`], [`dm_targets`], [`advertise_targets`]: the write side.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod assign;
mod auction;
mod explore;
mod exposure;
mod field;
mod model;
mod planner;
mod publish;
mod score;
pub mod sim;
mod unlisted;

pub use model::{
    Delivery, Evidence, Orphan, OrphanReason, Plan, PlanInput, Policy, RelayHealth, RelayList,
    Source, CAP_FLOOR,
};
pub use planner::{plan, plan_with, stale_lists, Algorithm};
pub use publish::{advertise_targets, dm_targets, publish_targets, DmError};
pub use score::{delivery_probability, evidence};
