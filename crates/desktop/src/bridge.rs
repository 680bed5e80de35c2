//! The only link between the UI thread and everything slow: a tokio runtime
//! on its own threads running the worker, a command channel down (sending
//! never blocks) and an update channel up (drained once per frame with
//! `try_recv`, never waited on). Each update asks egui for a repaint, so the
//! UI sleeps when nothing happens and wakes when something does.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc as tokio_mpsc;

use crate::protocol::{Command, Update};
use crate::worker::Worker;

/// Sends updates to the UI and wakes it.
#[derive(Clone)]
pub struct UpdateSink {
    tx: mpsc::Sender<Update>,
    ctx: egui::Context,
}

impl UpdateSink {
    /// Sends `update`; false once the UI is gone.
    pub fn send(&self, update: Update) -> bool {
        let ok = self.tx.send(update).is_ok();
        self.ctx.request_repaint();
        ok
    }
}

/// How the worker runs.
#[derive(Clone)]
pub struct WorkerConfig {
    /// Where profiles live (`$SAMIZDAT_HOME` or the platform data dir).
    pub home: PathBuf,
    /// scrypt cost for new keys (18 unless a test asks for less).
    pub log_n: u8,
    /// The session's settings (time-outs, intervals).
    pub session: samizdat_client::SessionConfig,
    /// How long an "ask" question waits for the user before it is a no.
    pub ask_timeout: Duration,
    /// Where the demo profile lives between runs (`--keep-demo`: a second
    /// run starts warm, its feed already in the store); `None`: a temporary
    /// directory each time.
    pub demo_dir: Option<PathBuf>,
    /// The D-Bus address notifications go to (`None`: the session bus).
    pub notify_bus: Option<String>,
    /// Benchmark: fill the demo profile's store to this many events before
    /// it opens (0: no).
    pub bench_fill: usize,
}

impl WorkerConfig {
    /// The defaults for `home`.
    pub fn new(home: PathBuf) -> Self {
        let mut session = samizdat_client::SessionConfig::default();
        session.engine.phase_timeout = Duration::from_secs(15);
        session.engine.net.transport.connect_timeout = Duration::from_secs(5);
        session.engine.net.ok_timeout = Duration::from_secs(8);
        Self {
            home,
            log_n: samizdat_client::keystore::DEFAULT_LOG_N,
            session,
            ask_timeout: Duration::from_secs(300),
            demo_dir: None,
            notify_bus: None,
            bench_fill: 0,
        }
    }
}

/// The UI's end of the link.
pub struct Bridge {
    commands: tokio_mpsc::UnboundedSender<Command>,
    updates: mpsc::Receiver<Update>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Bridge {
    /// Starts the runtime and the worker; `ctx` is woken on every update.
    pub fn start(ctx: egui::Context, config: WorkerConfig) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("samizdat-worker")
            .enable_all()
            .build()?;
        let (commands, command_rx) = tokio_mpsc::unbounded_channel();
        let (tx, updates) = mpsc::channel();
        let sink = UpdateSink { tx, ctx };
        runtime.spawn(Worker::new(config, sink).run(command_rx));
        Ok(Self {
            commands,
            updates,
            runtime: Some(runtime),
        })
    }

    /// Sends a command; never blocks.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Every update that arrived since the last call; never blocks.
    pub fn drain(&self) -> Vec<Update> {
        self.updates.try_iter().collect()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Lock);
        if let Some(rt) = self.runtime.take() {
            // Give the worker a moment to close the session cleanly; what is
            // queued for delivery stays queued in the store either way.
            rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}
