//! `GET /metrics` after a known sequence of calls: exact counts per series, bounded labels, and
//! no user name or password anywhere in the scrape.

use http::uri::PathAndQuery;
use loginprofiled::grpc::proto::{
    self, login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use tonic::{Code, transport::Channel};

use super::{logged_addr, start};
use crate::query_api::send;

const PASSWORD: &str = "MetricsRight0Passw0rd";
const WRONG: &str = "MetricsWrong1Guess";

/// The value of the series `name` with exactly `labels`, if the scrape has it.
fn value(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, rest) = series.split_once('{').unwrap_or((series, "}"));
        if series_name != name {
            return None;
        }
        let found: Vec<&str> = rest
            .trim_end_matches('}')
            .split(',')
            .filter(|l| !l.is_empty())
            .collect();
        let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let same =
            found.len() == wanted.len() && wanted.iter().all(|w| found.contains(&w.as_str()));
        same.then(|| value.parse().unwrap())
    })
}

/// Runs the known sequence against a fresh server and returns its scrape.
async fn scrape_after_known_calls() -> String {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[
            "--metrics-listen",
            "127.0.0.1:0",
            "--lockout-threshold",
            "2",
            "--lockout-base",
            "5m",
        ],
    )
    .await;
    let (http, metrics) = (
        logged_addr(dir.path(), "http_listen").await,
        logged_addr(dir.path(), "metrics_listen").await,
    );
    let channel = server.channel();
    let mut users = UserServiceClient::new(channel.clone());
    let mut profiles = LoginProfileServiceClient::new(channel.clone());
    for name in ["alice", "bob"] {
        users
            .create_user(proto::CreateUserRequest {
                user_name: name.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let again = users
        .create_user(proto::CreateUserRequest {
            user_name: "alice".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    profiles
        .create_login_profile(proto::CreateLoginProfileRequest {
            user_name: "alice".into(),
            password: PASSWORD.into(),
            password_reset_required: false,
        })
        .await
        .unwrap();
    // Two failures lock alice (threshold 2); then even the right password is answered LOCKED.
    for (password, expected) in [
        (WRONG, proto::VerifyResult::InvalidCredentials),
        (WRONG, proto::VerifyResult::InvalidCredentials),
        (PASSWORD, proto::VerifyResult::Locked),
    ] {
        let reply = profiles
            .verify_password(proto::VerifyPasswordRequest {
                mfa_code: None,
                user_name: "alice".into(),
                password: password.into(),
            })
            .await
            .unwrap();
        assert_eq!(reply.into_inner().result(), expected);
    }
    assert_eq!(unknown_method(channel).await, Code::Unimplemented);
    let get = send(http, "GET", "/?Action=GetUser&UserName=bob", b"").await;
    assert_eq!(get.status, 200, "{get:?}");
    let bogus = send(http, "GET", "/?Action=NoSuchAction&UserName=bob", b"").await;
    assert_eq!(bogus.status, 400, "{bogus:?}");

    let scrape = send(metrics, "GET", "/metrics", b"").await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"),
        "{scrape:?}"
    );
    server.stop().await;
    scrape.body
}

/// Calls a method the service does not have.
async fn unknown_method(channel: Channel) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<proto::GetUserRequest, proto::GetUserResponse>::default();
    let path = PathAndQuery::from_static("/iam.loginprofile.v1.UserService/NoSuchMethod");
    let request = tonic::Request::new(proto::GetUserRequest {
        user_name: "alice".into(),
    });
    grpc.unary(request, path, codec).await.unwrap_err().code()
}

#[tokio::test]
async fn a_scrape_after_known_calls_counts_each_of_them() {
    let scrape = scrape_after_known_calls().await;
    let users = "iam.loginprofile.v1.UserService";
    let profiles = "iam.loginprofile.v1.LoginProfileService";
    let grpc = |service, method| {
        [
            ("grpc_type", "unary"),
            ("grpc_service", service),
            ("grpc_method", method),
        ]
    };
    let handled = |service, method, code| {
        let [t, s, m] = grpc(service, method);
        value(
            &scrape,
            "grpc_server_handled_total",
            &[t, s, m, ("grpc_code", code)],
        )
    };
    let expected = [
        (
            value(
                &scrape,
                "grpc_server_started_total",
                &grpc(users, "CreateUser"),
            ),
            3.0,
        ),
        (handled(users, "CreateUser", "OK"), 2.0),
        (handled(users, "CreateUser", "AlreadyExists"), 1.0),
        (handled(profiles, "CreateLoginProfile", "OK"), 1.0),
        (handled(profiles, "VerifyPassword", "OK"), 3.0),
        // An unknown method is counted under one fixed label, never under its own name.
        (handled("unknown", "unknown", "Unimplemented"), 1.0),
        (
            value(
                &scrape,
                "grpc_server_handling_seconds_count",
                &grpc(profiles, "VerifyPassword"),
            ),
            3.0,
        ),
        (
            value(
                &scrape,
                "loginprofiled_query_api_requests_total",
                &[("action", "GetUser"), ("code", "Success")],
            ),
            1.0,
        ),
        (
            value(
                &scrape,
                "loginprofiled_query_api_requests_total",
                &[("action", "unknown"), ("code", "InvalidAction")],
            ),
            1.0,
        ),
        (
            value(
                &scrape,
                "loginprofiled_verify_total",
                &[("result", "invalid_credentials")],
            ),
            2.0,
        ),
        (
            value(
                &scrape,
                "loginprofiled_verify_total",
                &[("result", "locked")],
            ),
            1.0,
        ),
        (value(&scrape, "loginprofiled_lockouts_total", &[]), 1.0),
        // One hash for the profile, one per verification that was not locked out.
        (value(&scrape, "loginprofiled_hash_seconds_count", &[]), 3.0),
        (
            value(&scrape, "loginprofiled_hash_throttled_total", &[]),
            0.0,
        ),
        (value(&scrape, "loginprofiled_hash_in_flight", &[]), 0.0),
        (value(&scrape, "loginprofiled_hash_queue_depth", &[]), 0.0),
        (
            value(
                &scrape,
                "loginprofiled_store_seconds_count",
                &[("operation", "insert_user")],
            ),
            3.0,
        ),
        (
            value(
                &scrape,
                "loginprofiled_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))],
            ),
            1.0,
        ),
    ];
    for (i, (found, wanted)) in expected.into_iter().enumerate() {
        assert_eq!(found, Some(wanted), "series {i} in:\n{scrape}");
    }
    assert!(
        !scrape.contains("NoSuchMethod") && !scrape.contains("NoSuchAction"),
        "{scrape}"
    );
    assert!(
        !scrape.contains("grpc.health"),
        "health probes are not counted: {scrape}"
    );
}

#[tokio::test]
async fn the_scrape_names_no_user_and_no_password() {
    let scrape = scrape_after_known_calls().await;
    assert!(scrape.contains("loginprofiled_verify_total"), "{scrape}");
    for secret in ["alice", "bob", PASSWORD, WRONG, "$argon2id$"] {
        assert!(
            !scrape.contains(secret),
            "{secret} in the scrape:\n{scrape}"
        );
    }
}
