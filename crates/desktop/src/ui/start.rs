//! The start screen: unlock a profile, create one (new key, import, or a
//! `bunker://` remote signer), or try the demo. scrypt and pairing happen in
//! the worker; this screen shows a spinner meanwhile.

use egui::{RichText, Ui};
use samizdat_client::access::{passphrase_strength, Strength};
use secrecy::SecretString;

use super::DesktopApp;
use crate::protocol::{Command, KeyChoice};

/// A text field with a label the accessibility tree (and the tests) can
/// find it by.
pub fn labelled_field(
    ui: &mut Ui,
    label: &str,
    value: &mut String,
    password: bool,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(
            egui::TextEdit::singleline(value)
                .password(password)
                .desired_width(320.0),
        )
        .labelled_by(l.id)
    })
    .inner
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// Draws the start screen.
pub fn show(app: &mut DesktopApp, ctx: &egui::Context) {
    egui::CentralPanel::default().show(ctx, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(24.0);
            ui.heading(RichText::new("Samizdat").size(32.0));
            ui.label("Follow people, not relays. Leak as little as possible while doing it.");
        });
        ui.add_space(16.0);
        if let Some(busy) = &app.start.busy {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(busy);
            });
        }
        if let Some(e) = &app.start.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let enabled = app.start.busy.is_none();
        ui.add_enabled_ui(enabled, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                unlock(app, ui);
                ui.separator();
                create(app, ui);
                ui.separator();
                ui.horizontal(|ui| {
                    if ui.button("Try the demo").clicked() {
                        app.start.error = None;
                        app.send(Command::Demo);
                    }
                    ui.weak(
                        "relays on 127.0.0.1 with a generated network; nothing leaves this machine",
                    );
                });
            });
        });
    });
}

fn unlock(app: &mut DesktopApp, ui: &mut Ui) {
    ui.heading("Unlock a profile");
    if app.start.profiles.is_empty() {
        ui.weak("No profile on this machine yet.");
        return;
    }
    ui.horizontal_wrapped(|ui| {
        for p in &app.start.profiles {
            let label = if p.remote {
                format!("{} (remote signer)", p.name)
            } else {
                p.name.clone()
            };
            let chosen = app.start.chosen.as_deref() == Some(p.name.as_str());
            if ui.selectable_label(chosen, label).clicked() {
                app.start.chosen = Some(p.name.clone());
            }
        }
    });
    let response = labelled_field(ui, "Passphrase", &mut app.start.passphrase, true);
    let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if (ui.button("Unlock").clicked() || enter) && !app.start.passphrase.is_empty() {
        if let Some(name) = app.start.chosen.clone() {
            if app.open_profiles().contains(&name) {
                app.start.error = Some(format!(
                    "{name} is already open: switch to it in the Accounts list"
                ));
                secrecy::zeroize::Zeroize::zeroize(&mut app.start.passphrase);
                return;
            }
            app.start.error = None;
            let passphrase = secret(&app.start.passphrase);
            secrecy::zeroize::Zeroize::zeroize(&mut app.start.passphrase);
            app.send(Command::Unlock { name, passphrase });
        }
    }
}

fn create(app: &mut DesktopApp, ui: &mut Ui) {
    ui.heading("Create a profile");
    let s = &mut app.start;
    labelled_field(ui, "Profile name", &mut s.new_name, false);
    ui.horizontal(|ui| {
        ui.radio_value(&mut s.source, 0, "New key");
        ui.radio_value(&mut s.source, 1, "Import nsec / ncryptsec");
        ui.radio_value(&mut s.source, 2, "Remote signer (bunker://)");
    });
    match s.source {
        1 => {
            labelled_field(ui, "Key to import", &mut s.import, true);
            if s.import.trim().starts_with("ncryptsec1") {
                labelled_field(ui, "Its passphrase", &mut s.import_pass, true);
            } else if s.import.trim().starts_with("nsec1") {
                ui.weak("A plain key will be marked as having been handled unencrypted.");
            }
        }
        2 => {
            labelled_field(ui, "Bunker URI", &mut s.import, false);
            ui.weak("Your key stays with the signer; this app keeps only its own pairing key.");
        }
        _ => {}
    }
    labelled_field(ui, "New passphrase", &mut s.new_pass.0, true);
    labelled_field(ui, "Repeat passphrase", &mut s.new_pass.1, true);
    let strength = passphrase_strength(&s.new_pass.0);
    let colour = match strength {
        Strength::Strong => egui::Color32::from_rgb(90, 180, 110),
        Strength::Fair => egui::Color32::from_rgb(220, 170, 60),
        _ => ui.visuals().error_fg_color,
    };
    ui.colored_label(colour, strength.hint());
    let matches = s.new_pass.0 == s.new_pass.1;
    if !matches && !s.new_pass.1.is_empty() {
        ui.colored_label(ui.visuals().error_fg_color, "the passphrases differ");
    }
    let ready = !s.new_name.trim().is_empty()
        && strength != Strength::Empty
        && matches
        && (s.source == 0 || !s.import.trim().is_empty());
    if ui
        .add_enabled(ready, egui::Button::new("Create profile"))
        .clicked()
    {
        let key = match s.source {
            1 => KeyChoice::Import {
                key: secret(s.import.trim()),
                passphrase: (!s.import_pass.is_empty()).then(|| secret(&s.import_pass)),
            },
            2 => KeyChoice::Bunker(s.import.trim().to_owned()),
            _ => KeyChoice::Generate,
        };
        let command = Command::Create {
            name: s.new_name.trim().to_owned(),
            key,
            passphrase: secret(&s.new_pass.0),
        };
        s.error = None;
        app.send(command);
    }
}
