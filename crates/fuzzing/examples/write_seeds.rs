//! Writes every target's seed inputs under a folder (default `fuzz/seeds`),
//! one file per seed named by its content's hash, as `cargo fuzz` expects.
//! `bench/fuzz.sh` runs it before fuzzing.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/seeds"));
    for (name, _) in samizdat_fuzzing::TARGETS {
        let dir = root.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let seeds = samizdat_fuzzing::seeds::seeds(name);
        for seed in &seeds {
            let mut hasher = DefaultHasher::new();
            seed.hash(&mut hasher);
            std::fs::write(dir.join(format!("seed-{:016x}", hasher.finish())), seed)?;
        }
        println!("{name}: {} seeds in {}", seeds.len(), dir.display());
    }
    Ok(())
}
