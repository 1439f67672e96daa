//! Racing calls never lose or duplicate data.

use tonic::Code;

use crate::{
    helpers::{spawn_app, user},
    login_profiles::{GOOD, create, get},
};
use loginprofiled::grpc::proto::{DeleteUserRequest, GetUserRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_creates_for_one_user_give_exactly_one_success() {
    let app = spawn_app().await;
    user(&app, "alice").await;
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let mut client = app.profiles();
            tokio::spawn(async move {
                client
                    .create_login_profile(create("alice", GOOD, i % 2 == 0))
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => ok += 1,
            Err(status) => assert_eq!(status.code(), Code::AlreadyExists, "{status:?}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_delete_user_and_create_profile_never_orphan_a_profile() {
    let app = spawn_app().await;
    for round in 0..20 {
        let name = format!("user{round}");
        user(&app, &name).await;
        let mut profiles = app.profiles();
        let mut users = app.users();
        let (n1, n2) = (name.clone(), name.clone());
        let create = tokio::spawn(async move {
            profiles
                .create_login_profile(create(&n1, GOOD, false))
                .await
        });
        let delete =
            tokio::spawn(
                async move { users.delete_user(DeleteUserRequest { user_name: n2 }).await },
            );
        let (created, deleted) = (create.await.unwrap(), delete.await.unwrap());
        assert!(
            created.is_ok() != deleted.is_ok(),
            "exactly one wins: {created:?} {deleted:?}"
        );

        let user_exists = app
            .users()
            .get_user(GetUserRequest {
                user_name: name.clone(),
            })
            .await
            .is_ok();
        let profile = app.profiles().get_login_profile(get(&name)).await;
        if created.is_ok() {
            assert!(user_exists && profile.is_ok());
        } else {
            assert!(!user_exists);
            assert_eq!(profile.unwrap_err().code(), Code::NotFound);
        }
    }
}
