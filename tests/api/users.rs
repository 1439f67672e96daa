//! UserService: IAM user semantics.

mod rename;
mod tags;

use tonic::Code;

use crate::{
    helpers::{assert_error, assert_no_such_user, spawn_app, user_with_profile},
    login_profiles::GOOD,
};
use loginprofiled::grpc::proto::{
    CreateUserRequest, DeleteUserRequest, GetUserRequest, ListUsersRequest,
};

fn create(name: &str, path: &str) -> CreateUserRequest {
    CreateUserRequest {
        user_name: name.to_owned(),
        path: path.to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn create_user_returns_the_iam_shape() {
    let app = spawn_app().await;
    let user = app
        .users()
        .create_user(create("Alice", ""))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(user.user_name, "Alice");
    assert_eq!(user.path, "/");
    assert_eq!(user.arn, "arn:aws:iam::123456789012:user/Alice");
    assert_eq!(user.user_id.len(), 21);
    assert!(user.user_id.starts_with("AIDA"));
    assert!(
        user.user_id[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(user.create_date.is_some());
    assert!(user.password_last_used.is_none());

    let with_path = app
        .users()
        .create_user(create("bob", "/eng/team/"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(with_path.arn, "arn:aws:iam::123456789012:user/eng/team/bob");
}

#[tokio::test]
async fn names_are_unique_without_regard_to_case_and_keep_their_spelling() {
    let app = spawn_app().await;
    app.users().create_user(create("Alice", "")).await.unwrap();
    let err = app
        .users()
        .create_user(create("ALICE", ""))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::AlreadyExists,
        "EntityAlreadyExists",
        "User with name ALICE already exists.",
    );
    let got = app
        .users()
        .get_user(GetUserRequest {
            user_name: "aLiCe".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.user.unwrap().user_name, "Alice");
}

#[tokio::test]
async fn unknown_users_are_not_found_with_the_name_as_sent() {
    let app = spawn_app().await;
    let err = app
        .users()
        .get_user(GetUserRequest {
            user_name: "Nobody".into(),
        })
        .await
        .unwrap_err();
    assert_no_such_user(&err, "Nobody");
    let err = app
        .users()
        .delete_user(DeleteUserRequest {
            user_name: "Nobody".into(),
        })
        .await
        .unwrap_err();
    assert_no_such_user(&err, "Nobody");
}

#[tokio::test]
async fn delete_user_is_refused_while_a_login_profile_exists() {
    let app = spawn_app().await;
    user_with_profile(&app, "carol", GOOD).await;
    let err = app
        .users()
        .delete_user(DeleteUserRequest {
            user_name: "carol".into(),
        })
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::FailedPrecondition,
        "DeleteConflict",
        "Cannot delete entity, must delete login profile first.",
    );
}

#[tokio::test]
async fn list_users_pages_in_name_order_and_filters_by_path() {
    let app = spawn_app().await;
    for (name, path) in [
        ("dave", "/a/"),
        ("Bob", "/b/"),
        ("alice", "/a/"),
        ("Carl", "/a/x/"),
        ("eve", "/"),
    ] {
        app.users().create_user(create(name, path)).await.unwrap();
    }
    let mut names = Vec::new();
    let mut marker = String::new();
    loop {
        let page = app
            .users()
            .list_users(ListUsersRequest {
                path_prefix: String::new(),
                marker: marker.clone(),
                max_items: 2,
            })
            .await
            .unwrap()
            .into_inner();
        names.extend(page.users.into_iter().map(|u| u.user_name));
        assert_eq!(page.is_truncated, !page.marker.is_empty());
        if !page.is_truncated {
            break;
        }
        marker = page.marker;
    }
    assert_eq!(names, ["alice", "Bob", "Carl", "dave", "eve"]);

    let under_a = app
        .users()
        .list_users(ListUsersRequest {
            path_prefix: "/a/".into(),
            marker: String::new(),
            max_items: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = under_a.users.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names, ["alice", "Carl", "dave"]);
    assert!(!under_a.is_truncated);
    assert!(under_a.marker.is_empty());
}

#[tokio::test]
async fn list_users_rejects_bad_parameters_together() {
    let app = spawn_app().await;
    let err = app
        .users()
        .list_users(ListUsersRequest {
            path_prefix: "nope".into(),
            marker: "forged".into(),
            max_items: 1001,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message()
            .starts_with("3 validation errors detected: Value at 'pathPrefix'"),
        "{}",
        err.message()
    );
}
