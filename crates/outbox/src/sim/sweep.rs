//! The planner's goals over many seeds: what the exposure cap costs ours,
//! and how far ahead of the best baseline ours is with the cap on.

use serde::Serialize;

use super::{run, SimConfig, SimReport};
use crate::planner::Algorithm;

/// One seed's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepRow {
    /// Network seed.
    pub seed: u64,
    /// Ours, 7-day recall, with the cap.
    pub capped_7d: f64,
    /// Ours, 7-day recall, without it.
    pub open_7d: f64,
    /// Ours, 1-year recall, with the cap.
    pub capped_1y: f64,
    /// The best baseline's 1-year recall, with the cap.
    pub best_baseline_1y: f64,
    /// The best baseline's 7-day recall, with the cap.
    pub best_baseline_7d: f64,
    /// The better of the field's planners (applesauce, Coracle), 1-year
    /// recall with the cap.
    pub best_field_1y: f64,
    /// The better field planner run as shipped (no exposure cap): its
    /// 1-year recall and the largest share of the follow list it gave one
    /// relay.
    pub field_shipped: (f64, f64),

    /// The omniscient planner's 1-year recall, with the cap.
    pub ceiling_1y: f64,
    /// The omniscient planner's 7-day recall, with and without the cap.
    pub ceiling_7d: (f64, f64),
    /// Largest share of the follow list one relay was asked about in the
    /// last plan (ours, capped).
    pub max_exposure: f64,
    /// Largest share one relay was asked about over all sessions (ours,
    /// capped): what it learned.
    pub exposure_ever: f64,
    /// (relay, person) pairs asked: ours capped, the best baseline capped.
    pub pairs_asked: (usize, usize),
}

impl SweepRow {
    /// Points of 7-day recall the cap costs ours (negative: a loss).
    pub fn cap_cost(&self) -> f64 {
        (self.capped_7d - self.open_7d) * 100.0
    }

    /// Ours' 1-year recall over the best baseline's, both capped.
    pub fn ratio_1y(&self) -> f64 {
        ratio(self.capped_1y, self.best_baseline_1y)
    }

    /// Ours' 1-year recall over the better field planner's, both capped.
    pub fn field_ratio_1y(&self) -> f64 {
        ratio(self.capped_1y, self.best_field_1y)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Every seed's row.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    /// The cap compared against no cap.
    pub cap: f64,
    /// Sessions per run.
    pub sessions: usize,
    /// One row per seed.
    pub rows: Vec<SweepRow>,
}

/// Runs seeds `1..=seeds` with `config` (its seed and cap replaced), with
/// the cap `cap` and without.
pub fn sweep(config: &SimConfig, seeds: u64, cap: f64) -> Sweep {
    let rows = (1..=seeds)
        .map(|seed| {
            let capped = run(&SimConfig {
                seed,
                max_exposure: Some(cap),
                ..config.clone()
            });
            let open = run(&SimConfig {
                seed,
                max_exposure: None,
                ..config.clone()
            });
            row(seed, &capped, &open)
        })
        .collect();
    Sweep {
        cap,
        sessions: config.sessions,
        rows,
    }
}

fn row(seed: u64, capped: &SimReport, open: &SimReport) -> SweepRow {
    let ours = |r: &SimReport| r.results.first().cloned();
    let (Some(c), Some(o)) = (ours(capped), ours(open)) else {
        return SweepRow {
            seed,
            ..SweepRow::default()
        };
    };
    let baselines = &capped.results[1..];
    let best = |f: fn(&super::AlgorithmResult) -> f64| baselines.iter().map(f).fold(0.0, f64::max);
    let field = |r: &&super::AlgorithmResult| {
        r.algorithm == Algorithm::Applesauce.name() || r.algorithm == Algorithm::Coracle.name()
    };
    let best_field_1y = baselines
        .iter()
        .filter(field)
        .map(|r| r.recall_1y)
        .fold(0.0, f64::max);
    let field_shipped = open.results[1..]
        .iter()
        .filter(field)
        .max_by(|a, b| a.recall_1y.total_cmp(&b.recall_1y))
        .map_or((0.0, 0.0), |r| (r.recall_1y, r.max_exposure));
    let best_1y = baselines
        .iter()
        .max_by(|a, b| a.recall_1y.total_cmp(&b.recall_1y));
    SweepRow {
        seed,
        capped_7d: c.recall_7d,
        open_7d: o.recall_7d,
        capped_1y: c.recall_1y,
        best_baseline_1y: best(|r| r.recall_1y),
        best_baseline_7d: best(|r| r.recall_7d),
        best_field_1y,
        field_shipped,
        ceiling_1y: capped.ceiling.recall_1y,
        ceiling_7d: (capped.ceiling.recall_7d, open.ceiling.recall_7d),
        max_exposure: c.max_exposure,
        exposure_ever: c.exposure_ever,
        pairs_asked: (c.pairs_asked, best_1y.map_or(0, |r| r.pairs_asked)),
    }
}

impl Sweep {
    /// Per seed, then the summary against the goals.
    pub fn table(&self) -> String {
        let mut s = format!(
            "exposure cap {:.0}% vs none, {} sessions (ours; baselines and the ceiling under the same cap)\n",
            self.cap * 100.0,
            self.sessions
        );
        s.push_str(&format!(
            "{:>4} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7} {:>9} {:>7} {:>9} {:>7} {:>11}\n",
            "seed",
            "7d cap",
            "7d none",
            "cost",
            "1y cap",
            "1y best",
            "ratio",
            "ceiling",
            "c/best",
            "exposure",
            "ever",
            "pairs"
        ));
        for r in &self.rows {
            s.push_str(&format!(
                "{:>4} {:>8.1}% {:>8.1}% {:>+7.1} {:>8.1}% {:>8.1}% {:>6.3}× {:>8.1}% {:>6.3}× {:>8.1}% {:>6.1}% {:>5}/{:<5}\n",
                r.seed,
                r.capped_7d * 100.0,
                r.open_7d * 100.0,
                r.cap_cost(),
                r.capped_1y * 100.0,
                r.best_baseline_1y * 100.0,
                r.ratio_1y(),
                r.ceiling_1y * 100.0,
                ratio(r.ceiling_1y, r.best_baseline_1y),
                r.max_exposure * 100.0,
                r.exposure_ever * 100.0,
                r.pairs_asked.0,
                r.pairs_asked.1,
            ));
        }
        let n = self.rows.len().max(1) as f64;
        let mean = |f: &dyn Fn(&SweepRow) -> f64| self.rows.iter().map(f).sum::<f64>() / n;
        let min =
            |f: &dyn Fn(&SweepRow) -> f64| self.rows.iter().map(f).fold(f64::INFINITY, f64::min);
        s.push_str(&format!(
            "7-day recall, ours: {:.1}% with the cap, {:.1}% without; best baseline with the cap {:.1}%\n",
            mean(&|r| r.capped_7d * 100.0),
            mean(&|r| r.open_7d * 100.0),
            mean(&|r| r.best_baseline_7d * 100.0),
        ));
        s.push_str(&format!(
            "cap cost (7-day points): mean {:+.1}, worst {:+.1}; the ceiling's: mean {:+.1}, worst {:+.1}\n",
            mean(&SweepRow::cap_cost),
            min(&SweepRow::cap_cost),
            mean(&|r| (r.ceiling_7d.0 - r.ceiling_7d.1) * 100.0),
            min(&|r| (r.ceiling_7d.0 - r.ceiling_7d.1) * 100.0),
        ));
        s.push_str(&format!(
            "1-year recall with the cap, ours / best baseline: mean {:.3}×, min {:.3}×; the ceiling's: mean {:.3}×\n",
            mean(&SweepRow::ratio_1y),
            min(&SweepRow::ratio_1y),
            mean(&|r| ratio(r.ceiling_1y, r.best_baseline_1y)),
        ));
        s.push_str(&format!(
            "1-year recall with the cap, ours / the better field planner (applesauce, coracle): mean {:.3}×, min {:.3}×\n",
            mean(&SweepRow::field_ratio_1y),
            min(&SweepRow::field_ratio_1y),
        ));
        s.push_str(&format!(
            "the better field planner as shipped (no cap): 1-year recall {:.1}%, largest share {:.1}%; ours with the cap / it: mean {:.3}×, min {:.3}×\n",
            mean(&|r| r.field_shipped.0 * 100.0),
            mean(&|r| r.field_shipped.1 * 100.0),
            mean(&|r| ratio(r.capped_1y, r.field_shipped.0)),
            min(&|r| ratio(r.capped_1y, r.field_shipped.0)),
        ));
        s.push_str(&format!(
            "gap to the ceiling (1-year): ours reaches {:.1}% of the ceiling's recall on average\n",
            mean(&|r| ratio(r.capped_1y, r.ceiling_1y) * 100.0),
        ));
        s
    }
}
