//! A WebSocket client written by hand, for tests that must send what a
//! well-behaved client library never would (bad UTF-8, reserved bits) or
//! behave as a dead peer (never read, never answer a ping).

use std::net::SocketAddr;

use tokio::net::TcpStream;

use crate::WAIT;

// ---------------------------------------------------------------------------
// Raw frames. A WebSocket client library refuses to send a broken frame, so
// these tests speak the wire format (RFC 6455 §5.2) over a plain TCP stream:
//
//   byte 0: FIN (0x80) | RSV1-3 (0x70) | opcode (0x0f)
//   byte 1: MASK (0x80) | payload length (< 126 here; 126 means a 16-bit
//           length follows, 127 a 64-bit one)
//   then the 4-byte mask (client frames only; a client MUST mask), then the
//   payload, each byte XORed with mask[i % 4].
//
// Only `readable`/`try_read` and `writable`/`try_write` are used, so this
// needs nothing from tokio beyond its `net` feature.
// ---------------------------------------------------------------------------

/// Writes all of `bytes`, bounded by [`WAIT`].
pub async fn write_all(stream: &TcpStream, mut bytes: &[u8]) {
    tokio::time::timeout(WAIT, async {
        while !bytes.is_empty() {
            stream.writable().await.expect("writable");
            match stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(error) => panic!("write failed: {error}"),
            }
        }
    })
    .await
    .expect("write timed out");
}

/// Reads more bytes onto `buf`, bounded by [`WAIT`]; fails on end of stream.
pub async fn read_more(stream: &TcpStream, buf: &mut Vec<u8>) {
    tokio::time::timeout(WAIT, async {
        let mut chunk = [0u8; 1024];
        loop {
            stream.readable().await.expect("readable");
            match stream.try_read(&mut chunk) {
                Ok(0) => panic!("the server closed the TCP connection early"),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    return;
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(error) => panic!("read failed: {error}"),
            }
        }
    })
    .await
    .expect("no bytes from the server in time");
}

/// Upgrades by hand. Returns the stream and whatever followed the 101 head.
pub async fn raw_upgrade(addr: SocketAddr, path: &str) -> (TcpStream, Vec<u8>) {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         \r\n"
    );
    write_all(&stream, request.as_bytes()).await;
    let mut buf = Vec::new();
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        read_more(&stream, &mut buf).await;
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // RFC 6455 §1.3's worked example: this key has this accept value.
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    (stream, buf.split_off(end))
}

/// A masked client frame: `first` is byte 0 (FIN, RSV bits, opcode).
pub fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126, "short frames only");
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![first, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Reads one server frame: its opcode and (unmasked) payload.
pub async fn server_frame(stream: &TcpStream, buf: &mut Vec<u8>) -> (u8, Vec<u8>) {
    while buf.len() < 2 {
        read_more(stream, buf).await;
    }
    assert_eq!(buf[1] & 0x80, 0, "a server frame is never masked");
    let (len, header) = match buf[1] & 0x7f {
        126 => {
            while buf.len() < 4 {
                read_more(stream, buf).await;
            }
            (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => panic!("a 64-bit length from the server"),
        len => (usize::from(len), 2),
    };
    while buf.len() < header + len {
        read_more(stream, buf).await;
    }
    let opcode = buf[0] & 0x0f;
    let payload = buf[header..header + len].to_vec();
    buf.drain(..header + len);
    (opcode, payload)
}
