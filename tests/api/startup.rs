//! Start-up safety: a store the binary cannot trust stops it with a clear error and a non-zero
//! exit, never a silent start on an empty store. (A second process on the same data directory is
//! covered in `lifecycle`.)

use loginprofiled::store::SledStore;

use crate::binary::refused_start as serve;

#[test]
fn a_store_overwritten_with_garbage_is_refused_not_served_empty() {
    if crate::helpers::sled_only("about the data directory") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SledStore::open(&data, 1 << 20).expect("a fresh store"));
    // Garbage in the log and no snapshot to recover from: sled itself would start empty.
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        {
            std::fs::remove_file(path).unwrap();
        }
    }
    let garbage: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(data.join("db"), garbage).unwrap();

    let output = serve(&data);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("it may be corrupt"), "{stderr}");
}

#[test]
fn a_data_dir_that_is_a_file_is_refused() {
    if crate::helpers::sled_only("about the data directory") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, "not a directory").unwrap();

    let output = serve(&data);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("data directory"), "{stderr}");
}

#[test]
fn a_data_dir_without_permissions_is_refused() {
    if crate::helpers::sled_only("about the data directory") {
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SledStore::open(&data, 1 << 20).expect("a fresh store"));
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&data).is_ok() {
        // Running as root: permissions do not apply, so there is nothing to test.
        eprintln!("skipped: this user can read a mode-000 directory (root)");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }

    let output = serve(&data);

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("opening the sled store"), "{stderr}");
}
