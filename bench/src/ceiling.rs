//! The RPC ceiling: a bare tonic server that answers GetLoginProfile with a canned reply (no
//! store, no auth, no logging), built from the same generated code as the service.

use std::net::SocketAddr;

use loginprofiled::grpc::proto::{
    self,
    login_profile_service_server::{LoginProfileService, LoginProfileServiceServer},
};
use tokio::{net::TcpListener, sync::oneshot};
use tonic::{Request, Response, Status, transport::Server, transport::server::TcpIncoming};

#[derive(Debug)]
struct Canned(proto::LoginProfile);

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl LoginProfileService for Canned {
    async fn get_login_profile(
        &self,
        _: Request<proto::GetLoginProfileRequest>,
    ) -> Reply<proto::GetLoginProfileResponse> {
        Ok(Response::new(proto::GetLoginProfileResponse {
            login_profile: Some(self.0.clone()),
        }))
    }

    async fn create_login_profile(
        &self,
        _: Request<proto::CreateLoginProfileRequest>,
    ) -> Reply<proto::CreateLoginProfileResponse> {
        Err(Status::unimplemented("ceiling"))
    }

    async fn update_login_profile(
        &self,
        _: Request<proto::UpdateLoginProfileRequest>,
    ) -> Reply<proto::UpdateLoginProfileResponse> {
        Err(Status::unimplemented("ceiling"))
    }

    async fn delete_login_profile(
        &self,
        _: Request<proto::DeleteLoginProfileRequest>,
    ) -> Reply<proto::DeleteLoginProfileResponse> {
        Err(Status::unimplemented("ceiling"))
    }

    async fn change_password(
        &self,
        _: Request<proto::ChangePasswordRequest>,
    ) -> Reply<proto::ChangePasswordResponse> {
        Err(Status::unimplemented("ceiling"))
    }

    async fn import_login_profile(
        &self,
        _: Request<proto::ImportLoginProfileRequest>,
    ) -> Reply<proto::ImportLoginProfileResponse> {
        Err(Status::unimplemented("ceiling"))
    }

    async fn verify_password(
        &self,
        _: Request<proto::VerifyPasswordRequest>,
    ) -> Reply<proto::VerifyPasswordResponse> {
        Err(Status::unimplemented("ceiling"))
    }
}

/// Starts the canned server on 127.0.0.1; it stops when the returned sender drops.
pub(crate) async fn start() -> anyhow::Result<(SocketAddr, oneshot::Sender<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let canned = Canned(proto::LoginProfile {
        user_name: "u1".to_owned(),
        create_date: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        password_reset_required: false,
    });
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(
        Server::builder()
            .add_service(LoginProfileServiceServer::new(canned))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            }),
    );
    Ok((addr, stop_tx))
}
