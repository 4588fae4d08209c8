//! What the fuzz targets share: reading a fuzz input as the head of an HTTP
//! request, the way hyper reads it, and looking at its raw headers for the
//! targets' oracles.
//!
//! The inputs are plain request heads (`GET /ws?token=t HTTP/1.1`, then
//! `name: value` lines), so that the seeds under `seeds/` are readable and
//! libFuzzer's dictionaries under `dict/` name real header fields.

use sockwarden::fuzzing::Handshake;

/// The largest number of headers hyper parses; a request with more is
/// refused with 431 before the runtime sees it.
const MAX_HEADERS: usize = 100;

/// A request head as hyper parsed it: method, request target and headers,
/// as raw bytes.
pub struct Head<'a> {
    pub method: &'a [u8],
    pub target: &'a [u8],
    pub headers: Vec<(&'a str, &'a [u8])>,
}

impl Head<'_> {
    /// The handshake the runtime gets for this head; `None` when hyper
    /// refuses it after parsing (a request target that is not a URI).
    pub fn handshake(&self) -> Option<Handshake> {
        Handshake::new(
            self.method,
            self.target,
            self.headers
                .iter()
                .map(|(name, value)| (name.as_bytes(), *value)),
        )
    }

    /// The raw values of every header with this (lowercase) name, in order.
    pub fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }

    /// Whether `marker` is one of the comma-separated items of any
    /// `Sec-WebSocket-Protocol` header, judged on the raw bytes (so a header
    /// that is not visible ASCII counts too).
    pub fn offers_raw(&self, marker: &str) -> bool {
        self.values("sec-websocket-protocol").any(|value| {
            value
                .split(|&b| b == b',')
                .any(|item| item.trim_ascii() == marker.as_bytes())
        })
    }

    /// The query string of the request target, if any.
    pub fn query(&self) -> Option<&[u8]> {
        // The fragment is no part of the request (`Uri` drops it), and a
        // `?` inside it starts no query.
        let end = self.target.iter().position(|&b| b == b'#');
        let target = &self.target[..end.unwrap_or(self.target.len())];
        let at = target.iter().position(|&b| b == b'?')?;
        Some(&target[at + 1..])
    }
}

/// Parses `data` as a request head with httparse, as hyper does; `None` for
/// what hyper would refuse (it answers 400 or 431 and the runtime never runs).
/// The blank line that ends a head is added, so that any prefix of a valid
/// head is a valid input.
pub fn parse_head<'b>(data: &[u8], buffer: &'b mut Vec<u8>) -> Option<Head<'b>> {
    buffer.clear();
    buffer.extend_from_slice(data);
    buffer.extend_from_slice(b"\r\n\r\n");
    let buffer: &'b [u8] = buffer;
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buffer) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return None,
    }
    Some(Head {
        method: request.method?.as_bytes(),
        target: request.path?.as_bytes(),
        headers: request
            .headers
            .iter()
            .map(|header| (header.name, header.value))
            .collect(),
    })
}
