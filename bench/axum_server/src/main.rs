//! The hand-written axum server of the benchmark.
//!
//! ```text
//! PORT=8102 axum_server            # axum's defaults
//! PORT=8103 axum_server --tuned    # a 4 KiB WebSocket read buffer
//! ```
//!
//! Binds 127.0.0.1, prints `ready` once it accepts connections, and runs
//! until SIGTERM or SIGINT.

use axum::serve::ListenerExt;
use axum_server::{App, Tuning};
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let tuning = match std::env::args().nth(1).as_deref() {
        None => Tuning::Defaults,
        Some("--tuned") => Tuning::Tuned,
        Some(other) => {
            return Err(std::io::Error::other(format!(
                "unknown argument {other:?}; usage: axum_server [--tuned]"
            )));
        }
    };
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={port} is not a port number")))?,
        Err(_) => 8000,
    };
    // The store is filled before the port opens: the harness starts
    // counting the server's CPU once it can connect.
    let app = App::new(tuning).router();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    println!("ready");

    // Upgraded sockets are not tracked by axum's graceful shutdown: they end
    // with the process, right after the listener stops.
    // TCP_NODELAY, as axum's docs show it and as sockwarden::serve does:
    // a WebSocket frame is written whole, and Nagle would hold a small one
    // until the client's delayed acknowledgement.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            eprintln!("TCP_NODELAY not set: {error}");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
        .await
}
