//! The packages as a user gets them. The `.deb`: installed with `dpkg -i`,
//! the installed `/usr/bin/samizdat-desktop --demo` started under Xvfb until
//! it paints its feed (screenshot checked), its desktop entry, icons,
//! licence and the `samizdat` command in place, then the package removed
//! and nothing of it left. The AppImage: its type-2 magic, its image offset,
//! then started with `--demo` the same way (extracted on first start into
//! a cache folder), and the `samizdat` command inside it. The packages come
//! from `bench/package.sh` (`.ci/run` builds them from the test build and
//! names them in `SAMIZDAT_TEST_DEB` and `SAMIZDAT_TEST_APPIMAGE`); without
//! those variables, or not as root, a test says it was skipped — under CI
//! it fails instead.

mod common;

use std::path::Path;
use std::process::Command;

use common::screen;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Removes the package even when the test fails half-way.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-r", "samizdat"]).output();
    }
}

#[test]
fn the_deb_installs_runs_the_demo_and_uninstalls() {
    let Some(deb) = std::env::var_os("SAMIZDAT_TEST_DEB") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must build the package and set SAMIZDAT_TEST_DEB"
        );
        eprintln!("SKIPPED: set SAMIZDAT_TEST_DEB to a .deb from bench/package.sh");
        return;
    };
    let deb = deb.to_string_lossy().into_owned();
    let root = run("id", &["-u"]).trim() == "0";
    if !root || !screen::have("dpkg") || screen::missing_tools() {
        assert!(std::env::var_os("CI").is_none(), "CI runs this as root");
        eprintln!("SKIPPED: installing a package needs root and dpkg");
        return;
    }
    let info = run("dpkg-deb", &["-f", &deb, "Package", "Depends"]);
    assert!(info.contains("Package: samizdat"), "{info}");
    assert!(
        info.contains("libxkbcommon-x11-0"),
        "runtime libraries declared: {info}"
    );

    run("dpkg", &["-i", &deb]);
    let _installed = Installed;
    let files = run("dpkg", &["-L", "samizdat"]);
    for path in [
        "/usr/bin/samizdat-desktop",
        "/usr/bin/samizdat",
        "/usr/share/applications/samizdat.desktop",
        "/usr/share/icons/hicolor/256x256/apps/samizdat.png",
        "/usr/share/icons/hicolor/16x16/apps/samizdat.png",
        "/usr/share/doc/samizdat/copyright",
    ] {
        assert!(files.lines().any(|l| l == path), "{path} not installed");
    }
    let entry = std::fs::read_to_string("/usr/share/applications/samizdat.desktop").unwrap();
    assert!(entry.contains("Exec=samizdat-desktop") && entry.contains("Icon=samizdat"));
    assert!(run("/usr/bin/samizdat", &["--version"]).starts_with("samizdat"));

    let home = tempfile::tempdir().unwrap();
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("samizdat-installed-demo.png");
    let painted =
        screen::demo_screenshot(Path::new("/usr/bin/samizdat-desktop"), home.path(), &png);
    println!("installed app: {painted}");

    drop(_installed);
    assert!(!Path::new("/usr/bin/samizdat-desktop").exists(), "removed");
    let listed = Command::new("dpkg")
        .args(["-s", "samizdat"])
        .output()
        .unwrap();
    assert!(
        !listed.status.success() || String::from_utf8_lossy(&listed.stdout).contains("deinstall"),
        "the package is gone"
    );
}

#[test]
fn the_appimage_runs_the_demo() {
    let Some(image) = std::env::var_os("SAMIZDAT_TEST_APPIMAGE") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must build the AppImage and set SAMIZDAT_TEST_APPIMAGE"
        );
        eprintln!("SKIPPED: set SAMIZDAT_TEST_APPIMAGE to an AppImage from bench/package.sh");
        return;
    };
    if screen::missing_tools() {
        return;
    }
    let image = std::path::PathBuf::from(image);
    let bytes = std::fs::read(&image).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(&bytes[8..11], b"AI\x02", "the AppImage type-2 magic");
    let offset: usize = run(image.to_str().unwrap(), &["--appimage-offset"])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        &bytes[offset..offset + 4],
        b"hsqs",
        "a squashfs image follows the runtime"
    );

    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(&image)
        .arg("--version")
        .env("XDG_CACHE_HOME", cache.path())
        .env("SAMIZDAT_CLI", "1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("samizdat "),
        "{out:?}"
    );
    let home = tempfile::tempdir().unwrap();
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("samizdat-appimage-demo.png");
    let painted = screen::demo_screenshot_with(
        &image,
        home.path(),
        &png,
        &[("XDG_CACHE_HOME", cache.path().as_os_str())],
    );
    println!("AppImage: {painted}");
}
