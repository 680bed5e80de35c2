//! `samizdat post` killed with SIGKILL while one of its relays hangs: after a
//! restart (`samizdat status` retries what is due) the post reaches every
//! target relay.

mod common;

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use common::{free_port, samizdat, RelayProcess};

fn run(home: &std::path::Path, args: &[&str]) -> String {
    let out = samizdat()
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["--log", "warn"])
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

#[test]
fn a_killed_post_is_delivered_everywhere_after_restart() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let good = RelayProcess::start(&h.join("good.sqlite"), &[]);
    // A relay that accepts TCP and never answers: the post hangs on it.
    let hang_port = free_port();
    let hang = std::net::TcpListener::bind(("127.0.0.1", hang_port)).unwrap();
    hang.set_nonblocking(true).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_flag = std::sync::Arc::clone(&stop);
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        while !stop_flag.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok((stream, _)) = hang.accept() {
                held.push(stream);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Listener and held connections close here.
    });
    run(h, &["init", "--log-n", "10"]);
    run(h, &["relays", "add", &good.url(), "--write"]);
    run(
        h,
        &[
            "relays",
            "add",
            &format!("ws://127.0.0.1:{hang_port}"),
            "--write",
        ],
    );

    let mut post = samizdat()
        .env("SAMIZDAT_HOME", h)
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["--log", "warn", "post", "survives a kill -9"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1_500));
    let killed = Command::new("kill")
        .args(["-KILL", &post.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = post.wait();
    let mut out = String::new();
    let _ = post.stdout.take().unwrap().read_to_string(&mut out);
    assert!(
        !out.contains("posted"),
        "the post command was killed before finishing: {out}"
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    holder.join().unwrap();

    // The dead relay comes back as a real one on the same port; a restart retries.
    let revived = RelayProcess::start_on(&h.join("revived.sqlite"), hang_port, &[]);
    let status: serde_json::Value = serde_json::from_str(&run(h, &["status", "--json"])).unwrap();
    let deliveries = status[0]["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries.iter().all(|d| d["state"] == "delivered"),
        "{status}"
    );
    drop(revived);
    drop(good);
}
