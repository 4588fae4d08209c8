//! The chat: browsers log in with a form and chat over a session-cookie
//! socket, API clients connect with a token, and both meet in the same
//! rooms. The place to start.
//!
//! ```text
//! cargo run --example chat                # 127.0.0.1:8000, or PORT=…
//! ```
//!
//! Open <http://127.0.0.1:8000/> in two browsers (or a normal and a private
//! window), log in as alice and as bob, and chat. From a terminal:
//!
//! ```text
//! websocat -H 'Authorization: Token tok-alice' ws://127.0.0.1:8000/api/chat/lobby
//! {"type":"say","body":"hello"}
//! ```
//!
//! The app itself (consumers, login, presence) is `chat_app` in `lib.rs`
//! beside this file, shared with the browser test; this file serves it.
//! `RUST_LOG=debug` shows more of what happens.

use sockwarden::session::MemoryStore;
use sockwarden_examples::{DEMO_USERS, chat_app};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    // The embedded default: sessions in memory, gone when the process ends.
    let (app, hub) = chat_app(MemoryStore::default());

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().expect("PORT must be a port number"),
        Err(_) => 8000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("chat on http://{addr}/ (Ctrl-C stops it)");
    println!("demo users (password, API token):");
    for user in DEMO_USERS {
        println!("  {:<6} {:<11} {}", user.name, user.password, user.token);
    }
    println!("browsers: open http://{addr}/ and log in");
    println!("API clients, with a token:");
    println!("  websocat -H 'Authorization: Token tok-alice' ws://{addr}/api/chat/lobby");
    println!("  websocat --protocol 'bearer, tok-bob' ws://{addr}/api/chat/lobby");
    println!(r#"  then: {{"type":"say","body":"hello"}}"#);

    // `sockwarden::serve`: axum's server plus a deadline for request heads
    // and a shutdown that closes the sockets with 1001 (the page says so).
    sockwarden::serve(listener, app)
        .with_graceful_shutdown(hub, async {
            tokio::signal::ctrl_c()
                .await
                .expect("cannot listen for Ctrl-C");
        })
        .await
}
