//! The client behind trusted reverse proxies: its address, from
//! `X-Forwarded-For` or `Forwarded: for=` (RFC 7239), and the host it asked
//! for, from `X-Forwarded-Host` or `Forwarded: host=`.
//!
//! These headers are only as true as the hop that wrote them, and anyone can
//! send them: they are read only when the TCP peer is a proxy the app
//! trusts, and only the one header the app says its proxies write. A proxy
//! such as nginx passes a client's own headers through and appends to them,
//! so the list is read from the right: the rightmost address that is not
//! itself a trusted proxy is the client; whatever a client wrote further
//! left is ignored. A header that does not parse is not guessed at: the
//! TCP peer stays the client.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use axum::http::header::{FORWARDED, HeaderName};
use ipnet::IpNet;

/// The header trusted proxies write the client's address in; see
/// [`AppDefaults::proxy_header`](crate::AppDefaults::proxy_header).
///
/// Only the chosen header is read, because a proxy that writes one usually
/// passes the other through from the client untouched: reading both would
/// let a client pick its own address.
///
/// ```
/// use sockwarden::ProxyHeader;
///
/// assert_eq!(ProxyHeader::default(), ProxyHeader::XForwardedFor);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProxyHeader {
    /// `X-Forwarded-For: <client>, <proxy>, …` for the address and
    /// `X-Forwarded-Host` for the host. What nginx
    /// (`$proxy_add_x_forwarded_for`), HAProxy (`option forwardfor`),
    /// Traefik, Caddy and cloud load balancers write: the default.
    #[default]
    XForwardedFor,
    /// `Forwarded: for=<client>;host=<host>, for=<proxy>, …` (RFC 7239).
    Forwarded,
}

/// The proxies an app trusts, and the header they write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct Proxies {
    pub(crate) nets: Vec<IpNet>,
    pub(crate) header: ProxyHeader,
}

/// The other end of a handshake, as the trusted proxies tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client<'h> {
    /// The client's address; port 0 when the proxy did not forward one.
    pub(crate) addr: SocketAddr,
    /// The `Host` the client sent to the outermost trusted proxy, when
    /// that proxy forwarded it.
    pub(crate) host: Option<&'h str>,
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

impl Proxies {
    /// Whether `ip` is one of the trusted proxies.
    pub(crate) fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Who sent a request that arrived from `peer`.
    pub(crate) fn client<'h>(&self, peer: SocketAddr, headers: &'h HeaderMap) -> Client<'h> {
        let direct = Client {
            addr: peer,
            host: None,
        };
        if !self.trusts(peer.ip()) {
            return direct;
        }
        match self.header {
            ProxyHeader::XForwardedFor => Client {
                addr: self.x_forwarded_for(headers).unwrap_or(peer),
                host: last_value(headers, &X_FORWARDED_HOST),
            },
            ProxyHeader::Forwarded => self.forwarded(peer, headers).unwrap_or(direct),
        }
    }

    /// The rightmost address that is not a trusted proxy, else the
    /// leftmost; `None` when the header is absent or any entry is not an
    /// address.
    fn x_forwarded_for(&self, headers: &HeaderMap) -> Option<SocketAddr> {
        let mut hops = Vec::new();
        for value in headers.get_all(&X_FORWARDED_FOR) {
            for hop in value.to_str().ok()?.split(',') {
                hops.push(node(hop.trim())?);
            }
        }
        let client = hops
            .iter()
            .rev()
            .find(|hop| !self.trusts(hop.ip()))
            .or(hops.first())?;
        Some(*client)
    }

    /// The element the outermost trusted proxy wrote: its `for=` is the
    /// client, its `host=` the host the client asked for. `None` when the
    /// header is absent or malformed.
    fn forwarded<'h>(&self, peer: SocketAddr, headers: &'h HeaderMap) -> Option<Client<'h>> {
        let mut elements = Vec::new();
        for value in headers.get_all(&FORWARDED) {
            parse_forwarded(value.to_str().ok()?, &mut elements)?;
        }
        let outermost = elements
            .iter()
            .rev()
            .find(|element| !element.from.is_some_and(|hop| self.trusts(hop.ip())))
            .or(elements.first())?;
        Some(Client {
            // `for=unknown` or an obfuscated name: the proxy hides the
            // client, so the proxy is all that can be counted.
            addr: outermost.from.unwrap_or(peer),
            host: outermost.host,
        })
    }
}

/// The last of a header's comma-separated values, if it is visible ASCII
/// and not empty.
fn last_value<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    let last = headers.get_all(name).iter().next_back()?;
    let value = last.to_str().ok()?.rsplit(',').next()?.trim();
    (!value.is_empty()).then_some(value)
}

/// One hop's address: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`; port 0 when none is given.
/// IPv4-mapped IPv6 addresses become IPv4, as the TCP peer does.
fn node(text: &str) -> Option<SocketAddr> {
    let addr = if let Ok(ip) = text.parse::<IpAddr>() {
        SocketAddr::new(ip, 0)
    } else if let Ok(addr) = text.parse::<SocketAddr>() {
        addr
    } else {
        let inner = text.strip_prefix('[')?.strip_suffix(']')?;
        SocketAddr::new(IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?), 0)
    };
    Some(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
}

/// What one `Forwarded` element says.
#[derive(Debug, Default, PartialEq, Eq)]
struct Element<'h> {
    /// `for=`, when it is an address.
    from: Option<SocketAddr>,
    host: Option<&'h str>,
}

/// Appends the elements of one `Forwarded` header value (RFC 7239 §4:
/// elements separated by `,`, pairs by `;`, values a token or a quoted
/// string). `None` when the value is malformed: a pair without `=`, a name
/// that is not a token, an unterminated or escaped quoted string, a
/// repeated parameter, an element without `for=`.
fn parse_forwarded<'h>(value: &'h str, elements: &mut Vec<Element<'h>>) -> Option<()> {
    let mut rest = value;
    let mut element = Element::default();
    let mut has_for = false;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if !rest.starts_with([',', ';']) && !rest.is_empty() {
            let (name, after) = rest.split_once('=')?;
            let name = name.trim_end_matches([' ', '\t']);
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return None;
            }
            let (pair_value, after) = pair_value(after)?;
            rest = after.trim_start_matches([' ', '\t']);
            if name.eq_ignore_ascii_case("for") {
                if has_for {
                    return None;
                }
                has_for = true;
                element.from = node(pair_value);
            } else if name.eq_ignore_ascii_case("host") {
                if element.host.is_some() || pair_value.is_empty() {
                    return None;
                }
                element.host = Some(pair_value);
            }
        }
        match rest.as_bytes().first() {
            None | Some(b',') => {
                if !has_for {
                    return None;
                }
                elements.push(std::mem::take(&mut element));
                has_for = false;
                match rest.get(1..) {
                    Some(after) => rest = after,
                    None => return Some(()),
                }
            }
            Some(b';') => rest = &rest[1..],
            Some(_) => return None,
        }
    }
}

/// A pair's value and what follows it: a quoted string without escapes,
/// or a run of characters up to the next separator. Unquoted values are
/// read leniently (`for=[2001:db8::1]` should be quoted, and often is not).
fn pair_value(text: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        let inner = &quoted[..end];
        // An escape would need unescaping into a new string; no address or
        // host has one.
        if inner.contains('\\') {
            return None;
        }
        return Some((inner, &quoted[end + 1..]));
    }
    let end = text.find([',', ';', ' ', '\t', '"']).unwrap_or(text.len());
    Some(text.split_at(end))
}

/// RFC 9110's `tchar`.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::http::HeaderMap;

    use super::{Client, Element, Proxies, ProxyHeader, node, parse_forwarded};

    fn proxies(nets: &[&str], header: ProxyHeader) -> Proxies {
        Proxies {
            nets: nets.iter().map(|net| net.parse().unwrap()).collect(),
            header,
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.5:50000";

    fn xff_client(pairs: &[(&'static str, &'static str)]) -> SocketAddr {
        let trusted = proxies(
            &["10.0.0.0/8", "192.168.1.1/32"],
            ProxyHeader::XForwardedFor,
        );
        trusted.client(addr(PROXY), &headers(pairs)).addr
    }

    fn forwarded_client(value: &'static str) -> Client<'static> {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        let map = Box::leak(Box::new(headers(&[("forwarded", value)])));
        trusted.client(addr(PROXY), map)
    }

    #[test]
    fn nodes() {
        assert_eq!(node("192.0.2.1"), Some(addr("192.0.2.1:0")));
        assert_eq!(node("192.0.2.1:4711"), Some(addr("192.0.2.1:4711")));
        assert_eq!(node("2001:db8::1"), Some(addr("[2001:db8::1]:0")));
        assert_eq!(node("[2001:db8::1]"), Some(addr("[2001:db8::1]:0")));
        assert_eq!(node("[2001:db8::1]:4711"), Some(addr("[2001:db8::1]:4711")));
        assert_eq!(node("::ffff:192.0.2.1"), Some(addr("192.0.2.1:0")));
        for bad in [
            "",
            "unknown",
            "_hidden",
            "192.0.2",
            "1.2.3.4:x",
            "[::1",
            "evil.example",
        ] {
            assert_eq!(node(bad), None, "{bad}");
        }
    }

    #[test]
    fn x_forwarded_for_takes_the_rightmost_untrusted_hop() {
        assert_eq!(
            xff_client(&[("x-forwarded-for", "203.0.113.7")]),
            addr("203.0.113.7:0")
        );
        // A client's own value sits on the left and is skipped.
        assert_eq!(
            xff_client(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7")]),
            addr("203.0.113.7:0")
        );
        // Trusted hops on the right are walked past.
        assert_eq!(
            xff_client(&[(
                "x-forwarded-for",
                "1.1.1.1, 203.0.113.7, 10.1.2.3, 192.168.1.1"
            )]),
            addr("203.0.113.7:0")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            xff_client(&[
                ("x-forwarded-for", "1.1.1.1"),
                ("x-forwarded-for", "203.0.113.9:1234")
            ]),
            addr("203.0.113.9:1234")
        );
        // Every hop trusted: the leftmost is the client.
        assert_eq!(
            xff_client(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]),
            addr("10.9.9.9:0")
        );
    }

    #[test]
    fn a_missing_or_malformed_x_forwarded_for_is_the_tcp_peer() {
        for value in [
            "",
            "evil",
            "1.1.1.1,,2.2.2.2",
            "203.0.113.7, nonsense",
            " , ",
        ] {
            assert_eq!(
                xff_client(&[("x-forwarded-for", value)]),
                addr(PROXY),
                "{value:?}"
            );
        }
        assert_eq!(xff_client(&[]), addr(PROXY));
        let mut map = HeaderMap::new();
        let not_ascii = axum::http::HeaderValue::from_bytes(b"203.0.113.7\xe9").unwrap();
        map.insert("x-forwarded-for", not_ascii);
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        assert_eq!(trusted.client(addr(PROXY), &map).addr, addr(PROXY));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let map = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let client = trusted.client(addr("198.51.100.1:4000"), &map);
        assert_eq!(client.addr, addr("198.51.100.1:4000"));
        assert_eq!(client.host, None);
        // No trusted proxies at all: the same.
        let client = Proxies::default().client(addr("127.0.0.1:4000"), &map);
        assert_eq!(client.addr, addr("127.0.0.1:4000"));
    }

    #[test]
    fn a_mapped_ipv6_peer_is_matched_as_ipv4() {
        let trusted = proxies(&["127.0.0.1/32"], ProxyHeader::XForwardedFor);
        let map = headers(&[("x-forwarded-for", "203.0.113.7")]);
        let client = trusted.client(addr("[::ffff:127.0.0.1]:80"), &map);
        assert_eq!(client.addr, addr("203.0.113.7:0"));
    }

    #[test]
    fn x_forwarded_host_is_the_rightmost_value_from_a_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let map = headers(&[("x-forwarded-host", "evil.example, app.example.com")]);
        assert_eq!(
            trusted.client(addr(PROXY), &map).host,
            Some("app.example.com")
        );
        let empty = headers(&[("x-forwarded-host", "app.example.com, ")]);
        assert_eq!(trusted.client(addr(PROXY), &empty).host, None);
    }

    #[test]
    fn forwarded_elements() {
        let mut elements = Vec::new();
        let value = r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711";host="app.example.com:8443""#;
        assert_eq!(parse_forwarded(value, &mut elements), Some(()));
        assert_eq!(
            elements,
            [
                Element {
                    from: Some(addr("192.0.2.60:0")),
                    host: None
                },
                Element {
                    from: Some(addr("[2001:db8:cafe::17]:4711")),
                    host: Some("app.example.com:8443")
                },
            ]
        );
        let mut elements = Vec::new();
        assert_eq!(parse_forwarded("for=unknown", &mut elements), Some(()));
        assert_eq!(elements, [Element::default()]);
    }

    #[test]
    fn malformed_forwarded_values() {
        for value in [
            "",
            "for",
            "for=1.2.3.4;for=5.6.7.8",
            "proto=https",
            "for=1.2.3.4,",
            "for=\"1.2.3.4",
            r#"for="1.2.3.4\"""#,
            "for=1.2.3.4 garbage",
            "f r=1.2.3.4",
            "for=1.2.3.4;host=",
            "for=1.2.3.4;host=a;host=b",
            "=1.2.3.4",
        ] {
            let mut elements = Vec::new();
            assert_eq!(parse_forwarded(value, &mut elements), None, "{value:?}");
        }
    }

    #[test]
    fn forwarded_takes_the_element_of_the_outermost_trusted_proxy() {
        let client = forwarded_client(
            r#"for=1.1.1.1;host=evil.example, for=203.0.113.7;host=app.example.com, for=10.0.0.9;host=internal"#,
        );
        assert_eq!(client.addr, addr("203.0.113.7:0"));
        assert_eq!(client.host, Some("app.example.com"));
        // The proxy hides the client: the proxy is counted, its host kept.
        let client = forwarded_client("for=unknown;host=app.example.com");
        assert_eq!(client.addr, addr(PROXY));
        assert_eq!(client.host, Some("app.example.com"));
        // Malformed: the TCP peer, no host.
        let client = forwarded_client("for=203.0.113.7;host=app.example.com;for=1.1.1.1");
        assert_eq!(
            client,
            Client {
                addr: addr(PROXY),
                host: None
            }
        );
    }

    #[test]
    fn only_the_chosen_header_is_read() {
        let map = headers(&[
            ("forwarded", "for=203.0.113.1"),
            ("x-forwarded-for", "203.0.113.2"),
        ]);
        let xff = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        assert_eq!(xff.client(addr(PROXY), &map).addr, addr("203.0.113.2:0"));
        let forwarded = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        assert_eq!(
            forwarded.client(addr(PROXY), &map).addr,
            addr("203.0.113.1:0")
        );
    }

    #[test]
    fn odd_bytes_never_panic() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        for value in [
            "for=\u{0};",
            ";;;,,,",
            "for=[",
            "\"",
            "for=\"",
            "a=\"b\"c",
            "for==",
            "for=;",
        ] {
            let mut map = HeaderMap::new();
            if let Ok(value) = axum::http::HeaderValue::from_str(value) {
                map.insert("forwarded", value);
            }
            let _ = trusted.client(addr(PROXY), &map);
        }
    }
}
