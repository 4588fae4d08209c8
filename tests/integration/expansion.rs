//! What `#[consumer]` expands to, checked from outside: it compiles where a
//! user may write it (without the prelude, next to items named like the ones
//! it uses, from a `macro_rules!`, under strict lints), both attribute orders
//! mean the same, each argument and field attribute reaches the runtime, and
//! `#[state]` fields come from the state of the router the consumer is
//! mounted on.
//!
//! Most of this file is proven by compiling it; the tests read back what the
//! expansion declared.

use sockwarden::{Endpoint, FromHandshake, RejectMode, Scope};
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
    struct FromHandshake;
    #[allow(dead_code)]
    struct FromRef;
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

    /// A unit struct is a consumer without fields too.
    #[::sockwarden::consumer(path = "/ws/pong")]
    pub(crate) struct Pong;

    /// A consumer with auth that never reads its user: the type is an argument.
    #[::sockwarden::consumer(path = "/ws/raw", auth = "token", user = AppUser)]
    #[::sockwarden::requires_auth]
    pub(crate) struct Raw;

    /// Subprotocols, and a state field, without the prelude.
    #[::sockwarden::consumer(path = "/ws/spoken", protocols = ["chat.v2", "chat.v1"])]
    pub(crate) struct Spoken {
        #[state]
        pub(crate) greeting: ::std::string::String,
    }
}

/// `#[state]` fields of two types, taken from one app state through `FromRef`,
/// on a consumer mounted on a router with that state.
mod state {
    use axum::Router;
    use axum::extract::FromRef;
    use sockwarden::prelude::*;
    use std::sync::Arc;

    /// A pool, as a database client would be.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Db(pub(crate) &'static str);

    #[derive(Debug, PartialEq)]
    pub(crate) struct Config {
        pub(crate) greeting: String,
    }

    #[derive(Clone)]
    pub(crate) struct AppState {
        pub(crate) db: Db,
        pub(crate) config: Arc<Config>,
        pub(crate) hub: sockwarden::Hub,
    }

    impl FromRef<AppState> for sockwarden::Hub {
        fn from_ref(state: &AppState) -> sockwarden::Hub {
            state.hub.clone()
        }
    }

    impl FromRef<AppState> for Db {
        fn from_ref(state: &AppState) -> Db {
            state.db.clone()
        }
    }

    impl FromRef<AppState> for Arc<Config> {
        fn from_ref(state: &AppState) -> Arc<Config> {
            Arc::clone(&state.config)
        }
    }

    pub(crate) fn app_state() -> AppState {
        AppState {
            db: Db("sqlite::memory:"),
            config: Arc::new(Config {
                greeting: "hello".to_owned(),
            }),
            hub: sockwarden::Hub::new(),
        }
    }

    #[consumer(path = "/ws/stateful/{room}")]
    pub(crate) struct Stateful {
        #[path]
        pub(crate) room: String,
        #[state]
        pub(crate) db: Db,
        #[state]
        pub(crate) config: Arc<Config>,
        pub(crate) seen: u32,
    }

    impl Consumer for Stateful {
        type In = sockwarden::Frame;

        async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
            let hello = serde_json::json!({
                "greeting": self.config.greeting,
                "room": self.room,
                "db": self.db.0,
            });
            match cx.send(&hello).await {
                Ok(()) => Connect::Accept,
                Err(_) => Connect::Reject(Rejection::unavailable("could not greet")),
            }
        }

        async fn receive(&mut self, _: &mut Cx<Self>, _: Self::In) -> Result<(), Error> {
            self.seen += 1;
            Ok(())
        }
    }

    /// A consumer without `#[state]` fields goes on any router, with any state.
    #[consumer(path = "/ws/stateless")]
    pub(crate) struct Stateless;

    impl Consumer for Stateless {
        type In = sockwarden::Frame;

        async fn receive(&mut self, _: &mut Cx<Self>, _: Self::In) -> Result<(), Error> {
            Ok(())
        }
    }

    /// Both consumers, on one router whose state has what `Stateful` needs.
    pub(crate) fn app() -> Router {
        Router::new()
            .consumer::<Stateful>()
            .consumer::<Stateless>()
            .with_state(app_state())
    }
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
    use sockwarden_tests::User;

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

    /// The newer forms: subprotocols, `user = Type`, `#[state]`.
    #[consumer(path = "/ws/lints/state", protocols = ["v1"], auth = "token", user = User)]
    #[requires_auth]
    pub(crate) struct Stateful {
        #[state]
        label: String,
    }

    impl Stateful {
        /// Reads the field, so that it is not dead code.
        pub(crate) fn label(&self) -> &str {
            &self.label
        }
    }

    /// A unit struct.
    #[consumer(path = "/ws/lints/unit")]
    pub(crate) struct Unit;
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

/// Whether `C` refuses anonymous users (a function, so that clippy does not
/// take the assertions for constants).
fn requires_auth<C: Endpoint>() -> bool {
    C::SPEC.requires_auth
}

#[test]
fn both_attribute_orders_require_auth() {
    assert!(requires_auth::<orders::Below>());
    assert!(requires_auth::<orders::Above>());
    assert!(requires_auth::<orders::QualifiedAbove>());
    assert!(!requires_auth::<orders::Anonymous>());
}

#[test]
fn both_attribute_orders_read_a_required_user() {
    fn user_of<C: FromHandshake<(), User = User>>(
        user: Option<User>,
    ) -> Result<C, sockwarden::Rejection> {
        let mut scope = Scope::builder("/ws");
        if let Some(user) = user {
            scope = scope.user(user);
        }
        C::from_handshake(&mut scope.build(), &())
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
    let chat =
        <hygiene::Everything as FromHandshake<()>>::from_handshake(&mut everything_scope(), &())
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
    assert!(<hygiene::Everything as FromHandshake<()>>::from_handshake(&mut scope, &()).is_err());

    let mut scope: Scope<hygiene::AppUser> = Scope::builder("/ws/everything/lobby/a")
        .path_param("room", "lobby")
        .path_param("rest", "a")
        .user(hygiene::AppUser { id: 7 })
        .build();
    assert!(
        <hygiene::Everything as FromHandshake<()>>::from_handshake(&mut scope, &()).is_err(),
        "`type` is a required query parameter"
    );
}

#[test]
fn an_anonymous_user_is_none() {
    let mut scope = Scope::builder("/ws/maybe").build();
    let maybe = <hygiene::Maybe as FromHandshake<()>>::from_handshake(&mut scope, &())
        .expect("no field is required");
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
    let declared =
        <Declared as FromHandshake<()>>::from_handshake(&mut scope, &()).expect("room parses");
    assert_eq!(declared.room, 42);
    assert_eq!(declared.user, Some(User::named("ada")));
    assert_eq!(declared.seen, 0);

    let mut scope = Scope::builder("/ws/declared/x")
        .path_param("room", "x")
        .build();
    assert!(<Declared as FromHandshake<()>>::from_handshake(&mut scope, &()).is_err());
}

#[test]
fn strict_lints_accept_the_expansion() {
    let mut scope = Scope::builder("/ws/lints/3").path_param("id", "3").build();
    let strict =
        <lints::Strict as FromHandshake<()>>::from_handshake(&mut scope, &()).expect("id parses");
    assert_eq!(strict.total(), 3);
    let mut scope = Scope::builder("/ws/lints/state")
        .user(User::named("ada"))
        .build();
    let stateful =
        <lints::Stateful as FromHandshake<String>>::from_handshake(&mut scope, &"label".to_owned())
            .expect("the user is in the scope");
    assert_eq!(stateful.label(), "label");
    let _: lints::Unit = FromHandshake::<()>::from_handshake(&mut Scope::builder("/").build(), &())
        .expect("nothing to read");
}

#[test]
fn unit_structs_are_consumers() {
    let spec = <hygiene::Pong as Endpoint>::SPEC;
    assert_eq!(spec, sockwarden::Spec::new("Pong", "/ws/pong"));
    let mut scope = Scope::builder("/ws/pong").build();
    assert!(matches!(
        <hygiene::Pong as FromHandshake<()>>::from_handshake(&mut scope, &()),
        Ok(hygiene::Pong)
    ));
}

#[test]
fn the_user_argument_names_the_user_type() {
    fn user_type<C: Endpoint<User = hygiene::AppUser>>() -> &'static str {
        C::SPEC.name
    }
    assert_eq!(user_type::<hygiene::Raw>(), "Raw");
    assert!(requires_auth::<hygiene::Raw>());
    let mut scope = Scope::builder("/ws/raw")
        .user(hygiene::AppUser { id: 7 })
        .build();
    assert!(<hygiene::Raw as FromHandshake<()>>::from_handshake(&mut scope, &()).is_ok());
}

#[test]
fn protocols_reach_the_spec() {
    assert_eq!(
        <hygiene::Spoken as Endpoint>::SPEC.protocols,
        ["chat.v2", "chat.v1"]
    );
    assert!(<hygiene::Ping as Endpoint>::SPEC.protocols.is_empty());
}

#[test]
fn state_fields_come_from_the_router_state() {
    let state = state::app_state();
    let mut scope = Scope::builder("/ws/stateful/lobby")
        .path_param("room", "lobby")
        .build();
    let stateful =
        <state::Stateful as FromHandshake<state::AppState>>::from_handshake(&mut scope, &state)
            .expect("every field is in the scope or the state");
    assert_eq!(stateful.room, "lobby");
    assert_eq!(stateful.db, state::Db("sqlite::memory:"));
    assert!(std::sync::Arc::ptr_eq(&stateful.config, &state.config));
    assert_eq!(stateful.seen, 0);

    // `FromRef<S> for T` holds for `S = T`: a `String` state fills a
    // `#[state] String` field.
    let mut scope = Scope::builder("/ws/spoken").build();
    let spoken =
        <hygiene::Spoken as FromHandshake<String>>::from_handshake(&mut scope, &"hi".to_owned())
            .expect("no field is required");
    assert_eq!(spoken.greeting, "hi");
}

#[tokio::test]
async fn a_mounted_consumer_reads_the_router_state() {
    let addr = sockwarden_tests::serve(state::app()).await;
    let (mut ws, _) = sockwarden_tests::connect(addr, "/ws/stateful/lobby", &[])
        .await
        .accepted();
    assert_eq!(
        sockwarden_tests::next_json(&mut ws).await,
        serde_json::json!({ "greeting": "hello", "room": "lobby", "db": "sqlite::memory:" })
    );
    // The consumer without state fields is on the same router.
    sockwarden_tests::connect(addr, "/ws/stateless", &[])
        .await
        .accepted();
}
