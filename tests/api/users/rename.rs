//! UpdateUser over gRPC: renames and moves carry everything the user owns, atomically.

use std::time::Duration;

use loginprofiled::{
    domain::LockoutRule,
    grpc::proto::{CreateUserRequest, GetUserRequest, UpdateUserRequest, VerifyResult},
};
use tonic::Code;

use super::tags::{spawn_all, tag, tagged_user, user_tags};
use crate::{
    helpers::{
        TestApp, assert_error, assert_no_such_user, spawn_app, spawn_app_with, user,
        user_with_profile,
    },
    login_profiles::{GOOD, create, get, verify},
};

fn rename(from: &str, to: &str) -> UpdateUserRequest {
    UpdateUserRequest {
        user_name: from.to_owned(),
        new_user_name: Some(to.to_owned()),
        new_path: None,
    }
}

async fn get_user(
    app: &TestApp,
    name: &str,
) -> Result<loginprofiled::grpc::proto::User, tonic::Status> {
    let request = GetUserRequest {
        user_name: name.to_owned(),
    };
    let response = app.users().get_user(request).await?;
    Ok(response.into_inner().user.unwrap())
}

#[tokio::test]
async fn a_renamed_user_keeps_its_id_date_tags_and_password() {
    let app = spawn_app().await;
    tagged_user(&app, "alice", vec![tag("team", "id")]).await;
    app.profiles()
        .create_login_profile(create("alice", GOOD, false))
        .await
        .unwrap();
    let before = get_user(&app, "alice").await.unwrap();

    app.users()
        .update_user(rename("ALICE", "Alicia"))
        .await
        .unwrap();

    let after = get_user(&app, "alicia").await.unwrap();
    assert_eq!(after.user_name, "Alicia");
    assert_eq!(after.user_id, before.user_id);
    assert_eq!(after.create_date, before.create_date);
    assert_eq!(after.arn, "arn:aws:iam::123456789012:user/Alicia");
    assert_eq!(user_tags(&app, "Alicia").await, vec![tag("team", "id")]);
    assert_eq!(
        verify(&app, "Alicia", GOOD).await,
        VerifyResult::Ok,
        "the old password signs in"
    );
    let profile = app
        .profiles()
        .get_login_profile(get("Alicia"))
        .await
        .unwrap();
    assert_eq!(
        profile.into_inner().login_profile.unwrap().user_name,
        "Alicia"
    );

    let err = get_user(&app, "alice").await.unwrap_err();
    assert_no_such_user(&err, "alice");
    assert_eq!(
        verify(&app, "alice", GOOD).await,
        VerifyResult::InvalidCredentials
    );
    // The old name is free at once, and the new user with it owns nothing of the old one.
    user(&app, "alice").await;
    let err = app
        .profiles()
        .get_login_profile(get("alice"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(user_tags(&app, "alice").await.is_empty());
}

#[tokio::test]
async fn new_path_alone_moves_the_user_and_its_arn() {
    let app = spawn_app().await;
    user(&app, "alice").await;
    let request = UpdateUserRequest {
        user_name: "alice".into(),
        new_user_name: None,
        new_path: Some("/eng/".into()),
    };
    app.users().update_user(request).await.unwrap();
    let moved = get_user(&app, "alice").await.unwrap();
    assert_eq!(moved.path, "/eng/");
    assert_eq!(moved.arn, "arn:aws:iam::123456789012:user/eng/alice");

    // Neither field: nothing changes, as UpdateLoginProfile with neither.
    let request = UpdateUserRequest {
        user_name: "alice".into(),
        ..Default::default()
    };
    app.users().update_user(request).await.unwrap();
    assert_eq!(get_user(&app, "alice").await.unwrap(), moved);
}

#[tokio::test]
async fn a_user_may_take_a_case_variant_of_its_own_name_but_not_of_another() {
    let app = spawn_app().await;
    user(&app, "alice").await;
    user(&app, "Bob").await;
    app.users()
        .update_user(rename("alice", "Alice"))
        .await
        .unwrap();
    assert_eq!(get_user(&app, "ALICE").await.unwrap().user_name, "Alice");

    for target in ["Bob", "BOB"] {
        let err = app
            .users()
            .update_user(rename("alice", target))
            .await
            .unwrap_err();
        assert_error(
            &err,
            Code::AlreadyExists,
            "EntityAlreadyExists",
            &format!("User with name {target} already exists."),
        );
    }
    assert_eq!(get_user(&app, "alice").await.unwrap().user_name, "Alice");
}

#[tokio::test]
async fn update_user_refuses_unknown_users_and_malformed_names() {
    let app = spawn_app().await;
    let err = app
        .users()
        .update_user(rename("ghost", "spirit"))
        .await
        .unwrap_err();
    assert_no_such_user(&err, "ghost");
    let request = UpdateUserRequest {
        user_name: "ghost".into(),
        new_user_name: Some("no spaces".into()),
        new_path: Some(String::new()),
    };
    let err = app.users().update_user(request).await.unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "2 validation errors detected: Value at 'newUserName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value at 'newPath' \
         failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
}

#[tokio::test]
async fn the_lockout_state_follows_a_renamed_user() {
    let rule = LockoutRule {
        threshold: 3,
        base: Duration::from_secs(60),
        max: Duration::from_secs(600),
    };
    let app = spawn_app_with(|c| c.lockout = rule).await;
    user_with_profile(&app, "alice", GOOD).await;
    for _ in 0..3 {
        assert_eq!(
            verify(&app, "alice", "Wr0ng!Password").await,
            VerifyResult::InvalidCredentials
        );
    }
    app.users()
        .update_user(rename("alice", "alicia"))
        .await
        .unwrap();
    assert_eq!(verify(&app, "alicia", GOOD).await, VerifyResult::Locked);
    user_with_profile(&app, "alice", GOOD).await;
    assert_eq!(
        verify(&app, "alice", GOOD).await,
        VerifyResult::Ok,
        "the lock left with alicia"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_renames_and_a_create_onto_one_name_have_exactly_one_winner() {
    let app = spawn_app().await;
    for i in 0..12 {
        user(&app, &format!("user{i}")).await;
    }
    let renames = (0..12).map(|i| {
        let mut users = app.users();
        async move {
            users
                .update_user(rename(
                    &format!("user{i}"),
                    if i % 2 == 0 { "Target" } else { "target" },
                ))
                .await
                .map(drop)
        }
    });
    let mut users = app.users();
    let create = async move {
        let request = CreateUserRequest {
            user_name: "TARGET".into(),
            ..Default::default()
        };
        users.create_user(request).await.map(drop)
    };
    let create = tokio::spawn(create);
    let mut outcomes = spawn_all(renames).await;
    let created = create.await.unwrap();
    let create_won = created.is_ok();
    outcomes.push(created);
    let winners = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(winners, 1, "{outcomes:?}");
    for outcome in &outcomes {
        if let Err(status) = outcome {
            assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
        }
    }
    let listed = app
        .users()
        .list_users(loginprofiled::grpc::proto::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner();
    // A winning rename moved one of the 12; a winning create added a 13th.
    let expected = if create_won { 13 } else { 12 };
    assert_eq!(listed.users.len(), expected, "no user lost or duplicated");
    let names: Vec<_> = listed
        .users
        .iter()
        .map(|u| u.user_name.to_lowercase())
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "target").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_renames_of_one_user_leave_it_under_exactly_one_new_name() {
    let app = spawn_app().await;
    tagged_user(&app, "alice", vec![tag("k", "v")]).await;
    let renames = (0..12).map(|i| {
        let mut users = app.users();
        async move {
            users
                .update_user(rename("alice", &format!("name{i}")))
                .await
                .map(drop)
        }
    });
    let outcomes = spawn_all(renames).await;
    let winners: Vec<usize> = (0..12).filter(|&i| outcomes[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for outcome in &outcomes {
        if let Err(status) = outcome {
            assert_eq!(status.code(), Code::NotFound, "{status:?}");
        }
    }
    let winner = format!("name{}", winners[0]);
    assert_eq!(user_tags(&app, &winner).await, vec![tag("k", "v")]);
    let listed = app
        .users()
        .list_users(loginprofiled::grpc::proto::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.users.len(), 1);
}
