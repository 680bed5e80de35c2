//! Pictures in the app: on cards (a blurhash placeholder, "load" on click
//! by default, the picture once the worker has fetched, checked and decoded
//! it, or why it was refused), the viewer with zoom, the composer's
//! attachments (dropped files, or the in-app file picker), and the choices
//! (Settings, person pages). Nothing here fetches or decodes: the worker
//! does, and this turns finished pixels into textures.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use egui::{Color32, ColorImage, TextureHandle, TextureOptions, Ui, Vec2};
use samizdat_client::media::{MediaChoice, MediaDecision, MediaSettings};

use super::note::NoteAction;
use crate::protocol::{Command, MediaCommand};
use crate::view::{MediaCard, NoteView, PictureView};

/// Widest a picture is drawn on a card.
const CARD_WIDTH: f32 = 420.0;
/// Tallest a picture is drawn on a card.
const CARD_HEIGHT: f32 = 320.0;

/// One picture's state.
enum Slot {
    Loading,
    Shown {
        texture: TextureHandle,
        view: PictureView,
    },
    Failed(String),
}

/// Every picture the app has seen this session, by URL.
#[derive(Default)]
pub struct Pictures {
    slots: RefCell<HashMap<String, Slot>>,
    placeholders: RefCell<HashMap<String, TextureHandle>>,
    /// Loads the settings allow without a click, asked for while drawing.
    wanted: RefCell<Vec<MediaCommand>>,
    /// The picture open in the viewer, and its zoom.
    pub viewer: Option<(String, f32)>,
    /// The media settings as edited in Settings.
    pub settings: MediaSettings,
    /// Files to attach to the next post.
    pub attachments: Vec<PathBuf>,
    /// An upload under way: bytes sent, bytes in all.
    pub upload: Option<(u64, u64)>,
    /// The files of the post being sent (given back if it fails).
    pub sending: Vec<PathBuf>,
    /// The in-app file picker: the folder shown and its entries.
    pub picker: Option<(PathBuf, Vec<(String, bool)>)>,
}

impl Pictures {
    /// Takes a loaded (or refused) picture from the worker.
    pub fn arrived(
        &mut self,
        ctx: &egui::Context,
        url: String,
        result: Result<PictureView, String>,
    ) {
        let slot = match result {
            Ok(view) => {
                let image = ColorImage::from_rgba_unmultiplied(
                    [view.size.0 as usize, view.size.1 as usize],
                    &view.rgba,
                );
                let texture = ctx.load_texture(format!("pic {url}"), image, TextureOptions::LINEAR);
                Slot::Shown { texture, view }
            }
            Err(e) => Slot::Failed(e),
        };
        self.slots.get_mut().insert(url, slot);
    }

    /// Marks a picture as on its way.
    pub fn loading(&mut self, url: &str) {
        self.slots.get_mut().insert(url.to_owned(), Slot::Loading);
    }

    /// What drawing asked for (loads the settings allow), to send.
    pub fn take_wanted(&mut self) -> Vec<MediaCommand> {
        std::mem::take(self.wanted.get_mut())
    }

    /// Forgets loaded pictures and refusals (after a settings change).
    pub fn forget(&mut self) {
        self.slots.get_mut().clear();
    }

    fn placeholder(&self, ui: &Ui, card: &MediaCard) -> Option<TextureHandle> {
        let (w, h, px) = card.placeholder.as_ref()?;
        let mut cache = self.placeholders.borrow_mut();
        let texture = cache.entry(card.reference.url.clone()).or_insert_with(|| {
            let image = ColorImage::from_rgba_unmultiplied([*w as usize, *h as usize], px);
            ui.ctx().load_texture(
                format!("blurhash {}", card.reference.url),
                image,
                TextureOptions::LINEAR,
            )
        });
        Some(texture.clone())
    }
}

/// The size a picture of `dim` is drawn at on a card.
fn card_size(dim: (u32, u32), width: f32) -> Vec2 {
    let (w, h) = (dim.0.max(1) as f32, dim.1.max(1) as f32);
    let scale = (width.min(CARD_WIDTH) / w).min(CARD_HEIGHT / h).min(1.0);
    Vec2::new(w * scale, h * scale)
}

/// The pictures of a card; returns what the user clicked.
pub fn on_card(ui: &mut Ui, note: &NoteView, pictures: &Pictures) -> Option<NoteAction> {
    let mut action = None;
    for card in &note.media {
        let url = &card.reference.url;
        let host = card.reference.host();
        let width = ui.available_width();
        let declared = card_size(card.reference.dim.unwrap_or((4, 3)), width);
        // A picture the settings load is asked for the first time it is drawn.
        if card.decision == MediaDecision::Load && !pictures.slots.borrow().contains_key(url) {
            pictures
                .slots
                .borrow_mut()
                .insert(url.clone(), Slot::Loading);
            pictures.wanted.borrow_mut().push(MediaCommand::Load {
                author: note.author,
                reference: card.reference.clone(),
                clicked: false,
            });
        }
        let slots = pictures.slots.borrow();
        match slots.get(url) {
            Some(Slot::Shown { texture, view }) => {
                let response = ui
                    .add(
                        egui::Image::new(texture)
                            .fit_to_exact_size(card_size(view.size, width))
                            .sense(egui::Sense::click()),
                    )
                    .on_hover_text("Open in the viewer");
                if response.clicked() {
                    action = Some(NoteAction::ViewPicture(url.clone()));
                }
                let check = if view.verified {
                    "✔ hash verified"
                } else {
                    "no hash to verify"
                };
                let from = view.from.as_deref().unwrap_or("the cache");
                ui.weak(format!(
                    "{check} · {}×{} · from {from}",
                    view.original.0, view.original.1
                ));
            }
            Some(Slot::Loading) => {
                placeholder(ui, pictures, card, declared);
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.weak(format!("loading from {host}…"));
                });
            }
            Some(Slot::Failed(why)) => {
                placeholder(ui, pictures, card, declared);
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {why}"));
            }
            None if card.decision == MediaDecision::Never => {
                ui.weak(format!("picture on {host} not loaded (your choice)"));
            }
            None => {
                placeholder(ui, pictures, card, declared);
                if ui
                    .button(format!("Load picture from {host}"))
                    .on_hover_text(
                        "Nothing has been fetched: the server learns about this picture only when you click.",
                    )
                    .clicked()
                {
                    action = Some(NoteAction::LoadPicture(
                        note.author,
                        Box::new(card.reference.clone()),
                    ));
                }
            }
        }
    }
    action
}

fn placeholder(ui: &mut Ui, pictures: &Pictures, card: &MediaCard, size: Vec2) {
    match pictures.placeholder(ui, card) {
        Some(texture) => {
            ui.add(egui::Image::new(&texture).fit_to_exact_size(size));
        }
        None => {
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            ui.painter().rect_filled(rect, 4.0, Color32::from_gray(60));
        }
    }
}

/// The viewer: the picture at a zoom the user sets (buttons, slider,
/// Ctrl + scroll), scrollable when larger than the window.
pub fn viewer(ctx: &egui::Context, pictures: &mut Pictures) {
    let Some((url, mut zoom)) = pictures.viewer.clone() else {
        return;
    };
    let mut open = true;
    let screen = ctx.screen_rect().size();
    egui::Window::new("Picture")
        .open(&mut open)
        .default_size([(screen.x - 60.0).min(900.0), (screen.y - 80.0).min(700.0)])
        .max_width(screen.x - 20.0)
        .show(ctx, |ui| {
            let slots = pictures.slots.borrow();
            let Some(Slot::Shown { texture, view }) = slots.get(&url) else {
                ui.label("not loaded");
                return;
            };
            ui.horizontal(|ui| {
                if ui.button("−").clicked() {
                    zoom /= 1.25;
                }
                if ui.button("+").clicked() {
                    zoom *= 1.25;
                }
                if ui.button("100%").clicked() {
                    zoom = 1.0;
                }
                if ui.button("Fit").clicked() {
                    let avail = ui.available_size() - Vec2::new(0.0, 40.0);
                    zoom = (avail.x / view.size.0 as f32).min(avail.y / view.size.1 as f32);
                }
                ui.add(
                    egui::Slider::new(&mut zoom, 0.1..=8.0)
                        .logarithmic(true)
                        .suffix("×"),
                );
                ui.weak(format!(
                    "{}×{} · {}",
                    view.original.0,
                    view.original.1,
                    if view.verified {
                        "hash verified"
                    } else {
                        "not verifiable"
                    },
                ))
                .on_hover_text(&url);
            });
            let wheel = ui.input(|i| i.zoom_delta());
            if wheel != 1.0 {
                zoom *= wheel;
            }
            zoom = zoom.clamp(0.05, 16.0);
            egui::ScrollArea::both().show(ui, |ui| {
                let size = Vec2::new(view.size.0 as f32, view.size.1 as f32) * zoom;
                ui.add(egui::Image::new(texture).fit_to_exact_size(size));
            });
        });
    pictures.viewer = open.then_some((url, zoom));
}

/// The composer's attachments: dropped files join them; "Attach…" opens
/// the file picker. Returns the commands to send.
pub fn attachments(ui: &mut Ui, pictures: &mut Pictures, commands: &mut Vec<Command>) {
    let dropped: Vec<PathBuf> = ui.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .filter_map(|f| f.path.clone())
            .collect()
    });
    pictures.attachments.extend(dropped);
    ui.horizontal_wrapped(|ui| {
        if ui
            .small_button("Attach picture…")
            .on_hover_text("Or drop picture files on the window. EXIF, GPS and other metadata are removed before upload.")
            .clicked()
        {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"));
            commands.push(Command::Media(MediaCommand::ListDir(home)));
        }
        let mut remove = None;
        for (i, file) in pictures.attachments.iter().enumerate() {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            ui.label(format!("📎 {name}"));
            if ui.small_button("remove").clicked() {
                remove = Some(i);
            }
        }
        if let Some(i) = remove {
            pictures.attachments.remove(i);
        }
    });
    if let Some((sent, total)) = pictures.upload {
        let fraction = sent as f32 / total.max(1) as f32;
        ui.add(egui::ProgressBar::new(fraction.min(1.0)).text(format!(
            "uploading: {:.1} of {:.1} MiB",
            sent as f64 / 1048576.0,
            total as f64 / 1048576.0
        )));
    }
}

/// The in-app file picker (folders and pictures of one folder).
pub fn picker(ctx: &egui::Context, pictures: &mut Pictures, commands: &mut Vec<Command>) {
    let Some((dir, entries)) = pictures.picker.clone() else {
        return;
    };
    let mut open = true;
    let mut chosen = None;
    egui::Window::new("Attach a picture")
        .open(&mut open)
        .default_size([480.0, 420.0])
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button("⬆ Up").clicked() {
                    if let Some(parent) = dir.parent() {
                        commands.push(Command::Media(MediaCommand::ListDir(parent.to_owned())));
                    }
                }
                ui.weak(dir.display().to_string());
            });
            egui::ScrollArea::vertical().show(ui, |ui| {
                for (name, is_dir) in &entries {
                    let label = if *is_dir {
                        format!("📁 {name}")
                    } else {
                        format!("🖼 {name}")
                    };
                    if ui.selectable_label(false, label).clicked() {
                        if *is_dir {
                            commands.push(Command::Media(MediaCommand::ListDir(dir.join(name))));
                        } else {
                            chosen = Some(dir.join(name));
                        }
                    }
                }
                if entries.is_empty() {
                    ui.weak("no folders or pictures here");
                }
            });
        });
    if let Some(file) = chosen {
        pictures.attachments.push(file);
        open = false;
    }
    if !open {
        pictures.picker = None;
    }
}

/// The "Pictures" group of Settings.
pub fn settings(ui: &mut Ui, pictures: &mut Pictures, commands: &mut Vec<Command>) {
    ui.heading("Pictures");
    ui.weak(
        "Loading a picture tells its server your IP address (unless a proxy is set) and which \
         picture you looked at. Pictures load through your network setting and are checked \
         against their hash.",
    );
    for choice in MediaChoice::ALL {
        ui.radio_value(
            &mut pictures.settings.show,
            choice,
            format!("{}: {}", choice.as_str(), choice.describe()),
        );
    }
    ui.horizontal(|ui| {
        ui.label("Cache on disk");
        ui.add(
            egui::DragValue::new(&mut pictures.settings.cache_mib)
                .range(16..=65536)
                .suffix(" MiB"),
        );
        if ui.button("Save pictures").clicked() {
            commands.push(Command::Media(MediaCommand::SetChoice(
                pictures.settings.show,
                pictures.settings.cache_mib,
            )));
        }
    });
    if !pictures.settings.people.is_empty() {
        let n = pictures.settings.people.len();
        ui.weak(if n == 1 {
            "1 person has their own choice (on their page)".to_owned()
        } else {
            format!("{n} people have their own choice (on their page)")
        });
    }
}

/// "Their pictures" on a person page.
pub fn person_switch(
    ui: &mut Ui,
    who: nostr::prelude::PublicKey,
    current: Option<MediaChoice>,
    commands: &mut Vec<Command>,
) {
    let label = |c: Option<MediaChoice>| match c {
        None => "as everyone's".to_owned(),
        Some(MediaChoice::Always) => "always show their pictures".to_owned(),
        Some(c) => c.describe().to_owned(),
    };
    let mut chosen = current;
    ui.horizontal(|ui| {
        ui.label("Their pictures:");
        egui::ComboBox::from_id_salt(("media", who))
            .selected_text(label(current))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, None, label(None));
                for c in MediaChoice::ALL {
                    ui.selectable_value(&mut chosen, Some(c), label(Some(c)));
                }
            });
    });
    if chosen != current {
        commands.push(Command::Media(MediaCommand::SetPerson(who, chosen)));
    }
}
