//! The AWS SDK for Rust against the Query API: its awsQuery parser checks element order and
//! root names, so a passing call proves the XML shape.

use std::time::Duration;

use super::{
    ADMIN_KEY, BOB_KEY, READ_KEY, SECRET, assert_failure, assert_refused, failure, iam,
    iam_with_session, keyed_app, sdk_app,
};

#[tokio::test]
async fn the_sdk_runs_the_login_profile_lifecycle() {
    let (_app, iam) = sdk_app().await;

    let user = iam
        .create_user()
        .user_name("Bob")
        .path("/eng/")
        .send()
        .await
        .unwrap();
    let user = user.user().unwrap();
    assert_eq!(user.arn(), "arn:aws:iam::123456789012:user/eng/Bob");
    assert_eq!(user.path(), "/eng/");
    assert!(user.password_last_used().is_none());

    let created = iam
        .create_login_profile()
        .user_name("Bob")
        .password("Sup3r secret!")
        .send()
        .await
        .unwrap();
    let profile = created.login_profile().unwrap();
    assert_eq!(profile.user_name(), "Bob");
    assert!(!profile.password_reset_required());

    iam.update_login_profile()
        .user_name("bob")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_login_profile()
        .user_name("BOB")
        .send()
        .await
        .unwrap();
    let got = got.login_profile().unwrap();
    assert!(got.password_reset_required());
    assert_eq!(got.create_date(), profile.create_date());

    let err = iam
        .create_login_profile()
        .user_name("Bob")
        .password("Sup3r secret!")
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "EntityAlreadyExists",
        "Login Profile for user Bob already exists.",
        409,
    );
    let err = iam.delete_user().user_name("Bob").send().await.unwrap_err();
    assert_failure(
        &err,
        "DeleteConflict",
        "Cannot delete entity, must delete login profile first.",
        409,
    );

    iam.delete_login_profile()
        .user_name("Bob")
        .send()
        .await
        .unwrap();
    let err = iam
        .get_login_profile()
        .user_name("Bob")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_no_such_entity_exception()
    );
    assert_failure(
        &err,
        "NoSuchEntity",
        "Login Profile for User Bob cannot be found.",
        404,
    );
    let err = iam.get_user().user_name("nobody").send().await.unwrap_err();
    assert_failure(
        &err,
        "NoSuchEntity",
        "The user with name nobody cannot be found.",
        404,
    );
    let err = iam
        .create_login_profile()
        .user_name("Bob")
        .password("short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&err).0, "PasswordPolicyViolation");
    assert!(!failure(&err).1.contains("short"));
}

#[tokio::test]
async fn the_sdk_lists_users_page_by_page() {
    let (_app, iam) = sdk_app().await;
    for name in ["carol", "Alice", "bob"] {
        iam.create_user().user_name(name).send().await.unwrap();
    }
    let first = iam.list_users().max_items(2).send().await.unwrap();
    let names: Vec<_> = first.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["Alice", "bob"]);
    assert!(first.is_truncated());
    let rest = iam
        .list_users()
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.users().len(), 1);
    assert!(!rest.is_truncated());
    assert!(rest.marker().is_none());
    iam.delete_user().user_name("CAROL").send().await.unwrap();
    let all = iam.list_users().send().await.unwrap();
    assert_eq!(all.users().len(), 2);
}

#[tokio::test]
async fn the_sdk_reads_the_password_policy_with_only_the_fields_that_were_set() {
    let (_app, iam) = sdk_app().await;
    let err = iam.get_account_password_policy().send().await.unwrap_err();
    assert_failure(
        &err,
        "NoSuchEntity",
        "The Password Policy with domain name 123456789012 cannot be found.",
        404,
    );

    iam.update_account_password_policy().send().await.unwrap();
    let policy = iam.get_account_password_policy().send().await.unwrap();
    let policy = policy.password_policy().unwrap();
    assert_eq!(policy.minimum_password_length(), Some(6));
    assert!(!policy.expire_passwords());
    assert_eq!(policy.max_password_age(), None);
    assert_eq!(policy.hard_expiry(), None);

    iam.update_account_password_policy()
        .minimum_password_length(12)
        .require_symbols(true)
        .max_password_age(60)
        .password_reuse_prevention(3)
        .hard_expiry(true)
        .send()
        .await
        .unwrap();
    let policy = iam.get_account_password_policy().send().await.unwrap();
    let policy = policy.password_policy().unwrap();
    assert_eq!(policy.minimum_password_length(), Some(12));
    assert!(policy.require_symbols());
    assert!(policy.expire_passwords());
    assert_eq!(policy.max_password_age(), Some(60));
    assert_eq!(policy.password_reuse_prevention(), Some(3));
    assert_eq!(policy.hard_expiry(), Some(true));

    iam.delete_account_password_policy().send().await.unwrap();
    let err = iam
        .delete_account_password_policy()
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "NoSuchEntity",
        "The account policy with name PasswordPolicy cannot be found.",
        404,
    );
}

#[tokio::test]
async fn change_password_acts_on_the_keys_own_user() {
    let (app, admin) = sdk_app().await;
    admin.create_user().user_name("Bob").send().await.unwrap();
    admin
        .create_login_profile()
        .user_name("Bob")
        .password("First pass 1!")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();

    let bob = iam(app.http_addr, BOB_KEY, SECRET);
    let me = bob.get_user().send().await.unwrap();
    assert_eq!(me.user().unwrap().user_name(), "Bob");
    let err = bob
        .change_password()
        .old_password("wrong one 1!")
        .new_password("Second pass 2!")
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "InvalidCredentials",
        "The old password is incorrect.",
        403,
    );
    let err = bob
        .change_password()
        .old_password("First pass 1!")
        .new_password("First pass 1!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&err).0, "PasswordPolicyViolation");
    bob.change_password()
        .old_password("First pass 1!")
        .new_password("Second pass 2!")
        .send()
        .await
        .unwrap();
    let profile = bob.get_login_profile().send().await.unwrap();
    assert!(!profile.login_profile().unwrap().password_reset_required());

    let err = admin
        .change_password()
        .old_password("a")
        .new_password("b")
        .send()
        .await
        .unwrap_err();
    assert_refused(&err, "InvalidUserType", 400);
    let err = admin.get_user().send().await.unwrap_err();
    assert_failure(
        &err,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
        400,
    );
}

#[tokio::test]
async fn bad_credentials_and_missing_scopes_are_refused() {
    let app = keyed_app().await;
    let err = iam(app.http_addr, ADMIN_KEY, "not-the-secret")
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_refused(&err, "SignatureDoesNotMatch", 403);
    let err = iam(app.http_addr, "AKIAUNKNOWN000000000", SECRET)
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    );
    let reader = iam(app.http_addr, READ_KEY, SECRET);
    reader.list_users().send().await.unwrap();
    let err = reader
        .create_user()
        .user_name("x")
        .send()
        .await
        .unwrap_err();
    assert_refused(&err, "AccessDenied", 403);

    app.clock.advance(Duration::from_secs(16 * 60));
    let err = reader.list_users().send().await.unwrap_err();
    assert_refused(&err, "RequestExpired", 400);
}

#[tokio::test]
async fn change_password_tells_the_keys_own_user_what_is_missing_as_iam_does() {
    let app = keyed_app().await;
    let bob = iam(app.http_addr, BOB_KEY, SECRET);
    let change = || {
        bob.change_password()
            .old_password("First pass 1!")
            .new_password("Second pass 2!")
            .send()
    };
    // Bob's key is signed, so the caller is Bob: what is missing is no secret to him.
    let err = change().await.unwrap_err();
    assert_failure(
        &err,
        "NoSuchEntity",
        "The user with name Bob cannot be found.",
        404,
    );
    let admin = iam(app.http_addr, ADMIN_KEY, SECRET);
    admin.create_user().user_name("Bob").send().await.unwrap();
    let err = change().await.unwrap_err();
    assert_failure(
        &err,
        "NoSuchEntity",
        "Login Profile for User Bob cannot be found.",
        404,
    );
}

#[tokio::test]
async fn session_credentials_are_refused_as_an_invalid_security_token() {
    let app = keyed_app().await;
    let session = Some("FwoGZXIvYXdzEJr//////////session-token");
    let err = iam_with_session(app.http_addr, ADMIN_KEY, SECRET, session)
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_failure(
        &err,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    );
}
