//! What the server process writes to its log, run as operators run it: at `RUST_LOG=trace`,
//! every operation on both transports leaves no password, hash, token or SigV4 secret in it;
//! text written to a file carries no colour codes.

mod needles;

use std::{fs::File, net::SocketAddr, path::Path, process::Stdio};

use loginprofiled::{
    access::{Scope, new_token},
    grpc::proto::{
        self, account_password_policy_service_client::AccountPasswordPolicyServiceClient,
        login_profile_service_client::LoginProfileServiceClient,
        user_service_client::UserServiceClient,
    },
    password::{EXAMPLE_PASSWORD, FORMATS, Scheme},
    store::{ProfileLookup, SledStore, Store as _},
};
use tonic::transport::Channel;

use crate::{binary::Binary, helpers::Bearer, query_api::iam};

const ADMIN_KEY: &str = "AKIALOGSADMIN0000001";
const ADMIN_SECRET: &str = "s3cretOfTheAdminKeyWithNoEqualAnywhere01";
const BOB_KEY: &str = "AKIALOGSBOB000000002";
const BOB_SECRET: &str = "s3cretOfBobsOwnKeyWithNoEqualAnywhere002";

/// Passwords of letters and digits only, so that form and URL encoding leave them as they are.
const PASSWORDS: [&str; 12] = [
    "AliceFirst0Passw0rd",
    "AliceSecond1Passw0rd",
    "AliceThird2Passw0rd",
    "AliceWrong3Guess",
    "GhostGuess4Passw0rd",
    "CarolOnly5Passw0rd",
    "BobFirst6Passw0rd",
    "BobSecond7Passw0rd",
    "BobThird8Passw0rd",
    "DaveOnly9Passw0rd",
    "InTheUrl10Passw0rd",
    "TooLongToBeValid11Passw0rdPaddingPaddingPaddingPaddingPaddingPaddingPaddingPaddingPadding\
     PaddingPaddingPaddingPaddingPaddingPadding",
];

fn tokens_file(dir: &Path) -> (std::path::PathBuf, String) {
    let (token, entry) = new_token("ops", &[Scope::Admin]);
    let text = format!(
        "{entry}\n[[access_key]]\naccess_key_id = '{ADMIN_KEY}'\nsecret_access_key = \
         '{ADMIN_SECRET}'\nscopes = ['admin']\n\n[[access_key]]\naccess_key_id = '{BOB_KEY}'\n\
         secret_access_key = '{BOB_SECRET}'\nscopes = ['signin']\nuser = 'bob'\n"
    );
    let path = dir.join("tokens.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (path, token)
}

/// Starts the binary at `RUST_LOG=trace` with both transports, its stderr in `dir/stderr.log`.
async fn start_at_trace(dir: &Path, tokens: &Path) -> Binary {
    start_at_trace_with(dir, tokens, &[]).await
}

/// As [`start_at_trace`], with `more` flags.
async fn start_at_trace_with(dir: &Path, tokens: &Path, more: &[&str]) -> Binary {
    let log = File::create(dir.join("stderr.log")).unwrap();
    let tokens = tokens.to_str().unwrap();
    let mut extra = vec!["--tokens-file", tokens, "--http-listen", "127.0.0.1:0"];
    extra.extend_from_slice(more);
    let mut server = Binary::spawn_with(
        dir,
        &dir.join("lpd.sock"),
        &extra,
        &[("RUST_LOG", "trace")],
        Stdio::from(log),
    );
    server.wait_until_serving().await;
    server
}

/// The Query API's address, as the start-up line reports the port chosen for port 0.
fn http_addr(log: &str) -> SocketAddr {
    let serving = log
        .lines()
        .find(|line| line.contains(" serving ") || line.ends_with(" serving"))
        .unwrap_or_else(|| panic!("no start-up line in {log}"));
    let (_, rest) = serving.split_once("http_listen=\"").unwrap();
    rest.split('"').next().unwrap().parse().unwrap()
}

/// Every gRPC method, with the bearer token.
async fn drive_grpc(channel: Channel, token: &str) {
    let bearer = || Bearer(Some(token.to_owned()));
    let mut users = UserServiceClient::with_interceptor(channel.clone(), bearer());
    let mut profiles = LoginProfileServiceClient::with_interceptor(channel.clone(), bearer());
    let mut policy = AccountPasswordPolicyServiceClient::with_interceptor(channel, bearer());
    let [alice1, alice2, alice3, wrong, ghost, carol, .., too_long] = PASSWORDS;

    policy
        .update_account_password_policy(proto::UpdateAccountPasswordPolicyRequest {
            password_reuse_prevention: Some(5),
            minimum_password_length: Some(8),
            ..Default::default()
        })
        .await
        .unwrap();
    policy
        .get_account_password_policy(proto::GetAccountPasswordPolicyRequest {})
        .await
        .unwrap();
    for name in ["alice", "carol"] {
        users
            .create_user(proto::CreateUserRequest {
                user_name: name.into(),
                path: "/logs/".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    users
        .get_user(proto::GetUserRequest {
            user_name: "alice".into(),
        })
        .await
        .unwrap();
    users
        .list_users(proto::ListUsersRequest::default())
        .await
        .unwrap();
    for (name, password) in [("alice", alice1), ("carol", carol)] {
        profiles
            .create_login_profile(proto::CreateLoginProfileRequest {
                user_name: name.into(),
                password: password.into(),
                password_reset_required: false,
            })
            .await
            .unwrap();
    }
    profiles
        .get_login_profile(proto::GetLoginProfileRequest {
            user_name: "alice".into(),
        })
        .await
        .unwrap();
    profiles
        .update_login_profile(proto::UpdateLoginProfileRequest {
            user_name: "alice".into(),
            password: Some(alice2.into()),
            password_reset_required: Some(true),
        })
        .await
        .unwrap();
    for (name, password) in [("alice", alice2), ("alice", wrong), ("ghost", ghost)] {
        profiles
            .verify_password(proto::VerifyPasswordRequest {
                mfa_code: None,
                user_name: name.into(),
                password: password.into(),
            })
            .await
            .unwrap();
    }
    for (name, old, new) in [
        ("alice", wrong, alice3),
        ("ghost", ghost, alice3),
        ("alice", alice2, too_long),
        ("alice", alice2, alice3),
    ] {
        let _ = profiles
            .change_password(proto::ChangePasswordRequest {
                user_name: name.into(),
                old_password: old.into(),
                new_password: new.into(),
            })
            .await;
    }
    // A hash made elsewhere, imported, and the hostile one refused; erin's first sign-in
    // upgrades hers.
    users
        .create_user(proto::CreateUserRequest {
            user_name: "erin".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for (hash, accepted) in [(HOSTILE_HASH, false), (imported_hash(), true)] {
        let imported = profiles
            .import_login_profile(proto::ImportLoginProfileRequest {
                user_name: "erin".into(),
                password_hash: hash.into(),
                password_reset_required: false,
            })
            .await;
        assert_eq!(imported.is_ok(), accepted, "{imported:?}");
    }
    let signed_in = profiles
        .verify_password(proto::VerifyPasswordRequest {
            mfa_code: None,
            user_name: "erin".into(),
            password: EXAMPLE_PASSWORD.into(),
        })
        .await
        .unwrap();
    assert_eq!(signed_in.into_inner().result(), proto::VerifyResult::Ok);
    profiles
        .delete_login_profile(proto::DeleteLoginProfileRequest {
            user_name: "carol".into(),
        })
        .await
        .unwrap();
    users
        .delete_user(proto::DeleteUserRequest {
            user_name: "carol".into(),
        })
        .await
        .unwrap();
    policy
        .delete_account_password_policy(proto::DeleteAccountPasswordPolicyRequest {})
        .await
        .unwrap();
}

/// A hash past the cost bounds, which ImportLoginProfile refuses.
const HOSTILE_HASH: &str =
    "$argon2id$v=19$m=4294967295,t=1,p=1$aG9zdGlsZXNhbHQ$aG9zdGlsZWhhc2hoYXNo";

/// The bcrypt example of the formats table: erin's imported hash.
fn imported_hash() -> &'static str {
    FORMATS
        .iter()
        .find(|f| f.scheme == Scheme::Bcrypt)
        .unwrap()
        .example
}

/// The imported hashes and their password, as secrets the log must not show: whole, and the
/// salt-and-hash part of each.
fn imported_secrets() -> Vec<(&'static str, &'static str)> {
    let bcrypt = imported_hash();
    vec![
        ("imported hash", bcrypt),
        ("imported hash's salt and output", &bcrypt[7..]),
        ("hostile hash", HOSTILE_HASH),
        ("hostile hash's salt", "aG9zdGlsZXNhbHQ"),
        ("imported password", EXAMPLE_PASSWORD),
    ]
}

/// Every Query API action, SigV4-signed, and the seed's GET form with a password in the URL.
async fn drive_query_api(addr: SocketAddr) {
    let admin = iam(addr, ADMIN_KEY, ADMIN_SECRET);
    let bob = iam(addr, BOB_KEY, BOB_SECRET);
    let [.., bob1, bob2, bob3, dave, in_url, _] = PASSWORDS;

    admin
        .update_account_password_policy()
        .password_reuse_prevention(5)
        .send()
        .await
        .unwrap();
    admin.get_account_password_policy().send().await.unwrap();
    for name in ["bob", "dave"] {
        admin.create_user().user_name(name).send().await.unwrap();
    }
    admin.get_user().user_name("bob").send().await.unwrap();
    admin.list_users().send().await.unwrap();
    for (name, password) in [("bob", bob1), ("dave", dave)] {
        admin
            .create_login_profile()
            .user_name(name)
            .password(password)
            .send()
            .await
            .unwrap();
    }
    admin
        .get_login_profile()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    admin
        .update_login_profile()
        .user_name("bob")
        .password(bob2)
        .send()
        .await
        .unwrap();
    let _ = bob
        .change_password()
        .old_password(bob1)
        .new_password(bob3)
        .send()
        .await;
    bob.change_password()
        .old_password(bob2)
        .new_password(bob3)
        .send()
        .await
        .unwrap();
    admin
        .delete_login_profile()
        .user_name("dave")
        .send()
        .await
        .unwrap();
    admin.delete_user().user_name("dave").send().await.unwrap();
    admin.delete_account_password_policy().send().await.unwrap();

    let target = format!("/?Action=CreateLoginProfile&UserName=bob&Password={in_url}");
    let refused = crate::query_api::send(addr, "GET", &target, b"").await;
    assert_eq!(refused.status, 403, "unsigned, with access keys configured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_the_log_holds_no_password_hash_token_or_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (tokens, token) = tokens_file(dir.path());
    let mut server = start_at_trace(dir.path(), &tokens).await;
    let addr = http_addr(&std::fs::read_to_string(dir.path().join("stderr.log")).unwrap());

    drive_grpc(server.channel(), &token).await;
    drive_query_api(addr).await;
    server.signal("-TERM");
    assert!(server.exit_status().await.success());

    // Every hash the store ever held: its files keep superseded and deleted records too.
    let mut raw = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        raw.extend(std::fs::read(entry.unwrap().path()).unwrap_or_default());
    }
    let hashes = needles::phc_strings(&raw);
    let store = SledStore::open(&dir.path().join("data"), 1 << 20).unwrap();
    for name in ["alice", "bob"] {
        let ProfileLookup::Found(_, profile) = store.profile(name).await.unwrap() else {
            panic!("{name} has a profile");
        };
        assert_eq!(profile.previous_hashes.len(), 2, "{name}");
        for hash in profile
            .previous_hashes
            .iter()
            .chain([&profile.password_hash])
        {
            assert!(hashes.contains(hash), "the file scan finds {name}'s {hash}");
        }
    }
    assert!(hashes.len() >= 8, "{hashes:?}");

    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert_no_secret(&log, &hashes, &token, &imported_secrets());
    // The scan means something only if the log is the trace-level log of all those calls.
    assert!(log.contains(" TRACE "), "trace level took effect");
    assert_eq!(
        log.matches("query api call").count(),
        16,
        "one line per request"
    );
    assert!(log.contains("VerifyPassword"), "the gRPC access log");
    assert_eq!(
        log.matches("RUST_LOG asks for sled below info").count(),
        1,
        "the cap is reported once: {log}"
    );
}

/// The same on PostgreSQL, with a password in the database URL: neither it nor the hashes the
/// database holds reach the log (sqlx logs its statements at trace).
#[tokio::test]
async fn at_trace_level_on_postgres_the_log_holds_no_secret_nor_the_database_password() {
    if !crate::helpers::answers_or_required() {
        return;
    }
    const DB_PASSWORD: &str = "Db-url-Passw0rd-never-logged";
    let db = crate::helpers::TestDb::create();
    // The test server trusts local connections, so the password is sent and never checked.
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_password(Some(DB_PASSWORD)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (tokens, token) = tokens_file(dir.path());
    let url = url.to_string();
    let mut server = start_at_trace_with(dir.path(), &tokens, &["--database-url", &url]).await;
    let addr = http_addr(&std::fs::read_to_string(dir.path().join("stderr.log")).unwrap());
    drive_grpc(server.channel(), &token).await;
    drive_query_api(addr).await;
    server.signal("-TERM");
    assert!(server.exit_status().await.success());

    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let rows: Vec<(String, Vec<String>)> =
        sqlx::query_as("SELECT password_hash, previous_hashes FROM loginprofiled.login_profiles")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let hashes: Vec<String> = rows
        .into_iter()
        .flat_map(|(hash, previous)| std::iter::once(hash).chain(previous))
        .collect();
    assert!(hashes.len() >= 6, "{hashes:?}");
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    let mut more = imported_secrets();
    more.push(("database password", DB_PASSWORD));
    assert_no_secret(&log, &hashes, &token, &more);
    // The scan means something only if the log is the trace-level log of all those calls,
    // sqlx's statements included.
    assert!(log.contains(" TRACE "), "trace level took effect");
    assert!(
        log.contains("INSERT INTO login_profiles"),
        "sqlx's statements are in the log"
    );
    assert!(log.contains("VerifyPassword"), "the gRPC access log");
}

#[tokio::test]
async fn text_logs_written_to_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log = File::create(dir.path().join("stderr.log")).unwrap();
    let mut server = Binary::spawn_with(
        dir.path(),
        &dir.path().join("lpd.sock"),
        &["--log-format", "text"],
        &[("RUST_LOG", "debug")],
        Stdio::from(log),
    );
    server.wait_until_serving().await;
    server.signal("-TERM");
    assert!(server.exit_status().await.success());

    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(log.contains(" INFO "), "{log}");
    assert!(!log.contains('\u{1b}'), "an escape sequence in {log:?}");
}

/// Fails when `log` shows any password the tests send, any of `hashes` (or a part of one), the
/// bearer token, an access key's secret, or one of `more` (what, secret), in any of the forms a
/// log could print them.
fn assert_no_secret(log: &str, hashes: &[String], token: &str, more: &[(&str, &str)]) {
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut add = |what: String, forms: Vec<String>| {
        secrets.extend(forms.into_iter().map(|form| (what.clone(), form)));
    };
    for password in PASSWORDS {
        add(
            format!("password {password}"),
            needles::text_forms(password),
        );
    }
    for hash in hashes {
        add(format!("hash {hash}"), needles::phc_parts(hash));
    }
    add("bearer token".into(), needles::text_forms(token));
    add("admin secret".into(), needles::text_forms(ADMIN_SECRET));
    add("bob's secret".into(), needles::text_forms(BOB_SECRET));
    for (what, secret) in more {
        add((*what).to_owned(), needles::text_forms(secret));
    }

    for (what, form) in &secrets {
        if let Some(line) = log.lines().find(|line| line.contains(form.as_str())) {
            panic!("the log shows the {what} as {form:?}:\n{line}");
        }
    }
}
