//! The connection cap: at most N client connections are open at once on a listener. Past the
//! cap the server stops accepting, so further clients wait in the kernel's listen backlog rather
//! than in memory. [`limit`] serves tonic's incoming streams, [`CappedListener`] axum's.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use pin_project_lite::pin_project;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinHandle,
};
use tokio_stream::{Stream, StreamExt as _, wrappers::ReceiverStream};
use tonic::transport::server::Connected;

/// Accepts from `incoming` only while fewer than `max` accepted connections are still open.
pub(super) fn limit<S, IO>(incoming: S, max: usize) -> LimitedIncoming<IO>
where
    S: Stream<Item = io::Result<IO>> + Send + 'static,
    IO: Send + 'static,
{
    let open = Arc::new(Semaphore::new(max));
    let (accepted_tx, accepted_rx) = mpsc::channel(1);
    let acceptor = tokio::spawn(async move {
        tokio::pin!(incoming);
        loop {
            let Ok(permit) = open.clone().acquire_owned().await else {
                return;
            };
            let Some(next) = incoming.next().await else {
                return;
            };
            let next = next.map(|io| Limited {
                io,
                _permit: permit,
            });
            if accepted_tx.send(next).await.is_err() {
                return;
            }
        }
    });
    LimitedIncoming {
        accepted: ReceiverStream::new(accepted_rx),
        acceptor,
    }
}

/// The stream of accepted connections; dropping it stops accepting and closes the listener.
#[derive(Debug)]
pub(super) struct LimitedIncoming<IO> {
    accepted: ReceiverStream<io::Result<Limited<IO>>>,
    acceptor: JoinHandle<()>,
}

impl<IO> Drop for LimitedIncoming<IO> {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl<IO> Stream for LimitedIncoming<IO> {
    type Item = io::Result<Limited<IO>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.accepted).poll_next(cx)
    }
}

pin_project! {
    /// A connection that gives its slot back when it closes.
    #[derive(Debug)]
    pub(super) struct Limited<IO> {
        #[pin]
        io: IO,
        _permit: OwnedSemaphorePermit,
    }
}

impl<IO: Connected> Connected for Limited<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

impl<IO: AsyncRead> AsyncRead for Limited<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite> AsyncWrite for Limited<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

/// A TCP listener for axum that accepts only while fewer than `max` of its connections are open.
#[derive(Debug)]
pub(super) struct CappedListener {
    inner: tokio::net::TcpListener,
    open: Arc<Semaphore>,
}

impl CappedListener {
    pub(super) fn new(inner: tokio::net::TcpListener, max: usize) -> Self {
        Self {
            inner,
            open: Arc::new(Semaphore::new(max)),
        }
    }
}

impl axum::serve::Listener for CappedListener {
    type Io = Limited<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = self
            .open
            .clone()
            .acquire_owned()
            .await
            .expect("the connection semaphore is never closed");
        // axum's own accept retries on errors (and backs off on running out of descriptors).
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let _ = io.set_nodelay(true);
        (
            Limited {
                io,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, CappedListener>>
    for crate::query_api::Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, CappedListener>) -> Self {
        Self::of(&stream)
    }
}

type TlsOverCapped = crate::tls::TlsListener<Limited<tokio::net::TcpStream>>;

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsOverCapped>>
    for crate::query_api::Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsOverCapped>) -> Self {
        Self::of(&stream)
    }
}
