//! Sharing out relay places under the exposure cap: an auction.
//!
//! Each person wants one place on one relay and values each option
//! differently (how much of their posting that relay is expected to return);
//! each relay has room for `capacity` people. Taking people in some order and
//! giving each their best relay with room wastes the big relays on people
//! who had a good second choice. The auction (Bertsekas' forward auction
//! with ε-complementary slackness, here with several identical places per
//! relay) finds a sharing whose total value is within `people × ε` of the
//! best possible: a person bids for their best relay by how much more it is
//! worth to them than their next option, and a full relay's place goes to
//! whoever bids most for it.

use std::collections::VecDeque;

/// One person's options: (relay index, value > 0).
pub(crate) type Options = Vec<(usize, f64)>;

/// Gives each person at most one relay from their options, at most
/// `capacity[r]` people per relay, maximising the total value (within ε).
/// `None`: no relay with room was worth its price to them.
pub(crate) fn allocate(people: &[Options], capacity: &[usize]) -> Vec<Option<usize>> {
    let relays = capacity.len();
    let mut holder_bids: Vec<Vec<(f64, usize)>> = vec![Vec::new(); relays];
    let mut assigned: Vec<Option<usize>> = vec![None; people.len()];
    let top = people
        .iter()
        .flatten()
        .map(|(_, v)| *v)
        .fold(0.0f64, f64::max);
    if top <= 0.0 || !top.is_finite() {
        return assigned;
    }
    let epsilon = top * 1e-4 / (people.len().max(1) as f64).sqrt();
    // What a newcomer must beat at each relay: nothing while it has room,
    // else the lowest bid it holds.
    let price = |holders: &Vec<(f64, usize)>, capacity: usize| -> f64 {
        if holders.len() < capacity {
            0.0
        } else {
            holders
                .iter()
                .map(|(bid, _)| *bid)
                .fold(f64::INFINITY, f64::min)
        }
    };
    let mut queue: VecDeque<usize> = (0..people.len()).collect();
    // Each round raises some price by at least ε, so this ends; the bound is
    // a guard against float trouble, never reached in practice.
    let mut rounds = people.len().saturating_mul(2_000).max(10_000);
    while let Some(person) = queue.pop_front() {
        if rounds == 0 {
            break;
        }
        rounds -= 1;
        let (mut best, mut first, mut second) = (None, 0.0f64, 0.0f64);
        for &(relay, value) in &people[person] {
            if relay >= relays || capacity[relay] == 0 || value.is_nan() || value <= 0.0 {
                continue;
            }
            let net = value - price(&holder_bids[relay], capacity[relay]);
            if best.is_none() || net > first {
                if best.is_some() {
                    second = second.max(first);
                }
                best = Some(relay);
                first = net;
            } else {
                second = second.max(net);
            }
        }
        let Some(relay) = best.filter(|_| first > 0.0) else {
            continue;
        };
        let bid = price(&holder_bids[relay], capacity[relay]) + (first - second.max(0.0)) + epsilon;
        let holders = &mut holder_bids[relay];
        holders.push((bid, person));
        assigned[person] = Some(relay);
        if holders.len() > capacity[relay] {
            let lowest = holders
                .iter()
                .enumerate()
                .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
                .map(|(i, _)| i);
            if let Some(i) = lowest {
                let (_, outbid) = holders.swap_remove(i);
                assigned[outbid] = None;
                queue.push_back(outbid);
            }
        }
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(people: &[Options], got: &[Option<usize>]) -> f64 {
        got.iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let r = (*r)?;
                people[i].iter().find(|(x, _)| *x == r).map(|(_, v)| *v)
            })
            .sum()
    }

    #[test]
    fn the_scarce_place_goes_to_whoever_has_no_other_way() {
        // Relay 0 has one place. Person 0 values it most but has relay 1
        // nearly as good; person 1 has nothing else.
        let people = vec![vec![(0, 10.0), (1, 9.0)], vec![(0, 8.0)]];
        let got = allocate(&people, &[1, 5]);
        assert_eq!(got, vec![Some(1), Some(0)]);
    }

    #[test]
    fn capacity_is_never_exceeded_and_the_total_is_near_the_best() {
        // Brute force over every allocation of 6 people on 3 relays.
        let people: Vec<Options> = vec![
            vec![(0, 5.0), (1, 4.0)],
            vec![(0, 7.0), (2, 1.0)],
            vec![(0, 6.0), (1, 6.0), (2, 6.0)],
            vec![(1, 3.0)],
            vec![(1, 8.0), (2, 2.0)],
            vec![(0, 1.0), (2, 9.0)],
        ];
        let capacity = [2, 1, 1];
        let got = allocate(&people, &capacity);
        for (r, room) in capacity.iter().enumerate() {
            assert!(got.iter().filter(|x| **x == Some(r)).count() <= *room);
        }
        let mut best = 0.0f64;
        let choices: Vec<Vec<Option<usize>>> = people
            .iter()
            .map(|o| {
                std::iter::once(None)
                    .chain(o.iter().map(|(r, _)| Some(*r)))
                    .collect()
            })
            .collect();
        let mut idx = vec![0usize; people.len()];
        loop {
            let pick: Vec<Option<usize>> = idx
                .iter()
                .enumerate()
                .map(|(i, &j)| choices[i][j])
                .collect();
            if (0..3).all(|r| pick.iter().filter(|x| **x == Some(r)).count() <= capacity[r]) {
                best = best.max(total(&people, &pick));
            }
            let mut i = 0;
            while i < idx.len() {
                idx[i] += 1;
                if idx[i] < choices[i].len() {
                    break;
                }
                idx[i] = 0;
                i += 1;
            }
            if i == idx.len() {
                break;
            }
        }
        assert!(
            (total(&people, &got) - best).abs() < 1e-2,
            "{} vs best {best}",
            total(&people, &got)
        );
    }

    #[test]
    fn nothing_to_share_gives_nothing() {
        assert_eq!(allocate(&[vec![], vec![(0, 0.0)]], &[3]), vec![None, None]);
        assert_eq!(allocate(&[vec![(7, 1.0)]], &[3]), vec![None]);
        assert_eq!(allocate(&[vec![(0, f64::NAN)]], &[3]), vec![None]);
    }
}
