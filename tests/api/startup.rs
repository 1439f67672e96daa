//! Start-up safety: a store the binary cannot trust stops it with a clear error and a non-zero
//! exit, never a silent start on an empty store. (A second process on the same data directory is
//! covered in `lifecycle`.)

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use loginprofiled::store::SledStore;

/// Runs `serve` on `data`, which must fail before serving: a server still running after 20 s
/// is killed and fails the test.
fn serve(data: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args(["serve", "--listen", "127.0.0.1:0", "--http-listen", "off"])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the server binary");
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    panic!(
        "the server started on a store it should refuse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_store_overwritten_with_garbage_is_refused_not_served_empty() {
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
