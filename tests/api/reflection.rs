//! Server reflection, as grpcurl uses it: list the services, and resolve the types an error's
//! details name (`type.googleapis.com/google.rpc.ErrorInfo`) so they print decoded.

use std::collections::BTreeSet;

use prost::Message as _;
use prost_types::FileDescriptorProto;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

use crate::helpers::{TestApp, spawn_app};

/// Sends one reflection request over v1 and returns the answer.
async fn ask(app: &TestApp, request: MessageRequest) -> MessageResponse {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut replies = ServerReflectionClient::new(app.channel.clone())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    replies
        .message()
        .await
        .unwrap()
        .expect("one reply")
        .message_response
        .expect("an answer")
}

/// The files reflection returns for `request`, decoded.
async fn files(app: &TestApp, request: MessageRequest) -> Vec<FileDescriptorProto> {
    match ask(app, request.clone()).await {
        MessageResponse::FileDescriptorResponse(found) => found
            .file_descriptor_proto
            .iter()
            .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).unwrap())
            .collect(),
        other => panic!("{request:?} answered {other:?}"),
    }
}

#[tokio::test]
async fn reflection_lists_every_service_including_both_reflection_versions() {
    let app = spawn_app().await;
    let MessageResponse::ListServicesResponse(list) =
        ask(&app, MessageRequest::ListServices(String::new())).await
    else {
        panic!("list_services answered something else");
    };
    let names: BTreeSet<_> = list.service.into_iter().map(|s| s.name).collect();
    let expected: BTreeSet<_> = [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "iam.loginprofile.v1.AccountPasswordPolicyService",
        "iam.loginprofile.v1.LoginProfileService",
        "iam.loginprofile.v1.MFADeviceService",
        "iam.loginprofile.v1.UserService",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn reflection_describes_the_error_details_that_errors_carry() {
    let app = spawn_app().await;
    for detail in ["ErrorInfo", "BadRequest", "RetryInfo"] {
        let symbol = format!("google.rpc.{detail}");
        let found = files(&app, MessageRequest::FileContainingSymbol(symbol.clone())).await;
        let file = found
            .iter()
            .find(|f| {
                f.package() == "google.rpc" && f.message_type.iter().any(|m| m.name() == detail)
            })
            .unwrap_or_else(|| panic!("no file defining {symbol} in {found:?}"));
        // A client builds the descriptor only when it can fetch every import too.
        for import in &file.dependency {
            let imported = files(&app, MessageRequest::FileByFilename(import.clone())).await;
            assert!(
                imported.iter().any(|f| f.name() == import),
                "{symbol}'s import {import} is not served"
            );
        }
    }
}
