//! Serving an app with the limits a WebSocket server needs before any
//! route runs: a deadline for the request head, and a shutdown that drains
//! the sockets.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::hub::Hub;

/// How long a client may take to send its request head, by default.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for sockets to drain, by default.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener`, like `axum::serve`, with what a public
/// WebSocket server needs that `axum::serve` leaves out:
///
/// - a deadline for the request head ([`HEADER_TIMEOUT`], 10 s): a client
///   that sends its upgrade request one byte at a time is disconnected,
///   where `axum::serve` would hold the connection open forever;
/// - `TCP_NODELAY` on every accepted socket ([`Serve::tcp_nodelay`]): a
///   WebSocket frame is written whole, and Nagle's algorithm would hold a
///   small one back until the client's delayed acknowledgement, some 40 ms;
/// - the peer address of every request, for `Scope::peer_addr` and the
///   per-address connection cap (what `into_make_service_with_connect_info`
///   does);
/// - with [`Serve::with_graceful_shutdown`], the sockets drained through the
///   app's [`Hub`]: new upgrades get 503, open sockets 1001, each
///   consumer's `disconnect` runs, then serving returns.
///
/// ```no_run
/// # async fn run(app: axum::Router, hub: sockwarden::Hub) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// sockwarden::serve(listener, app)
///     .with_graceful_shutdown(hub, async { let _ = tokio::signal::ctrl_c().await; })
///     .await
/// # }
/// ```
pub fn serve(listener: TcpListener, app: Router) -> Serve {
    Serve {
        listener,
        app,
        header_timeout: HEADER_TIMEOUT,
        grace: SHUTDOWN_GRACE,
        nodelay: true,
        shutdown: None,
    }
}

/// A server being configured; `.await` it to run (see [`serve`]).
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    grace: Duration,
    nodelay: bool,
    shutdown: Option<(Hub, Signal)>,
}

/// The future that says when to stop.
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Serve {
    /// How long a client may take to send its request head.
    pub fn header_timeout(mut self, timeout: Duration) -> Serve {
        self.header_timeout = timeout;
        self
    }

    /// Whether accepted sockets get `TCP_NODELAY` (on by default): off, a
    /// small frame written while an earlier one is unacknowledged waits for
    /// the acknowledgement, which a client may delay by 40 ms or more.
    ///
    /// ```no_run
    /// # async fn run(app: axum::Router) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    /// sockwarden::serve(listener, app).tcp_nodelay(false).await
    /// # }
    /// ```
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Serve {
        self.nodelay = nodelay;
        self
    }

    /// How long shutdown waits for connections to end before returning.
    pub fn shutdown_grace(mut self, grace: Duration) -> Serve {
        self.grace = grace;
        self
    }

    /// Stops when `signal` resolves: no new connections, [`Hub::shutdown`]
    /// on `hub` (503 for new upgrades, 1001 for open sockets), HTTP
    /// connections finish their current request; serving returns when all
    /// of it is done or the grace period has passed.
    pub fn with_graceful_shutdown(
        mut self,
        hub: Hub,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Serve {
        self.shutdown = Some((hub, Box::pin(signal)));
        self
    }

    async fn run(self) -> io::Result<()> {
        let Serve {
            listener,
            app,
            header_timeout,
            grace,
            nodelay,
            shutdown,
        } = self;
        let (hub, mut signal) = match shutdown {
            Some((hub, signal)) => (Some(hub), signal),
            None => (None, Box::pin(std::future::pending()) as Signal),
        };
        // Every connection holds a receiver of `stop`: shutdown tells them
        // through it, and knows they are all done when the last one is
        // dropped. A connection that ends wakes nobody.
        let (stop, stopping) = watch::channel(false);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut signal => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: the listener
                    // itself is fine, so back off briefly and go on.
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            prepare(&stream, peer, nodelay);
            let service = app
                .clone()
                .map_request(move |request: axum::http::Request<Incoming>| {
                    let mut request = request.map(Body::new);
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
            let mut stopping = stopping.clone();
            tokio::spawn(async move {
                serve_connection(stream, peer, service, header_timeout, &mut stopping).await;
            });
        }
        drop(listener);
        drop(stopping);
        if let Some(hub) = hub {
            hub.shutdown(grace).await;
        }
        let _ = stop.send(true);
        let _ = tokio::time::timeout(grace, stop.closed()).await;
        Ok(())
    }
}

/// Aborts the accept loop's task when the future awaiting it is dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sets up an accepted socket before HTTP is spoken on it.
fn prepare(stream: &tokio::net::TcpStream, peer: SocketAddr, nodelay: bool) {
    if nodelay && let Err(error) = stream.set_nodelay(true) {
        // The socket still works, only with Nagle's delays.
        tracing::debug!(%peer, %error, "TCP_NODELAY not set");
    }
}

async fn serve_connection<S>(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    service: S,
    header_timeout: Duration,
    stopping: &mut watch::Receiver<bool>,
) where
    S: tower::Service<
            axum::http::Request<Incoming>,
            Response = axum::response::Response,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(connection);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            changed = stopping.changed() => {
                if changed.is_err() || *stopping.borrow() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        // The accept loop runs as a task of the runtime, beside the
        // connections it spawns, not on the thread that awaits it (under
        // `#[tokio::main]`, the main thread, outside the workers): there,
        // every accepted connection would cost two thread switches, and on
        // a server pinned to one core those switches cost more than the
        // handshake itself.
        Box::pin(async move {
            let task = tokio::spawn(self.run());
            // Dropping the future still stops serving, as when the loop ran
            // inside it: the listener closes with the task.
            let _stop = AbortOnDrop(task.abort_handle());
            match task.await {
                Ok(result) => result,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => Err(io::Error::other(error)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn accepted() -> (tokio::net::TcpStream, SocketAddr, tokio::net::TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        (stream, peer, client)
    }

    #[tokio::test]
    async fn accepted_sockets_get_nodelay_unless_turned_off() {
        let (stream, peer, _client) = accepted().await;
        assert!(
            !stream.nodelay().unwrap(),
            "the kernel's default is Nagle on"
        );
        prepare(&stream, peer, true);
        assert!(stream.nodelay().unwrap());

        let (stream, peer, _client) = accepted().await;
        prepare(&stream, peer, false);
        assert!(!stream.nodelay().unwrap());
    }

    #[tokio::test]
    async fn dropping_the_server_future_stops_accepting() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = serve(listener, Router::new()).into_future();
        // Polled long enough to start the loop, then dropped.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), serving)
                .await
                .is_err()
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "still accepting after the server future was dropped"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn nodelay_is_on_by_default() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let serve = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            serve(listener, Router::new())
        });
        assert!(serve.nodelay);
        assert!(!serve.tcp_nodelay(false).nodelay);
    }
}
