//! Replicas as real processes: several `serve` binaries on one database. They start together
//! on an empty database (migrations under the advisory lock) and racing creates across them
//! have one winner, a replica killed with SIGKILL
//! loses no write it acknowledged while the other keeps serving, and lockout, passwords and
//! the policy are shared at once. These run whenever PostgreSQL answers (in the default
//! `cargo test` too), and fail when CI's `LOGINPROFILED_TEST_DATABASE_URL` does not answer.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use loginprofiled::grpc::proto::{
    ChangePasswordRequest, CreateLoginProfileRequest, CreateUserRequest,
    GetAccountPasswordPolicyRequest, GetUserRequest, UpdateAccountPasswordPolicyRequest,
    VerifyPasswordRequest, VerifyResult,
    account_password_policy_service_client::AccountPasswordPolicyServiceClient,
    login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use rand::Rng as _;
use tonic::{Code, transport::Channel};

use crate::{
    binary::Binary,
    crash::{State, Tracked, USERS_PER_WRITER, WRITERS, check_against_model, write},
    helpers::{TestDb, answers_or_required, reason},
};

/// A replica serving `db`, its socket in `dir`.
async fn replica(dir: &Path, db: &TestDb, extra: &[&str]) -> Binary {
    let mut args = vec![
        "--database-url",
        &db.url,
        "--database-connect-timeout",
        "2s",
    ];
    args.extend_from_slice(extra);
    Binary::start(dir, &args).await
}

async fn create_user(channel: Channel, name: &str) {
    let request = CreateUserRequest {
        user_name: name.to_owned(),
        ..Default::default()
    };
    UserServiceClient::new(channel)
        .create_user(request)
        .await
        .unwrap();
}

async fn verify(channel: Channel, name: &str, password: &str) -> VerifyResult {
    let request = VerifyPasswordRequest {
        mfa_code: None,
        user_name: name.to_owned(),
        password: password.to_owned(),
    };
    let reply = LoginProfileServiceClient::new(channel)
        .verify_password(request)
        .await
        .unwrap();
    reply.into_inner().result()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_started_at_once_on_an_empty_database_serve_as_one() {
    if !answers_or_required() {
        return;
    }
    let db = TestDb::create();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // All three race to migrate the empty database.
    let mut replicas: Vec<_> = dirs
        .iter()
        .map(|dir| Binary::spawn(dir.path(), &["--database-url", &db.url]))
        .collect();
    for replica in &mut replicas {
        replica.wait_until_serving().await;
    }
    create_user(replicas[0].channel(), "Shared").await;
    for replica in &replicas[1..] {
        let request = GetUserRequest {
            user_name: "shared".into(),
        };
        let user = UserServiceClient::new(replica.channel())
            .get_user(request)
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        assert_eq!(user.user_name, "Shared");
    }
    // Creates of one name racing on all three processes: exactly one wins.
    for round in 0..10 {
        let calls: Vec<_> = (0..12)
            .map(|i| {
                let mut users = UserServiceClient::new(replicas[i % 3].channel());
                let name = if i % 2 == 0 { "RACER" } else { "racer" };
                let request = CreateUserRequest {
                    user_name: format!("{name}{round}"),
                    ..Default::default()
                };
                tokio::spawn(async move { users.create_user(request).await })
            })
            .collect();
        let mut winners = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(_) => winners += 1,
                Err(status) => assert_eq!(status.code(), Code::AlreadyExists, "{status:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    for replica in replicas {
        replica.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_acknowledged_by_a_replica_killed_with_sigkill_is_read_through_the_other() {
    if !answers_or_required() {
        return;
    }
    let rounds: usize = std::env::var("LOGINPROFILED_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let db = TestDb::create();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = replica(dir_b.path(), &db, &[]).await;
    let mut model = vec![
        Tracked {
            acked: State::Absent,
            in_flight: None,
        };
        WRITERS * USERS_PER_WRITER
    ];
    let (mut acked_writes, mut reads_on_b) = (0, 0);
    for round in 0..rounds {
        let a = replica(dir_a.path(), &db, &[]).await;
        // B keeps serving while A writes and dies: every read on it must succeed.
        let reading = Arc::new(AtomicBool::new(true));
        let reads = Arc::new(AtomicUsize::new(0));
        let reader = tokio::spawn(read_until_told(b.channel(), reading.clone(), reads.clone()));
        let writers: Vec<_> = model
            .chunks(USERS_PER_WRITER)
            .enumerate()
            .map(|(w, users)| tokio::spawn(write(a.channel(), w, users.to_vec())))
            .collect();
        let run_for = rand::rng().random_range(100..600);
        tokio::time::sleep(Duration::from_millis(run_for)).await;
        drop(a); // SIGKILL, then wait for the process to end
        for (w, writer) in writers.into_iter().enumerate() {
            let (users, acked) = writer.await.expect("a writer panicked");
            acked_writes += acked;
            model[w * USERS_PER_WRITER..(w + 1) * USERS_PER_WRITER].copy_from_slice(&users);
        }
        // Still serving after the other died.
        tokio::time::sleep(Duration::from_millis(200)).await;
        reading.store(false, Ordering::Relaxed);
        reader.await.expect("a read on B failed while A was killed");
        reads_on_b += reads.load(Ordering::Relaxed);
        // A COMMIT the killed process sent may still be finishing in its backend.
        settle(&db).await;
        check_against_model(&b.channel(), &mut model, round).await;
    }
    b.stop().await;
    assert!(acked_writes > 0, "no write acknowledged in {rounds} rounds");
    eprintln!(
        "{rounds} rounds of kill -9 of replica A: {acked_writes} writes acknowledged by A, all \
         read through B; B answered {reads_on_b} reads meanwhile"
    );
}

/// Reads every tracked name on `channel` until `reading` turns false; panics on any failure
/// other than NotFound.
async fn read_until_told(channel: Channel, reading: Arc<AtomicBool>, reads: Arc<AtomicUsize>) {
    let mut users = UserServiceClient::new(channel);
    while reading.load(Ordering::Relaxed) {
        for n in 0..WRITERS * USERS_PER_WRITER {
            let request = GetUserRequest {
                user_name: format!("w{}u{}", n / USERS_PER_WRITER, n % USERS_PER_WRITER),
            };
            match users.get_user(request).await {
                Ok(_) => {}
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => panic!("B failed a read: {status:?}"),
            }
            reads.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Waits (bounded: 10 s) until no backend on the database is in the middle of something: the
/// killed replica's backends finish what they received and exit, and the survivor is idle.
async fn settle(db: &TestDb) {
    use sqlx::{Connection as _, Row as _};
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let busy: i64 = sqlx::query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
        if busy == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{busy} backends still busy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_passwords_and_the_policy_are_shared_across_processes_at_once() {
    if !answers_or_required() {
        return;
    }
    let db = TestDb::create();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lockout = ["--lockout-threshold", "3", "--lockout-base", "60s"];
    let a = replica(dir_a.path(), &db, &lockout).await;
    let b = replica(dir_b.path(), &db, &lockout).await;
    let password = "Alice-password-1";
    for name in ["alice", "bob"] {
        create_user(a.channel(), name).await;
        let request = CreateLoginProfileRequest {
            user_name: name.into(),
            password: password.into(),
            password_reset_required: false,
        };
        LoginProfileServiceClient::new(a.channel())
            .create_login_profile(request)
            .await
            .unwrap();
    }

    // Three failures spread over both processes lock alice on both, even for her password.
    for replica in [&a, &b, &a] {
        let result = verify(replica.channel(), "alice", "Wrong-password-1").await;
        assert_eq!(result, VerifyResult::InvalidCredentials);
    }
    assert_eq!(
        verify(b.channel(), "alice", password).await,
        VerifyResult::Locked
    );
    assert_eq!(
        verify(a.channel(), "alice", password).await,
        VerifyResult::Locked
    );

    // A password changed on A is the one B accepts, right after the reply.
    let change = ChangePasswordRequest {
        user_name: "bob".into(),
        old_password: password.into(),
        new_password: "Bob-password-2".into(),
    };
    LoginProfileServiceClient::new(a.channel())
        .change_password(change)
        .await
        .unwrap();
    assert_eq!(
        verify(b.channel(), "bob", "Bob-password-2").await,
        VerifyResult::Ok
    );
    assert_eq!(
        verify(b.channel(), "bob", password).await,
        VerifyResult::InvalidCredentials
    );

    // A policy set on A is enforced by B at once.
    let policy = UpdateAccountPasswordPolicyRequest {
        minimum_password_length: Some(20),
        password_reuse_prevention: Some(2),
        ..Default::default()
    };
    AccountPasswordPolicyServiceClient::new(a.channel())
        .update_account_password_policy(policy)
        .await
        .unwrap();
    let seen = AccountPasswordPolicyServiceClient::new(b.channel())
        .get_account_password_policy(GetAccountPasswordPolicyRequest {})
        .await
        .unwrap()
        .into_inner()
        .password_policy
        .unwrap();
    assert_eq!(seen.minimum_password_length, 20);
    let short = ChangePasswordRequest {
        user_name: "bob".into(),
        old_password: "Bob-password-2".into(),
        new_password: "Bob-password-3".into(),
    };
    let refused = LoginProfileServiceClient::new(b.channel())
        .change_password(short)
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "PasswordPolicyViolation", "{refused:?}");
    a.stop().await;
    b.stop().await;
}
