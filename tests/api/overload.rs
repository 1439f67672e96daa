//! Load shedding: past the hashing queue a call fails at once with Throttling, on both
//! protocols, while calls that need no hashing keep being served.

use std::time::{Duration, Instant};

use loginprofiled::{grpc::proto::CreateLoginProfileRequest, password::PoolSize};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::{
    helpers::{TestApp, reason, spawn_app_with},
    login_profiles::{GOOD, get, user},
    query_api::send,
};

/// One hashing thread, two waiting places, and hashes slow enough to pile up.
async fn constrained_app() -> TestApp {
    spawn_app_with(|c| {
        c.pool = PoolSize {
            concurrency: 1,
            queue: 2,
        };
        c.hash_cost.memory_kib = 32 * 1024;
        c.hash_cost.iterations = 4;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_is_shed_with_throttling_and_retry_info_while_reads_go_on() {
    let app = constrained_app().await;
    user(&app, "reader").await;
    for i in 0..40 {
        user(&app, &format!("flood{i}")).await;
    }
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let mut client = app.profiles();
            tokio::spawn(async move {
                let request = CreateLoginProfileRequest {
                    user_name: format!("flood{i}"),
                    password: GOOD.into(),
                    password_reset_required: false,
                };
                client.create_login_profile(request).await
            })
        })
        .collect();
    // Reads need no hashing and are answered during the flood.
    let started = Instant::now();
    let read = app
        .profiles()
        .get_login_profile(get("reader"))
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::NotFound);
    assert!(started.elapsed() < Duration::from_secs(5));

    let (mut created, mut throttled) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => created += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert_eq!(reason(&status), "Throttling");
                assert_eq!(status.message(), "Rate exceeded");
                let retry = status.get_error_details().retry_info().cloned();
                assert!(
                    retry.and_then(|r| r.retry_delay).is_some(),
                    "RetryInfo is attached"
                );
                throttled += 1;
            }
        }
    }
    assert_eq!(created + throttled, 40, "every call is answered");
    assert!(
        created >= 3,
        "the running and queued calls succeed: {created}"
    );
    assert!(throttled >= 20, "most of the flood is shed: {throttled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_query_api_answers_throttling_too() {
    let app = constrained_app().await;
    for i in 0..30 {
        user(&app, &format!("flood{i}")).await;
    }
    let addr = app.http_addr;
    let calls: Vec<_> = (0..30)
        .map(|i| {
            tokio::spawn(async move {
                let body = format!(
                    "Action=CreateLoginProfile&UserName=flood{i}&Password=Str0ng%21Passw0rd"
                );
                send(addr, "POST", "/", body.as_bytes()).await
            })
        })
        .collect();
    let mut throttled = 0;
    for call in calls {
        let response = call.await.unwrap();
        if response.status == 400 {
            assert!(
                response.body.contains("<Code>Throttling</Code>"),
                "{response:?}"
            );
            assert!(
                response.body.contains("<Type>Sender</Type>"),
                "{response:?}"
            );
            throttled += 1;
        } else {
            assert_eq!(response.status, 200, "{response:?}");
        }
    }
    assert!(throttled >= 10, "most of the flood is shed: {throttled}");
}
