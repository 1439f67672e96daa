//! Operators' lists (`--password-blocklist`): the three formats, made here from the test's own
//! random passwords, reloaded in place, and refused at start when missing or damaged.

use std::{path::Path, process::Command, time::Duration};

use loginprofiled::screening::Screening;
use rand::{Rng as _, distr::Alphanumeric};
use sha1::{Digest as _, Sha1};

use super::{STRONG, assert_screened, create};
use crate::{
    binary::Binary,
    helpers::{spawn_app_with, user},
};

const BIN: &str = env!("CARGO_BIN_EXE_loginprofiled");

/// A password that meets IAM's default policy and is on no list but the test's.
fn random_password() -> String {
    let letters: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(14)
        .map(char::from)
        .collect();
    format!("{letters}-aZ9")
}

/// Writes a Pwned Passwords file (upper-case SHA-1, counts, CRLF) of `passwords`.
fn pwned_file(path: &Path, passwords: &[String]) {
    let lines: String = passwords
        .iter()
        .map(|p| {
            format!(
                "{}:{}\r\n",
                hex::encode_upper(Sha1::digest(p.as_bytes())),
                7
            )
        })
        .collect();
    std::fs::write(path, lines).unwrap();
}

fn build(inputs: &[&Path], output: &Path) {
    let mut command = Command::new(BIN);
    command.args(["blocklist", "build"]);
    for input in inputs {
        command.arg("--input").arg(input);
    }
    let out = command.arg("--output").arg(output).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts a server with `list`, and checks that each of `listed` is refused for a new profile
/// and each of `others` accepted.
async fn assert_screens(list: &Path, listed: &[String], others: &[String]) {
    let screening = Screening::load(&[list.to_owned()]).unwrap();
    let app = spawn_app_with(|c| c.screening = screening).await;
    for (i, password) in listed.iter().enumerate() {
        let name = format!("Listed{i}");
        user(&app, &name).await;
        assert_screened(
            &create(&app, &name, password).await.unwrap_err(),
            "blocklist",
        );
    }
    for (i, password) in others.iter().enumerate() {
        let name = format!("Other{i}");
        user(&app, &name).await;
        create(&app, &name, password).await.unwrap();
    }
}

#[tokio::test]
async fn a_pwned_passwords_file_refuses_its_passwords_as_given_and_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let listed: Vec<String> = (0..20).map(|_| random_password()).collect();
    let others: Vec<String> = (0..10).map(|_| random_password()).collect();
    let pwned = dir.path().join("pwned.txt");
    pwned_file(&pwned, &listed);
    assert_screens(&pwned, &listed, &others).await;

    let compiled = dir.path().join("pwned.blf");
    build(&[&pwned], &compiled);
    assert_screens(&compiled, &listed, &others).await;
    // Pwned Passwords hashes the password exactly as given: another case is another password.
    let recased: Vec<String> = listed.iter().take(3).map(|p| p.to_uppercase()).collect();
    assert_screens(&compiled, &[], &recased).await;
}

#[tokio::test]
async fn a_plain_list_is_matched_without_regard_to_case_as_given_and_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let listed: Vec<String> = (0..5).map(|_| random_password()).collect();
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, listed.join("\r\n")).unwrap();
    let recased: Vec<String> = listed.iter().map(|p| p.to_lowercase()).collect();
    assert_screens(&plain, &recased, &[STRONG.to_owned()]).await;
    let compiled = dir.path().join("plain.blf");
    build(&[&plain], &compiled);
    assert_screens(&compiled, &listed, &[STRONG.to_owned()]).await;
}

#[tokio::test]
async fn a_list_changed_while_serving_is_used_within_10_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "nothing-of-interest\n").unwrap();
    let screening = Screening::load(std::slice::from_ref(&list)).unwrap();
    let app = spawn_app_with(|c| c.screening = screening).await;
    let password = random_password();
    let staged = dir.path().join("list.txt.new");
    std::fs::write(&staged, format!("{password}\n")).unwrap();
    std::fs::rename(&staged, &list).unwrap();

    let started = std::time::Instant::now();
    for i in 0.. {
        let name = format!("Try{i}");
        user(&app, &name).await;
        match create(&app, &name, &password).await {
            Err(status) => {
                assert_screened(&status, "blocklist");
                break;
            }
            Ok(()) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "not reloaded in 10 s"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_missing_or_damaged_list_stops_the_start_with_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let (status, stderr) = Binary::try_start(
        dir.path(),
        &["--password-blocklist", missing.to_str().unwrap()],
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");

    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "one\ntwo\n").unwrap();
    let compiled = dir.path().join("damaged.blf");
    build(&[&plain], &compiled);
    let mut bytes = std::fs::read(&compiled).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&compiled, bytes).unwrap();
    let (status, stderr) = Binary::try_start(
        dir.path(),
        &["--password-blocklist", compiled.to_str().unwrap()],
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(compiled.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
}

#[test]
fn blocklist_check_says_which_list_holds_a_password_read_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let password = random_password();
    let pwned = dir.path().join("pwned.txt");
    pwned_file(&pwned, std::slice::from_ref(&password));
    let check = |input: &str| {
        let mut child = Command::new(BIN)
            .args(["blocklist", "check", "--password-blocklist"])
            .arg(&pwned)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let expected = format!("listed: {}\n", pwned.display());
    assert_eq!(check(&format!("{password}\n")), (Some(0), expected));
    assert_eq!(
        check("Password1\n"),
        (Some(0), "listed: the built-in list\n".to_owned())
    );
    assert_eq!(
        check(&format!("{STRONG}\n")),
        (Some(1), "not listed\n".to_owned())
    );
}

#[tokio::test]
async fn no_password_or_its_sha1_reaches_the_log_when_screening_refuses_or_marks() {
    use loginprofiled::grpc::proto::{
        CreateLoginProfileRequest, CreateUserRequest, VerifyPasswordRequest,
        login_profile_service_client::LoginProfileServiceClient,
        user_service_client::UserServiceClient,
    };
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("pwned.txt");
    std::fs::write(&list, "").unwrap();
    let log_path = dir.path().join("stderr.log");
    let mut server = Binary::spawn_with(
        dir.path(),
        &dir.path().join("lpd.sock"),
        &["--password-blocklist", list.to_str().unwrap()],
        &[("RUST_LOG", "trace")],
        std::process::Stdio::from(std::fs::File::create(&log_path).unwrap()),
    );
    server.wait_until_serving().await;
    let mut users = UserServiceClient::new(server.channel());
    let mut profiles = LoginProfileServiceClient::new(server.channel());
    let password = random_password();
    for name in ["Ann", "Bob"] {
        let user = CreateUserRequest {
            user_name: name.into(),
            ..Default::default()
        };
        users.create_user(user).await.unwrap();
    }
    let create = |name: &str, password: &str| CreateLoginProfileRequest {
        user_name: name.into(),
        password: password.into(),
        password_reset_required: false,
    };
    profiles
        .create_login_profile(create("Ann", &password))
        .await
        .unwrap();
    let refused = profiles
        .create_login_profile(create("Bob", "Password1"))
        .await;
    assert_screened(&refused.unwrap_err(), "blocklist");
    pwned_file(&list, std::slice::from_ref(&password));
    let started = std::time::Instant::now();
    loop {
        let verify = VerifyPasswordRequest {
            mfa_code: None,
            user_name: "Ann".into(),
            password: password.clone(),
        };
        let reply = profiles.verify_password(verify).await.unwrap().into_inner();
        if reply.password_reset_required {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the list was not reloaded"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    server.signal("-TERM");
    assert!(server.exit_status().await.success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("password_compromised"),
        "the marking is audited"
    );
    for secret in [password.as_str(), "Password1"] {
        let sha1 = Sha1::digest(secret.as_bytes());
        for needle in [
            secret.to_owned(),
            hex::encode(sha1),
            hex::encode_upper(sha1),
        ] {
            assert!(
                !log.contains(&needle),
                "the log holds a password or its SHA-1"
            );
        }
    }
}
