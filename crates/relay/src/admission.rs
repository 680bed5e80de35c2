//! Everything an EVENT passes before it is queued for storage: size, id,
//! time window, the write policy, proof of work, signature (the costly check
//! last), NIP-42/NIP-70 authorship. Each refusal carries its NIP-01 prefix.

use nostr::prelude::*;
use samizdat_store::InsertOutcome;

use crate::config::RelayConfig;
use crate::policy::Policy;

/// `Err` with the refusal when `event` may not be stored; `authed` are the
/// keys the connection authenticated as.
pub fn check_event(
    config: &RelayConfig,
    policy: &Policy,
    authed: &[PublicKey],
    event: &Event,
) -> Result<(), String> {
    let limits = &config.limits;
    if event.tags.len() > limits.max_event_tags {
        return Err(format!(
            "invalid: {} tags, more than the limit of {}",
            event.tags.len(),
            limits.max_event_tags
        ));
    }
    if event.content.len() > limits.max_content_length {
        return Err(format!(
            "invalid: content of {} bytes, more than the limit of {}",
            event.content.len(),
            limits.max_content_length
        ));
    }
    if !event.verify_id() {
        return Err("invalid: event id does not match its content".into());
    }
    let now = Timestamp::now().as_secs();
    let at = event.created_at.as_secs();
    if at > now + limits.created_at_upper_limit {
        return Err("invalid: created_at is too far in the future".into());
    }
    if limits.created_at_lower_limit > 0 {
        // NIP-59 dates gift wraps up to two days back on purpose: whatever
        // the limit, a wrap may be that old (and an hour more for clocks).
        let lower = if event.kind == Kind::GiftWrap {
            limits.created_at_lower_limit.max(GIFT_WRAP_BACKDATING)
        } else {
            limits.created_at_lower_limit
        };
        if at + lower < now {
            return Err("invalid: created_at is too far in the past".into());
        }
    }
    if event.kind == Kind::Authentication {
        return Err("invalid: AUTH events are sent with AUTH, not EVENT".into());
    }
    // The policy and the work are checked before the signature: a stranger's
    // spam on a personal relay is refused without the costly Schnorr check.
    policy.check_write(event)?;
    crate::pow::check(event, config.min_pow)?;
    if !event.verify_signature() {
        return Err("invalid: bad signature".into());
    }
    if config.auth_required_for_writes && !authed.contains(&event.pubkey) {
        return Err(
            "auth-required: this relay takes events only from their authenticated author".into(),
        );
    }
    if event.is_protected() && !authed.contains(&event.pubkey) {
        return Err(
            "auth-required: this event may only be published by its authenticated author".into(),
        );
    }
    if embeds_protected(event) {
        return Err("blocked: a repost may not carry a protected event (NIP-70)".into());
    }
    Ok(())
}

/// How far back NIP-59 may date a gift wrap (two days), plus an hour.
pub const GIFT_WRAP_BACKDATING: u64 = 2 * 86_400 + 3_600;

/// A repost (kind 6 or 16) whose content is an event carrying NIP-70's
/// `["-"]` tag: its author asked that only they publish it, and a repost
/// would publish it whole.
fn embeds_protected(event: &Event) -> bool {
    if !matches!(event.kind, Kind::Repost | Kind::GenericRepost) || event.content.is_empty() {
        return false;
    }
    serde_json::from_str::<serde_json::Value>(&event.content)
        .ok()
        .and_then(|v| v.get("tags").and_then(|t| t.as_array()).cloned())
        .is_some_and(|tags| {
            tags.iter()
                .any(|t| t.as_array().is_some_and(|t| t.len() == 1 && t[0] == "-"))
        })
}

/// The OK answer for a store outcome.
pub fn verdict(outcome: &InsertOutcome) -> (bool, String) {
    match outcome {
        InsertOutcome::Stored | InsertOutcome::ReplacedOlder | InsertOutcome::Ephemeral => {
            (true, String::new())
        }
        InsertOutcome::Duplicate => (true, "duplicate: already have this event".into()),
        InsertOutcome::RejectedOlder => (
            false,
            "duplicate: a newer version of this replaceable event is stored".into(),
        ),
        InsertOutcome::Deleted => (false, "blocked: its author deleted this event".into()),
        InsertOutcome::Expired => (false, "invalid: this event has expired".into()),
        InsertOutcome::TooLarge(reason) => (false, format!("invalid: {reason}")),
    }
}
