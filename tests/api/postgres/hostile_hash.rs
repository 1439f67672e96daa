//! A hash that got into the database before the cost bounds existed (or by hand): its user's
//! sign-in fails with ServiceFailure at once, and the process and every other user carry on.

use std::time::Duration;

use loginprofiled::grpc::proto::{
    CreateLoginProfileRequest, CreateUserRequest, VerifyPasswordRequest, VerifyResult,
    login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use sqlx::{Connection as _, PgConnection};
use tonic::transport::Channel;

use crate::{
    binary::Binary,
    helpers::{TestDb, answers_or_required, reason},
};

async fn user_with_password(channel: Channel, name: &str, password: &str) {
    let user = CreateUserRequest {
        user_name: name.to_owned(),
        ..Default::default()
    };
    UserServiceClient::new(channel.clone())
        .create_user(user)
        .await
        .unwrap();
    let profile = CreateLoginProfileRequest {
        user_name: name.to_owned(),
        password: password.to_owned(),
        password_reset_required: false,
    };
    LoginProfileServiceClient::new(channel)
        .create_login_profile(profile)
        .await
        .unwrap();
}

async fn verify(
    channel: Channel,
    name: &str,
    password: &str,
) -> Result<VerifyResult, tonic::Status> {
    let request = VerifyPasswordRequest {
        mfa_code: None,
        user_name: name.to_owned(),
        password: password.to_owned(),
    };
    let mut client = LoginProfileServiceClient::new(channel);
    tokio::time::timeout(Duration::from_secs(10), client.verify_password(request))
        .await
        .expect("a hash past the bounds is refused at once, not computed")
        .map(|reply| reply.into_inner().result())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_hash_past_the_bounds_fails_its_user_only_and_the_process_lives() {
    if !answers_or_required() {
        return;
    }
    let db = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    // One hashing thread: a stalled one would stall every sign-in after it.
    let server = Binary::start(
        dir.path(),
        &["--database-url", &db.url, "--hash-concurrency", "1"],
    )
    .await;
    user_with_password(server.channel(), "Hostile", "Hostile-password-1").await;
    user_with_password(server.channel(), "Plain", "Plain-password-1").await;
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    for params in [
        "m=4294967295,t=1,p=1",
        "m=19456,t=4294967295,p=1",
        "m=1,t=0,p=0",
    ] {
        let hostile = format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
        sqlx::query(
            "UPDATE loginprofiled.login_profiles SET password_hash = $1 WHERE user_key = 'hostile'",
        )
        .bind(&hostile)
        .execute(&mut conn)
        .await
        .unwrap();
        let status = verify(server.channel(), "Hostile", "Hostile-password-1")
            .await
            .unwrap_err();
        assert_eq!(reason(&status), "ServiceFailure", "{params}: {status:?}");
        assert!(!status.message().contains(params), "{status:?}");
        let plain = verify(server.channel(), "Plain", "Plain-password-1").await;
        assert_eq!(plain.unwrap(), VerifyResult::Ok, "{params}");
    }
    conn.close().await.unwrap();
    let log = server.log();
    assert!(!log.contains("c2FsdHNhbHQ"), "the hash in the log: {log}");
    server.stop().await;
}
