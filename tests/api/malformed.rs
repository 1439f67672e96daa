//! Malformed input never breaks the server: random bytes as the message of every method,
//! random paths and headers, and raw garbage on the TCP port. Every call gets an HTTP/2
//! response (a panicking handler would reset the stream instead), and the server keeps serving.
//! cargo-fuzz would need a nightly toolchain in CI; these bounded random runs stand in for it.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::Frame;
use loginprofiled::grpc::proto::{GetUserRequest, user_service_client::UserServiceClient};
use rand::{Rng as _, RngCore as _};
use tokio::io::AsyncWriteExt as _;
use tower::ServiceExt as _;

use crate::helpers::spawn_app;

const METHODS: [&str; 13] = [
    "LoginProfileService/CreateLoginProfile",
    "LoginProfileService/GetLoginProfile",
    "LoginProfileService/UpdateLoginProfile",
    "LoginProfileService/DeleteLoginProfile",
    "LoginProfileService/ChangePassword",
    "LoginProfileService/VerifyPassword",
    "UserService/CreateUser",
    "UserService/GetUser",
    "UserService/DeleteUser",
    "UserService/ListUsers",
    "AccountPasswordPolicyService/GetAccountPasswordPolicy",
    "AccountPasswordPolicyService/UpdateAccountPasswordPolicy",
    "AccountPasswordPolicyService/DeleteAccountPasswordPolicy",
];

/// A request body sent in one piece.
struct Once(Option<Bytes>);

impl http_body::Body for Once {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.take().map(|b| Ok(Frame::data(b))))
    }
}

/// Random bytes, sometimes framed as a gRPC message (with a length prefix that may lie).
fn random_body(rng: &mut impl rand::Rng) -> Vec<u8> {
    let mut message = vec![0u8; rng.random_range(0..300)];
    rng.fill_bytes(&mut message);
    if rng.random_bool(0.2) {
        return message;
    }
    let len = if rng.random_bool(0.8) {
        message.len() as u32
    } else {
        rng.random()
    };
    let mut body = vec![u8::from(rng.random_bool(0.05))];
    body.extend_from_slice(&len.to_be_bytes());
    body.extend_from_slice(&message);
    body
}

#[tokio::test]
async fn random_bytes_as_messages_always_get_an_answer() {
    let app = spawn_app().await;
    let mut rng = rand::rng();
    for case in 0..400 {
        let method = METHODS[case % METHODS.len()];
        let path = if rng.random_bool(0.9) {
            format!("/iam.loginprofile.v1.{method}")
        } else {
            format!("/{}", "x".repeat(rng.random_range(0..50)))
        };
        let content_type = if rng.random_bool(0.9) {
            "application/grpc"
        } else {
            "text/plain"
        };
        let request = http::Request::post(format!("http://{}{path}", app.addr))
            .header("content-type", content_type)
            .header("te", "trailers")
            .body(tonic::body::Body::new(Once(Some(
                random_body(&mut rng).into(),
            ))))
            .unwrap();
        let response = app.channel.clone().oneshot(request).await;
        assert!(response.is_ok(), "case {case} on {path}: {response:?}");
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn raw_garbage_on_the_port_leaves_the_server_serving() {
    let app = spawn_app().await;
    let mut rng = rand::rng();
    for _ in 0..50 {
        let mut garbage = vec![0u8; rng.random_range(1..4096)];
        rng.fill_bytes(&mut garbage);
        if rng.random_bool(0.3) {
            // A valid HTTP/2 preface, then nonsense frames.
            garbage.splice(0..0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".iter().copied());
        }
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let _ = stream.write_all(&garbage).await;
        let _ = stream.shutdown().await;
    }
    assert_still_serving(&app).await;
}

async fn assert_still_serving(app: &crate::helpers::TestApp) {
    let reply = UserServiceClient::new(app.channel.clone())
        .get_user(GetUserRequest {
            user_name: "nobody".to_owned(),
        })
        .await;
    assert_eq!(reply.unwrap_err().code(), tonic::Code::NotFound);
    assert!(!app.server.as_ref().unwrap().is_finished());
}
