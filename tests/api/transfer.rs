//! `loginprofiled export` and `import` as processes: a store moves to a fresh one and every
//! user signs in there with their old password; what import refuses, it refuses whole.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::{Command, Output},
};

use loginprofiled::grpc::proto::{
    ChangePasswordRequest, CreateLoginProfileRequest, CreateUserRequest,
    GetAccountPasswordPolicyRequest, GetUserRequest, Tag, UpdateAccountPasswordPolicyRequest,
    UpdateLoginProfileRequest, User, VerifyPasswordRequest, VerifyResult,
    account_password_policy_service_client::AccountPasswordPolicyServiceClient,
    login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use tonic::transport::Channel;

use crate::{binary::Binary, helpers::reason};

mod damage;
mod interrupted;
mod to_postgres;

/// Users, their paths and passwords (None: no login profile).
const USERS: [(&str, &str, Option<&str>); 4] = [
    ("Ann", "/eng/", Some("Ann-password-1")),
    ("bob", "/", Some("Bob-password-1")),
    ("Cy", "/ops/", None),
    ("dee", "/eng/", Some("Dee-password-1")),
];
/// Passwords before the current ones, for the history: Ann's replaced by UpdateLoginProfile,
/// dee's by ChangePassword.
const ANN_EARLIER: &str = "Ann-earlier-pw-0";
const DEE_EARLIER: &str = "Dee-earlier-pw-0";

fn run(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loginprofiled"));
    command.args(args).env_remove("RUST_LOG");
    if let Some(input) = stdin {
        command.stdin(std::fs::File::open(input).unwrap());
    }
    let output = command.output().expect("running loginprofiled");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("$argon2"), "a hash on stderr: {stderr}");
    output
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `loginprofiled export --data-dir DATA --output FILE`.
fn export_to(data: &Path, file: &Path) -> Output {
    run(
        &[
            "export",
            "--data-dir",
            path_str(data),
            "--output",
            path_str(file),
        ],
        None,
    )
}

async fn get_user(channel: Channel, name: &str) -> User {
    let request = GetUserRequest {
        user_name: name.to_owned(),
    };
    let reply = UserServiceClient::new(channel).get_user(request).await;
    reply.unwrap().into_inner().user.unwrap()
}

async fn verify(channel: Channel, name: &str, password: &str) -> (VerifyResult, bool) {
    let request = VerifyPasswordRequest {
        mfa_code: None,
        user_name: name.to_owned(),
        password: password.to_owned(),
    };
    let reply = LoginProfileServiceClient::new(channel)
        .verify_password(request)
        .await
        .unwrap()
        .into_inner();
    (reply.result(), reply.password_reset_required)
}

/// Fills a store through a server: a policy, users with tags, profiles (Ann's and dee's with a
/// history, bob's reset-required), and Ann's and dee's last sign-ins.
async fn fill(server: &Binary) {
    let channel = server.channel();
    // First: the history a password change keeps follows the policy of the moment.
    AccountPasswordPolicyServiceClient::new(channel.clone())
        .update_account_password_policy(UpdateAccountPasswordPolicyRequest {
            minimum_password_length: Some(12),
            password_reuse_prevention: Some(3),
            max_password_age: Some(90),
            require_numbers: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut users = UserServiceClient::new(channel.clone());
    let mut profiles = LoginProfileServiceClient::new(channel.clone());
    for (name, path, password) in USERS {
        let request = CreateUserRequest {
            user_name: name.to_owned(),
            path: path.to_owned(),
            tags: vec![Tag {
                key: "team".into(),
                value: format!("{name}-team"),
            }],
        };
        users.create_user(request).await.unwrap();
        let Some(password) = password else { continue };
        let first = match name {
            "Ann" => ANN_EARLIER,
            "dee" => DEE_EARLIER,
            _ => password,
        };
        let request = CreateLoginProfileRequest {
            user_name: name.to_owned(),
            password: first.to_owned(),
            password_reset_required: name == "bob",
        };
        profiles.create_login_profile(request).await.unwrap();
    }
    let request = UpdateLoginProfileRequest {
        user_name: "Ann".into(),
        password: Some("Ann-password-1".into()),
        password_reset_required: None,
    };
    profiles.update_login_profile(request).await.unwrap();
    let request = ChangePasswordRequest {
        user_name: "dee".into(),
        old_password: DEE_EARLIER.into(),
        new_password: "Dee-password-1".into(),
    };
    profiles.change_password(request).await.unwrap();
    assert_eq!(
        verify(channel, "Ann", "Ann-password-1").await.0,
        VerifyResult::Ok
    );
}

/// What `fill` made is all there through `channel`: the users exactly as `before` (ids, ARNs,
/// create dates, paths, tags, last sign-in), every user signs in with the old password, the
/// policy, and Ann's history (her earlier password is refused).
async fn assert_moved(channel: Channel, before: &[User]) {
    for ((name, ..), was) in USERS.iter().zip(before) {
        assert_eq!(&get_user(channel.clone(), name).await, was, "{name}");
    }
    for (name, _, password) in USERS {
        let Some(password) = password else { continue };
        let (result, reset_required) = verify(channel.clone(), name, password).await;
        assert_eq!(result, VerifyResult::Ok, "{name}");
        assert_eq!(reset_required, name == "bob", "{name}");
    }
    let policy = AccountPasswordPolicyServiceClient::new(channel.clone())
        .get_account_password_policy(GetAccountPasswordPolicyRequest {})
        .await
        .unwrap()
        .into_inner()
        .password_policy
        .unwrap();
    assert_eq!(
        (
            policy.minimum_password_length,
            policy.password_reuse_prevention,
            policy.max_password_age
        ),
        (12, Some(3), Some(90))
    );
    // The history came along: neither may go back to an earlier password.
    for (name, now, earlier) in [
        ("Ann", "Ann-password-1", ANN_EARLIER),
        ("dee", "Dee-password-1", DEE_EARLIER),
    ] {
        let back = ChangePasswordRequest {
            user_name: name.into(),
            old_password: now.into(),
            new_password: earlier.into(),
        };
        let refused = LoginProfileServiceClient::new(channel.clone())
            .change_password(back)
            .await
            .unwrap_err();
        assert_eq!(
            reason(&refused),
            "PasswordPolicyViolation",
            "{name}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn a_store_moves_whole_and_every_user_signs_in_with_the_old_password() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let server = Binary::start(&old, &[]).await;
    fill(&server).await;
    let mut before = Vec::new();
    for (name, ..) in USERS {
        before.push(get_user(server.channel(), name).await);
    }
    assert!(before[0].password_last_used.is_some());
    server.stop().await;

    let file = dir.path().join("users.jsonl");
    let exported = export_to(&old.join("data"), &file);
    assert!(exported.status.success(), "{exported:?}");
    assert_eq!(
        String::from_utf8_lossy(&exported.stderr).trim_end(),
        "loginprofiled export: exported 4 users, 3 login profiles and a password policy"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 1 + 4 + 3 + 1 + 1, "{text}");

    // From stdin, as a pipe would give it.
    let imported = run(
        &["import", "--data-dir", path_str(&new.join("data"))],
        Some(&file),
    );
    assert!(imported.status.success(), "{imported:?}");
    assert_eq!(
        String::from_utf8_lossy(&imported.stderr).trim_end(),
        "loginprofiled import: imported 4 users, 3 login profiles and a password policy"
    );

    // The imported store holds exactly what was exported: exporting it gives the same lines.
    let again = run(&["export", "--data-dir", path_str(&new.join("data"))], None);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);

    let server = Binary::start(&new, &[]).await;
    assert_moved(server.channel(), &before).await;
    server.stop().await;
}

#[tokio::test]
async fn import_refuses_a_store_that_is_not_empty_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]).await;
    fill(&server).await;
    server.stop().await;
    let data = dir.path().join("data");
    let file = dir.path().join("users.jsonl");
    let exported = export_to(&data, &file);
    assert!(exported.status.success(), "{exported:?}");

    let refused = run(
        &[
            "import",
            "--data-dir",
            path_str(&data),
            "--input",
            path_str(&file),
        ],
        None,
    );

    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("the target store is not empty"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let after = run(&["export", "--data-dir", path_str(&data)], None);
    assert_eq!(
        String::from_utf8(after.stdout).unwrap(),
        std::fs::read_to_string(&file).unwrap()
    );
}

#[tokio::test]
async fn a_truncated_or_damaged_file_is_refused_with_its_line_and_nothing_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]).await;
    fill(&server).await;
    server.stop().await;
    let file = dir.path().join("users.jsonl");
    let data = dir.path().join("data");
    let exported = export_to(&data, &file);
    assert!(exported.status.success(), "{exported:?}");
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();

    let truncated = dir.path().join("truncated.jsonl");
    std::fs::write(&truncated, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    let mut damaged_lines = lines.clone();
    let half = damaged_lines[2].len() / 2;
    damaged_lines[2].truncate(half);
    let damaged = dir.path().join("damaged.jsonl");
    std::fs::write(&damaged, damaged_lines.join("\n") + "\n").unwrap();

    for (input, line) in [(&truncated, lines.len()), (&damaged, 3)] {
        let target = dir.path().join("target");
        let refused = run(
            &[
                "import",
                "--data-dir",
                path_str(&target),
                "--input",
                path_str(input),
            ],
            None,
        );
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(&format!("line {line}: ")), "{stderr}");
        // Checked before the store is opened: not even a data directory was made.
        assert!(!target.exists(), "{stderr}");
    }
}

#[tokio::test]
async fn export_leaves_an_existing_output_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, "precious\n").unwrap();
    let data = dir.path().join("data");

    let refused = export_to(&data, &file);

    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("exists: export writes a new file only"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious\n");
    assert!(!data.exists());
}

#[test]
fn export_of_a_directory_without_a_store_fails_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let data = dir.path().join("no-such-data");

    let refused = export_to(&data, &file);

    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("holds no loginprofiled store"), "{stderr}");
    assert!(!file.exists() && !data.exists());
}
