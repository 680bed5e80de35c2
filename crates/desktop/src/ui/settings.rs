//! The Settings tab: the app's look (scale, theme, contrast), the web of
//! trust, pictures, notifications, privacy and the network, the user's
//! data. Every change is one command to the worker.

use egui::{Color32, Stroke, Ui, Visuals};
use samizdat_client::notify::NotifyMode;

use super::start::labelled_field;
use super::Main;
use crate::protocol::Command;

/// The web of trust's thresholds and the gift-wrap gate.
fn trust_settings(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    ui.separator();
    ui.heading("Web of trust");
    ui.weak(
        "Computed here from your follows' follow and mute lists. Score: followed by N of your \
         follows − 2 × muted by M of them; people you follow always pass. Below a threshold, \
         items wait behind \"N from people outside your network\".",
    );
    let t = &mut main.trust;
    egui::Grid::new("trust-thresholds").show(ui, |ui| {
        for (label, value) in [
            ("Inbox threshold", &mut t.inbox),
            ("Messages threshold (below: requests)", &mut t.dms),
            ("Thread replies threshold", &mut t.replies),
            ("Search threshold", &mut t.search),
            ("Notifications threshold", &mut t.notifications),
        ] {
            let l = ui.label(label);
            ui.add(egui::DragValue::new(value).range(-100..=100))
                .labelled_by(l.id);
            ui.end_row();
        }
        let l = ui.label("Strangers' messages opened per relay and hour");
        ui.add(egui::DragValue::new(&mut t.stranger_wraps_per_hour).range(0..=10_000))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label("Proof of work that lets a stranger's message in (bits)");
        ui.add(egui::DragValue::new(&mut t.wrap_pow_accepted).range(0..=64))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label("Proof of work on your messages (bits; 0: none)");
        ui.add(egui::DragValue::new(&mut t.wrap_pow).range(0..=32))
            .labelled_by(l.id)
            .on_hover_text("Work on a wrap marks it as coming from a client that adds work");
        ui.end_row();
    });
    if ui.button("Save web of trust").clicked() {
        commands.push(Command::SetTrust(main.trust));
    }
}

/// App settings: scale, theme, trust, pictures, notifications, privacy,
/// the user's data.
pub fn settings(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    ui.heading("Settings");
    let before = main.prefs.clone();
    ui.horizontal(|ui| {
        let l = ui.label("UI scale");
        ui.add(egui::Slider::new(&mut main.prefs.ui_scale, 0.5..=3.0).step_by(0.05))
            .labelled_by(l.id);
        for s in [1.0, 1.25, 1.5, 2.0] {
            if ui.small_button(format!("{s}×")).clicked() {
                main.prefs.ui_scale = s;
            }
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut main.prefs.dark, "Dark theme");
        ui.checkbox(&mut main.prefs.high_contrast, "High contrast");
    });
    ui.horizontal(|ui| {
        let l = ui.label("Lock after minutes idle (0: never)");
        ui.add(egui::DragValue::new(&mut main.prefs.idle_lock_minutes).range(0..=1440))
            .labelled_by(l.id);
    });
    if main.prefs != before {
        commands.push(Command::SavePrefs(main.prefs.clone()));
    }
    trust_settings(ui, main, commands);
    ui.separator();
    super::media::settings(ui, &mut main.pictures, commands);
    ui.separator();
    ui.heading("Privacy");
    ui.label("Pictures: as chosen under Pictures (click to load by default). Link previews: never loaded. Links open in your browser only when you click them, after a warning: the browser does not go through Samizdat's proxy.");
    if ui
        .checkbox(
            &mut main.nip05_checks,
            "Check NIP-05 names (a person page asks the name's domain, through the proxy when set)",
        )
        .changed()
    {
        commands.push(Command::SetNip05Checks(main.nip05_checks));
    }
    ui.label(format!("Network: {}.", main.network));
    ui.horizontal(|ui| {
        labelled_field(ui, "SOCKS5 proxy", &mut main.proxy_field, false);
        if ui.button("Use proxy").clicked() && !main.proxy_field.trim().is_empty() {
            commands.push(Command::SetNetwork(Some(
                main.proxy_field.trim().to_owned(),
            )));
        }
        if ui.button("Tor (127.0.0.1:9050)").clicked() {
            commands.push(Command::SetNetwork(Some(
                samizdat_client::network::TOR.to_owned(),
            )));
        }
        if ui.button("Direct").clicked() {
            commands.push(Command::SetNetwork(None));
        }
    });
    ui.horizontal(|ui| {
        labelled_field(ui, "Relay reached directly", &mut main.direct_field, false);
        let url = main.direct_field.trim().to_owned();
        if ui
            .button("Reach directly")
            .on_hover_text("this relay only: it sees your IP address")
            .clicked()
            && !url.is_empty()
        {
            commands.push(Command::SetDirect(url.clone(), true));
            main.direct_field.clear();
        }
        if ui.button("Through the proxy again").clicked() && !url.is_empty() {
            commands.push(Command::SetDirect(url, false));
            main.direct_field.clear();
        }
    });
    ui.weak("With a proxy, every connection goes through it and nothing connects when it is down; a relay is reached directly only if you name it here. NIP-42 AUTH is denied unless a relay's policy allows or asks (Relays tab).");
    ui.separator();
    own_data(ui, main, commands);
    ui.separator();
    notifications(ui, main, commands);
    ui.separator();
    ui.label(format!("Profile: {}", main.profile));
    ui.monospace(nostr::nips::nip19::ToBech32::to_bech32(&main.me).unwrap_or_default());
    ui.weak("Keys: j / k move, Enter opens the thread, r replies, / searches, Esc goes back.");
}

/// "Your data": replication check, restore, backups (one command each).
fn own_data(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    use crate::protocol::OwnData;
    ui.heading("Your data");
    ui.horizontal(|ui| {
        if ui
            .button("Check my relays")
            .on_hover_text("do your relays still hold your events? what is missing is sent again")
            .clicked()
        {
            commands.push(Command::OwnData(OwnData::Replicate));
        }
        if ui
            .button("Restore from relays")
            .on_hover_text("fetch your whole history from every relay you ever listed")
            .clicked()
        {
            commands.push(Command::OwnData(OwnData::Restore));
        }
    });
    ui.horizontal(|ui| {
        labelled_field(ui, "Backup file", &mut main.backup_path, false);
        let path = main.backup_path.trim();
        if ui.button("Export").clicked() && !path.is_empty() {
            commands.push(Command::OwnData(OwnData::Export(path.into())));
        }
        if ui.button("Import").clicked() && !path.is_empty() {
            commands.push(Command::OwnData(OwnData::Import(path.into())));
        }
    });
    match &main.own_data {
        Some(lines) if lines.is_empty() => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak("working…");
            });
        }
        Some(lines) => {
            for line in lines {
                ui.label(line);
            }
        }
        None => {}
    }
}

/// OS notifications: off, on, messages only; quiet hours; message text.
fn notifications(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    ui.heading("Notifications");
    let before = main.notify.clone();
    ui.horizontal(|ui| {
        for (mode, label) in [
            (NotifyMode::Off, "Off"),
            (NotifyMode::On, "Mentions, replies, reactions, messages"),
            (NotifyMode::DmsOnly, "Messages only"),
        ] {
            ui.radio_value(&mut main.notify.mode, mode, label);
        }
    });
    ui.horizontal(|ui| {
        let mut quiet = main.notify.quiet.is_some();
        ui.checkbox(&mut quiet, "Quiet hours");
        let (mut from, mut to) = main.notify.quiet.unwrap_or((22, 7));
        ui.add_enabled_ui(quiet, |ui| {
            let l = ui.label("from");
            ui.add(egui::DragValue::new(&mut from).range(0..=23).suffix(":00"))
                .labelled_by(l.id);
            let l = ui.label("to");
            ui.add(egui::DragValue::new(&mut to).range(0..=23).suffix(":00"))
                .labelled_by(l.id);
        });
        main.notify.quiet = quiet.then_some((from, to));
    });
    ui.checkbox(
        &mut main.notify.show_dm_text,
        "Show a message's text in its notification (anyone looking at your screen can read it)",
    );
    ui.weak("Only people at or above the notifications threshold of the web of trust notify; strangers' messages wait in Requests without a sound.");
    if main.notify != before {
        commands.push(Command::SetNotify(main.notify.clone()));
    }
}

/// The theme: dark or light, and in high contrast pure black and white
/// with thick outlines and a yellow ring on the focused widget.
pub fn visuals(dark: bool, high_contrast: bool) -> Visuals {
    let mut v = if dark {
        Visuals::dark()
    } else {
        Visuals::light()
    };
    if !high_contrast {
        return v;
    }
    let (fg, bg) = if dark {
        (Color32::WHITE, Color32::BLACK)
    } else {
        (Color32::BLACK, Color32::WHITE)
    };
    let focus = if dark {
        Color32::YELLOW
    } else {
        Color32::from_rgb(0, 0, 160)
    };
    v.override_text_color = Some(fg);
    v.panel_fill = bg;
    v.window_fill = bg;
    v.extreme_bg_color = bg;
    v.faint_bg_color = bg;
    v.hyperlink_color = focus;
    v.selection.stroke = Stroke::new(2.0, focus);
    v.selection.bg_fill = if dark {
        Color32::from_rgb(80, 80, 0)
    } else {
        Color32::from_rgb(200, 200, 255)
    };
    for w in [
        &mut v.widgets.noninteractive,
        &mut v.widgets.inactive,
        &mut v.widgets.open,
    ] {
        w.bg_stroke = Stroke::new(1.5, fg);
        w.fg_stroke = Stroke::new(1.5, fg);
        w.bg_fill = bg;
        w.weak_bg_fill = bg;
    }
    for w in [&mut v.widgets.hovered, &mut v.widgets.active] {
        w.bg_stroke = Stroke::new(3.0, focus);
        w.fg_stroke = Stroke::new(2.0, fg);
    }
    v
}
