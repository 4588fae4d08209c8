// The chat page: one socket to one room at a time, authenticated by the
// session cookie that the login form set. The page learns who it is from
// the socket: a `welcome` frame names the user, a close code says why there
// is none. The consumer refuses with a close code (`reject = "close"`)
// rather than an HTTP status, because a page cannot read the status of a
// refused upgrade, only `CloseEvent.code` and `.reason`.

const $ = (id) => document.getElementById(id);

// What each close code means for the person looking at the page.
const CLOSED = {
  1000: "closed",
  1001: "the server is shutting down; join again in a moment",
  1006: "the connection was lost: is the server running?",
  1008: "refused by the server's policy",
  1009: "a message was too big",
  1011: "the server failed",
  1013: "the server is busy, or this page fell behind; join again later",
  4400: "the server could not read this request",
  4401: "not logged in; log in to chat",
  4403: "not allowed in this room",
  4408: "your login expired; log in again",
  4429: "too many connections; close another tab, then join again",
};

let socket = null; // the current room's socket, if any
let me = null; // the user the socket said we are

function status(state, text, code = "") {
  const line = $("status");
  line.dataset.state = state;
  line.dataset.code = code;
  line.textContent = text;
}

function log(text, className, from) {
  const line = document.createElement("div");
  line.textContent = text;
  if (className) line.className = className;
  if (from) line.dataset.from = from;
  $("log").append(line);
  $("log").scrollTop = $("log").scrollHeight;
}

// Shows who is logged in, or the login form.
function showMe(user) {
  me = user;
  $("me").dataset.user = user ?? "";
  $("who").textContent = user ? `logged in as ${user}` : "";
  $("logout").hidden = !user;
  $("login").hidden = Boolean(user);
  $("login-help").hidden = Boolean(user);
}

function showOnline(users) {
  $("online").replaceChildren(
    ...users.map((user) => {
      const item = document.createElement("li");
      item.dataset.user = user;
      item.textContent = user === me ? `${user} (you)` : user;
      return item;
    }),
  );
}

function join(room) {
  room = room.trim();
  if (!room) return;
  if (socket) {
    // Closed on purpose: its close event is ignored below.
    const old = socket;
    socket = null;
    old.close(1000, "switching rooms");
  }
  location.hash = room;
  showOnline([]);
  $("say").hidden = true;
  status("connecting", `joining #${room}…`);

  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/chat/${encodeURIComponent(room)}`);
  socket = ws;

  ws.onmessage = (event) => {
    if (ws !== socket) return;
    const msg = JSON.parse(event.data);
    switch (msg.type) {
      case "welcome":
        showMe(msg.user);
        status("open", `connected to #${msg.room} as ${msg.user}`);
        log(`you joined #${msg.room}`, "sys");
        $("say").hidden = false;
        $("body").focus();
        break;
      case "said":
        log(`${msg.from}: ${msg.body}`, msg.from === me ? "mine" : "", msg.from);
        break;
      case "online":
        showOnline(msg.users);
        break;
      case "error":
        // An error with a close code announces the close that follows;
        // the close event explains it. Others answer a message of ours.
        if (msg.code === undefined) log(`error: ${msg.error}`, "sys");
        break;
    }
  };

  ws.onclose = (event) => {
    if (ws !== socket) return;
    socket = null;
    $("say").hidden = true;
    showOnline([]);
    const { code, reason } = event;
    if (code === 4401 || code === 4408) showMe(null);
    const why = reason ? `${code}: ${reason}` : `${code}`;
    status("closed", `${CLOSED[code] ?? "closed"} (${why})`, String(code));
  };
}

document.querySelectorAll("button.room").forEach((button) => {
  button.onclick = () => join(button.textContent);
});

$("join").onsubmit = (event) => {
  event.preventDefault();
  join($("room").value);
  $("room").value = "";
};

$("say").onsubmit = (event) => {
  event.preventDefault();
  const body = $("body").value;
  if (socket && socket.readyState === WebSocket.OPEN && body.trim()) {
    socket.send(JSON.stringify({ type: "say", body }));
    $("body").value = "";
  }
};

// Logging out ends the session on the server, which closes every socket
// opened with it (close code 4401): the close event above then shows the
// login form. Without JavaScript the form posts and the page reloads.
$("logout").onsubmit = async (event) => {
  event.preventDefault();
  const response = await fetch("/logout", { method: "POST" });
  if (!response.ok) {
    status("closed", `logging out failed (HTTP ${response.status})`);
  } else if (!socket) {
    showMe(null); // no socket to tell us
  }
};

// A failed login comes back as `/?login=failed`: say so once.
if (new URLSearchParams(location.search).get("login") === "failed") {
  $("login-failed").hidden = false;
  history.replaceState(null, "", location.pathname + location.hash);
}

join(decodeURIComponent(location.hash.slice(1)) || "lobby");
