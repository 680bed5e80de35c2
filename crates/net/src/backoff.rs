//! Reconnect timing: exponential backoff with jitter, and a penalty box whose
//! length depends on how the relay failed. Pure functions of their inputs
//! (the jitter source is passed in), so they are tested without clocks.

use std::time::Duration;

use samizdat_store::FailureClass;

/// Backoff settings.
#[derive(Debug, Clone)]
pub struct BackoffConfig {
    /// Delay after the first failure.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Share of the delay that is randomised (0.0 to 1.0).
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(15 * 60),
            jitter: 0.3,
        }
    }
}

/// How much longer than the plain backoff a failure class keeps a relay out.
/// A refused connection or an HTTP error on upgrade is unlikely to heal in
/// seconds; a clean close or a timeout may.
pub fn penalty_factor(class: FailureClass) -> u32 {
    match class {
        FailureClass::Closed => 1,
        FailureClass::Timeout => 2,
        FailureClass::Other => 2,
        FailureClass::Refused => 4,
        FailureClass::Protocol => 4,
        FailureClass::Dns => 8,
        FailureClass::Http => 8,
    }
}

/// The wait before reconnect attempt number `failures` (1 = after the first
/// failure), given the last failure's class and a jitter sample in `[0, 1)`.
pub fn delay(
    config: &BackoffConfig,
    failures: u32,
    class: FailureClass,
    jitter_sample: f64,
) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let plain = config.base.saturating_mul(1u32 << exp);
    let penalised = plain.saturating_mul(penalty_factor(class)).min(config.max);
    let jitter = config.jitter.clamp(0.0, 1.0);
    // Spread over [1 - jitter, 1] of the delay, so many clients do not return at once.
    let scale = 1.0 - jitter * jitter_sample.clamp(0.0, 1.0);
    penalised.mul_f64(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_to_the_cap() {
        let c = BackoffConfig {
            jitter: 0.0,
            ..BackoffConfig::default()
        };
        let d: Vec<u64> = (1..=5)
            .map(|n| delay(&c, n, FailureClass::Closed, 0.5).as_millis() as u64)
            .collect();
        assert_eq!(d, vec![500, 1000, 2000, 4000, 8000]);
        assert_eq!(delay(&c, 40, FailureClass::Closed, 0.5), c.max);
    }

    #[test]
    fn failure_classes_weigh_differently_and_jitter_only_shortens() {
        let c = BackoffConfig::default();
        let closed = delay(&c, 3, FailureClass::Closed, 0.0);
        let http = delay(&c, 3, FailureClass::Http, 0.0);
        assert_eq!(http, closed * 8);
        let jittered = delay(&c, 3, FailureClass::Closed, 0.99);
        assert!(jittered < closed && jittered >= closed.mul_f64(0.7));
    }
}
