//! The per-handshake auth path: `TokenAuth::authenticate` on a handshake's
//! request parts, against the embedded store with 10,000 users. This is
//! everything sockwarden does to decide who a client is, without HTTP or
//! the upgrade around it.

use std::hint::black_box;

use axum::http::Request;
use axum::http::request::Parts;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use micro::{Echo, User, tokens};
use sockwarden::{Authenticate, Endpoint, Identity, TokenAuth};

fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).expect("a valid request").into_parts().0
}

fn auth(c: &mut Criterion) {
    let tokens = tokens();
    let spec = &<Echo as Endpoint>::SPEC;
    let cases = [
        (
            "header",
            parts("/ws/echo", &[("authorization", "Token tok-4242")]),
            true,
        ),
        (
            "subprotocol",
            parts(
                "/ws/echo",
                &[("sec-websocket-protocol", "bearer, tok-4242")],
            ),
            true,
        ),
        ("query", parts("/ws/echo?token=tok-4242", &[]), true),
        (
            "unknown token",
            parts("/ws/echo", &[("authorization", "Token tok-99999")]),
            false,
        ),
        ("no token", parts("/ws/echo", &[]), false),
    ];
    let mut group = c.benchmark_group("auth");
    for (name, request, known) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| {
                // The embedded store answers without waiting: no runtime
                // needed, and none measured.
                let identity = TokenAuth::<User>::authenticate(&tokens, black_box(request), spec)
                    .now_or_never()
                    .expect("the memory store never waits");
                assert_eq!(
                    matches!(identity, Ok(Identity::User { .. })),
                    *known,
                    "{name}"
                );
                identity
            });
        });
    }
    group.finish();
}

criterion_group!(benches, auth);
criterion_main!(benches);
