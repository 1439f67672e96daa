//! Two servers on one database behave as one: a write acknowledged by one is read by the other
//! at once, racing creates of one name across both have one winner, and lockout is shared.

use std::sync::Arc;

use loginprofiled::{
    domain::LockoutRule,
    grpc::proto::{CreateUserRequest, GetUserRequest, VerifyResult},
};
use tonic::Code;

use super::not_on_postgres;
use crate::{
    helpers::{TestApp, TestDb, start_on, test_config},
    login_profiles::{GOOD, create, get, verify},
};

/// Two in-process servers sharing a fresh database, with lockout after three failures.
async fn two_replicas() -> (TestApp, TestApp) {
    let db = Arc::new(TestDb::create());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path().to_path_buf());
        config.lockout = LockoutRule {
            threshold: 3,
            ..LockoutRule::default()
        };
        config.audit_log = Some(dir.path().join("audit.log"));
        replicas.push(start_on(config, dir, Some(db.clone())).await);
    }
    let b = replicas.pop().unwrap();
    let a = replicas.pop().unwrap();
    (a, b)
}

fn new_user(name: &str) -> CreateUserRequest {
    CreateUserRequest {
        user_name: name.to_owned(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_is_read_on_the_other_right_after_the_reply() {
    if not_on_postgres() {
        return;
    }
    let (a, b) = two_replicas().await;
    for round in 0..20 {
        let name = format!("Reader{round}");
        a.users().create_user(new_user(&name)).await.unwrap();
        let got = b
            .users()
            .get_user(GetUserRequest {
                user_name: name.to_ascii_lowercase(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.user.unwrap().user_name, name);
        b.profiles()
            .create_login_profile(create(&name, GOOD, false))
            .await
            .unwrap();
        a.profiles().get_login_profile(get(&name)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_name_across_replicas_have_exactly_one_winner() {
    if not_on_postgres() {
        return;
    }
    let (a, b) = two_replicas().await;
    for round in 0..10 {
        let calls: Vec<_> = (0..16)
            .map(|i| {
                let mut client = if i % 2 == 0 { a.users() } else { b.users() };
                // Case variants of one name: one key.
                let name = if i % 3 == 0 {
                    format!("RACER{round}")
                } else {
                    format!("racer{round}")
                };
                tokio::spawn(async move { client.create_user(new_user(&name)).await })
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_on_one_replica_lock_the_name_on_the_other() {
    if not_on_postgres() {
        return;
    }
    let (a, b) = two_replicas().await;
    a.users().create_user(new_user("alice")).await.unwrap();
    a.profiles()
        .create_login_profile(create("alice", GOOD, false))
        .await
        .unwrap();
    for replica in [&a, &b, &a] {
        assert_eq!(
            verify(replica, "alice", "Wr0ng!Password").await,
            VerifyResult::InvalidCredentials
        );
    }
    // Three failures spread over both replicas lock the name on both, even for the right
    // password.
    assert_eq!(verify(&b, "alice", GOOD).await, VerifyResult::Locked);
    assert_eq!(verify(&a, "alice", GOOD).await, VerifyResult::Locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_signing_in_one_imported_user_at_once_upgrade_it_once() {
    use loginprofiled::{
        grpc::proto::ImportLoginProfileRequest,
        password::{EXAMPLE_PASSWORD, FORMATS, Scheme},
        store::ProfileLookup,
    };
    if not_on_postgres() {
        return;
    }
    let (a, b) = two_replicas().await;
    let bcrypt = FORMATS.iter().find(|f| f.scheme == Scheme::Bcrypt).unwrap();
    for round in 0..5 {
        let name = format!("Migrated{round}");
        a.users().create_user(new_user(&name)).await.unwrap();
        a.profiles()
            .import_login_profile(ImportLoginProfileRequest {
                user_name: name.clone(),
                password_hash: bcrypt.example.to_owned(),
                password_reset_required: false,
            })
            .await
            .unwrap();
        let (on_a, on_b) = tokio::join!(
            verify(&a, &name, EXAMPLE_PASSWORD),
            verify(&b, &name, EXAMPLE_PASSWORD)
        );
        assert_eq!((on_a, on_b), (VerifyResult::Ok, VerifyResult::Ok), "{name}");
        let key = name.to_ascii_lowercase();
        let ProfileLookup::Found(_, profile) = a.service.store().profile(&key).await.unwrap()
        else {
            panic!("{name} lost its profile");
        };
        // One replacement, whichever replica made it: the loser's swap found a newer version.
        assert_eq!(profile.version, 1, "{name}");
        assert!(profile.password_hash.starts_with("$argon2id$"), "{name}");
        for replica in [&a, &b] {
            assert_eq!(
                verify(replica, &name, EXAMPLE_PASSWORD).await,
                VerifyResult::Ok
            );
        }
        // The audit trails of both replicas record the upgrade once between them.
        let upgraded = format!(r#""event":"password_upgraded","user_name":"{name}""#);
        let records: usize = [&a, &b]
            .iter()
            .map(|r| std::fs::read_to_string(r.data_dir.path().join("audit.log")).unwrap())
            .map(|trail| trail.matches(&upgraded).count())
            .sum();
        assert_eq!(records, 1, "{name}");
    }
}
