//! The access-log layer: one line per call with method, gRPC code, latency, caller and request
//! id. It never looks at message bodies, so no password or hash can reach the log.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::{Instrument as _, Span, field};

const REQUEST_ID: &str = "x-request-id";

/// Adds [`AccessLog`] to a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog { inner }
    }
}

/// Opens a span per call (which inner layers add the caller to) and logs the outcome when the
/// gRPC status is known: in the response headers for errors, in the trailers otherwise.
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
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let span = tracing::info_span!(
            "call",
            method = request.uri().path(),
            request_id = request_id.as_str(),
            caller = field::Empty,
        );
        let started = Instant::now();
        let future = span.in_scope(|| self.inner.call(request));
        let call_span = span.clone();
        Box::pin(
            async move {
                let mut response = future.await?;
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID, value);
                }
                let mut record = Some(Record {
                    span: call_span,
                    started,
                });
                if let Some(code) = grpc_code(response.headers())
                    && let Some(record) = record.take()
                {
                    record.log(&code);
                }
                Ok(response.map(|inner| LoggedBody { inner, record }))
            }
            .instrument(span),
        )
    }
}

/// What is needed to write the line once the status is known.
struct Record {
    span: Span,
    started: Instant,
}

impl Record {
    fn log(self, code: &str) {
        let latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0;
        self.span
            .in_scope(|| tracing::info!(code, latency_ms, "grpc call"));
    }
}

fn grpc_code(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    Some(format!("{:?}", tonic::Code::from_i32(value)))
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
                record.log("Cancelled");
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
                    record.log(&code);
                }
            }
            Some(Err(_)) => {
                if let Some(record) = this.record.take() {
                    record.log("Internal");
                }
            }
            None => {
                if let Some(record) = this.record.take() {
                    record.log("Unknown");
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
