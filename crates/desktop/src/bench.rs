//! `samizdat-desktop --demo --bench`: time from start to the first painted
//! feed, then the feed replaced by N generated notes and scrolled frame by
//! frame, measuring each frame (from one `update` to the next, continuous
//! repaint: layout, tessellation, painting and the buffer swap) and the
//! app's own share of it (`update` alone), then memory. Prints one JSON
//! line and closes the window.

use std::time::{Duration, Instant};

use crate::protocol::Command;
use crate::ui::DesktopApp;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Notes in the scrolled feed.
    pub notes: usize,
    /// Frames measured.
    pub frames: usize,
    /// Points scrolled per frame.
    pub scroll_px: f32,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            notes: 10_000,
            frames: 600,
            scroll_px: 45.0,
        }
    }
}

enum Phase {
    WaitingForFeed,
    Loading,
    Scrolling {
        last: Instant,
        frames: Vec<Duration>,
    },
    Done,
}

/// The benchmark's state, driven once per frame.
pub struct Bench {
    config: BenchConfig,
    phase: Phase,
    update_times: Vec<Duration>,
}

impl Bench {
    /// A benchmark not started yet.
    pub fn new(config: BenchConfig) -> Self {
        Self {
            config,
            phase: Phase::WaitingForFeed,
            update_times: Vec::new(),
        }
    }

    /// Records how long one `update` took (the app's own share of a frame).
    pub fn record_update(&mut self, took: Duration) {
        if matches!(self.phase, Phase::Scrolling { .. }) {
            self.update_times.push(took);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// VmRSS and VmHWM in MiB, from /proc (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Advances the benchmark by one frame.
pub fn frame(app: &mut DesktopApp, ctx: &egui::Context) {
    let bridge = app.bridge.as_ref();
    let Some(bench) = app.bench.as_mut() else {
        return;
    };
    let feed_len = app.main.as_ref().map_or(0, |m| m.feed.len());
    match &mut bench.phase {
        Phase::WaitingForFeed => {
            if app.first_feed.is_some() {
                bench.phase = Phase::Loading;
                if let Some(b) = bridge {
                    b.send(Command::BenchFeed(bench.config.notes));
                }
            }
        }
        Phase::Loading => {
            if feed_len == bench.config.notes {
                bench.phase = Phase::Scrolling {
                    last: Instant::now(),
                    frames: Vec::new(),
                };
            }
        }
        Phase::Scrolling { last, frames } => {
            frames.push(last.elapsed());
            *last = Instant::now();
            if let Some(main) = app.main.as_mut() {
                main.feed_list.scroll_by = bench.config.scroll_px;
            }
            if frames.len() > bench.config.frames {
                // The first frames lay out fonts and cards: not steady state.
                let mut steady: Vec<Duration> = frames.iter().skip(10).copied().collect();
                steady.sort();
                let mut updates: Vec<Duration> =
                    bench.update_times.iter().skip(10).copied().collect();
                updates.sort();
                let (rss, hwm) = memory_mib();
                println!(
                    "{}",
                    serde_json::json!({
                        "first_frame_ms": app.first_frame.map(|d| d.as_millis() as u64),
                        "session_open_ms": app.opened_at.map(|d| d.as_millis() as u64),
                        "first_feed_ms": app.first_feed.map(|d| d.as_millis() as u64),
                        "feed_after_open_ms": app.first_feed.zip(app.opened_at).map(|(f, o)| f.saturating_sub(o).as_millis() as u64),
                        "notes": bench.config.notes,
                        "frames": steady.len(),
                        "frame_ms_median": percentile(&steady, 0.5),
                        "frame_ms_p99": percentile(&steady, 0.99),
                        "frame_ms_max": percentile(&steady, 1.0),
                        "update_ms_median": percentile(&updates, 0.5),
                        "update_ms_p99": percentile(&updates, 0.99),
                        "rss_mib": rss,
                        "peak_rss_mib": hwm,
                    })
                );
                bench.phase = Phase::Done;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
        Phase::Done => {}
    }
    if !matches!(bench.phase, Phase::Done) {
        ctx.request_repaint();
    }
}
