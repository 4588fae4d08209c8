//! axum-login: the session holds the user id and the session auth hash; the
//! user comes from the app's `AuthnBackend`.

use ::axum_login::{AuthUser as LoginUser, AuthnBackend, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::read::{BoxFuture, ReadUser};
use crate::auth::AuthUser;
use crate::store::StoreError;

/// axum-login's default session key (`AuthManagerLayerBuilder` without
/// `with_data_key`).
pub(super) const DATA_KEY: &str = "axum-login.data";

/// The session data axum-login 0.18.0 stores under its data key: its private
/// `axum_login::session::Data<UserId>`, mirrored field for field, with the
/// same serde derive (so `{"user_id": …, "auth_hash": [bytes…]}`, an absent
/// field read as `None`). axum-login does not export the type; the test
/// `axum_login_logins_are_read` logs in through axum-login's own
/// `AuthSession::login` and reads the session back, so an axum-login upgrade
/// that changes this layout fails that test instead of logging every socket
/// out.
#[derive(Debug, Serialize, Deserialize)]
struct Data<Id> {
    user_id: Option<Id>,
    auth_hash: Option<Vec<u8>>,
}

/// Reads axum-login's session data and asks the backend for the user.
pub(super) struct Backend<B>(pub(super) B);

impl<B> ReadUser<B::User> for Backend<B>
where
    B: AuthnBackend + 'static,
    B::User: AuthUser,
{
    fn user<'a>(&'a self, value: &'a Value) -> BoxFuture<'a, Result<Option<B::User>, StoreError>> {
        Box::pin(async move {
            let data = match Data::<UserId<B>>::deserialize(value) {
                Ok(data) => data,
                Err(error) => {
                    tracing::warn!(%error, "axum-login session data does not decode; treated as anonymous");
                    return Ok(None);
                }
            };
            // axum-login itself treats a user id without a hash as not logged in.
            let (Some(id), Some(hash)) = (data.user_id, data.auth_hash) else {
                return Ok(None);
            };
            let user = self.0.get_user(&id).await.map_err(|error| {
                StoreError::new(format!("the axum-login backend failed: {error}"))
            })?;
            Ok(user.filter(|user| same_bytes(user.session_auth_hash(), &hash)))
        })
    }

    fn stamp(&self, user: &B::User) -> Result<Value, StoreError> {
        serde_json::to_value(Data {
            user_id: Some(LoginUser::id(user)),
            auth_hash: Some(user.session_auth_hash().to_vec()),
        })
        .map_err(StoreError::new)
    }

    fn names(&self, value: &Value, user: &B::User) -> bool {
        Data::<UserId<B>>::deserialize(value).is_ok_and(|data| {
            data.user_id
                .is_some_and(|id| id.to_string() == LoginUser::id(user).to_string())
        })
    }
}

/// Compares two hashes in time that depends on their length only (which is
/// not secret), as axum-login does with `subtle`.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |difference, (x, y)| difference | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_whole() {
        assert!(same_bytes(b"", b""));
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
        assert!(!same_bytes(b"", b"a"));
    }

    #[test]
    fn data_has_axum_logins_layout() {
        let data = Data {
            user_id: Some(7u64),
            auth_hash: Some(vec![1, 2]),
        };
        assert_eq!(
            serde_json::to_value(&data).unwrap(),
            serde_json::json!({ "user_id": 7, "auth_hash": [1, 2] })
        );
        let empty: Data<u64> = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(empty.user_id.is_none() && empty.auth_hash.is_none());
    }
}
