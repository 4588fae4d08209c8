//! Used by the code `#[consumer]` generates. Not public API.

pub use crate::auth::{Anonymous, Authenticate, NoAuth, TokenAuth};
pub use crate::endpoint::{Endpoint, FromHandshake, Spec};
pub use axum::extract::FromRef;
pub use crate::param::FromParam;
pub use crate::reject::Rejection;
pub use crate::scope::Scope;
