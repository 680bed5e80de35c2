//! `samizdat bunker` and `samizdat signer test` as separate processes over
//! `samizdat relay` on 127.0.0.1.

mod common;

use std::io::BufReader;
use std::process::{Command, Stdio};

use common::{interrupt, line_starting_with, samizdat, walk, RelayProcess};

#[test]
fn a_bunker_process_signs_for_a_paired_app_once_paired() {
    let home = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&home.path().join("relay.sqlite"), &[]);
    let port = relay.port;

    let pass = "bunker-test-passphrase";
    let keys = nostr::prelude::Keys::generate();
    let hex = keys.secret_key().to_secret_hex();
    let nsec = nostr::prelude::ToBech32::to_bech32(keys.secret_key()).unwrap();
    let init = common::output_with_stdin(
        samizdat()
            .env("SAMIZDAT_HOME", home.path())
            .env("SAMIZDAT_PASSPHRASE", pass)
            .args(["--log", "trace", "init", "--log-n", "10", "--import"]),
        &hex,
    );
    assert!(init.status.success());
    let npub = String::from_utf8_lossy(&init.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned();

    let logs = tempfile::tempdir().unwrap();
    let bunker_log = logs.path().join("bunker.log");
    let mut bunker = samizdat()
        .env("SAMIZDAT_HOME", home.path())
        .env("SAMIZDAT_PASSPHRASE", pass)
        .args([
            "--log",
            "trace",
            "bunker",
            "--relay",
            &format!("ws://127.0.0.1:{port}"),
            "--approve",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&bunker_log).unwrap()))
        .spawn()
        .unwrap();
    let mut out = BufReader::new(bunker.stdout.take().unwrap());
    let uri = line_starting_with(&mut out, "bunker://");

    // Posting is part of the session the hygiene check covers.
    let relay_url = relay.url();
    let mut posting = String::new();
    for args in [
        vec![
            "--log", "trace", "relays", "add", &relay_url, "--read", "--write",
        ],
        vec!["--log", "trace", "post", "a post in the hygiene session"],
    ] {
        let out = samizdat()
            .env("SAMIZDAT_HOME", home.path())
            .env("SAMIZDAT_PASSPHRASE", pass)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        posting += &String::from_utf8_lossy(&out.stdout);
        posting += &String::from_utf8_lossy(&out.stderr);
    }
    assert!(posting.contains("Accepted"), "{posting}");

    let test = samizdat()
        .args(["--log", "trace", "signer", "test", &uri, "--timeout", "10"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&test.stdout).into_owned() + &String::from_utf8_lossy(&test.stderr);
    assert!(test.status.success(), "{text}");
    assert!(
        text.contains(&npub) && text.contains("signed test event"),
        "{text}"
    );

    let again = samizdat()
        .args(["--log", "warn", "signer", "test", &uri, "--timeout", "5"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let _ = Command::new("kill")
        .args(["-INT", &bunker.id().to_string()])
        .status();
    let bunker_out = bunker.wait_with_output().unwrap();
    assert!(bunker_out.status.success(), "{:?}", bunker_out.status);
    // Secrets hygiene over the whole session: init, unlock, pairing, signing,
    // at trace level: no log line, output or file holds the key or passphrase.
    let mut seen = String::from_utf8_lossy(&init.stdout).into_owned();
    seen += &String::from_utf8_lossy(&init.stderr);
    seen += &text;
    seen += &posting;
    let bunker_trace = std::fs::read_to_string(&bunker_log).unwrap();
    assert!(
        bunker_trace.contains("TRACE") || bunker_trace.contains("DEBUG"),
        "the bunker logged at trace level"
    );
    seen += &bunker_trace;
    seen += &String::from_utf8_lossy(&bunker_out.stdout);
    for file in walk(home.path()) {
        seen += &String::from_utf8_lossy(&std::fs::read(file).unwrap());
    }
    for secret in [hex.as_str(), nsec.as_str(), pass] {
        assert!(
            !seen.contains(secret),
            "a secret leaked into logs, output or files"
        );
    }
    let audit = std::fs::read_to_string(home.path().join("default/bunker-audit.log")).unwrap();
    assert!(audit.contains("approved") && audit.contains("paired") && audit.contains("refused"));

    // A restarted bunker keeps its key (stored like the user's), with a fresh secret.
    let mut again = samizdat()
        .env("SAMIZDAT_HOME", home.path())
        .env("SAMIZDAT_PASSPHRASE", pass)
        .args([
            "--log",
            "warn",
            "bunker",
            "--relay",
            &format!("ws://127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out2 = BufReader::new(again.stdout.take().unwrap());
    let uri2 = line_starting_with(&mut out2, "bunker://");
    assert_eq!(
        uri2.split('?').next(),
        uri.split('?').next(),
        "same bunker key"
    );
    assert_ne!(uri2.trim(), uri, "a new one-time secret");
    interrupt(&mut again);
    assert!(!audit.contains(pass));
    drop(relay);
}

#[test]
fn an_app_started_pairing_reaches_a_bunker_process() {
    let home = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&home.path().join("relay.sqlite"), &[]);
    let port = relay.port;
    let url = format!("ws://127.0.0.1:{port}");
    let init = samizdat()
        .env("SAMIZDAT_HOME", home.path())
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["init", "--log-n", "10"])
        .output()
        .unwrap();
    let npub = String::from_utf8_lossy(&init.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned();

    let mut app = samizdat()
        .args([
            "--log",
            "warn",
            "signer",
            "pair",
            "--relay",
            &url,
            "--name",
            "Test App",
            "--timeout",
            "20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut app_out = BufReader::new(app.stdout.take().unwrap());
    let uri = line_starting_with(&mut app_out, "nostrconnect://");
    let mut bunker = samizdat()
        .env("SAMIZDAT_HOME", home.path())
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args([
            "--log",
            "warn",
            "bunker",
            "--relay",
            &url,
            "--connect",
            uri.trim(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut app_out, &mut rest).unwrap();
    assert!(app.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("paired") && rest.contains(&npub), "{rest}");
    interrupt(&mut bunker);
    let apps = std::fs::read_to_string(home.path().join("default/bunker-apps.json")).unwrap();
    assert!(apps.contains("Test App"), "{apps}");
    drop(relay);
}
