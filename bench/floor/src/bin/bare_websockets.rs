//! The echo floor on tokio-websockets, a WebSocket library built for speed
//! on tokio-util's codecs: does another library lower the floor?

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_websockets::{Message, ServerBuilder};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    floor::serve(serve).await
}

async fn serve(stream: TcpStream) {
    let Ok((request, mut ws)) = ServerBuilder::new().accept(stream).await else {
        return;
    };
    let token = request.headers().get("authorization");
    let user = floor::user_of(token.and_then(|value| value.to_str().ok()));
    // Read until the stream ends: the library answers a Close itself.
    while let Some(Ok(message)) = ws.next().await {
        if let Some(text) = message.as_text()
            && let Some(reply) = floor::answer(text, &user)
            && ws.send(Message::text(reply)).await.is_err()
        {
            return;
        }
    }
}
