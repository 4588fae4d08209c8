//! One accepted connection's life: read, dispatch, answer, close.
//!
//! Every way a connection ends sends the client a close frame with a code
//! that says why (1009 for a message over the limit, 1003 for binary to a
//! JSON consumer, 1011 for a failure…), except a peer that vanished, and
//! every way runs the consumer's `disconnect` once.
//!
//! That includes a panic in the consumer's code: decoding a message,
//! `receive` and `disconnect` run under `catch_unwind` (and the handshake's
//! `from_handshake` and `connect`, in the router), so a panic closes only its
//! own connection, with 1011, instead of dropping the TCP connection with no close frame (what a
//! panicking axum task does: the client sees 1006). This only holds with
//! `panic = "unwind"` (the default); a profile with `panic = "abort"` ends
//! the whole process on the first panic, and nothing here can catch it.
//!
//! Liveness (see [`Limits`]): after `ping_interval` without a frame from the
//! client the loop sends a Ping; no frame at all within `pong_timeout` after
//! it ends the connection as [`Disconnect::TimedOut`]. With `idle_timeout`,
//! no data message for that long closes with 1000 `idle timeout`. One
//! deadline is armed per read (no interval, no allocation), and only while
//! the loop is reading: time spent in `receive` never counts, but a send
//! the client does not take within `pong_timeout` ends the connection as
//! [`Disconnect::TimedOut`] too (see `Cx`'s writes).

use std::any::Any;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::task::Poll;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::auth::{AuthUser, Authenticate, Credential};
use crate::close::{CloseCode, Disconnect};
use crate::consumer::Consumer;
use crate::cx::{Cx, Socket};
use crate::endpoint::{Limits, Spec};
use crate::error::{Error, ErrorKind};
use crate::hub::{Delivery, Mailbox};
use crate::message::{DecodeError, Frame, Inbound};
use crate::reject::{Rejection, truncate_reason};
use crate::router::upgraded;
use hyper::upgrade::OnUpgrade;

/// How long a closing connection waits for the client's close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the best-effort close frame to a dead peer may take to write.
const DEAD_PEER_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// The liveness clocks of one connection: a few instants, on the task's
/// own state, re-armed as one deadline per read.
struct Liveness {
    limits: &'static Limits,
    /// When the last frame of any kind was handled (or the connection opened).
    heard: Instant,
    /// When the last data message was handled (or the connection opened).
    data: Instant,
    /// When the Ping now awaiting an answer was sent.
    pinged: Option<Instant>,
}

/// Which deadline a read is bounded by.
#[derive(Clone, Copy)]
enum Timer {
    /// Time to send a keepalive Ping.
    Ping,
    /// The Ping went unanswered: the peer is gone.
    Dead,
    /// No data message for `idle_timeout`.
    Idle,
}

impl Liveness {
    fn new(limits: &'static Limits) -> Liveness {
        let now = Instant::now();
        Liveness {
            limits,
            heard: now,
            data: now,
            pinged: None,
        }
    }

    /// The earliest deadline, if any timer is on.
    fn deadline(&self) -> Option<(Instant, Timer)> {
        let keepalive = match self.pinged {
            Some(at) => at
                .checked_add(self.limits.pong_timeout)
                .map(|at| (at, Timer::Dead)),
            None => self
                .limits
                .ping_interval
                .and_then(|every| self.heard.checked_add(every))
                .map(|at| (at, Timer::Ping)),
        };
        let idle = self
            .limits
            .idle_timeout
            .and_then(|after| self.data.checked_add(after))
            .map(|at| (at, Timer::Idle));
        // On a tie the keepalive wins: it comes first.
        keepalive.into_iter().chain(idle).min_by_key(|(at, _)| *at)
    }

    /// A frame was handled; `data` when it was a text or binary message.
    fn heard(&mut self, data: bool) {
        let now = Instant::now();
        self.heard = now;
        self.pinged = None;
        if data {
            self.data = now;
        }
    }
}

/// What the read loop decided.
enum Next {
    Continue,
    /// Close with this code and reason, then end.
    Close(CloseCode, Cow<'static, str>),
    /// The connection has ended.
    Ended(Disconnect),
}

impl Next {
    /// The server failed: close 1011, without telling the client why.
    fn internal_error() -> Next {
        Next::Close(CloseCode::SERVER_ERROR, "internal error".into())
    }
}

/// Events handled per turn before the socket is read again, so that a
/// busy group cannot starve the client's own messages.
const EVENTS_PER_TURN: usize = 32;

/// What woke the connection.
enum Wake {
    Read(Option<Result<Message, WsError>>),
    Timer(Timer),
    Check(Check),
    Mail,
}

/// A credential's clocks: when it expires on its own (a JWT's `exp`) and
/// when it is next re-read from its store.
struct Watch {
    expires: Option<Instant>,
    every: Option<Duration>,
    next_check: Option<Instant>,
    /// The declared period, kept for a connection that logs in later.
    period: Option<Duration>,
}

/// Which credential clock ran out.
#[derive(Clone, Copy)]
enum Check {
    Expired,
    Revalidate,
}

impl Watch {
    fn new(credential: &Credential, every: Option<Duration>, user: bool) -> Watch {
        let now = Instant::now();
        let expires = credential.expires_at().map(|at| instant_of(at, now));
        let period = every;
        let every = every.filter(|_| user);
        Watch {
            expires,
            every,
            next_check: every.and_then(|every| now.checked_add(every)),
            period,
        }
    }

    /// Watches the credential a login or logout moved the connection to.
    fn rebind(&mut self, credential: &Credential, user: bool) {
        *self = Watch::new(credential, self.period, user);
    }

    fn deadline(&self) -> Option<(Instant, Check)> {
        let expires = self.expires.map(|at| (at, Check::Expired));
        let check = self.next_check.map(|at| (at, Check::Revalidate));
        expires.into_iter().chain(check).min_by_key(|(at, _)| *at)
    }

    fn checked(&mut self) {
        self.next_check = self
            .every
            .and_then(|every| Instant::now().checked_add(every));
    }
}

/// The `Instant` of a wall-clock time (a past time is now).
fn instant_of(at: std::time::SystemTime, now: Instant) -> Instant {
    let left = at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    now.checked_add(left)
        .unwrap_or(now + Duration::from_secs(86_400 * 365))
}

/// The client's message rate, as a token bucket: `limit` a second on
/// average, bursts of `limit`.
struct Rate {
    limit: f64,
    tokens: f64,
    last: Instant,
    warned: bool,
}

/// What the rate says of one more message.
enum Pace {
    Ok,
    /// Over the limit for the first time: dropped, with a warning.
    Warn,
    /// Still over after the warning.
    Exceeded,
}

impl Rate {
    fn new(limit: Option<u32>) -> Option<Rate> {
        let limit = f64::from(limit?);
        Some(Rate {
            limit,
            tokens: limit,
            last: Instant::now(),
            warned: false,
        })
    }

    fn take(&mut self) -> Pace {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.limit;
        self.tokens = (self.tokens + refill).min(self.limit);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            // Back under half the burst: a later excess is warned again.
            if self.tokens >= self.limit / 2.0 {
                self.warned = false;
            }
            return Pace::Ok;
        }
        if self.warned {
            Pace::Exceeded
        } else {
            self.warned = true;
            Pace::Warn
        }
    }
}

/// The earliest of the liveness and credential clocks, and what to do then.
fn earliest(live: &Liveness, watch: &Watch) -> Option<(Instant, Wake)> {
    match (live.deadline(), watch.deadline()) {
        (Some((at, _)), Some((check_at, check))) if check_at < at => {
            Some((check_at, Wake::Check(check)))
        }
        (Some((at, timer)), _) => Some((at, Wake::Timer(timer))),
        (None, check) => check.map(|(at, check)| (at, Wake::Check(check))),
    }
}

/// What a connection keeps of its authentication.
pub(crate) struct Auth<A: Authenticate> {
    pub(crate) state: A::State,
    pub(crate) credential: Credential,
}

/// Completes the upgrade, then serves the connection until it ends.
///
/// One `async fn` from the upgrade to `disconnect`, with the big values
/// (the consumer, its `Cx`, the socket) moved in once: every async fn that
/// takes them by value keeps its own copy of their space in the task, so a
/// chain of such calls would multiply the memory of every idle connection.
pub(crate) async fn run<C: Consumer>(
    on_upgrade: OnUpgrade,
    spec: &'static Spec,
    mut consumer: C,
    mut cx: Cx<C>,
    mut auth: Auth<C::Auth>,
) {
    let Some(socket) = upgraded(on_upgrade, spec).await else {
        return;
    };
    let mailbox = cx.mailbox();
    cx.attach_auth(auth.state.clone());
    let mut watch = Watch::new(
        &auth.credential,
        spec.limits.revalidate,
        cx.user().is_some(),
    );
    cx.limit_writes(spec.limits.pong_timeout);
    let mut next = match cx.open(socket).await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Ended(Disconnect::Lost),
    };
    let mut live = Liveness::new(&spec.limits);
    let mut rate = Rate::new(spec.limits.messages_per_second);
    let mut read_failed = false;
    // One timer for the connection's life, for whichever clock runs out
    // first; `armed` is the instant it is set to.
    let timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    let mut recheck = true;
    // The waker left with the mailbox: registered once, not once per read;
    // a wake-up that comes while a message is handled stays pending there.
    let mut mail = None;
    let mut mailbox_first = false;
    // The paths a connection takes rarely (timers, credential checks, a
    // refresh, the close, `disconnect`) are boxed when they run: inline,
    // the largest of them would set the size of every connection's task,
    // idle ones included (6.4 KB instead of 2.9 KB for a small consumer).
    let why = loop {
        if let Some(credential) = cx.take_rebound() {
            rebind(&consumer, &mut cx, &mut auth, &mut watch, credential);
            recheck = true;
        }
        if let Next::Continue = next
            && let Some((code, reason)) = cx.take_close()
        {
            next = Next::Close(code, reason);
        }
        // A close order wins over a write it interrupted: the client is
        // told why, not dropped as if it had vanished.
        if let Next::Continue | Next::Ended(Disconnect::Lost) = next
            && let Some((code, reason)) = mailbox.close_order()
        {
            next = Next::Close(code, reason);
        }
        match next {
            Next::Continue => {}
            Next::Close(code, reason) => {
                if let Some(socket) = cx.socket() {
                    if read_failed {
                        Box::pin(close_after_error(socket, code, &reason)).await;
                    } else {
                        Box::pin(close(socket, code, &reason)).await;
                    }
                }
                break Disconnect::Server {
                    code: code.get(),
                    reason: reason.into_owned(),
                };
            }
            Next::Ended(why) => break why,
        }
        let Some(socket) = cx.socket() else {
            break Disconnect::Lost;
        };
        // Most reads move a deadline later (the keepalive restarts with
        // every frame), so re-arming the timer for each would cost a timer
        // wheel insertion and removal per message. The deadlines are looked
        // at only when the timer is not armed (it fired, or at the start)
        // or a new credential may have brought one closer; the timer is
        // re-armed only for a deadline earlier than the armed one. When it
        // fires early, the loop finds the deadline moved and arms it again.
        if armed.is_none() || recheck {
            recheck = false;
            if let Some((at, _)) = earliest(&live, &watch)
                && armed.is_none_or(|armed| at < armed)
            {
                timer.as_mut().reset(at);
                armed = Some(at);
            }
        }
        // The socket, the mailbox and the timer, polled by hand rather than
        // by `select!` (no random start drawn, no future built per turn).
        // Which comes first alternates per turn, so that neither a client
        // that floods the socket nor a flood of group events starves the
        // other side or the timer; once one has waited, all are registered.
        mailbox_first = !mailbox_first;
        let wake = std::future::poll_fn(|task| {
            if !mailbox_first && let Poll::Ready(read) = socket.poll_next_unpin(task) {
                return Poll::Ready(Some(Wake::Read(read)));
            }
            if mailbox.poll_wakeup(&mut mail, task).is_ready() {
                return Poll::Ready(Some(Wake::Mail));
            }
            if armed.is_some() && timer.as_mut().poll(task).is_ready() {
                armed = None;
                // Fired for a deadline that has since moved: re-armed next turn.
                return Poll::Ready(match earliest(&live, &watch) {
                    Some((at, wake)) if at <= Instant::now() => Some(wake),
                    _ => None,
                });
            }
            if mailbox_first && let Poll::Ready(read) = socket.poll_next_unpin(task) {
                return Poll::Ready(Some(Wake::Read(read)));
            }
            Poll::Pending
        })
        .await;
        let Some(wake) = wake else {
            continue;
        };
        let read = match wake {
            Wake::Read(read) => read,
            Wake::Timer(timer) => {
                next = Box::pin(on_timer(socket, &mut live, timer)).await;
                continue;
            }
            Wake::Mail => {
                next = deliver(&mut consumer, &mut cx, &mailbox).await;
                continue;
            }
            Wake::Check(check) => {
                next = Box::pin(on_check(&mut cx, &mut auth, &mut watch, check, live.limits)).await;
                continue;
            }
        };
        let data = matches!(read, Some(Ok(Message::Text(_) | Message::Binary(_))));
        if data && let Some(rate) = &mut rate {
            match rate.take() {
                Pace::Ok => {}
                Pace::Warn => {
                    let limit = spec.limits.messages_per_second.unwrap_or_default();
                    let warning = format!(
                        "too many messages: at most {limit} a second; this one was dropped"
                    );
                    next = Box::pin(reply_error(&mut cx, warning)).await;
                    live.heard(true);
                    continue;
                }
                Pace::Exceeded => {
                    next = Next::Close(CloseCode::POLICY, "message rate limit exceeded".into());
                    continue;
                }
            }
        }
        next = match read {
            None => Next::Ended(Disconnect::Lost),
            // Only a credential that expires takes a fresh one in-band; the
            // others' messages are not parsed twice.
            Some(Ok(Message::Text(text))) => match watch.expires.and_then(|_| refresh_token(&text))
            {
                Some(token) => {
                    recheck = true;
                    Box::pin(refresh(&mut cx, &mut auth, &mut watch, token)).await
                }
                None => dispatch(&mut consumer, &mut cx, Frame::Text(text.into())).await,
            },
            Some(Ok(Message::Binary(bytes))) => {
                dispatch(&mut consumer, &mut cx, Frame::Binary(bytes)).await
            }
            // tungstenite answers pings itself, on the next read.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Next::Continue,
            Some(Ok(Message::Close(frame))) => {
                // tungstenite has queued the reply; reading on sends it.
                Box::pin(drain(socket)).await;
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (f.code.into(), f.reason.as_str().to_owned())
                });
                Next::Ended(Disconnect::Client { code, reason })
            }
            Some(Err(error)) => {
                read_failed = true;
                on_read_error(error)
            }
        };
        // Measured after the message is handled: a long `receive` is not
        // the client's silence.
        live.heard(data);
    };
    // `disconnect` runs once, even after `receive` panicked: it is where a
    // consumer leaves its groups and releases what it holds, and leaking
    // those would outlive the connection. The consumer value is dropped
    // right after, so whatever state a panic left behind is never reused.
    // A panic here has nothing left to close; it is logged, and the task
    // ends normally instead of unwinding into the runtime.
    let id = cx.id();
    let disconnected = AssertUnwindSafe(consumer.disconnect(&mut cx, why)).catch_unwind();
    if let Err(panic) = Box::pin(disconnected).await {
        log_panic::<C>(id, "disconnect", panic.as_ref());
    }
    // Dropping `cx` here leaves the hub: groups, indexes and caps.
}

/// Takes over the credential that a login or logout in the last handler
/// moved the connection to (`Cx::login`, `Cx::logout`): it is the one
/// revalidated from now on, and declared `{session}` groups follow it.
fn rebind<C: Consumer>(
    consumer: &C,
    cx: &mut Cx<C>,
    auth: &mut Auth<C::Auth>,
    watch: &mut Watch,
    credential: Credential,
) {
    fn session(credential: &Credential) -> Option<&str> {
        match credential {
            Credential::Session(id) => Some(id),
            _ => None,
        }
    }
    // Both lists from the consumer as it is now: they differ only where a
    // group names the session.
    let before = consumer.groups(session(&auth.credential));
    let after = consumer.groups(session(&credential));
    for group in before.iter().filter(|group| !after.contains(group)) {
        cx.leave(group);
    }
    for group in after.iter().filter(|group| !before.contains(group)) {
        cx.join(group);
    }
    watch.rebind(&credential, cx.user().is_some());
    auth.credential = credential;
}

/// Acts on a credential clock.
async fn on_check<C: Consumer>(
    cx: &mut Cx<C>,
    auth: &mut Auth<C::Auth>,
    watch: &mut Watch,
    check: Check,
    limits: &Limits,
) -> Next {
    match check {
        Check::Expired => {
            let next = reply_error(cx, "credential expired".to_owned()).await;
            if !matches!(next, Next::Continue) {
                return next;
            }
            Next::Close(CloseCode::CREDENTIAL_EXPIRED, "credential expired".into())
        }
        Check::Revalidate => {
            watch.checked();
            let Some(user) = cx.user() else {
                return Next::Continue;
            };
            // Bounded like the handshake's lookup: a stuck store must not
            // stop the connection from serving its client.
            let revalidated = tokio::time::timeout(
                limits.auth_timeout,
                C::Auth::revalidate(&auth.state, user, &auth.credential),
            )
            .await
            .unwrap_or_else(|_| Err(Rejection::unavailable("revalidation timed out")));
            match revalidated {
                Ok(true) => Next::Continue,
                Ok(false) => Next::Close(CloseCode::NOT_AUTHENTICATED, "credential revoked".into()),
                Err(rejection) => {
                    // A store outage must not log everyone out: try again
                    // at the next period.
                    tracing::warn!(
                        consumer = C::SPEC.name,
                        conn = %cx.id(),
                        reason = rejection.reason(),
                        "revalidation failed; keeping the connection"
                    );
                    Next::Continue
                }
            }
        }
    }
}

/// The token of an in-band refresh, `{"type":"auth","token":"…"}`.
fn refresh_token(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Refresh<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        token: String,
    }
    match serde_json::from_str::<Refresh<'_>>(text) {
        Ok(refresh) if refresh.kind == "auth" => Some(refresh.token),
        _ => None,
    }
}

/// A fresh credential sent on the open connection: it extends the
/// connection only if it names the same user.
async fn refresh<C: Consumer>(
    cx: &mut Cx<C>,
    auth: &mut Auth<C::Auth>,
    watch: &mut Watch,
    token: String,
) -> Next {
    let Some(checked) = C::Auth::refresh(&auth.state, &token) else {
        return reply_error(cx, "this connection takes no credential in-band".to_owned()).await;
    };
    let (user, credential) = match checked {
        Ok(fresh) => fresh,
        // The connection keeps its current credential until it expires.
        Err(rejection) => return reply_error(cx, rejection.reason().to_owned()).await,
    };
    let same = cx.user().is_some_and(|current| current.id() == user.id());
    if !same {
        return Next::Close(CloseCode::FORBIDDEN, "the token names another user".into());
    }
    watch.expires = credential
        .expires_at()
        .map(|at| instant_of(at, Instant::now()));
    auth.credential = credential;
    match cx.send(&RefreshedFrame { r#type: "auth.ok" }).await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Ended(Disconnect::Lost),
    }
}

#[derive(serde::Serialize)]
struct RefreshedFrame {
    r#type: &'static str,
}

/// Hands what arrived in the inbox to the consumer, a bounded number per
/// turn; a close order ends the connection.
///
/// What the handlers send in one turn is written together, once the turn
/// ends: a member that gets ten events at once gets them in one write, not
/// ten. (So a handler that sends, then waits a long time, delays what it
/// sent until its turn ends; client messages are not corked.)
async fn deliver<C: Consumer>(consumer: &mut C, cx: &mut Cx<C>, mailbox: &Mailbox) -> Next {
    cx.cork(true);
    let next = deliver_turn(consumer, cx, mailbox).await;
    cx.cork(false);
    match next {
        // A close writes what is buffered before its close frame.
        Next::Continue => match cx.flush().await {
            Ok(()) => Next::Continue,
            Err(error) => outcome::<C>(cx, Err(error)).await,
        },
        other => other,
    }
}

async fn deliver_turn<C: Consumer>(consumer: &mut C, cx: &mut Cx<C>, mailbox: &Mailbox) -> Next {
    for _ in 0..EVENTS_PER_TURN {
        match mailbox.pop() {
            None => return Next::Continue,
            Some(Delivery::Close(code, reason)) => return Next::Close(code, reason),
            Some(Delivery::Event(event)) => {
                let handled = AssertUnwindSafe(consumer.event(cx, event))
                    .catch_unwind()
                    .await;
                let next = match handled {
                    Ok(result) => outcome::<C>(cx, result).await,
                    Err(panic) => {
                        log_panic::<C>(cx.id(), "event", panic.as_ref());
                        Next::internal_error()
                    }
                };
                if !matches!(next, Next::Continue) {
                    return next;
                }
            }
        }
    }
    mailbox.rewake();
    Next::Continue
}

/// Acts on a liveness deadline that passed while reading.
async fn on_timer(socket: &mut Socket, live: &mut Liveness, timer: Timer) -> Next {
    match timer {
        Timer::Ping => {
            let now = Instant::now();
            live.pinged = Some(now);
            // Bounded too: a peer that stopped reading can fill the buffers.
            let until = now.checked_add(live.limits.pong_timeout).unwrap_or(now);
            let ping = socket.send(Message::Ping(Default::default()));
            match tokio::time::timeout_at(until, ping).await {
                Ok(Ok(())) => Next::Continue,
                Ok(Err(_)) => Next::Ended(Disconnect::Lost),
                Err(_) => {
                    close_dead(socket).await;
                    Next::Ended(Disconnect::TimedOut)
                }
            }
        }
        Timer::Dead => {
            close_dead(socket).await;
            Next::Ended(Disconnect::TimedOut)
        }
        Timer::Idle => Next::Close(CloseCode::NORMAL, "idle timeout".into()),
    }
}

/// Tells a peer that missed its keepalive why it is dropped, best-effort:
/// one short bounded write, no waiting for an answer.
async fn close_dead(socket: &mut Socket) {
    let frame = CloseFrame {
        code: CloseCode::SERVER_ERROR.get().into(),
        reason: "keepalive timeout".into(),
    };
    let _ = tokio::time::timeout(
        DEAD_PEER_WRITE_TIMEOUT,
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

/// Decodes one message and hands it to the consumer.
async fn dispatch<C: Consumer>(consumer: &mut C, cx: &mut Cx<C>, frame: Frame) -> Next {
    // A user's `Deserialize` may panic too: same answer as a panic in `receive`.
    let decoded = std::panic::catch_unwind(AssertUnwindSafe(|| C::In::decode(frame)));
    let decoded = match decoded {
        Ok(decoded) => decoded,
        Err(panic) => {
            log_panic::<C>(cx.id(), "decode", panic.as_ref());
            return Next::internal_error();
        }
    };
    let msg = match decoded {
        Ok(msg) => msg,
        Err(DecodeError::Invalid(why)) => {
            return reply_error(cx, format!("invalid message: {why}")).await;
        }
        Err(DecodeError::Unsupported) => {
            return Next::Close(
                CloseCode::UNSUPPORTED,
                "this consumer does not take binary messages".into(),
            );
        }
    };
    // A panic in `receive` is caught here rather than unwinding through the
    // connection task: the client gets close 1011 (RFC 6455 §7.4.1, "an
    // unexpected condition") and `disconnect` still runs. `AssertUnwindSafe`
    // is sound because the consumer is never handed another message after
    // a panic: the loop closes, runs `disconnect`, and drops it.
    let received = AssertUnwindSafe(consumer.receive(cx, msg))
        .catch_unwind()
        .await;
    match received {
        Ok(result) => outcome(cx, result).await,
        Err(panic) => {
            log_panic::<C>(cx.id(), "receive", panic.as_ref());
            Next::internal_error()
        }
    }
}

/// What a handler's result means for the connection.
async fn outcome<C: Consumer>(cx: &mut Cx<C>, result: Result<(), Error>) -> Next {
    match result {
        Ok(()) => Next::Continue,
        Err(Error(ErrorKind::Reply(message))) => reply_error(cx, message.into_owned()).await,
        Err(Error(ErrorKind::Close(code, reason))) => Next::Close(code, reason),
        Err(Error(ErrorKind::Gone)) => Next::Ended(Disconnect::Lost),
        // No close frame: the client's buffers are full, it would not go.
        Err(Error(ErrorKind::Stalled)) => Next::Ended(Disconnect::TimedOut),
        Err(Error(ErrorKind::Internal(error))) => {
            tracing::error!(consumer = C::SPEC.name, conn = %cx.id(), %error, "consumer failed");
            Next::internal_error()
        }
    }
}

/// Logs a panic caught in one of the consumer's methods: which consumer,
/// which connection, which method, and the message when the payload is the
/// `&str` or `String` that `panic!` makes.
pub(crate) fn log_panic<C: Consumer>(
    conn: crate::cx::ConnectionId,
    method: &'static str,
    panic: &(dyn Any + Send),
) {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic payload that is not a string)");
    tracing::error!(
        consumer = C::SPEC.name,
        %conn,
        method,
        panic = message,
        "consumer panicked"
    );
}

/// The frame that answers a message the consumer could not take.
#[derive(serde::Serialize)]
struct ErrorFrame<'a> {
    r#type: &'static str,
    error: &'a str,
}

/// Answers with `{"type":"error","error":…}`; the connection stays open.
async fn reply_error<C: Consumer>(cx: &mut Cx<C>, error: String) -> Next {
    match cx
        .send(&ErrorFrame {
            r#type: "error",
            error: &error,
        })
        .await
    {
        Ok(()) => Next::Continue,
        Err(_) => Next::Ended(Disconnect::Lost),
    }
}

/// Maps what tungstenite refused to the close code that says why.
fn on_read_error(error: WsError) -> Next {
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match error {
        WsError::Capacity(_) => Next::Close(CloseCode::TOO_BIG, "message too big".into()),
        WsError::Utf8(_) => Next::Close(
            CloseCode::INVALID_PAYLOAD,
            "invalid UTF-8 in a text message".into(),
        ),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            Next::Ended(Disconnect::Lost)
        }
        WsError::Protocol(error) => Next::Close(
            CloseCode::PROTOCOL,
            format!("protocol error: {error}").into(),
        ),
        WsError::ConnectionClosed | WsError::AlreadyClosed | WsError::Io(_) => {
            Next::Ended(Disconnect::Lost)
        }
        error => {
            tracing::warn!(%error, "websocket read failed");
            Next::internal_error()
        }
    }
}

/// Sends a close frame, then waits (bounded) for the client's answer.
async fn close(socket: &mut Socket, code: CloseCode, reason: &str) {
    let frame = CloseFrame {
        code: code.get().into(),
        reason: truncate_reason(reason).into(),
    };
    // Bounded: a client that stopped reading must not hold the task (a
    // reading client takes a close frame at once).
    let write = socket.send(Message::Close(Some(frame)));
    let sent = tokio::time::timeout(DEAD_PEER_WRITE_TIMEOUT, write).await;
    if let Ok(Ok(())) = sent {
        drain(socket).await;
    }
}

/// Closes after the client broke the protocol (1002, 1007, 1009).
///
/// tungstenite reads nothing more after an error, so the close handshake
/// cannot complete through it; dropping the socket with the client's bytes
/// still unread would make the kernel answer with a TCP reset, which can
/// destroy the close frame in flight. So: the close frame, then our end of
/// the stream (FIN), then the client's remaining bytes read and discarded
/// until it closes too, bounded in time and size.
async fn close_after_error(socket: &mut Socket, code: CloseCode, reason: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let frame = CloseFrame {
        code: code.get().into(),
        reason: truncate_reason(reason).into(),
    };
    let write = socket.send(Message::Close(Some(frame)));
    if !matches!(
        tokio::time::timeout(DEAD_PEER_WRITE_TIMEOUT, write).await,
        Ok(Ok(()))
    ) {
        return;
    }
    let io = socket.get_mut();
    let _ = tokio::time::timeout(DEAD_PEER_WRITE_TIMEOUT, io.shutdown()).await;
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let mut discard = [0u8; 4096];
        let mut left = DRAIN_LIMIT;
        while left > 0 {
            match io.read(&mut discard).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    })
    .await;
}

/// How many bytes a client that broke the protocol may still send while
/// its connection closes.
const DRAIN_LIMIT: usize = 16 << 20;

/// Reads until the close handshake completes or the client goes, bounded
/// in time: a client that never answers cannot hold the task.
async fn drain(socket: &mut Socket) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// Refuses an upgraded connection (`reject = "close"`): one JSON error frame,
/// then the rejection's close code and reason.
pub(crate) async fn reject(mut socket: Socket, rejection: &Rejection) {
    if socket
        .send(Message::text(rejection.to_frame()))
        .await
        .is_ok()
    {
        let code = CloseCode::new(rejection.kind().close_code()).unwrap_or(CloseCode::POLICY);
        close(&mut socket, code, rejection.close_reason()).await;
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    fn output_size<F, A, B, C, D, E, R>(_: &F) -> usize
    where
        F: FnOnce(A, B, C, D, E) -> R,
    {
        std::mem::size_of::<R>()
    }

    struct X;

    #[derive(Clone)]
    struct U;

    impl AuthUser for U {
        type Id = u8;
        fn id(&self) -> u8 {
            0
        }
    }

    impl crate::Endpoint for X {
        type User = U;
        type Auth = crate::TokenAuth<U>;
        const SPEC: crate::Spec = crate::Spec::new("X", "/x");
    }

    impl Consumer for X {
        type In = crate::Frame;
        async fn receive(&mut self, _: &mut Cx<Self>, _: crate::Frame) -> Result<(), Error> {
            Ok(())
        }
    }

    fn output_size3<F, A, B, C, R>(_: &F) -> usize
    where
        F: FnOnce(A, B, C) -> R,
    {
        std::mem::size_of::<R>()
    }

    #[test]
    fn connection_future_size() {
        eprintln!("run future: {} bytes", output_size(&run::<X>));
        eprintln!(
            "socket {} cx {} scope {} auth {} live {} sleep {} dispatch {} deliver {} close {}",
            std::mem::size_of::<Socket>(),
            std::mem::size_of::<Cx<X>>(),
            std::mem::size_of::<crate::Scope<U>>(),
            std::mem::size_of::<Auth<crate::TokenAuth<U>>>(),
            std::mem::size_of::<Liveness>(),
            std::mem::size_of::<tokio::time::Sleep>(),
            output_size3(&dispatch::<X>),
            output_size3(&deliver::<X>),
            output_size3(&close),
        );
    }
}
