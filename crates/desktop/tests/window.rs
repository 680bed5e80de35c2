//! The real app in a real window: `samizdat-desktop --demo` under Xvfb with
//! Mesa's software OpenGL, a screenshot once the first feed is painted, and
//! a check that it is not blank. The PNG is left in the target directory
//! (its path is printed), never committed. Needs `Xvfb` and ImageMagick
//! (`.ci/run` installs them); elsewhere the test says it was skipped,
//! except under CI, where their absence fails it.

mod common;

use common::screen;

#[test]
fn the_demo_window_paints_a_feed() {
    if screen::missing_tools() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let png = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("samizdat-desktop-demo.png");
    let painted = screen::demo_screenshot(
        std::path::Path::new(env!("CARGO_BIN_EXE_samizdat-desktop")),
        home.path(),
        &png,
    );
    println!("{painted}");
}
