//! Prometheus metrics, served at `/metrics` in the text exposition format:
//! connections, events accepted and refused (by the refusal's prefix),
//! REQ/COUNT/NEG-OPEN requests, and query latency as a histogram. Counts
//! only: no key, address or content is ever a label.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the query-latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The relay's counters. Cheap to bump from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    connections_refused: Mutex<BTreeMap<&'static str, u64>>,
    events_accepted: AtomicU64,
    events_refused: Mutex<BTreeMap<String, u64>>,
    requests: Mutex<BTreeMap<&'static str, u64>>,
    latency_buckets: [AtomicU64; 10],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    admin_actions: AtomicU64,
    cluster_events: AtomicU64,
    blob_requests: Mutex<BTreeMap<&'static str, u64>>,
    blobs_stored: AtomicI64,
    blob_bytes: AtomicI64,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    *m.entry(key).or_default() += 1;
}

impl Metrics {
    /// A connection opened.
    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed.
    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// A connection was refused before the upgrade (`blocked`, `too_many`).
    pub fn connection_refused(&self, why: &'static str) {
        bump(&self.connections_refused, why);
    }

    /// An EVENT was answered: accepted, or refused with `reason` (counted by
    /// its machine-readable prefix, e.g. `invalid`, `restricted`, `pow`).
    pub fn event_answered(&self, accepted: bool, reason: &str) {
        if accepted {
            self.events_accepted.fetch_add(1, Ordering::Relaxed);
        } else {
            let prefix = reason
                .split_once(':')
                .map_or("error", |(p, _)| p)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(24)
                .collect::<String>();
            bump(&self.events_refused, prefix);
        }
    }

    /// A request of `verb` (`REQ`, `COUNT`, `NEG-OPEN`) arrived.
    pub fn request(&self, verb: &'static str) {
        bump(&self.requests, verb);
    }

    /// A store query took `elapsed`.
    pub fn query_took(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(LATENCY_BUCKETS) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// `n` events from other nodes of the cluster were fanned out here.
    pub fn cluster_received(&self, n: usize) {
        self.cluster_events.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// An admin used the management API.
    pub fn admin_action(&self) {
        self.admin_actions.fetch_add(1, Ordering::Relaxed);
    }

    /// A Blossom request of `verb` (`get`, `upload`, `mirror`, `list`,
    /// `delete`) was answered.
    pub fn blob_request(&self, verb: &'static str) {
        bump(&self.blob_requests, verb);
    }

    /// The blob store now holds `count` blobs of `bytes` in all.
    pub fn set_blobs(&self, count: u64, bytes: u64) {
        self.blobs_stored.store(count as i64, Ordering::Relaxed);
        self.blob_bytes.store(bytes as i64, Ordering::Relaxed);
    }

    /// The current open connections.
    pub fn open_connections(&self) -> i64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, kind: &str, lines: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        counter(
            "samizdat_relay_connections_open",
            "Open websocket connections.",
            "gauge",
            vec![(String::new(), self.open_connections().to_string())],
        );
        counter(
            "samizdat_relay_connections_total",
            "Websocket connections accepted since start.",
            "counter",
            vec![(String::new(), load(&self.connections_total).to_string())],
        );
        counter(
            "samizdat_relay_connections_refused_total",
            "Connections refused before the upgrade, by reason.",
            "counter",
            labelled("reason", &self.connections_refused),
        );
        counter(
            "samizdat_relay_events_accepted_total",
            "EVENTs answered OK true.",
            "counter",
            vec![(String::new(), load(&self.events_accepted).to_string())],
        );
        counter(
            "samizdat_relay_events_refused_total",
            "EVENTs answered OK false, by the reason's prefix.",
            "counter",
            labelled("reason", &self.events_refused),
        );
        counter(
            "samizdat_relay_requests_total",
            "Read requests, by verb.",
            "counter",
            labelled("verb", &self.requests),
        );
        counter(
            "samizdat_relay_admin_actions_total",
            "NIP-86 management calls by admins.",
            "counter",
            vec![(String::new(), load(&self.admin_actions).to_string())],
        );
        counter(
            "samizdat_relay_cluster_events_total",
            "Events other nodes of the cluster stored (or relayed) and this node fanned out.",
            "counter",
            vec![(String::new(), load(&self.cluster_events).to_string())],
        );
        counter(
            "samizdat_relay_blob_requests_total",
            "Blossom requests, by verb.",
            "counter",
            labelled("verb", &self.blob_requests),
        );
        let gauge = |a: &AtomicI64| vec![(String::new(), a.load(Ordering::Relaxed).to_string())];
        counter(
            "samizdat_relay_blobs",
            "Blobs stored.",
            "gauge",
            gauge(&self.blobs_stored),
        );
        counter(
            "samizdat_relay_blob_bytes",
            "Bytes of blobs stored.",
            "gauge",
            gauge(&self.blob_bytes),
        );
        let mut lines: Vec<(String, String)> = self
            .latency_buckets
            .iter()
            .zip(LATENCY_BUCKETS)
            .map(|(b, bound)| (format!("_bucket{{le=\"{bound}\"}}"), load(b).to_string()))
            .collect();
        let count = load(&self.latency_count);
        lines.push(("_bucket{le=\"+Inf\"}".into(), count.to_string()));
        lines.push((
            "_sum".into(),
            format!("{}", load(&self.latency_sum_micros) as f64 / 1e6),
        ));
        lines.push(("_count".into(), count.to_string()));
        counter(
            "samizdat_relay_query_seconds",
            "Store query time for REQ, COUNT and NEG-OPEN.",
            "histogram",
            lines,
        );
        out
    }
}

fn labelled<K: AsRef<str> + Ord>(
    label: &str,
    map: &Mutex<BTreeMap<K, u64>>,
) -> Vec<(String, String)> {
    let m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.iter()
        .map(|(k, v)| (format!("{{{label}=\"{}\"}}", k.as_ref()), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_prefix_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.connection_opened();
        m.event_answered(true, "");
        m.event_answered(false, "restricted: personal relay");
        m.event_answered(false, "restricted: again");
        m.event_answered(false, "no prefix at all");
        m.query_took(Duration::from_millis(3));
        m.query_took(Duration::from_secs(2));
        let text = m.render();
        assert!(text.contains("samizdat_relay_connections_open 1"), "{text}");
        assert!(text.contains("samizdat_relay_events_refused_total{reason=\"restricted\"} 2"));
        assert!(text.contains("samizdat_relay_events_refused_total{reason=\"error\"} 1"));
        assert!(text.contains("samizdat_relay_query_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("samizdat_relay_query_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("samizdat_relay_query_seconds_count 2"));
    }
}
