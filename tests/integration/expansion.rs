//! What `#[consumer]` expands to, checked from outside: it compiles where a
//! user may write it (without the prelude, next to items named like the ones
//! it uses, from a `macro_rules!`, under strict lints), both attribute orders
//! mean the same, and each argument and field attribute reaches the runtime.
//!
//! Most of this file is proven by compiling it; the tests read back what the
//! expansion declared.

use sockwarden::{Endpoint, RejectMode, Scope};
use sockwarden_tests::User;
use std::time::Duration;

/// Nothing is in scope here but what the module names, and items named like
/// the ones the expansion uses are: the expansion must name everything by an
/// absolute path.
mod hygiene {
    #![no_implicit_prelude]
    #![deny(warnings, unused_qualifications)]

    // Decoys: an expansion that named any of these without a path would
    // pick them up and fail to compile.
    #[allow(dead_code)]
    struct Option;
    #[allow(dead_code)]
    struct Result;
    #[allow(dead_code)]
    struct Ok;
    #[allow(dead_code)]
    struct Default;
    #[allow(dead_code)]
    struct Endpoint;
    #[allow(dead_code)]
    struct Spec;
    #[allow(dead_code)]
    struct Scope;
    #[allow(dead_code)]
    struct Rejection;
    #[allow(dead_code)]
    mod sockwarden {}

    #[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq)]
    pub(crate) struct AppUser {
        pub(crate) id: u64,
    }

    impl ::sockwarden::AuthUser for AppUser {
        type Id = u64;
        fn id(&self) -> u64 {
            self.id
        }
    }

    /// Every argument and every field attribute at once.
    #[::sockwarden::consumer(
        path = "/ws/everything/{room}/{*rest}",
        auth = "token",
        reject = "close",
        query_token = true,
        token_protocol = "jwt",
        max_message_size = 4096,
        auth_timeout = "250ms"
    )]
    #[::sockwarden::requires_auth]
    #[derive(::core::fmt::Debug)]
    pub(crate) struct Everything {
        /// Documentation stays on the field.
        #[path]
        pub(crate) room: ::std::string::String,
        #[path("room")]
        pub(crate) again: ::std::string::String,
        #[path]
        pub(crate) rest: ::std::string::String,
        #[user]
        pub(crate) user: AppUser,
        #[query]
        pub(crate) page: ::core::option::Option<u32>,
        #[query("type")]
        pub(crate) r#type: ::std::string::String,
        #[header("x-client")]
        pub(crate) client: ::core::option::Option<::std::string::String>,
        #[cookie("theme")]
        pub(crate) theme: ::core::option::Option<::std::string::String>,
        pub(crate) typed: u32,
        // Configured out, so not initialized either.
        #[cfg(any())]
        #[query]
        pub(crate) gone: u32,
    }

    /// A consumer that admits anonymous users.
    #[::sockwarden::consumer(path = "/ws/maybe", auth = "token")]
    pub(crate) struct Maybe {
        #[user]
        pub(crate) user: ::core::option::Option<AppUser>,
    }

    /// A consumer without auth and without fields.
    #[::sockwarden::consumer(path = "/ws/ping")]
    pub(crate) struct Ping {}
}

/// The attribute written by a `macro_rules!`: the route arrives as a
/// `$route:literal`, the types as `$ty:ty`.
macro_rules! consumer_with {
    ($name:ident, $route:literal, $room:ty, $user:ty) => {
        #[sockwarden::consumer(path = $route, auth = "token")]
        pub(crate) struct $name {
            #[path]
            pub(crate) room: $room,
            #[user]
            pub(crate) user: $user,
            pub(crate) seen: u32,
        }
    };
}

consumer_with!(Declared, "/ws/declared/{room}", u64, Option<User>);

/// The two orders of `#[consumer]` and `#[requires_auth]`, with either
/// imported or qualified names.
mod orders {
    use sockwarden::prelude::*;
    use sockwarden_tests::User;

    #[consumer(path = "/ws/below", auth = "token")]
    #[requires_auth]
    pub(crate) struct Below {
        #[user]
        pub(crate) user: User,
    }

    #[requires_auth]
    #[consumer(path = "/ws/above", auth = "token")]
    pub(crate) struct Above {
        #[user]
        pub(crate) user: User,
    }

    #[sockwarden::requires_auth]
    #[sockwarden::consumer(path = "/ws/qualified", auth = "token")]
    pub(crate) struct QualifiedAbove {
        #[user]
        pub(crate) user: User,
    }

    #[consumer(path = "/ws/anonymous", auth = "token")]
    pub(crate) struct Anonymous {
        #[user]
        pub(crate) user: Option<User>,
    }
}

/// The expansion adds nothing that the workspace's lints or clippy's
/// pedantic group would flag in the user's crate.
mod lints {
    #![deny(warnings, unused_qualifications, clippy::all, clippy::pedantic)]

    use sockwarden::prelude::*;

    #[consumer(path = "/ws/lints/{id}", reject = "close", max_message_size = 1)]
    pub(crate) struct Strict {
        #[path]
        id: u64,
        #[query]
        page: Option<u32>,
        count: u32,
    }

    impl Strict {
        /// Reads the fields, so that they are not dead code.
        pub(crate) fn total(&self) -> u64 {
            self.id + u64::from(self.page.unwrap_or(0)) + u64::from(self.count)
        }
    }
}

fn everything_scope() -> Scope<hygiene::AppUser> {
    Scope::builder("/ws/everything/lobby/a/b")
        .path_param("room", "lobby")
        .path_param("rest", "a/b")
        .query("page=2&type=kind")
        .header("x-client", "cli")
        .header("cookie", "other=1; theme=dark")
        .user(hygiene::AppUser { id: 7 })
        .build()
}

#[test]
fn both_attribute_orders_require_auth() {
    assert!(<orders::Below as Endpoint>::SPEC.requires_auth);
    assert!(<orders::Above as Endpoint>::SPEC.requires_auth);
    assert!(<orders::QualifiedAbove as Endpoint>::SPEC.requires_auth);
    assert!(!<orders::Anonymous as Endpoint>::SPEC.requires_auth);
}

#[test]
fn both_attribute_orders_read_a_required_user() {
    fn user_of<C: Endpoint<User = User>>(user: Option<User>) -> Result<C, sockwarden::Rejection> {
        let mut scope = Scope::builder("/ws");
        if let Some(user) = user {
            scope = scope.user(user);
        }
        C::from_scope(&mut scope.build())
    }
    let ada = || Some(User::named("ada"));
    assert_eq!(
        user_of::<orders::Below>(ada()).unwrap().user,
        User::named("ada")
    );
    assert_eq!(
        user_of::<orders::Above>(ada()).unwrap().user,
        User::named("ada")
    );
    assert_eq!(
        user_of::<orders::QualifiedAbove>(ada()).unwrap().user,
        User::named("ada")
    );
    assert_eq!(user_of::<orders::Anonymous>(ada()).unwrap().user, ada());
    assert!(user_of::<orders::Below>(None).is_err());
    assert!(user_of::<orders::Above>(None).is_err());
    assert_eq!(user_of::<orders::Anonymous>(None).unwrap().user, None);
}

#[test]
fn every_argument_reaches_the_spec() {
    let spec = <hygiene::Everything as Endpoint>::SPEC;
    assert_eq!(spec.name, "Everything");
    assert_eq!(spec.path, "/ws/everything/{room}/{*rest}");
    assert!(spec.requires_auth);
    assert_eq!(spec.reject, RejectMode::Close);
    assert!(spec.carriers.query);
    assert_eq!(spec.carriers.protocol_marker, "jwt");
    assert_eq!(spec.limits.max_message_size, 4096);
    assert_eq!(spec.limits.auth_timeout, Duration::from_millis(250));
}

#[test]
fn omitted_arguments_keep_the_runtime_defaults() {
    let spec = <hygiene::Ping as Endpoint>::SPEC;
    assert_eq!(spec, sockwarden::Spec::new("Ping", "/ws/ping"));
    assert_eq!(spec.reject, RejectMode::Http);
}

#[test]
fn every_field_is_read_from_its_source() {
    let chat = <hygiene::Everything as Endpoint>::from_scope(&mut everything_scope())
        .expect("every field is in the scope");
    assert_eq!(chat.room, "lobby");
    assert_eq!(chat.again, "lobby");
    assert_eq!(chat.rest, "a/b");
    assert_eq!(chat.user, hygiene::AppUser { id: 7 });
    assert_eq!(chat.page, Some(2));
    assert_eq!(chat.r#type, "kind");
    assert_eq!(chat.client.as_deref(), Some("cli"));
    assert_eq!(chat.theme.as_deref(), Some("dark"));
    assert_eq!(chat.typed, 0);
    // `#[derive(Debug)]` stayed on the struct.
    assert!(format!("{chat:?}").starts_with("Everything {"));
}

#[test]
fn a_required_user_or_value_that_is_missing_refuses() {
    let mut scope: Scope<hygiene::AppUser> = Scope::builder("/ws/everything/lobby/a")
        .path_param("room", "lobby")
        .path_param("rest", "a")
        .query("type=kind")
        .build();
    assert!(<hygiene::Everything as Endpoint>::from_scope(&mut scope).is_err());

    let mut scope: Scope<hygiene::AppUser> = Scope::builder("/ws/everything/lobby/a")
        .path_param("room", "lobby")
        .path_param("rest", "a")
        .user(hygiene::AppUser { id: 7 })
        .build();
    assert!(
        <hygiene::Everything as Endpoint>::from_scope(&mut scope).is_err(),
        "`type` is a required query parameter"
    );
}

#[test]
fn an_anonymous_user_is_none() {
    let mut scope = Scope::builder("/ws/maybe").build();
    let maybe = <hygiene::Maybe as Endpoint>::from_scope(&mut scope).expect("no field is required");
    assert_eq!(maybe.user, None);
}

#[test]
fn a_consumer_written_by_macro_rules_works() {
    let spec = <Declared as Endpoint>::SPEC;
    assert_eq!(spec.path, "/ws/declared/{room}");
    let mut scope = Scope::builder("/ws/declared/42")
        .path_param("room", "42")
        .user(User::named("ada"))
        .build();
    let declared = <Declared as Endpoint>::from_scope(&mut scope).expect("room parses");
    assert_eq!(declared.room, 42);
    assert_eq!(declared.user, Some(User::named("ada")));
    assert_eq!(declared.seen, 0);

    let mut scope = Scope::builder("/ws/declared/x")
        .path_param("room", "x")
        .build();
    assert!(<Declared as Endpoint>::from_scope(&mut scope).is_err());
}

#[test]
fn strict_lints_accept_the_expansion() {
    let mut scope = Scope::builder("/ws/lints/3").path_param("id", "3").build();
    let strict = <lints::Strict as Endpoint>::from_scope(&mut scope).expect("id parses");
    assert_eq!(strict.total(), 3);
}
