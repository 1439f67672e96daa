//! User tags over gRPC: CreateUser and GetUser carry them; TagUser, UntagUser, ListUserTags.

use loginprofiled::grpc::proto::{
    CreateUserRequest, GetUserRequest, ListUserTagsRequest, ListUsersRequest, Tag, TagUserRequest,
    UntagUserRequest,
};
use tonic::Code;

use crate::helpers::{TestApp, assert_error, spawn_app};

pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

fn pairs(tags: &[Tag]) -> Vec<(&str, &str)> {
    tags.iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect()
}

pub async fn tagged_user(app: &TestApp, name: &str, tags: Vec<Tag>) {
    let request = CreateUserRequest {
        user_name: name.to_owned(),
        tags,
        ..Default::default()
    };
    app.users().create_user(request).await.unwrap();
}

async fn tag_user(app: &TestApp, name: &str, tags: Vec<Tag>) -> Result<(), tonic::Status> {
    let request = TagUserRequest {
        user_name: name.to_owned(),
        tags,
    };
    app.users().tag_user(request).await.map(drop)
}

pub async fn user_tags(app: &TestApp, name: &str) -> Vec<Tag> {
    let request = GetUserRequest {
        user_name: name.to_owned(),
    };
    let user = app.users().get_user(request).await.unwrap().into_inner();
    user.user.unwrap().tags
}

#[tokio::test]
async fn create_user_echoes_its_tags_as_given_and_get_user_orders_them_by_key_as_written() {
    let app = spawn_app().await;
    let request = CreateUserRequest {
        user_name: "alice".into(),
        tags: vec![
            tag("team", "Identity"),
            tag("Cost Center", "4200"),
            tag("empty", ""),
        ],
        ..Default::default()
    };
    let created = app.users().create_user(request).await.unwrap().into_inner();
    // IAM echoes CreateUser's tags in the order the caller gave them ...
    assert_eq!(
        pairs(&created.user.unwrap().tags),
        [("team", "Identity"), ("Cost Center", "4200"), ("empty", "")]
    );
    // ... and lists a user's tags by key, byte by byte: capitals before small letters.
    assert_eq!(
        pairs(&user_tags(&app, "ALICE").await),
        [("Cost Center", "4200"), ("empty", ""), ("team", "Identity")]
    );

    let listed = app
        .users()
        .list_users(ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.users[0].tags.is_empty(),
        "ListUsers leaves tags out, as IAM"
    );
}

#[tokio::test]
async fn tag_user_adds_tags_and_replaces_a_key_given_in_any_case() {
    let app = spawn_app().await;
    tagged_user(&app, "alice", vec![tag("Team", "old"), tag("env", "prod")]).await;
    tag_user(&app, "Alice", vec![tag("TEAM", "new"), tag("owner", "ops")])
        .await
        .unwrap();
    assert_eq!(
        pairs(&user_tags(&app, "alice").await),
        [("TEAM", "new"), ("env", "prod"), ("owner", "ops")]
    );
}

#[tokio::test]
async fn untag_user_removes_keys_in_any_case_and_ignores_unknown_ones() {
    let app = spawn_app().await;
    tagged_user(&app, "alice", vec![tag("Team", "a"), tag("env", "b")]).await;
    let request = UntagUserRequest {
        user_name: "alice".into(),
        tag_keys: vec!["TEAM".into(), "never-set".into()],
    };
    app.users().untag_user(request).await.unwrap();
    assert_eq!(pairs(&user_tags(&app, "alice").await), [("env", "b")]);
}

#[tokio::test]
async fn list_user_tags_pages_in_key_order_with_a_marker() {
    let app = spawn_app().await;
    let tags = (0..5).map(|i| tag(&format!("k{i}"), "v")).rev().collect();
    tagged_user(&app, "alice", tags).await;
    let list = |marker: String| ListUserTagsRequest {
        user_name: "alice".into(),
        marker,
        max_items: 2,
    };
    let mut keys = Vec::new();
    let mut marker = String::new();
    let mut pages = 0;
    loop {
        let page = app
            .users()
            .list_user_tags(list(marker))
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        keys.extend(page.tags.into_iter().map(|t| t.key));
        assert_eq!(page.is_truncated, !page.marker.is_empty());
        if !page.is_truncated {
            break;
        }
        marker = page.marker;
    }
    assert_eq!(keys, ["k0", "k1", "k2", "k3", "k4"]);
    assert_eq!(pages, 3);

    let all = app
        .users()
        .list_user_tags(ListUserTagsRequest {
            user_name: "alice".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.tags.len(), 5);
    assert!(!all.is_truncated);

    let err = app
        .users()
        .list_user_tags(list("not-ours".into()))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "1 validation error detected: Value at 'marker' failed to satisfy constraint: Member must \
         be a marker returned by a previous ListUserTags call",
    );
}

#[tokio::test]
async fn list_user_tags_orders_keys_as_written_so_capitals_come_first_on_every_page() {
    let app = spawn_app().await;
    let given = vec![
        tag("like-a", "glove"),
        tag("Stan", "The Caddy"),
        tag("env", ""),
    ];
    tagged_user(&app, "kenny", given).await;
    let list = |marker: String| ListUserTagsRequest {
        user_name: "kenny".into(),
        marker,
        max_items: 0,
    };
    let all = app.users().list_user_tags(list(String::new())).await;
    let all = all.unwrap().into_inner();
    assert_eq!(
        pairs(&all.tags),
        [("Stan", "The Caddy"), ("env", ""), ("like-a", "glove")]
    );

    // One tag a page: each marker continues after its key in the same order.
    let mut keys = Vec::new();
    let mut marker = String::new();
    loop {
        let request = ListUserTagsRequest {
            max_items: 1,
            ..list(marker)
        };
        let page = app.users().list_user_tags(request).await.unwrap();
        let page = page.into_inner();
        keys.extend(page.tags.into_iter().map(|t| t.key));
        if !page.is_truncated {
            break;
        }
        marker = page.marker;
    }
    assert_eq!(keys, ["Stan", "env", "like-a"]);
}

#[tokio::test]
async fn tag_operations_on_an_unknown_user_are_not_found() {
    let app = spawn_app().await;
    let message = "The user with name Ghost cannot be found.";
    let err = tag_user(&app, "Ghost", vec![tag("k", "v")])
        .await
        .unwrap_err();
    assert_error(&err, Code::NotFound, "NoSuchEntity", message);
    let untag = UntagUserRequest {
        user_name: "Ghost".into(),
        tag_keys: vec!["k".into()],
    };
    let err = app.users().untag_user(untag).await.unwrap_err();
    assert_error(&err, Code::NotFound, "NoSuchEntity", message);
    let list = ListUserTagsRequest {
        user_name: "Ghost".into(),
        ..Default::default()
    };
    let err = app.users().list_user_tags(list).await.unwrap_err();
    assert_error(&err, Code::NotFound, "NoSuchEntity", message);
}

#[tokio::test]
async fn malformed_tags_are_validation_errors_naming_the_member() {
    let app = spawn_app().await;
    tagged_user(&app, "alice", vec![]).await;
    let err = tag_user(
        &app,
        "alice",
        vec![tag("ok", "v"), tag("semi;colon", &"v".repeat(257))],
    )
    .await
    .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "2 validation errors detected: Value at 'tags.2.member.key' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: \
         [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+; Value at 'tags.2.member.value' failed to satisfy \
         constraint: Member must have length less than or equal to 256",
    );
    let err = tag_user(&app, "alice", vec![]).await.unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must \
         not be null",
    );
    let request = CreateUserRequest {
        user_name: "bob".into(),
        tags: (0..51).map(|i| tag(&format!("k{i}"), "v")).collect(),
        ..Default::default()
    };
    let err = app.users().create_user(request).await.unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must \
         have length less than or equal to 50",
    );
    assert!(user_tags(&app, "alice").await.is_empty());
}

#[tokio::test]
async fn keys_repeated_in_one_request_are_invalid_input() {
    let app = spawn_app().await;
    let request = CreateUserRequest {
        user_name: "alice".into(),
        tags: vec![tag("Team", "a"), tag("team", "b")],
        ..Default::default()
    };
    let err = app.users().create_user(request).await.unwrap_err();
    let message = "Duplicate tag keys found. Please note that Tag keys are case insensitive.";
    assert_error(&err, Code::InvalidArgument, "InvalidInput", message);
    let get = GetUserRequest {
        user_name: "alice".into(),
    };
    let err = app.users().get_user(get).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "the user was not created");

    tagged_user(&app, "alice", vec![]).await;
    let err = tag_user(&app, "alice", vec![tag("a", "1"), tag("A", "2")])
        .await
        .unwrap_err();
    assert_error(&err, Code::InvalidArgument, "InvalidInput", message);
}

#[tokio::test]
async fn existing_and_new_tags_together_may_not_pass_fifty() {
    let app = spawn_app().await;
    let tags = (0..49).map(|i| tag(&format!("k{i}"), "v")).collect();
    tagged_user(&app, "alice", tags).await;
    // Replacing a key does not add to the count.
    tag_user(&app, "alice", vec![tag("K0", "x"), tag("new", "v")])
        .await
        .unwrap();
    let err = tag_user(&app, "alice", vec![tag("one-more", "v")])
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::ResourceExhausted,
        "LimitExceeded",
        "Cannot exceed quota for TagsPerUser: 50.",
    );
    let tags = user_tags(&app, "alice").await;
    assert_eq!(tags.len(), 50);
    assert!(tags.iter().all(|t| t.key != "one-more"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tag_calls_lose_no_tag() {
    let app = spawn_app().await;
    tagged_user(&app, "alice", vec![]).await;
    let calls = (0..24).map(|i| {
        let mut users = app.users();
        async move {
            users
                .tag_user(TagUserRequest {
                    user_name: "alice".into(),
                    tags: vec![tag(&format!("k{i:02}"), &i.to_string())],
                })
                .await
        }
    });
    for result in spawn_all(calls).await {
        result.unwrap();
    }
    assert_eq!(user_tags(&app, "alice").await.len(), 24);
}

/// Runs the futures at once on the runtime's threads and collects their outputs in order.
pub async fn spawn_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
