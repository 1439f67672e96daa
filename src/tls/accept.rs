//! TLS acceptors: TCP connections in, finished TLS connections out. Each handshake runs in its
//! own task with a deadline, so a slow or broken client (plaintext on the TLS port, no client
//! certificate under mutual TLS, a stalled handshake) fails alone and never holds up accepting.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use rustls::ServerConfig;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use tokio_stream::{Stream, StreamExt as _, wrappers::ReceiverStream};
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::peer::{PeerInfo, subject_names};

/// How long a client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An accepted TLS connection and who is on the other end.
#[derive(Debug)]
pub struct TlsConn<IO> {
    stream: TlsStream<IO>,
    peer: PeerInfo,
}

impl<IO> TlsConn<IO> {
    pub fn peer(&self) -> &PeerInfo {
        &self.peer
    }
}

/// Runs the handshake on `io`; None (logged) when it fails or takes too long.
async fn handshake<IO>(
    acceptor: TlsAcceptor,
    io: IO,
    remote_addr: Option<SocketAddr>,
) -> Option<TlsConn<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let remote = remote_addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
        Ok(Ok(stream)) => {
            let client_names = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(subject_names)
                .unwrap_or_default();
            Some(TlsConn {
                stream,
                peer: PeerInfo {
                    remote_addr,
                    client_names: client_names.into(),
                },
            })
        }
        Ok(Err(error)) => {
            tracing::debug!(remote, %error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(remote, "TLS handshake timed out");
            None
        }
    }
}

/// TLS over tonic's incoming TCP connections: a stream for `serve_with_incoming`. Dropping it
/// stops accepting.
pub fn incoming<S, IO>(tcp: S, config: Arc<ServerConfig>) -> TlsIncoming<IO>
where
    S: Stream<Item = io::Result<IO>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Connected<ConnectInfo = TcpConnectInfo> + Unpin + Send + 'static,
{
    let acceptor = TlsAcceptor::from(config);
    let (done_tx, done_rx) = mpsc::channel(16);
    let accepting = tokio::spawn(async move {
        tokio::pin!(tcp);
        while let Some(next) = tcp.next().await {
            match next {
                Ok(io) => {
                    let remote_addr = io.connect_info().remote_addr();
                    let (acceptor, done) = (acceptor.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        if let Some(conn) = handshake(acceptor, io, remote_addr).await {
                            let _ = done.send(Ok(conn)).await;
                        }
                    });
                }
                Err(error) => {
                    if done_tx.send(Err(error)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    TlsIncoming {
        done: ReceiverStream::new(done_rx),
        accepting,
    }
}

/// The stream [`incoming`] returns.
#[derive(Debug)]
pub struct TlsIncoming<IO> {
    done: ReceiverStream<io::Result<TlsConn<IO>>>,
    accepting: JoinHandle<()>,
}

impl<IO> Drop for TlsIncoming<IO> {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl<IO> Stream for TlsIncoming<IO> {
    type Item = io::Result<TlsConn<IO>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.done).poll_next(cx)
    }
}

/// TLS over an axum listener. Dropping it stops accepting.
#[derive(Debug)]
pub struct TlsListener<IO> {
    done: mpsc::Receiver<(TlsConn<IO>, SocketAddr)>,
    local_addr: io::Result<SocketAddr>,
    accepting: JoinHandle<()>,
}

impl<IO> TlsListener<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub fn new<L>(mut tcp: L, config: Arc<ServerConfig>) -> Self
    where
        L: axum::serve::Listener<Io = IO, Addr = SocketAddr>,
    {
        let local_addr = tcp.local_addr();
        let acceptor = TlsAcceptor::from(config);
        let (done_tx, done) = mpsc::channel(16);
        let accepting = tokio::spawn(async move {
            loop {
                let (io, addr) = tcp.accept().await;
                let (acceptor, done) = (acceptor.clone(), done_tx.clone());
                tokio::spawn(async move {
                    if let Some(conn) = handshake(acceptor, io, Some(addr)).await {
                        let _ = done.send((conn, addr)).await;
                    }
                });
            }
        });
        Self {
            done,
            local_addr,
            accepting,
        }
    }
}

impl<IO> Drop for TlsListener<IO> {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl<IO> axum::serve::Listener for TlsListener<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Io = TlsConn<IO>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.done.recv().await {
            Some(accepted) => accepted,
            // The accepting task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match &self.local_addr {
            Ok(addr) => Ok(*addr),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        }
    }
}

impl<IO> Connected for TlsConn<IO> {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.peer.clone()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsConn<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsConn<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
