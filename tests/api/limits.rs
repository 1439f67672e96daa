//! The connection cap: past `--max-connections` a client waits until a connection closes.

use std::time::Duration;

use loginprofiled::grpc::proto::{GetUserRequest, user_service_client::UserServiceClient};
use tokio::time::timeout;
use tonic::transport::Channel;

use crate::{helpers::spawn_app_with, query_api::send};

const NOT_SERVED: Duration = Duration::from_millis(500);
const SERVED: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_grpc_client_past_the_cap_waits_until_a_connection_closes() {
    let app = spawn_app_with(|c| c.limits.max_connections = 1).await;
    let connect = || {
        Channel::from_shared(format!("http://{}", app.addr))
            .unwrap()
            .connect_lazy()
    };
    let get = || GetUserRequest {
        user_name: "nobody".into(),
    };

    let mut first = UserServiceClient::new(connect());
    first.get_user(get()).await.unwrap_err();
    let mut second = UserServiceClient::new(connect());
    let waiting = tokio::spawn(async move { second.get_user(get()).await });
    tokio::time::sleep(NOT_SERVED).await;
    assert!(
        !waiting.is_finished(),
        "the second connection is not served while the first is open"
    );

    drop(first);
    let answer = timeout(SERVED, waiting)
        .await
        .expect("served once the first closed")
        .unwrap();
    assert_eq!(answer.unwrap_err().code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn an_http_client_past_the_cap_waits_until_a_connection_closes() {
    let app = spawn_app_with(|c| c.limits.max_connections = 1).await;
    let idle = tokio::net::TcpStream::connect(app.http_addr).await.unwrap();
    let addr = app.http_addr;
    let waiting =
        tokio::spawn(
            async move { send(addr, "GET", "/?Action=GetUser&UserName=nobody", b"").await },
        );
    tokio::time::sleep(NOT_SERVED).await;
    assert!(
        !waiting.is_finished(),
        "the second connection is not served while the first is open"
    );

    drop(idle);
    let answer = timeout(SERVED, waiting)
        .await
        .expect("served once the first closed")
        .unwrap();
    assert_eq!(answer.status, 404);
}
