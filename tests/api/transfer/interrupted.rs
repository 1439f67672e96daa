//! An import into sled killed (SIGKILL) part way: the store is never served, `check
//! --accept-loss` does not make it servable, both say to run the import again, and running it
//! again into an empty directory works.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use sha2::{Digest as _, Sha256};

use super::path_str;

const HASH: &str = "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
/// Enough users for several of the import's batches (10,000 each).
const USERS: usize = 40_000;

/// A valid export of `USERS` users with login profiles, trailer included.
fn export_file(path: &Path) {
    let mut body =
        String::from("{\"type\":\"header\",\"format\":\"loginprofiled-export\",\"version\":2}\n");
    for i in 0..USERS {
        body.push_str(&format!(
            "{{\"type\":\"user\",\"user_name\":\"user{i:06}\",\"user_id\":\"AIDA{i:017}\",\
             \"path\":\"/\",\"create_date_ms\":1700000000000}}\n\
             {{\"type\":\"profile\",\"user_name\":\"user{i:06}\",\"password_hash\":\"{HASH}\",\
             \"password_reset_required\":false,\"create_date_ms\":1700000000000,\
             \"password_set_ms\":1700000000000,\"version\":0}}\n"
        ));
    }
    let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
    body.push_str(&format!(
        "{{\"type\":\"end\",\"users\":{USERS},\"profiles\":{USERS},\"policy\":false,\
         \"sha256\":\"{sha256}\"}}\n"
    ));
    std::fs::write(path, body).unwrap();
}

fn loginprofiled(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loginprofiled"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("LOGINPROFILED_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs to its end, bounded: a `serve` that serves instead of refusing fails the test.
fn run_bounded(args: &[&str]) -> Output {
    let mut child = loginprofiled(args).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("loginprofiled {args:?} did not exit: it serves the store");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Starts `import` into `data` and kills it `after` the store is marked as being imported
/// into; false when the import finished first.
fn import_killed(input: &Path, data: &Path, after: Duration) -> bool {
    let mut child = loginprofiled(&[
        "import",
        "--data-dir",
        path_str(data),
        "--input",
        path_str(input),
    ])
    .spawn()
    .unwrap();
    let marker = data.join("IMPORTING");
    while !marker.exists() {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(after);
    let finished = child.try_wait().unwrap().is_some();
    child.kill().unwrap_or_default();
    child.wait().unwrap();
    !finished
}

#[test]
fn an_import_killed_part_way_is_never_served_and_running_it_again_works() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.jsonl");
    export_file(&input);
    let mut interrupted = 0;
    for (i, after) in [0, 300, 1500].into_iter().enumerate() {
        let data = dir.path().join(format!("data{i}"));
        if !import_killed(&input, &data, Duration::from_millis(after)) {
            eprintln!("killed {after} ms in: the import had finished");
            continue;
        }
        interrupted += 1;
        let data = path_str(&data);
        let served = run_bounded(&[
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "off",
        ]);
        let stderr = String::from_utf8_lossy(&served.stderr);
        assert_eq!(served.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("an import into this store did not finish"),
            "{stderr}"
        );
        assert!(stderr.contains("run the import again"), "{stderr}");
        assert!(
            !stderr.contains("--accept-loss"),
            "offers --accept-loss: {stderr}"
        );

        let accepted = run_bounded(&["check", "--data-dir", data, "--accept-loss"]);
        let stderr = String::from_utf8_lossy(&accepted.stderr);
        assert!(!accepted.status.success(), "{stderr}");
        assert!(stderr.contains("run the import again"), "{stderr}");
        // Still refused after the attempt.
        let served = run_bounded(&[
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "off",
        ]);
        assert_eq!(served.status.code(), Some(1));
        eprintln!("killed {after} ms in: refused by serve and check --accept-loss");
    }
    assert!(
        interrupted >= 2,
        "only {interrupted} kills landed in the import"
    );

    // As the refusal says: an empty directory, and the import again.
    let data = dir.path().join("again");
    let imported = run_bounded(&[
        "import",
        "--data-dir",
        path_str(&data),
        "--input",
        path_str(&input),
    ]);
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("imported {USERS} users")),
        "{stderr}"
    );
    assert!(!data.join("IMPORTING").exists());
}
