//! Just enough HTTP/1.1 for a test client (RFC 9112): write a request, read
//! a response head, and read its body framed by `Transfer-Encoding: chunked`,
//! `Content-Length` or the end of the connection.
//!
//! Only `readable`/`try_read` and `writable`/`try_write` are used, so this
//! needs nothing from tokio beyond its `net` feature. Nothing here waits on
//! its own: callers bound every exchange with a timeout.

use std::io::ErrorKind;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use tokio::net::TcpStream;

/// The longest response head read; a server that sends more is broken.
const MAX_HEAD: usize = 64 * 1024;

/// The longest response body read: a test client need not hold more.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A parsed response head.
pub(super) struct Head {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
}

/// Writes all of `bytes`.
pub(super) async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        stream
            .writable()
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        match stream.try_write(bytes) {
            Ok(0) => return Err("write failed: the connection is closed".into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("write failed: {e}")),
        }
    }
    Ok(())
}

/// Reads more bytes onto `buf`; `false` at the end of the stream.
async fn read_more(stream: &TcpStream, buf: &mut Vec<u8>) -> Result<bool, String> {
    let mut chunk = [0u8; 8192];
    loop {
        stream
            .readable()
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        match stream.try_read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // A reset after a complete answer is an end like any other.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(false),
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
}

/// Reads the next final response head (skipping `1xx` interim responses,
/// but not `101`). On return `buf` holds the bytes that followed the head.
pub(super) async fn read_head(stream: &TcpStream, buf: &mut Vec<u8>) -> Result<Head, String> {
    loop {
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if buf.len() > MAX_HEAD {
                return Err(format!("a response head over {MAX_HEAD} bytes"));
            }
            if !read_more(stream, buf).await? {
                return Err(if buf.is_empty() {
                    "the server closed the connection without an answer".into()
                } else {
                    "the server closed the connection in the middle of the response head".into()
                });
            }
        };
        let head = parse_head(&buf[..end])?;
        buf.drain(..end + 4);
        if head.status.is_informational() && head.status != StatusCode::SWITCHING_PROTOCOLS {
            continue;
        }
        return Ok(head);
    }
}

/// Parses a status line and header fields (without the final blank line).
fn parse_head(head: &[u8]) -> Result<Head, String> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let status_line = lines.next().unwrap_or_default();
    let status = match status_line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', _, b' ', code @ ..] if code.len() >= 3 => {
            StatusCode::from_bytes(&code[..3]).ok()
        }
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "not an HTTP/1.1 status line: {:?}",
            String::from_utf8_lossy(status_line)
        )
    })?;
    let mut headers = HeaderMap::new();
    for line in lines {
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            return Err("a folded header line (obsolete since RFC 7230)".into());
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| format!("not a header line: {:?}", String::from_utf8_lossy(line)))?;
        let name = HeaderName::from_bytes(&line[..colon]).map_err(|_| {
            format!(
                "not a header name: {:?}",
                String::from_utf8_lossy(&line[..colon])
            )
        })?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii())
            .map_err(|_| format!("not a header value for {name}"))?;
        headers.append(name, value);
    }
    Ok(Head { status, headers })
}

/// Reads the body of a response whose head was just read, as RFC 9112 §6.3
/// frames it; `buf` holds the bytes read past the head.
pub(super) async fn read_body(
    stream: &TcpStream,
    head: &Head,
    head_request: bool,
    mut buf: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let status = head.status;
    if head_request
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(Vec::new());
    }
    let chunked = match last_transfer_coding(&head.headers) {
        Some(coding) => coding.eq_ignore_ascii_case("chunked"),
        None => false,
    };
    let length = if chunked || head.headers.contains_key(header::TRANSFER_ENCODING) {
        None
    } else {
        content_length(&head.headers)?
    };
    loop {
        if chunked {
            if let Some(body) = decode_chunked(&buf)? {
                return Ok(body);
            }
        } else if let Some(length) = length
            && buf.len() >= length
        {
            buf.truncate(length);
            return Ok(buf);
        }
        if buf.len() > MAX_BODY {
            return Err(format!("a response body over {MAX_BODY} bytes"));
        }
        if !read_more(stream, &mut buf).await? {
            if chunked || length.is_some() {
                return Err("the server closed the connection in the middle of the body".into());
            }
            // Neither chunked nor sized: the body ends with the connection.
            return Ok(buf);
        }
    }
}

/// The last transfer coding named, if the header is present.
fn last_transfer_coding(headers: &HeaderMap) -> Option<String> {
    let all = headers.get_all(header::TRANSFER_ENCODING);
    let last = all.iter().next_back()?;
    let last = String::from_utf8_lossy(last.as_bytes());
    Some(
        last.rsplit(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    )
}

/// The `Content-Length`, if any; copies that disagree are an error.
fn content_length(headers: &HeaderMap) -> Result<Option<usize>, String> {
    let mut found = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value.to_str().unwrap_or("x").split(',') {
            let part = part.trim();
            let length = part
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse::<usize>().ok())
                .flatten()
                .ok_or_else(|| format!("an invalid Content-Length: {part:?}"))?;
            if found.is_some_and(|found| found != length) {
                return Err("Content-Length values that disagree".into());
            }
            found = Some(length);
        }
    }
    Ok(found)
}

/// Decodes a chunked body from its start; `None` while it is incomplete.
fn decode_chunked(mut data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = &data[..eol];
        let size = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let size = std::str::from_utf8(size)
            .ok()
            .filter(|size| !size.is_empty() && size.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|size| usize::from_str_radix(size, 16).ok())
            .ok_or_else(|| {
                format!(
                    "an invalid chunk size line: {:?}",
                    String::from_utf8_lossy(line)
                )
            })?;
        data = &data[eol + 2..];
        if size == 0 {
            // Trailer fields, then a blank line.
            loop {
                let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                if eol == 0 {
                    return Ok(Some(body));
                }
                data = &data[eol + 2..];
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(format!("a response body over {MAX_BODY} bytes"));
        }
        if data.len() < size + 2 {
            return Ok(None);
        }
        if &data[size..size + 2] != b"\r\n" {
            return Err("a chunk not followed by CRLF".into());
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_and_wait_for_the_end() {
        let wire = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
        assert_eq!(decode_chunked(wire).unwrap().unwrap(), b"hello, world");
        for cut in 0..wire.len() {
            assert_eq!(decode_chunked(&wire[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(decode_chunked(b"zz\r\n").is_err());
        assert!(decode_chunked(b"2\r\nabX\r\n").is_err());
    }

    #[test]
    fn heads_parse_status_and_repeated_fields() {
        let head = parse_head(
            b"HTTP/1.1 401 Unauthorized\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length:  12 ",
        )
        .unwrap();
        assert_eq!(head.status, StatusCode::UNAUTHORIZED);
        assert_eq!(head.headers.get_all(header::SET_COOKIE).iter().count(), 2);
        assert_eq!(content_length(&head.headers).unwrap(), Some(12));
        assert!(parse_head(b"HTTP/2 200 OK").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n folded").is_err());
    }

    #[test]
    fn content_lengths_must_agree() {
        let mut headers = HeaderMap::new();
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("4"));
        assert!(content_length(&headers).is_err());
        let mut headers = HeaderMap::new();
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("+3"));
        assert!(content_length(&headers).is_err());
    }
}
