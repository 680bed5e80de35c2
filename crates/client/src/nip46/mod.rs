//! NIP-46 in both directions: [`RemoteSigner`] signs through another app's
//! bunker, [`Bunker`] serves other apps with the user's key. Both talk over
//! relays through the net layer, so proxies and policies apply.

mod bunker;
mod permissions;
mod remote;
mod transport;

pub use bunker::{AuditRecord, Bunker, BunkerConfig, Prompt};
pub use permissions::{AppPermissions, Decision as PermissionDecision, PermissionBook};
pub use remote::{RemoteSigner, RemoteSignerError};
