//! One test binary for every integration test: one link, faster runs.
//! Every test serves a real app on a loopback port and talks to it with a
//! real WebSocket client (tokio-tungstenite).

mod adversarial;
mod app_defaults;
mod apps;
mod auth;
mod blocking;
mod browser;
mod consumer_login;
mod dispatch;
mod expansion;
mod fairness;
mod faults;
mod groups;
mod jwt;
mod layers;
mod leaks;
mod limits;
mod liveness;
mod logging;
mod messages;
mod processes;
mod scope;
mod sessions;
mod stacks;
mod state;
mod stores;
mod testing;
