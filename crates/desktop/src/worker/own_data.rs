//! The "Your data" section's work: replication check, restore, backups.
//! Each is one client call on its own task; its report comes back as lines.

use std::io::{BufReader, BufWriter};

use crate::protocol::{OwnData, Update};

use super::views::Ctx;

impl Ctx {
    /// Runs one own-data operation in the background.
    pub fn own_data(&self, what: OwnData) {
        self.sink.send(Update::OwnData(None));
        let ctx = self.clone();
        tokio::spawn(async move {
            let lines = match what {
                OwnData::Replicate => ctx
                    .session
                    .replicate(|_| {})
                    .await
                    .map(|r| r.lines())
                    .map_err(|e| e.to_string()),
                OwnData::Restore => ctx
                    .session
                    .restore(|_| {})
                    .await
                    .map(|r| r.lines())
                    .map_err(|e| e.to_string()),
                OwnData::Export(path) => match std::fs::File::create(&path) {
                    Ok(file) => ctx
                        .session
                        .export_backup(None, &mut BufWriter::new(file))
                        .map(|r| {
                            vec![format!(
                                "wrote {} events to {} ({} earlier list versions, {} DM wraps)",
                                r.events,
                                path.display(),
                                r.earlier_versions,
                                r.dm_wraps
                            )]
                        })
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("cannot create {}: {e}", path.display())),
                },
                OwnData::Import(path) => match std::fs::File::open(&path) {
                    Ok(file) => ctx
                        .session
                        .import_backup(&mut BufReader::new(file))
                        .map(|r| {
                            let mut lines = vec![format!(
                                "{} lines: {} stored, {} already here, {} bad",
                                r.lines,
                                r.stored,
                                r.already_had,
                                r.bad.len()
                            )];
                            lines.extend(r.bad.iter().map(|(n, why)| format!("line {n}: {why}")));
                            lines
                        })
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("cannot open {}: {e}", path.display())),
                },
            };
            ctx.sink.send(match lines {
                Ok(lines) => Update::OwnData(Some(lines)),
                Err(e) => Update::OwnData(Some(vec![format!("failed: {e}")])),
            });
        });
    }
}
