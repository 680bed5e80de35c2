//! Several accounts open at once. Each account is a [`Bridge`] of its own:
//! its own worker, session, store and connections (and its own proxy
//! circuits: every session draws a new isolation nonce), so no connection
//! ever carries two accounts. The account shown is `DesktopApp::bridge` and
//! `DesktopApp::main`; the others wait in [`DesktopApp::others`], still
//! syncing, their updates applied as they come, so switching is a swap.
//! Locking one closes only that one.

use std::collections::VecDeque;

use egui::RichText;
use samizdat_net::Question;

use super::{DesktopApp, Main};
use crate::bridge::Bridge;
use crate::protocol::{Command, Update};

/// An account open in the background.
pub struct Account {
    /// Its link to its own worker.
    pub bridge: Bridge,
    /// What it shows.
    pub main: Main,
    /// Its "ask" questions waiting for an answer (shown once it is active).
    pub asks: VecDeque<(u64, Question)>,
}

impl DesktopApp {
    /// The profiles open now, the shown one first.
    pub fn open_profiles(&self) -> Vec<String> {
        self.main
            .iter()
            .map(|m| m.profile.clone())
            .chain(self.others.iter().map(|a| a.main.profile.clone()))
            .collect()
    }

    /// Keeps the account shown open in the background and shows the start
    /// screen, with a worker of its own, to open another.
    pub fn add_account(&mut self) {
        let (Some(bridge), Some(main)) = (self.bridge.take(), self.main.take()) else {
            return;
        };
        self.others.push(Account {
            bridge,
            main,
            asks: std::mem::take(&mut self.asks),
        });
        self.zoom_applied = None;
        self.start.error = None;
    }

    /// Shows the background account `index`; the one shown goes to the
    /// background (or, on the start screen, its idle worker is dropped).
    pub fn switch_to(&mut self, index: usize) {
        if index >= self.others.len() {
            return;
        }
        let account = self.others.remove(index);
        let previous_bridge = self.bridge.replace(account.bridge);
        let previous_main = self.main.replace(account.main);
        let previous_asks = std::mem::replace(&mut self.asks, account.asks);
        if let (Some(bridge), Some(main)) = (previous_bridge, previous_main) {
            self.others.insert(
                index,
                Account {
                    bridge,
                    main,
                    asks: previous_asks,
                },
            );
        }
        self.zoom_applied = None;
        self.last_input = std::time::Instant::now();
    }

    /// Locks the background account `index` (its session closes, its key
    /// leaves memory); the others stay open.
    pub fn lock_other(&mut self, index: usize) {
        if index < self.others.len() {
            let account = self.others.remove(index);
            account.bridge.send(Command::Lock);
            // Dropping the bridge waits for its worker to close the session.
            drop(account);
        }
    }

    /// Applies what the background accounts' workers sent.
    pub(super) fn drain_others(&mut self, ctx: &egui::Context) {
        let mut locked = Vec::new();
        for (i, account) in self.others.iter_mut().enumerate() {
            for update in account.bridge.drain() {
                match update {
                    Update::Picture(url, result) => account.main.pictures.arrived(ctx, url, result),
                    Update::Ask(id, q) => account.asks.push_back((id, q)),
                    Update::Locked => locked.push(i),
                    Update::Opened { .. } | Update::Profiles(_) | Update::Busy(_) => {}
                    Update::StartFailed(e) => account.main.status = e,
                    other => account.main.apply(other),
                }
            }
        }
        for i in locked.into_iter().rev() {
            self.others.remove(i);
        }
    }
}

/// The accounts sidebar: the one shown, the others (click to switch, with
/// what waits in each, or lock), "Add account". Drawn once an account is
/// open, and on the start screen while others are.
pub fn sidebar(app: &mut DesktopApp, ctx: &egui::Context) {
    if app.others.is_empty() && app.main.is_none() {
        return;
    }
    let mut switch = None;
    let mut lock = None;
    let mut add = false;
    egui::SidePanel::left("accounts")
        .resizable(false)
        .exact_width(170.0)
        .show(ctx, |ui| {
            ui.add_space(4.0);
            ui.label(RichText::new("Accounts").strong());
            ui.separator();
            match &app.main {
                Some(main) => {
                    ui.add(egui::Button::selectable(true, account_label(main, 0)))
                        .on_hover_text("shown now");
                }
                None => {
                    ui.add(egui::Button::selectable(true, "New account…"));
                }
            }
            for (i, account) in app.others.iter().enumerate() {
                ui.horizontal(|ui| {
                    let lock_button = ui
                        .small_button("Lock")
                        .on_hover_text(format!("lock {}", account.main.profile));
                    // Screen readers (and tests) hear which account it locks.
                    let name = format!("Lock {}", account.main.profile);
                    lock_button.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::WidgetType::Button, true, &name)
                    });
                    if lock_button.clicked() {
                        lock = Some(i);
                    }
                    let label = account_label(&account.main, account.asks.len());
                    if ui
                        .add(egui::Button::selectable(false, label).truncate())
                        .on_hover_text("switch to this account")
                        .clicked()
                    {
                        switch = Some(i);
                    }
                });
            }
            ui.separator();
            if app.main.is_some() && ui.button("Add account").clicked() {
                add = true;
            }
            ui.weak("Each account has its own connections and proxy circuits.");
        });
    if let Some(i) = switch {
        app.switch_to(i);
    } else if let Some(i) = lock {
        app.lock_other(i);
    } else if add {
        app.add_account();
    }
}

/// "name (profile)" and what waits: unseen alerts, questions.
fn account_label(main: &Main, asks: usize) -> String {
    let mut label = if main.name.is_empty() || main.name == main.profile {
        main.profile.clone()
    } else {
        format!("{} ({})", main.name, main.profile)
    };
    let alerts = main.alerts.len().saturating_sub(main.alerts_seen) + asks;
    if alerts > 0 {
        label.push_str(&format!(" · {alerts}"));
    }
    label
}
