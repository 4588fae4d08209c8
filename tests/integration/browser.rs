//! The chat example in a real browser: the app of `examples/lib.rs`
//! ([`chat_app`]) served in this process, and headless Chromium driven
//! through chromedriver (WebDriver) with fantoccini, one chromedriver
//! session per person, each with its own profile and so its own cookies.
//!
//! It runs when `CHROMEDRIVER` names a chromedriver binary (`.ci/run` sets
//! `/usr/bin/chromedriver` after installing Debian's `chromium` and
//! `chromium-driver`) and says it is skipped otherwise; `CHROMIUM` names the
//! browser when it is not `/usr/bin/chromium`. With `CHROMEDRIVER` set, a
//! browser that cannot start fails the test.
//!
//! What a person would see, checked on the page itself (its status line,
//! its message log, its online list):
//!
//! - an anonymous page is refused (4401), shows the login form, and never
//!   gets a message;
//! - alice and bob log in with the form, see each other online and each
//!   other's messages, and talk with an API client that holds a token;
//! - logging out closes that page's socket with 4401 `logged out`; the other
//!   user's socket stays open;
//! - a page of another origin cannot open a socket with the visitor's
//!   cookie: refused with 1008 on its `Origin`, although the browser sent
//!   the cookie, before the session store is read;
//! - shutting the server down closes the page's socket with 1001.
//!
//! A screenshot of the chat is written to `target/e2e/chat.png`.

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::http::header::{COOKIE, ORIGIN};
use axum::middleware::{self, Next};
use axum::response::Html;
use axum::routing::get;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use sockwarden::session::tower_sessions::session::{Id, Record};
use sockwarden::session::tower_sessions::session_store;
use sockwarden::session::{MemoryStore, SessionStore};
use sockwarden_examples::{DEMO_USERS, DemoUser, SESSION_COOKIE, chat_app};
use sockwarden_tests::{Ws, connect_with_token, next_json, send_json, service_url};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long the page may take to show what a step waits for. Longer than
/// the socket tests' wait: a browser on a busy two-core machine is slow.
const PAGE_WAIT: Duration = Duration::from_secs(15);

/// How often a waiting step looks at the page again.
const POLL: Duration = Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_in_a_browser() {
    let Some(chromedriver) = service_url("CHROMEDRIVER", "chat_in_a_browser") else {
        return;
    };
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());

    let chat = ChatServer::start().await;
    let attacker = serve_attacker(&chat).await;
    let driver = Driver::start(&chromedriver).await;
    let anonymous = driver.browser("anonymous", &chromium).await;
    let alice_page = driver.browser("alice", &chromium).await;
    let bob_page = driver.browser("bob", &chromium).await;
    let [alice, bob] = DEMO_USERS;

    // Without a session the socket is refused with 4401, and the page says
    // so and offers the login form.
    anonymous
        .client
        .goto(&chat.url)
        .await
        .expect("open the chat");
    let refused = anonymous.wait_status("closed", 4401).await;
    assert!(refused.contains("not logged in"), "{refused}");
    assert!(anonymous.shows_login_form().await);

    // Two people log in, each in a browser of their own.
    alice_page.log_in(&chat.url, alice).await;
    bob_page.log_in(&chat.url, bob).await;
    alice_page.wait_online(&["alice", "bob"]).await;
    bob_page.wait_online(&["alice", "bob"]).await;

    alice_page.say("hello from alice").await;
    bob_page.wait_said("alice", "hello from alice").await;
    bob_page.say("hi alice").await;
    alice_page.wait_said("bob", "hi alice").await;

    // An API client with a token is in the same room.
    let mut script = connect_with_token(chat.addr, "/api/chat/lobby", alice.token).await;
    let welcome = next_json(&mut script).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    send_json(
        &mut script,
        &json!({ "type": "say", "body": "hello from alice's script" }),
    )
    .await;
    bob_page
        .wait_said("alice", "hello from alice's script")
        .await;
    // The room says every message to all its members, the sender included.
    let own = next_said(&mut script).await;
    assert_eq!(
        (own["from"].as_str(), own["body"].as_str()),
        (Some("alice"), Some("hello from alice's script"))
    );
    bob_page.say("hello, script").await;
    let heard = next_said(&mut script).await;
    assert_eq!(
        (heard["from"].as_str(), heard["body"].as_str()),
        (Some("bob"), Some("hello, script"))
    );
    script.close(None).await.expect("close the API client");

    let screenshot = bob_page.screenshot("chat.png").await;
    println!(
        "chat_in_a_browser: screenshot of the chat: {}",
        screenshot.display()
    );

    // Logging out closes that page's socket with 4401; bob's stays open.
    alice_page.click("#logout button").await;
    let logged_out = alice_page.wait_status("closed", 4401).await;
    assert!(logged_out.contains("logged out"), "{logged_out}");
    assert!(alice_page.shows_login_form().await);
    bob_page.wait_online(&["bob"]).await;
    bob_page.say("still here").await;
    bob_page.wait_said("bob", "still here").await;
    assert_eq!(bob_page.status().await["state"], "open");

    // The anonymous page never got a message.
    assert_eq!(anonymous.said_count().await, 0);
    assert_eq!(anonymous.status().await["code"], "4401");

    // Another origin: a page on another port of the same host. The browser
    // sends bob's session cookie with the handshake (cookies are not bound
    // to a port), so only the origin check stands in the way.
    let loads = chat.store.loads();
    chat.handshakes.clear();
    bob_page
        .client
        .goto(&attacker)
        .await
        .expect("open the other page");
    let result = bob_page
        .wait_for(
            "the other origin's socket to close",
            "const r = document.getElementById('result'); \
             return r.dataset.code ? {code: r.dataset.code, reason: r.dataset.reason, frames: r.dataset.frames} : null",
            vec![],
        )
        .await;
    assert_eq!(result["code"], "1008", "{result}");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("is not this host"), "{result}");
    let frames = result["frames"].as_str().unwrap_or_default();
    assert!(
        !frames.contains("welcome") && !frames.contains("said"),
        "{frames}"
    );
    let seen = chat.handshakes.all();
    let origin = attacker.trim_end_matches('/');
    assert!(
        seen.iter()
            .any(|shake| shake.origin.as_deref() == Some(origin) && shake.session_cookie),
        "the handshake from {origin} with the session cookie: {seen:?}"
    );
    assert_eq!(
        chat.store.loads(),
        loads,
        "a refused origin read the session"
    );

    // Bob is still logged in: back on the chat, his socket opens again.
    bob_page
        .client
        .goto(&chat.url)
        .await
        .expect("back to the chat");
    bob_page.wait_status("open", 0).await;

    // Shutdown closes the page's socket with 1001, and the page says why.
    chat.stop().await;
    let going_away = bob_page.wait_status("closed", 1001).await;
    assert!(going_away.contains("shutting down"), "{going_away}");

    for browser in [anonymous, alice_page, bob_page] {
        browser.quit().await;
    }
}

/// The chat app on a loopback port, with what the test watches: the
/// session store's reads and the handshakes' origins and cookies.
struct ChatServer {
    addr: std::net::SocketAddr,
    url: String,
    store: CountingStore,
    handshakes: Handshakes,
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ChatServer {
    async fn start() -> ChatServer {
        let store = CountingStore::default();
        let handshakes = Handshakes::default();
        let (app, hub) = chat_app(store.clone());
        let watched = handshakes.clone();
        let app = app.layer(middleware::from_fn(move |request: Request, next: Next| {
            watched.record(&request);
            next.run(request)
        }));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = sockwarden::serve(listener, app).with_graceful_shutdown(hub, async {
            let _ = stopped.await;
        });
        ChatServer {
            addr,
            url: format!("http://{addr}/"),
            store,
            handshakes,
            stop,
            served: tokio::spawn(server.into_future()),
        }
    }

    /// Shuts the server down as Ctrl-C does, and waits until it has.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(PAGE_WAIT, self.served)
            .await
            .expect("the server stops")
            .expect("the server task")
            .expect("the server");
    }
}

/// Serves, on another port, a page that tries to open the chat's socket;
/// the page's URL.
async fn serve_attacker(chat: &ChatServer) -> String {
    let page = format!(
        r#"<!doctype html>
<title>another origin</title>
<pre id="result">connecting…</pre>
<script>
  // Another site's page, trying to chat as whoever visits it.
  const ws = new WebSocket("ws://{addr}/ws/chat/lobby");
  const frames = [];
  ws.onmessage = (event) => frames.push(event.data);
  ws.onclose = (event) => {{
    const result = document.getElementById("result");
    result.dataset.frames = JSON.stringify(frames);
    result.dataset.reason = event.reason;
    result.dataset.code = event.code;
    result.textContent = `closed ${{event.code}} ${{event.reason}}`;
  }};
</script>
"#,
        addr = chat.addr
    );
    let app = Router::new().route("/", get(move || async move { Html(page) }));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

/// The next `said` frame an API client gets (skipping the online lists).
async fn next_said(ws: &mut Ws) -> Value {
    loop {
        let frame = next_json(ws).await;
        if frame["type"] == "said" {
            return frame;
        }
    }
}

/// The app's session store, in memory, counting reads.
#[derive(Debug, Clone, Default)]
struct CountingStore {
    store: MemoryStore,
    loads: Arc<AtomicUsize>,
}

impl CountingStore {
    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.store.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}

/// The WebSocket handshakes the chat server received.
#[derive(Clone, Default)]
struct Handshakes(Arc<Mutex<Vec<Handshake>>>);

/// One handshake, as the server saw it.
#[derive(Debug, Clone)]
struct Handshake {
    origin: Option<String>,
    session_cookie: bool,
}

impl Handshakes {
    fn record(&self, request: &Request) {
        if !request.uri().path().starts_with("/ws/") {
            return;
        }
        let headers = request.headers();
        let cookie = format!("{SESSION_COOKIE}=");
        let shake = Handshake {
            origin: headers
                .get(ORIGIN)
                .and_then(|origin| origin.to_str().ok())
                .map(Into::into),
            session_cookie: headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .any(|cookies| {
                    cookies
                        .split(';')
                        .any(|pair| pair.trim().starts_with(&cookie))
                }),
        };
        self.0.lock().unwrap().push(shake);
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    fn all(&self) -> Vec<Handshake> {
        self.0.lock().unwrap().clone()
    }
}

/// A chromedriver on a free port, in a process group of its own with the
/// browsers it starts, so that a failing test leaves no browser behind.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(path: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("CHROMEDRIVER={path} does not start: {error}"));
        // chromedriver says when it listens; until then a session request
        // would be refused.
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut said = Vec::new();
        let started = tokio::time::timeout(PAGE_WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                let ready = line.contains("started successfully");
                said.push(line);
                if ready {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(started, Ok(true), "chromedriver did not start: {said:?}");
        // Read on, so that chromedriver never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A new browser with a fresh profile: its own cookies.
    async fn browser(&self, name: &'static str, chromium: &str) -> Browser {
        let profile =
            std::env::temp_dir().join(format!("sockwarden-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        // Without the networking flags Chromium reaches for Google's hosts,
        // which a machine without a network refuses, at every start.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,760",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("Chromium ({chromium}) does not start: {error}"));
        Browser {
            name,
            client,
            profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The browsers are chromedriver's children, in its process group.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// One person's browser, and what the test reads off the chat page.
struct Browser {
    name: &'static str,
    client: Client,
    profile: PathBuf,
}

impl Browser {
    /// Logs in with the page's form.
    async fn log_in(&self, url: &str, user: DemoUser) {
        self.client.goto(url).await.expect("open the chat");
        self.wait_status("closed", 4401).await;
        self.type_into("#login input[name=user]", user.name).await;
        self.type_into("#login input[name=password]", user.password)
            .await;
        self.click("#login button").await;
        // The form posts, the answer redirects to the page, and the page's
        // new socket, with the session cookie, is welcomed as the user.
        self.wait_for(
            "the page to say who is logged in",
            "return document.getElementById('me').dataset.user === arguments[0] \
             && document.getElementById('status').dataset.state === 'open'",
            vec![json!(user.name)],
        )
        .await;
    }

    async fn say(&self, body: &str) {
        self.type_into("#body", body).await;
        self.click("#say button").await;
    }

    /// Waits until the log shows `from: body`.
    async fn wait_said(&self, from: &str, body: &str) {
        self.wait_for(
            &format!("{from}'s message {body:?}"),
            "return [...document.querySelectorAll('#log [data-from]')].some((line) => \
             line.dataset.from === arguments[0] && line.textContent === `${arguments[0]}: ${arguments[1]}`)",
            vec![json!(from), json!(body)],
        )
        .await;
    }

    /// Waits until the online list is exactly `users`.
    async fn wait_online(&self, users: &[&str]) {
        self.wait_for(
            &format!("the online list {users:?}"),
            "const shown = [...document.querySelectorAll('#online li')].map((item) => item.dataset.user); \
             return JSON.stringify(shown) === JSON.stringify(arguments[0])",
            vec![json!(users)],
        )
        .await;
    }

    /// Waits until the status line is in `state` (and shows close `code`,
    /// unless 0); its text.
    async fn wait_status(&self, state: &str, code: u16) -> String {
        let code = if code == 0 {
            String::new()
        } else {
            code.to_string()
        };
        let text = self
            .wait_for(
                &format!("the status {state} {code}"),
                "const line = document.getElementById('status'); \
                 return line && line.dataset.state === arguments[0] && line.dataset.code === arguments[1] \
                 ? line.textContent : null",
                vec![json!(state), json!(code)],
            )
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The status line: its state, close code and text.
    async fn status(&self) -> Value {
        self.eval(
            "const line = document.getElementById('status'); \
             return {state: line.dataset.state, code: line.dataset.code, text: line.textContent}",
        )
        .await
    }

    async fn shows_login_form(&self) -> bool {
        self.eval("return !document.getElementById('login').hidden && document.getElementById('logout').hidden")
            .await
            == json!(true)
    }

    /// How many messages the log shows.
    async fn said_count(&self) -> u64 {
        self.eval("return document.querySelectorAll('#log [data-from]').length")
            .await
            .as_u64()
            .expect("a count")
    }

    /// Saves a screenshot under `target/e2e/`; its path.
    async fn screenshot(&self, file: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = target_dir().join("e2e");
        std::fs::create_dir_all(&dir).expect("create target/e2e");
        let path = dir.join(file);
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    async fn type_into(&self, selector: &str, text: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("{}: no {selector}: {error}", self.name))
            .send_keys(text)
            .await
            .unwrap_or_else(|error| panic!("{}: cannot type into {selector}: {error}", self.name));
    }

    async fn click(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("{}: no {selector}: {error}", self.name))
            .click()
            .await
            .unwrap_or_else(|error| panic!("{}: cannot click {selector}: {error}", self.name));
    }

    async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|error| panic!("{}: script failed: {error}", self.name))
    }

    /// Runs `script` until it returns something other than `null` or
    /// `false`, for at most [`PAGE_WAIT`]; fails the test with `what` and
    /// what the page's status line says. A script that fails (the page is
    /// between two documents) is tried again.
    async fn wait_for(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + PAGE_WAIT;
        let mut last_error = None;
        loop {
            match self.client.execute(script, args.clone()).await {
                Ok(Value::Null | Value::Bool(false)) => {}
                Ok(value) => return value,
                Err(error) => last_error = Some(error),
            }
            if Instant::now() >= deadline {
                let status = self
                    .client
                    .execute(
                        "return document.getElementById('status')?.textContent ?? document.title",
                        vec![],
                    )
                    .await;
                panic!(
                    "{}: waited {PAGE_WAIT:?} for {what}; the page says {status:?}; last error: {last_error:?}",
                    self.name
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Ends the browser and removes its profile.
    async fn quit(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Cargo's target directory, where test artifacts go.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}
