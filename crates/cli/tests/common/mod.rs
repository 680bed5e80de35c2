//! Helpers shared by the CLI tests: the binary, a `samizdat relay` process on
//! a free loopback port, and a recursive file listing for hygiene checks.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `samizdat` binary, with no profile or passphrase inherited.
pub fn samizdat() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_samizdat"));
    c.env_remove("SAMIZDAT_PROFILE")
        .env_remove("SAMIZDAT_PASSPHRASE");
    c
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `samizdat relay` process on a free port, once it listens; kill it when done.
pub struct RelayProcess {
    pub child: Child,
    pub port: u16,
}

impl RelayProcess {
    pub fn start(db: &Path, extra: &[&str]) -> Self {
        Self::start_on(db, free_port(), extra)
    }

    /// On a given port (to bring up a relay where a dead one was).
    pub fn start_on(db: &Path, port: u16, extra: &[&str]) -> Self {
        let mut child = samizdat()
            .args([
                "--log",
                "warn",
                "relay",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--db",
            ])
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening"), "{line}");
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file below `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Reads lines until one starts with `prefix` (a URI a process prints) and
/// returns it trimmed.
pub fn line_starting_with(out: &mut impl BufRead, prefix: &str) -> String {
    let mut line = String::new();
    while !line.starts_with(prefix) {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the process ended before printing {prefix}"
        );
    }
    line.trim().to_owned()
}

/// Stops a process with SIGINT (its graceful path) and waits for it.
pub fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    child.wait().unwrap()
}

/// Runs `samizdat` for the profiles under `home` with `passphrase`, fails
/// the test (with stderr) unless it succeeds, and returns its stdout.
pub fn run_ok(home: &Path, passphrase: &str, args: &[&str]) -> String {
    let out = samizdat()
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", passphrase)
        .env_remove("SAMIZDAT_PROXY")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `samizdat ARGS` (no profile), fails the test (with stderr) unless
/// it succeeds, and parses its stdout as JSON.
pub fn json_of(args: &[&str]) -> serde_json::Value {
    let out = samizdat().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `cmd` with `input` (and a newline) on its standard input, as a key
/// to `init --import` is given; its output.
pub fn output_with_stdin(cmd: &mut Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{input}\n").as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// The default profile under `home`, run with the passphrase `pw`.
pub struct Profile {
    pub home: PathBuf,
}

impl Profile {
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        samizdat()
            .env("SAMIZDAT_HOME", &self.home)
            .env("SAMIZDAT_PASSPHRASE", "pw")
            .args(["--log", "warn"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed, with `input` on its standard
    /// input; its stdout.
    pub fn ok_with_stdin(&self, args: &[&str], input: &str) -> String {
        let out = output_with_stdin(
            samizdat()
                .env("SAMIZDAT_HOME", &self.home)
                .env("SAMIZDAT_PASSPHRASE", "pw")
                .args(["--log", "warn"])
                .args(args),
            input,
        );
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail cleanly: non-zero exit, an error line,
    /// no panic. Its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert!(stderr.contains("error"), "{args:?} said no error: {stderr}");
        stderr
    }

    /// Starts a command in the background, output discarded.
    pub fn spawn(&self, args: &[&str]) -> Child {
        samizdat()
            .env("SAMIZDAT_HOME", &self.home)
            .env("SAMIZDAT_PASSPHRASE", "pw")
            .args(["--log", "error"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// The profile's event store.
    pub fn store_path(&self) -> PathBuf {
        self.home.join("default").join("events.sqlite")
    }
}
