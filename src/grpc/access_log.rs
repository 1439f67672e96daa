//! The gRPC front door's call record: opens the call's [`CallRecord`] (operation, request id,
//! peer) and its span, and finishes it when the gRPC status is known, which writes the access-log
//! line and the call metrics. It never looks at message bodies, so no password or hash can reach
//! the log.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::sync::Arc;

use tonic::transport::server::{TcpConnectInfo, UdsConnectInfo};
use tower::{Layer, Service};

use crate::{
    call::{CallRecord, Ending, Transport},
    meter,
    operation::Operation,
    tls::PeerInfo,
};

const REQUEST_ID: &str = "x-request-id";

/// Services outside the operation list that are not counted in the metrics.
const UNMETERED_PREFIXES: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];

/// Adds [`AccessLog`] to a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog { inner }
    }
}

/// Opens the call's record (which the auth layer adds the caller to) and finishes it when the
/// gRPC status is known: in the response headers for errors, in the trailers otherwise. No
/// tracing span: entering one on every poll and formatting its fields cost more than the
/// handler of a Get; the record carries the context instead.
#[derive(Debug, Clone)]
pub struct AccessLog<S> {
    inner: S,
}

impl<S, B, ResBody> Service<Request<B>> for AccessLog<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<LoggedBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map_or_else(crate::call::new_request_id, str::to_owned);
        let path = request.uri().path();
        let metered = !UNMETERED_PREFIXES.iter().any(|p| path.starts_with(p));
        let operation = Operation::from_grpc_path(path);
        let mut call = CallRecord::start(
            Transport::Grpc,
            operation,
            request_id,
            peer(&request),
            metered,
        );
        meter::call_started(&call);
        if operation.is_none() {
            // For the log line only: health, reflection, or a method that does not exist.
            Arc::get_mut(&mut call)
                .expect("a new record has one owner")
                .set_method(path);
        }
        let future = call.sync_scope(|| self.inner.call(request));
        Box::pin(Arc::clone(&call).scope(async move {
            let mut response = future.await?;
            if let Ok(value) = HeaderValue::from_str(&call.request_id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            let mut record = Some(Record(call));
            if let Some(code) = grpc_code(response.headers())
                && let Some(record) = record.take()
            {
                record.finish(code);
            }
            Ok(response.map(|inner| LoggedBody { inner, record }))
        }))
    }
}

/// The remote address of the connection, `unix` on a Unix socket.
fn peer<B>(request: &Request<B>) -> Option<String> {
    let extensions = request.extensions();
    if let Some(info) = extensions.get::<TcpConnectInfo>() {
        return info.remote_addr().map(|a| a.to_string());
    }
    if let Some(info) = extensions.get::<PeerInfo>() {
        return info.remote_addr.map(|a| a.to_string());
    }
    extensions
        .get::<UdsConnectInfo>()
        .map(|_| "unix".to_owned())
}

/// The call, to finish once the status is known.
struct Record(Arc<CallRecord>);

impl Record {
    fn finish(self, code: tonic::Code) {
        let ending = Ending::Grpc(code);
        let latency = self.0.finish(ending);
        meter::call_finished(&self.0, ending, latency);
    }
}

fn grpc_code(headers: &HeaderMap) -> Option<tonic::Code> {
    let value = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    Some(tonic::Code::from_i32(value))
}

pin_project! {
    /// A response body that writes the access-log line when the trailers pass, or when the
    /// body ends or is dropped without a status.
    pub struct LoggedBody<B> {
        #[pin]
        inner: B,
        record: Option<Record>,
    }

    impl<B> PinnedDrop for LoggedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(record) = this.project().record.take() {
                record.finish(tonic::Code::Cancelled);
            }
        }
    }
}

impl<B: Body<Data = Bytes>> Body for LoggedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_code)
                    && let Some(record) = this.record.take()
                {
                    record.finish(code);
                }
            }
            Some(Err(_)) => {
                if let Some(record) = this.record.take() {
                    record.finish(tonic::Code::Internal);
                }
            }
            None => {
                if let Some(record) = this.record.take() {
                    record.finish(tonic::Code::Unknown);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
