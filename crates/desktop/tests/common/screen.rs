//! The real app in a real window, under Xvfb with Mesa's software OpenGL:
//! start a binary with `--demo`, wait for its first painted feed, take a
//! screenshot, check it is not blank. Shared by the window test and the
//! installed-package test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `tool` is on the PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The tools a window test needs that are missing: outside CI the test is
/// skipped (printed), under CI their absence fails it.
pub fn missing_tools() -> bool {
    let missing: Vec<&str> = ["Xvfb", "import", "identify"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if missing.is_empty() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install {missing:?} (xvfb, imagemagick)"
    );
    eprintln!("SKIPPED: {missing:?} not installed (apt-get install xvfb imagemagick)");
    true
}

/// Starts Xvfb on a free display; returns it and its number.
pub fn xvfb() -> (Killed, String) {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting Xvfb");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("Xvfb's display number");
    (Killed(child), format!(":{}", line.trim()))
}

/// Runs `binary --demo --home HOME` on a fresh Xvfb until it paints its
/// first feed, then writes a screenshot to `png` and checks it is not blank.
/// Returns the app's "first feed painted" line.
pub fn demo_screenshot(binary: &Path, home: &Path, png: &Path) -> String {
    demo_screenshot_with(binary, home, png, &[])
}

/// [`demo_screenshot`] with extra environment variables.
pub fn demo_screenshot_with(
    binary: &Path,
    home: &Path,
    png: &Path,
    env: &[(&str, &std::ffi::OsStr)],
) -> String {
    let (_x, display) = xvfb();
    let mut app = Killed(
        Command::new(binary)
            .envs(env.iter().copied())
            .args(["--demo", "--home"])
            .arg(home)
            .env("DISPLAY", &display)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(app.0.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let painted = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("first feed painted") => break line,
            Ok(_) => continue,
            Err(_) => panic!("the app never painted its feed (is software GL installed?)"),
        }
    };
    // Let the first refresh finish filling the feed.
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("import")
        .args(["-display", &display, "-window", "root"])
        .arg(png)
        .status()
        .unwrap();
    assert!(status.success(), "import failed");
    println!("screenshot: {}", png.display());
    let colours = Command::new("identify")
        .args(["-format", "%k"])
        .arg(png)
        .output()
        .unwrap();
    let colours: u64 = String::from_utf8_lossy(&colours.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(colours > 16, "the window looks blank ({colours} colours)");
    assert!(
        app.0.try_wait().unwrap().is_none(),
        "the app is still running"
    );
    painted
}
