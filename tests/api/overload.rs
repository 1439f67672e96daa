//! Load shedding: past the hashing queue a call fails at once with Throttling, on both
//! protocols, while calls that need no hashing keep being served.

use std::time::{Duration, Instant};

use loginprofiled::{grpc::proto::CreateLoginProfileRequest, password::PoolSize};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::{
    helpers::{TestApp, reason, spawn_app_with, user},
    login_profiles::{GOOD, get},
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
    // At least the queue's two places succeed: when the whole flood arrives before the one
    // worker takes its first job, the queue holds two and nothing is running yet.
    assert!(created >= 2, "the queued calls succeed: {created}");
    assert!(throttled >= 20, "most of the flood is shed: {throttled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_query_api_answers_throttling_with_retry_after_too() {
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
            assert_eq!(
                response.header("retry-after"),
                Some("1"),
                "whole seconds, from the error's retry_after: {response:?}"
            );
            throttled += 1;
        } else {
            assert_eq!(response.status, 200, "{response:?}");
        }
    }
    assert!(throttled >= 10, "most of the flood is shed: {throttled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queued_call_waits_at_most_its_deadline_and_its_hash_is_skipped() {
    let app = spawn_app_with(|c| {
        c.pool = PoolSize {
            concurrency: 1,
            queue: 16,
        };
        c.hash_cost.memory_kib = 64 * 1024;
        c.hash_cost.iterations = 8;
    })
    .await;
    user(&app, "slow").await;
    user(&app, "late").await;
    let hashes = || {
        app.service
            .hasher()
            .stats()
            .hashes
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let before = hashes();

    let mut client = app.profiles();
    let slow = tokio::spawn(async move {
        let request = CreateLoginProfileRequest {
            user_name: "slow".into(),
            password: GOOD.into(),
            password_reset_required: false,
        };
        client.create_login_profile(request).await
    });
    // Wait (bounded) until the slow call holds the only hashing thread.
    let jobs_started = || {
        app.service
            .hasher()
            .stats()
            .started
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let started_before = jobs_started();
    for _ in 0..500 {
        if jobs_started() > started_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        jobs_started() - started_before,
        1,
        "the slow call is being hashed"
    );
    let mut late = tonic::Request::new(CreateLoginProfileRequest {
        user_name: "late".into(),
        password: GOOD.into(),
        password_reset_required: false,
    });
    // The deadline as a caller's header only (no client-side timer): the server enforces it.
    late.metadata_mut()
        .insert("grpc-timeout", "50m".parse().unwrap());
    let sent = Instant::now();
    let err = app.profiles().create_login_profile(late).await.unwrap_err();
    // tonic reports an expired deadline as CANCELLED "Timeout expired".
    assert!(
        matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{err:?}"
    );
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "answered at its deadline, not after the queue"
    );

    slow.await.unwrap().expect("the slow call completes");
    // One FIFO hashing thread: by the time a call queued after the abandoned one is answered,
    // the abandoned job has been taken off the queue, hashed or skipped.
    user(&app, "after").await;
    let after = CreateLoginProfileRequest {
        user_name: "after".into(),
        password: GOOD.into(),
        password_reset_required: false,
    };
    app.profiles().create_login_profile(after).await.unwrap();
    assert_eq!(
        hashes() - before,
        2,
        "the slow and the later call were hashed; the abandoned one was skipped"
    );
    let missing = app
        .profiles()
        .get_login_profile(get("late"))
        .await
        .unwrap_err();
    assert_eq!(
        missing.message(),
        "Login Profile for User late cannot be found."
    );
}
