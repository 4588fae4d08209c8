//! Mounting consumers on an axum `Router`, and the one generic handler
//! that every consumer's route runs.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::task::Poll;

use axum::Router;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::FutureExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::auth::{
    AuthState, AuthUser, Authenticate, Carrier, Credential, Identity, offered_protocols,
};
use crate::connection;
use crate::consumer::{Connect, Consumer};
use crate::cx::{ConnectionId, Cx};
use crate::endpoint::{Endpoint, FromHandshake, RejectMode, Spec};
use crate::handshake;
use crate::hub::{Hub, Refusal};
use crate::reject::{RejectKind, Rejection};
use crate::scope::{HandshakeFacts, Scope};

/// Mounts consumers on an axum [`Router`].
///
/// ```
/// use axum::Router;
/// use sockwarden::prelude::*;
/// use sockwarden::{Tokens, store::MemoryTokenStore};
///
/// #[derive(Clone)]
/// struct User { name: String }
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.name.clone() }
/// }
///
/// #[consumer(path = "/ws/echo", auth = "token")]
/// #[requires_auth]
/// struct Echo { #[user] user: User }
///
/// impl Consumer for Echo {
///     type In = String;
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
///         cx.send(&format!("{}: {msg}", self.user.name)).await
///     }
/// }
///
/// let store = MemoryTokenStore::new();
/// store.insert("tok-1", User { name: "alice".into() });
/// let app: Router = Router::new()
///     .consumer::<Echo>()
///     .with_state(Tokens::new(store));
/// # let _ = app;
/// ```
///
/// The consumer's auth scheme takes its store from the router state through
/// `FromRef`, so a state that lacks it does not compile:
///
/// ```compile_fail
/// # use axum::Router;
/// # use sockwarden::prelude::*;
/// # #[derive(Clone)]
/// # struct User;
/// # impl AuthUser for User { type Id = u8; fn id(&self) -> u8 { 0 } }
/// # #[consumer(path = "/ws/echo", auth = "token")]
/// # #[requires_auth]
/// # struct Echo { #[user] user: User }
/// # impl Consumer for Echo {
/// #     type In = String;
/// #     async fn receive(&mut self, _: &mut Cx<Self>, _: String) -> Result<(), Error> { Ok(()) }
/// # }
/// // No `Tokens<User>` in the state: a compile error, not a 500 at run time.
/// let app: Router = Router::new().consumer::<Echo>().with_state(());
/// ```
pub trait RouterExt<S> {
    /// Mounts consumer `C` at its declared path.
    ///
    /// Its connections are registered in the state's [`Hub`] (a stateless
    /// `Router<()>` uses the process-wide one).
    fn consumer<C: Consumer + FromHandshake<S>>(self) -> Self
    where
        C::Auth: AuthState<S>,
        Hub: FromRef<S>;
}

impl<S: Clone + Send + Sync + 'static> RouterExt<S> for Router<S> {
    fn consumer<C: Consumer + FromHandshake<S>>(self) -> Self
    where
        C::Auth: AuthState<S>,
        Hub: FromRef<S>,
    {
        self.route(C::SPEC.path, get(upgrade::<C, S>))
    }
}

/// Handles one handshake: protocol checks, auth, scope, `connect`, then
/// the upgrade or the refusal.
async fn upgrade<C, S>(State(state): State<S>, request: Request) -> Response
where
    C: Consumer + FromHandshake<S>,
    S: Send + Sync + 'static,
    C::Auth: AuthState<S>,
    Hub: FromRef<S>,
{
    let hub = Hub::from_ref(&state);
    // The consumer's declaration with the app's defaults filled in: from
    // here on, and in the connection task, every limit and policy is read
    // from it, never from `C::SPEC`.
    let spec = hub.spec::<C>();
    let (mut parts, _body) = request.into_parts();
    let key = match handshake::upgrade_key(&parts) {
        Ok(key) => key.clone(),
        Err(not_an_upgrade) => return not_an_upgrade.into_response(),
    };
    let protocol = selected_protocol::<C>(&parts);
    // Logs the refusal, then delivers it in the consumer's mode.
    let deny = |rejection: Rejection, carrier: Option<Carrier>, parts: &mut Parts| {
        tracing::info!(
            consumer = spec.name,
            scheme = C::Auth::SCHEME,
            carrier = carrier.or(rejection.carrier()).map(Carrier::name),
            reason = rejection.kind().name(),
            "websocket refused"
        );
        refuse(spec, rejection, parts, &key, protocol)
    };

    // Who is on the other end: the TCP peer, or the client that the
    // trusted proxy in front names.
    let tcp_peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let (peer, forwarded_host) = match (tcp_peer, hub.defaults()) {
        (Some(tcp_peer), Some(defaults)) => {
            let client = defaults.client(tcp_peer, &parts.headers);
            (Some(client.addr), client.host)
        }
        (peer, _) => (peer, None),
    };
    // Before any credential is read: a foreign page must not learn whether
    // the cookie it made the browser send is valid.
    let checked = spec
        .origin
        .check_host(&parts, C::Auth::COOKIES, forwarded_host);
    if let Err(rejection) = checked {
        return deny(rejection, None, &mut parts);
    }
    let auth_state = <C::Auth as AuthState<S>>::state(&state);
    let identity = match within(
        spec.limits.auth_timeout,
        C::Auth::authenticate(&auth_state, &parts, spec),
    )
    .await
    {
        Ok(Ok(identity)) => identity,
        Ok(Err(rejection)) => return deny(rejection, None, &mut parts),
        Err(_elapsed) => {
            return deny(
                Rejection::unavailable("authentication timed out"),
                None,
                &mut parts,
            );
        }
    };
    let (user, carrier, credential) = match identity {
        Identity::User {
            user,
            carrier,
            credential,
        } => (Some(user), Some(carrier), credential),
        Identity::Anonymous if spec.requires_auth => {
            let mut rejection = Rejection::not_authenticated("authentication required");
            // A bearer challenge only where a bearer token would be read:
            // a cookie consumer's client logs in over HTTP instead.
            if C::Auth::TOKEN_CARRIERS {
                rejection = rejection.with_challenge(r#"Bearer realm="websocket""#);
            }
            return deny(rejection, None, &mut parts);
        }
        Identity::Anonymous => (None, None, Credential::Opaque),
    };

    let params = match RawPathParams::from_request_parts(&mut parts, &state).await {
        Ok(params) => params
            .iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect(),
        Err(_) => {
            return deny(
                Rejection::bad_request("invalid path parameter"),
                carrier,
                &mut parts,
            );
        }
    };
    let subprotocols = scope_protocols::<C>(&parts);
    let mut scope = Scope::from_facts(HandshakeFacts {
        path: parts.uri.path().into(),
        params,
        query: parts.uri.query().map(Into::into),
        headers: std::mem::take(&mut parts.headers),
        subprotocols,
        selected_protocol: protocol,
        peer,
    });
    scope.set_user(user, carrier);

    // A user's `FromParam` or `FromRef` may panic: the same answer as a panic
    // in `connect` below.
    let built =
        std::panic::catch_unwind(AssertUnwindSafe(|| C::from_handshake(&mut scope, &state)));
    let mut consumer = match built {
        Ok(Ok(consumer)) => consumer,
        Ok(Err(rejection)) => return deny(rejection, carrier, &mut parts),
        Err(panic) => {
            connection::log_panic::<C>(ConnectionId::next(), "from_handshake", panic.as_ref());
            return deny(
                Rejection::server_error("internal error"),
                carrier,
                &mut parts,
            );
        }
    };
    // Registered before `connect` runs, caps counted in the same step, so
    // that a burst of handshakes cannot overshoot a cap; a refusal drops
    // the registration.
    let id = ConnectionId::next();
    let user_id = scope.user().map(|user| user.id().to_string());
    let peer = scope.peer_addr().map(|addr| addr.ip());
    let registration = match hub.admit(id, user_id, credential.clone(), peer, &spec.limits) {
        Ok(registration) => registration,
        Err(refusal) => {
            let rejection = match refusal {
                Refusal::ShuttingDown => Rejection::unavailable("the server is shutting down"),
                Refusal::UserCap => {
                    Rejection::new(RejectKind::TooMany, "too many connections for this user")
                }
                Refusal::PeerCap => Rejection::new(
                    RejectKind::TooMany,
                    "too many connections from this address",
                ),
            };
            return deny(rejection, carrier, &mut parts);
        }
    };
    C::Auth::link(&auth_state, &hub);
    let auth = connection::Auth::<C::Auth> {
        state: auth_state,
        credential,
    };
    let mut cx = Cx::<C>::new(id, scope, registration);
    // A panic in `connect` fails this handshake only, as a server error in
    // the consumer's rejection mode (HTTP 500, or an error frame and close
    // 1011), instead of unwinding into hyper, which would drop the TCP
    // connection with no answer. `AssertUnwindSafe` is sound because the
    // consumer and its `Cx` are dropped unused when `connect` panics;
    // `disconnect` does not run, as for any refused connection. (With
    // `panic = "abort"` the process exits instead.)
    let current = cx.current();
    match current
        .scope(AssertUnwindSafe(consumer.connect(&mut cx)).catch_unwind())
        .await
    {
        Ok(Connect::Accept) => {
            let session = match &auth.credential {
                Credential::Session(id) => Some(id.as_str()),
                _ => None,
            };
            for group in consumer.groups(session) {
                cx.join(&group);
            }
            cx.accepted();
        }
        Ok(Connect::Reject(rejection)) => return deny(rejection, carrier, &mut parts),
        Err(panic) => {
            connection::log_panic::<C>(cx.id(), "connect", panic.as_ref());
            let rejection = Rejection::server_error("internal error");
            return deny(rejection, carrier, &mut parts);
        }
    }

    let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        return Rejection::server_error("the connection cannot be upgraded").into_response();
    };
    tracing::info!(
        consumer = spec.name,
        scheme = C::Auth::SCHEME,
        carrier = carrier.map(Carrier::name),
        user = cx.user().map(|user| tracing::field::display(user.id())),
        conn = %cx.id(),
        "websocket accepted"
    );
    cx.scope_mut().release_handshake();
    // The whole task runs as this connection for `current_user`: one scope
    // entered per poll of the task, not one built per handler call.
    let current = cx.current();
    tokio::spawn(current.scope(connection::run(on_upgrade, spec, consumer, cx, auth)));
    handshake::switching_protocols(handshake::accept(&key), protocol)
}

/// The subprotocol the 101 selects: the first offered one the consumer
/// speaks, else the token marker when the client offered it to a scheme that
/// reads tokens. Chrome fails a handshake whose offered subprotocols get no
/// answer, so the marker is echoed (never the token) even when the answer is
/// a refusal by close frame.
fn selected_protocol<C: Endpoint>(request: &Parts) -> Option<&'static str> {
    let spec = &C::SPEC;
    let spoken = offered_protocols(request).find_map(|offered| {
        spec.protocols
            .iter()
            .copied()
            .find(|spoken| *spoken == offered)
    });
    if spoken.is_some() {
        return spoken;
    }
    let marker = spec.carriers.protocol_marker;
    let offered =
        C::Auth::TOKEN_CARRIERS && offered_protocols(request).any(|protocol| protocol == marker);
    offered.then_some(marker)
}

/// The offered subprotocols a consumer may see: not the marker, nor the
/// token that follows it.
fn scope_protocols<C: Endpoint>(request: &Parts) -> Vec<Box<str>> {
    let marker = C::SPEC.carriers.protocol_marker;
    let mut protocols = Vec::new();
    let mut offered = offered_protocols(request);
    while let Some(protocol) = offered.next() {
        if C::Auth::TOKEN_CARRIERS && protocol == marker {
            offered.next();
        } else {
            protocols.push(protocol.into());
        }
    }
    protocols
}

/// Delivers a refusal in the consumer's mode.
/// `future`, bounded by `limit`. One that is ready at once (a store in
/// memory, a JWT) sets no timer: most handshakes never wait on their store.
async fn within<F: std::future::Future>(
    limit: std::time::Duration,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|task| Poll::Ready(future.as_mut().poll(task)));
    if let Poll::Ready(output) = first.await {
        return Ok(output);
    }
    tokio::time::timeout(limit, future).await
}

fn refuse(
    spec: &'static Spec,
    rejection: Rejection,
    request: &mut Parts,
    key: &axum::http::HeaderValue,
    protocol: Option<&'static str>,
) -> Response {
    if spec.reject == RejectMode::Http {
        return rejection.into_response();
    }
    let Some(on_upgrade) = request.extensions.remove::<OnUpgrade>() else {
        return rejection.into_response();
    };
    tokio::spawn(async move {
        if let Some(socket) = upgraded(on_upgrade, spec).await {
            connection::reject(socket, &rejection).await;
        }
    });
    handshake::switching_protocols(handshake::accept(key), protocol)
}

/// Completes the upgrade: the socket, with this consumer's limits and a small
/// read buffer (tungstenite's 128 KiB default would be most of an idle
/// connection's memory).
pub(crate) async fn upgraded(on_upgrade: OnUpgrade, spec: &Spec) -> Option<crate::cx::Socket> {
    let io = match on_upgrade.await {
        Ok(upgraded) => TokioIo::new(upgraded),
        Err(error) => {
            tracing::debug!(%error, consumer = spec.name, "upgrade failed");
            return None;
        }
    };
    let max = spec.limits.max_message_size;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_SIZE)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    Some(WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await)
}

/// How many bytes of buffered sends make a write; below it, sends are
/// written at their flush. Only a turn of group events buffers (several
/// events, one write); every other send is flushed at once.
const WRITE_BUFFER_SIZE: usize = 4096;

/// Bytes read from the socket at a time; tungstenite allocates it up front
/// and zero-fills its free part before every read. 2 KiB holds many of the
/// small JSON messages sockets carry and is a quarter of an idle
/// connection's memory; the price is more reads for a large message (a
/// 1 MiB message takes 512), whose frame is still allocated once, whole.
const READ_BUFFER_SIZE: usize = 2048;
