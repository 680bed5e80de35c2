//! TLS to the database, on the server `SAMIZDAT_TEST_POSTGRES` names (TLS on,
//! its certificate signed by the authority in `SAMIZDAT_TEST_POSTGRES_CA`;
//! `bench/postgres.sh` makes both): with `sslmode=require` and that
//! authority the store works over TLS (the server says so for every one of
//! its connections); without the authority the certificate does not verify
//! and nothing connects; a file that is not a certificate is named.

mod common;

use common::*;
use nostr::prelude::*;
use samizdat_relay::{PgStore, RelayStorage};

/// The server's own view of the connections named `app`: (TLS, count).
fn server_sees(url: &str, app: &str) -> Vec<bool> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.application_name = $1",
        &[&app],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

#[test]
fn require_verifies_the_server_and_encrypts() {
    let Some(url) = postgres_url() else {
        eprintln!("SKIPPED: needs PostgreSQL (SAMIZDAT_TEST_POSTGRES)");
        return;
    };
    let ca = match std::env::var("SAMIZDAT_TEST_POSTGRES_CA") {
        Ok(ca) if !ca.is_empty() => ca,
        _ if std::env::var_os("CI").is_some() => {
            panic!("SAMIZDAT_TEST_POSTGRES_CA is not set: bench/postgres.sh ca")
        }
        _ => {
            eprintln!("SKIPPED: needs SAMIZDAT_TEST_POSTGRES_CA (bench/postgres.sh ca)");
            return;
        }
    };
    let tag: u64 = rand::random();
    let schema = format!("tls_{tag:016x}");
    let app = format!("samizdat_tls_{tag:016x}");

    // Verified TLS: events go in and come back; every connection is TLS.
    let tls_url = with_params(
        &url,
        &format!("sslmode=require&sslrootcert={ca}&application_name={app}"),
    );
    let store = PgStore::connect_with(&tls_url, Some(&schema), 2).unwrap();
    assert!(store.describe().ends_with("(TLS)"), "{}", store.describe());
    let keys = Keys::generate();
    let note = EventBuilder::new(Kind::TextNote, "over TLS")
        .finalize(&keys)
        .unwrap();
    assert!(store.insert_batch(std::slice::from_ref(&note)).unwrap()[0].is_stored());
    let found = store
        .query(&[Filter::new().author(keys.public_key()).limit(10)])
        .unwrap();
    assert_eq!(found, vec![note]);
    let seen = server_sees(&url, &app);
    assert!(!seen.is_empty(), "the server saw no connection named {app}");
    assert!(
        seen.iter().all(|tls| *tls),
        "a connection in the clear: {seen:?}"
    );
    drop(store);

    // The same server without its authority: the certificate does not verify.
    let unverified = with_params(&url, "sslmode=require");
    let err = PgStore::connect_with(&unverified, Some(&schema), 1)
        .err()
        .expect("an unverified certificate was accepted")
        .to_string();
    assert!(
        err.contains("certificate") && err.contains("sslrootcert"),
        "{err}"
    );

    // A file that is not a certificate.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = PgStore::connect_with(
        &with_params(
            &url,
            &format!("sslmode=require&sslrootcert={}", junk.display()),
        ),
        Some(&schema),
        1,
    )
    .err()
    .expect("a junk authority was accepted")
    .to_string();
    assert!(err.contains("junk.pem"), "{err}");

    // Without sslmode the same store connects in the clear (the default).
    let plain_app = format!("{app}_plain");
    let store = PgStore::connect_with(
        &with_params(&url, &format!("application_name={plain_app}")),
        Some(&schema),
        1,
    )
    .unwrap();
    assert_eq!(
        store
            .query(&[Filter::new().author(keys.public_key()).limit(10)])
            .unwrap()
            .len(),
        1
    );
    assert_eq!(server_sees(&url, &plain_app), vec![false]);
}
