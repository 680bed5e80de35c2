//! Where to send what the user publishes: the outbox model's other half.

use std::collections::BTreeMap;

use crate::model::{PlanInput, RelayList};
use crate::score;

/// Relays to publish an event to: the author's write relays (their outbox,
/// where followers read them) plus, for every person tagged, up to
/// `per_tagged` of their read relays (their inbox, where they look for
/// replies and mentions), healthiest first, `cap` in all. Unusable and denied
/// relays are skipped.
pub fn publish_targets(
    input: &PlanInput,
    own: &RelayList,
    tagged: &[String],
    per_tagged: usize,
    cap: usize,
) -> Vec<String> {
    let usable =
        |url: &String| !input.policy.denied.contains(url) && score::health(input, url) > 0.1;
    let mut out: Vec<String> = Vec::new();
    let push = |url: &String, out: &mut Vec<String>| {
        if out.len() < cap && usable(url) && !out.contains(url) {
            out.push(url.clone());
        }
    };
    for url in &own.write {
        push(url, &mut out);
    }
    for person in tagged {
        let Some(list) = input.relay_lists.get(person) else {
            continue;
        };
        let mut inbox: Vec<&String> = list.read.iter().collect();
        inbox.sort_by(|a, b| {
            score::health(input, b)
                .total_cmp(&score::health(input, a))
                .then(a.cmp(b))
        });
        for url in inbox.into_iter().take(per_tagged) {
            push(url, &mut out);
        }
    }
    out
}

/// Why a direct message cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DmError {
    /// The recipient published no usable kind-10050 DM relay list.
    #[error("{0} has no usable DM relays (kind 10050); a gift wrap would not reach them")]
    NoDmRelays(String),
}

/// Relays to deliver a NIP-17 gift wrap to: the recipient's kind-10050 list,
/// usable ones only, healthiest first.
pub fn dm_targets(
    input: &PlanInput,
    recipient: &str,
    dm_relays: &[String],
    cap: usize,
) -> Result<Vec<String>, DmError> {
    let mut usable: Vec<&String> = dm_relays
        .iter()
        .filter(|u| !input.policy.denied.contains(*u) && score::health(input, u) > 0.1)
        .collect();
    usable.sort_by(|a, b| {
        score::health(input, b)
            .total_cmp(&score::health(input, a))
            .then(a.cmp(b))
    });
    usable.dedup();
    if usable.is_empty() {
        return Err(DmError::NoDmRelays(recipient.to_owned()));
    }
    Ok(usable.into_iter().take(cap.max(1)).cloned().collect())
}

/// Relays to advertise the user's own relay list (kind 10002) to: all of the
/// user's relays, the discovery relays ("indexers") others look in, and the
/// relays where the most followers' inboxes are, `cap` in all.
pub fn advertise_targets(
    input: &PlanInput,
    own: &RelayList,
    discovery: &[String],
    followers: &[String],
    cap: usize,
) -> Vec<String> {
    let usable =
        |url: &String| !input.policy.denied.contains(url) && score::health(input, url) > 0.1;
    let mut out: Vec<String> = Vec::new();
    for url in own.write.iter().chain(&own.read).chain(discovery) {
        if out.len() < cap && usable(url) && !out.contains(url) {
            out.push(url.clone());
        }
    }
    let mut inbox_count: BTreeMap<&String, usize> = BTreeMap::new();
    for f in followers {
        for url in input
            .relay_lists
            .get(f)
            .map(|l| l.read.as_slice())
            .unwrap_or(&[])
        {
            *inbox_count.entry(url).or_insert(0) += 1;
        }
    }
    let mut ranked: Vec<(&String, usize)> = inbox_count.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (url, _) in ranked {
        if out.len() < cap && usable(url) && !out.contains(url) {
            out.push(url.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RelayHealth;

    fn input() -> PlanInput {
        let mut i = PlanInput::default();
        i.relay_lists.insert(
            "bob".into(),
            RelayList {
                write: vec!["wss://bob-out".into()],
                read: vec!["wss://bob-in-dead".into(), "wss://bob-in".into()],
            },
        );
        i.relay_health.insert(
            "wss://bob-in-dead".into(),
            RelayHealth {
                reachable: false,
                success_rate: 0.0,
            },
        );
        i
    }

    #[test]
    fn replies_reach_the_tagged_persons_inbox() {
        let own = RelayList {
            write: vec!["wss://me-out".into()],
            read: vec![],
        };
        let t = publish_targets(&input(), &own, &["bob".into()], 2, 10);
        assert_eq!(
            t,
            vec!["wss://me-out".to_string(), "wss://bob-in".to_string()]
        );
    }

    #[test]
    fn dms_need_a_dm_relay_list() {
        let i = input();
        assert!(dm_targets(&i, "bob", &[], 3).is_err());
        assert!(dm_targets(&i, "bob", &["wss://bob-in-dead".into()], 3).is_err());
        assert_eq!(
            dm_targets(&i, "bob", &["wss://dm".into()], 3).unwrap(),
            vec!["wss://dm".to_string()]
        );
    }

    #[test]
    fn relay_list_goes_to_own_discovery_and_follower_inboxes() {
        let own = RelayList {
            write: vec!["wss://me-out".into()],
            read: vec!["wss://me-in".into()],
        };
        let t = advertise_targets(
            &input(),
            &own,
            &["wss://indexer".into()],
            &["bob".into()],
            10,
        );
        assert_eq!(
            t,
            vec![
                "wss://me-out",
                "wss://me-in",
                "wss://indexer",
                "wss://bob-in"
            ]
        );
    }
}
