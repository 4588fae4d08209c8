//! The echo floor on tokio-tungstenite, the WebSocket library under both
//! sockwarden and axum, with the tuned axum server's 4 KiB read buffer.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    floor::serve(serve).await
}

// The callback's error type is tungstenite's refusal response, large by design.
#[allow(clippy::result_large_err)]
async fn serve(stream: TcpStream) {
    let mut user = String::new();
    let read_token = |request: &Request, response: Response| {
        let token = request.headers().get("authorization");
        user = floor::user_of(token.and_then(|value| value.to_str().ok()));
        Ok(response)
    };
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, read_token, Some(config)).await
    else {
        return;
    };
    // Read until the stream ends: tungstenite answers a Close on the read after it.
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message
            && let Some(reply) = floor::answer(&text, &user)
            && ws.send(Message::text(reply)).await.is_err()
        {
            return;
        }
    }
}
