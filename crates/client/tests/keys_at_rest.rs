//! The key at rest: the NIP-49 vector, round trips, wrong passphrases,
//! damaged files, permissions, passphrase changes, export and import.

use std::path::PathBuf;

use nostr::nips::nip49::KeySecurity;
use nostr::prelude::*;
use samizdat_client::keystore::{self, ImportedKey, KeyError};
use samizdat_client::{LocalSigner, Signer};
use secrecy::SecretString;

fn pass(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn temp_key() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.ncryptsec");
    (dir, path)
}

#[cfg(unix)]
fn write_owner_only(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn the_nip49_test_vector_decrypts() {
    let (_d, path) = temp_key();
    let nip = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/nips/49.md"
    ))
    .unwrap();
    let ncryptsec = nip
        .split('`')
        .find(|s| s.starts_with("ncryptsec1"))
        .expect("the NIP carries a test vector");
    write_owner_only(&path, ncryptsec);
    let keys = keystore::unlock(&path, &pass("nostr")).unwrap();
    assert_eq!(
        keys.secret_key().to_secret_hex(),
        "3501454135014541350145413501453fefb02227e449e57cf4d3a3ce05378683"
    );
    assert_eq!(keystore::info(&path).unwrap().log_n, 16);
}

#[test]
fn round_trip_wrong_passphrase_and_normalisation() {
    let (_d, path) = temp_key();
    let keys = Keys::generate();
    // "ÅΩẛ̣" from the NIP: its NFKC form must open the same key.
    keystore::create(
        &path,
        keys.secret_key(),
        &pass("ÅΩẛ̣"),
        10,
        KeySecurity::Medium,
    )
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("ncryptsec1"),
        "only an ncryptsec rests on disk"
    );
    assert!(!text.contains(&keys.secret_key().to_secret_hex()));
    assert_eq!(
        keystore::unlock(&path, &pass("ÅΩẛ̣")).unwrap().public_key(),
        keys.public_key()
    );
    assert_eq!(
        keystore::unlock(&path, &pass("ÅΩṩ")).unwrap().public_key(),
        keys.public_key()
    );
    assert!(matches!(
        keystore::unlock(&path, &pass("nope")),
        Err(KeyError::WrongPassphrase)
    ));
    let info = keystore::info(&path).unwrap();
    assert_eq!((info.log_n, info.security), (10, KeySecurity::Medium));
}

#[cfg(unix)]
#[test]
fn the_file_is_owner_only_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, path) = temp_key();
    let keys = Keys::generate();
    keystore::create(
        &path,
        keys.secret_key(),
        &pass("pw"),
        10,
        KeySecurity::Medium,
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let other = Keys::generate();
    assert!(matches!(
        keystore::create(
            &path,
            other.secret_key(),
            &pass("pw"),
            10,
            KeySecurity::Medium
        ),
        Err(KeyError::Exists(_))
    ));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = keystore::unlock(&path, &pass("pw")).unwrap_err();
    assert!(matches!(err, KeyError::InsecurePermissions(_)), "{err}");
    assert!(err.to_string().contains("chmod 600"));
}

#[test]
fn damaged_or_missing_files_are_clear_errors() {
    let (_d, path) = temp_key();
    assert!(matches!(
        keystore::unlock(&path, &pass("pw")),
        Err(KeyError::Missing(_))
    ));
    let keys = Keys::generate();
    keystore::create(
        &path,
        keys.secret_key(),
        &pass("pw"),
        10,
        KeySecurity::Medium,
    )
    .unwrap();
    let good = std::fs::read_to_string(&path).unwrap();
    for bad in [
        "",
        "garbage",
        &good[..good.len() - 5],
        &good.replace('q', "p"),
        "nsec1notreally",
    ] {
        write_owner_only(&path, bad);
        let err = keystore::unlock(&path, &pass("pw")).unwrap_err();
        assert!(matches!(err, KeyError::Corrupt { .. }), "{bad:?}: {err:?}");
        assert!(err.to_string().contains("key.ncryptsec"));
    }
    std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    assert!(matches!(
        keystore::unlock(&path, &pass("pw")),
        Err(KeyError::Corrupt { .. } | KeyError::InsecurePermissions(_))
    ));
}

#[test]
fn changing_the_passphrase_and_exporting() {
    let (_d, path) = temp_key();
    let keys = Keys::generate();
    keystore::create(
        &path,
        keys.secret_key(),
        &pass("old"),
        10,
        KeySecurity::Medium,
    )
    .unwrap();
    assert!(matches!(
        keystore::change_passphrase(&path, &pass("wrong"), &pass("new"), 10),
        Err(KeyError::WrongPassphrase)
    ));
    keystore::change_passphrase(&path, &pass("old"), &pass("new"), 11).unwrap();
    assert!(matches!(
        keystore::unlock(&path, &pass("old")),
        Err(KeyError::WrongPassphrase)
    ));
    assert_eq!(
        keystore::unlock(&path, &pass("new")).unwrap().public_key(),
        keys.public_key()
    );
    assert_eq!(
        keystore::info(&path).unwrap(),
        keystore::KeyInfo {
            log_n: 11,
            security: KeySecurity::Medium
        }
    );
    let nsec = keystore::export(&path, &pass("new")).unwrap();
    assert_eq!(
        SecretKey::from_bech32(nsec.as_str())
            .unwrap()
            .to_secret_hex(),
        keys.secret_key().to_secret_hex()
    );
    assert_eq!(
        keystore::info(&path).unwrap().security,
        KeySecurity::Weak,
        "shown once, marked weak"
    );
    assert!(matches!(
        keystore::change_passphrase(&path, &pass("new"), &pass(""), 10),
        Err(KeyError::EmptyPassphrase)
    ));
    assert!(matches!(
        keystore::change_passphrase(&path, &pass("new"), &pass("x"), 3),
        Err(KeyError::BadLogN(3))
    ));
}

#[test]
fn imports_recognise_nsec_hex_and_ncryptsec() {
    let keys = Keys::generate();
    let nsec = keys.secret_key().to_bech32().unwrap();
    let hex = keys.secret_key().to_secret_hex();
    assert!(
        matches!(keystore::parse_import(&nsec), Ok(ImportedKey::Plain(k)) if k.to_secret_hex() == hex)
    );
    assert!(matches!(
        keystore::parse_import(&format!("  {hex}\n")),
        Ok(ImportedKey::Plain(_))
    ));
    let (_d, path) = temp_key();
    keystore::create(
        &path,
        keys.secret_key(),
        &pass("pw"),
        10,
        KeySecurity::Medium,
    )
    .unwrap();
    let ncryptsec = std::fs::read_to_string(&path).unwrap();
    match keystore::parse_import(&ncryptsec) {
        Ok(ImportedKey::Encrypted(enc)) => {
            assert_eq!(
                keystore::decrypt(&enc, &pass("pw")).unwrap().public_key(),
                keys.public_key()
            );
        }
        _ => panic!("ncryptsec not recognised"),
    }
    for bad in [
        "",
        "npub1xyz",
        "nsec1bad",
        &hex[..63],
        "zz".repeat(32).as_str(),
    ] {
        assert!(
            matches!(keystore::parse_import(bad), Err(KeyError::NotAKey)),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_local_signer_signs_and_encrypts_and_never_prints_its_secret() {
    let me = Keys::generate();
    let peer = Keys::generate();
    let hex = me.secret_key().to_secret_hex();
    let signer = LocalSigner::new(me.clone());
    assert!(!format!("{signer:?}").contains(&hex));
    let unsigned = EventBuilder::new(Kind::TextNote, "hi").finalize_unsigned(me.public_key());
    let event = signer.sign_event(unsigned).await.unwrap();
    event.verify().unwrap();
    let foreign = EventBuilder::new(Kind::TextNote, "x").finalize_unsigned(peer.public_key());
    assert!(
        signer.sign_event(foreign).await.is_err(),
        "never signs for another author"
    );
    let ct = signer
        .nip44_encrypt(&peer.public_key(), "secret words")
        .await
        .unwrap();
    let back = nip44::decrypt(peer.secret_key(), &me.public_key(), &ct).unwrap();
    assert_eq!(back, "secret words");
    let legacy = nip04::encrypt(peer.secret_key(), &me.public_key(), "old dm").unwrap();
    assert_eq!(
        signer
            .nip04_decrypt(&peer.public_key(), &legacy)
            .await
            .unwrap(),
        "old dm"
    );
    assert!(signer
        .nip44_decrypt(&peer.public_key(), "garbage")
        .await
        .is_err());
}
