//! Scope extraction: `FromHandshake::from_handshake`, the code `#[consumer]`
//! writes to fill a consumer's fields from the handshake's scope.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use micro::{Chat, Echo, User};
use sockwarden::{FromHandshake, Scope};

fn user() -> User {
    User {
        name: "user4242".into(),
    }
}

fn scope(c: &mut Criterion) {
    let mut group = c.benchmark_group("scope");
    // The bench server's consumer: the user and nothing else.
    group.bench_function("user only", |b| {
        b.iter_batched(
            || Scope::builder("/ws/echo").user(user()).build(),
            |mut scope| <Echo as FromHandshake<()>>::from_handshake(black_box(&mut scope), &()),
            BatchSize::SmallInput,
        );
    });
    // A field from each source: path, query, header, cookie, user.
    group.bench_function("every source", |b| {
        b.iter_batched(
            || {
                Scope::builder("/ws/chat/lobby")
                    .path_param("room", "lobby")
                    .query("page=3&q=hello%20world")
                    .header("x-client", "cli/2")
                    .header("cookie", "session=abc; theme=dark")
                    .header("user-agent", "bench")
                    .user(user())
                    .build()
            },
            |mut scope| {
                let chat = <Chat as FromHandshake<()>>::from_handshake(black_box(&mut scope), &())
                    .expect("every field is there");
                assert_eq!(chat.page, Some(3));
                chat
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, scope);
criterion_main!(benches);
