//! Replays, on stable and in the normal suite, every target's seeds (made
//! fresh and as committed under `fuzz/seeds/`) and every input a fuzzer ever
//! crashed on (`fuzz/regressions/<target>/`): a crash found once stays fixed.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_target_has_seeds_and_survives_them() {
    for (name, target) in samizdat_fuzzing::TARGETS {
        let fresh = samizdat_fuzzing::seeds::seeds(name);
        assert!(fresh.len() >= 2, "{name} has {} seeds", fresh.len());
        for seed in &fresh {
            target(seed);
        }
        let committed = files_in(&fuzz_dir().join("seeds").join(name));
        assert!(
            !committed.is_empty(),
            "no committed seeds for {name}: run bench/fuzz.sh seeds"
        );
        for file in committed {
            target(&std::fs::read(&file).unwrap());
        }
    }
}

#[test]
fn every_crash_found_stays_fixed() {
    let mut replayed = 0;
    for (name, target) in samizdat_fuzzing::TARGETS {
        for file in files_in(&fuzz_dir().join("regressions").join(name)) {
            let input = std::fs::read(&file).unwrap();
            target(&input);
            replayed += 1;
        }
    }
    println!("{replayed} regression inputs replayed");
}

#[test]
fn every_target_has_a_libfuzzer_binary() {
    for (name, _) in samizdat_fuzzing::TARGETS {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&source).unwrap_or_default();
        assert!(
            text.contains(&format!("samizdat_fuzzing::{name}")),
            "{} does not call samizdat_fuzzing::{name}",
            source.display()
        );
    }
}
