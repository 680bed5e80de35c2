//! # samizdat-desktop
//!
//! The egui app on the client session. The UI thread draws and nothing
//! else: every button is a [`protocol::Command`] to the [`worker`] (a tokio
//! runtime on its own threads that owns the `Session`), and everything the
//! engine learns comes back as a [`protocol::Update`] drained once per
//! frame. The app holds no business logic: events are built, signed,
//! targeted and queued by `samizdat-client`; names, content segments,
//! threads and coverage come from it too.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod approver;
pub mod bench;
pub mod bridge;
pub mod notifier;
pub mod prefs;
pub mod protocol;
pub mod ui;
pub mod view;
pub mod worker;

pub use bridge::{Bridge, WorkerConfig};
pub use ui::{AppOptions, DesktopApp};

impl eframe::App for DesktopApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let started = std::time::Instant::now();
        self.ui(ctx);
        if let Some(b) = self.bench.as_mut() {
            b.record_update(started.elapsed());
        }
    }
}
