//! NIP-13 on the relay: events below the configured proof of work are
//! refused with `pow:`. The work is the id's leading zero bits; an event
//! that commits to a target (the `nonce` tag's third element) below the
//! minimum is refused too (NIP-13: work mined for a lower target that came
//! out higher by luck does not count).

use nostr::nips::nip13::get_leading_zero_bits;
use nostr::prelude::*;

/// The committed target of an event's `nonce` tag, if any.
fn committed_target(event: &Event) -> Option<u8> {
    event.tags.iter().find_map(|t| {
        let s = t.as_slice();
        (s.first().map(String::as_str) == Some("nonce"))
            .then(|| s.get(2).and_then(|d| d.parse::<u8>().ok()))
            .flatten()
    })
}

/// `Err` with a `pow:` reason when `event` has less work than `min` bits.
pub fn check(event: &Event, min: u8) -> Result<(), String> {
    if min == 0 {
        return Ok(());
    }
    let bits = get_leading_zero_bits(event.id.as_bytes());
    if bits < min {
        return Err(format!(
            "pow: difficulty {bits} is below this relay's minimum of {min}"
        ));
    }
    match committed_target(event) {
        Some(target) if target < min => Err(format!(
            "pow: committed target {target} is below this relay's minimum of {min}"
        )),
        _ => Ok(()),
    }
}
