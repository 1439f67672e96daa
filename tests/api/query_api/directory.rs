//! The user directory through the AWS SDK for Rust: tags and UpdateUser as IAM shapes them.

use aws_sdk_iam::types::Tag;

use super::{READ_KEY, SECRET, assert_failure, assert_refused, sdk_app};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn pairs(tags: &[Tag]) -> Vec<(&str, &str)> {
    tags.iter().map(|t| (t.key(), t.value())).collect()
}

#[tokio::test]
async fn the_sdk_tags_untags_and_lists_a_users_tags() {
    let (app, iam) = sdk_app().await;

    let created = iam
        .create_user()
        .user_name("Bob")
        .tags(tag("team", "identity"))
        .tags(tag("Cost Center", "4200"))
        .send()
        .await
        .unwrap();
    // Echoed as given; listed by key as written (capitals first), as IAM does.
    let given = [("team", "identity"), ("Cost Center", "4200")];
    assert_eq!(pairs(created.user().unwrap().tags()), given);
    let got = iam.get_user().user_name("bob").send().await.unwrap();
    let by_key = [("Cost Center", "4200"), ("team", "identity")];
    assert_eq!(pairs(got.user().unwrap().tags()), by_key);

    iam.tag_user()
        .user_name("Bob")
        .tags(tag("TEAM", "platform"))
        .tags(tag("env", ""))
        .send()
        .await
        .unwrap();
    let first = iam
        .list_user_tags()
        .user_name("Bob")
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    assert_eq!(
        pairs(first.tags()),
        [("Cost Center", "4200"), ("TEAM", "platform")]
    );
    let rest = iam
        .list_user_tags()
        .user_name("Bob")
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!rest.is_truncated());
    assert!(rest.marker().is_none());
    assert_eq!(pairs(rest.tags()), [("env", "")]);

    iam.untag_user()
        .user_name("Bob")
        .tag_keys("team")
        .tag_keys("cost center")
        .send()
        .await
        .unwrap();
    let left = iam.list_user_tags().user_name("Bob").send().await.unwrap();
    assert_eq!(pairs(left.tags()), [("env", "")]);

    let reader = super::iam(app.http_addr, READ_KEY, SECRET);
    reader
        .list_user_tags()
        .user_name("Bob")
        .send()
        .await
        .unwrap();
    let err = reader
        .tag_user()
        .user_name("Bob")
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap_err();
    assert_refused(&err, "AccessDenied", 403);
    let err = reader
        .update_user()
        .user_name("Bob")
        .new_user_name("Robert")
        .send()
        .await
        .unwrap_err();
    assert_refused(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn the_sdk_sees_tag_failures_with_iam_codes_and_statuses() {
    let (_app, iam) = sdk_app().await;
    let fifty: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i:02}"), "v")).collect();
    iam.create_user()
        .user_name("Bob")
        .set_tags(Some(fifty))
        .send()
        .await
        .unwrap();

    let err = iam
        .tag_user()
        .user_name("Bob")
        .tags(tag("one-more", "v"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_limit_exceeded_exception()
    );
    assert_failure(
        &err,
        "LimitExceeded",
        "Cannot exceed quota for TagsPerUser: 50.",
        409,
    );
    let err = iam
        .tag_user()
        .user_name("Bob")
        .tags(tag("dup", "1"))
        .tags(tag("DUP", "2"))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_input_exception());
    assert_failure(
        &err,
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        400,
    );
    let err = iam
        .tag_user()
        .user_name("Bob")
        .tags(tag("k00", "not;allowed"))
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "ValidationError",
        "1 validation error detected: Value at 'tags.1.member.value' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: \
         [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
        400,
    );
    let err = iam
        .untag_user()
        .user_name("nobody")
        .tag_keys("k")
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "NoSuchEntity",
        "The user with name nobody cannot be found.",
        404,
    );
}

#[tokio::test]
async fn the_sdk_renames_and_moves_a_user_with_its_login_profile() {
    let (_app, iam) = sdk_app().await;
    let created = iam.create_user().user_name("Bob").send().await.unwrap();
    let created = created.user().unwrap();
    iam.create_login_profile()
        .user_name("Bob")
        .password("Sup3r secret!")
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("Carol").send().await.unwrap();

    iam.update_user()
        .user_name("bob")
        .new_user_name("Robert")
        .new_path("/eng/")
        .send()
        .await
        .unwrap();
    let got = iam.get_user().user_name("robert").send().await.unwrap();
    let got = got.user().unwrap();
    assert_eq!(got.user_name(), "Robert");
    assert_eq!(got.arn(), "arn:aws:iam::123456789012:user/eng/Robert");
    assert_eq!(got.user_id(), created.user_id());
    assert_eq!(got.create_date(), created.create_date());
    let profile = iam
        .get_login_profile()
        .user_name("Robert")
        .send()
        .await
        .unwrap();
    assert_eq!(profile.login_profile().unwrap().user_name(), "Robert");

    let err = iam.get_user().user_name("Bob").send().await.unwrap_err();
    assert_refused(&err, "NoSuchEntity", 404);
    let err = iam
        .update_user()
        .user_name("Robert")
        .new_user_name("CAROL")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_entity_already_exists_exception()
    );
    assert_failure(
        &err,
        "EntityAlreadyExists",
        "User with name CAROL already exists.",
        409,
    );
    let err = iam
        .update_user()
        .user_name("nobody")
        .new_path("/x/")
        .send()
        .await
        .unwrap_err();
    assert_refused(&err, "NoSuchEntity", 404);
}
