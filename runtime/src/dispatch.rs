//! What `#[handlers]` dispatches through: the guard of a `#[requires_auth]`
//! handler, and the decoding and forwarding of group events. The generated
//! code is a `match` that calls these.

use serde::de::DeserializeOwned;

use crate::auth::{AuthUser, TokenAuth};
use crate::cx::Cx;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::hub::Event;

/// An auth scheme that can find a user on a handshake, so that a
/// `#[requires_auth]` handler has someone to check for.
///
/// Every scheme but `auth = "none"` implements it: a handler guarded by
/// `#[requires_auth]` on a consumer where every client is anonymous could
/// never run, and does not compile.
#[diagnostic::on_unimplemented(
    message = "`#[requires_auth]` on a handler needs a consumer with an auth scheme",
    label = "with `auth = \"none\"` every client is anonymous: this handler could never run",
    note = "add `auth = \"token\"` and a `#[user] user: Option<YourUser>` field to `#[consumer(...)]`, or remove `#[requires_auth]` from the handler"
)]
pub trait Identifies {}

// Not listed in the error about `auth = "none"`: the fix is an argument of
// `#[consumer]`, not a type.
#[diagnostic::do_not_recommend]
impl<U> Identifies for TokenAuth<U> {}

#[cfg(feature = "jwt")]
#[diagnostic::do_not_recommend]
impl<U> Identifies for crate::auth::JwtAuth<U> {}

/// The guard of a `#[requires_auth]` handler: `Ok` when the connection has
/// a user, else the error frame that the anonymous sender gets instead of
/// the handler running.
///
/// # Errors
///
/// A reply error, `authentication required for `handler``, when anonymous.
pub fn require_user<C>(cx: &Cx<C>, handler: &'static str) -> Result<(), Error>
where
    C: Endpoint,
    C::Auth: Identifies,
{
    user_required(cx.user(), handler)
}

fn user_required<U: AuthUser>(user: Option<&U>, handler: &'static str) -> Result<(), Error> {
    match user {
        Some(_) => Ok(()),
        None => Err(Error::reply(format!(
            "authentication required for `{handler}`"
        ))),
    }
}

/// The event as the consumer's event type `E`, or `None` when it is not
/// one (another `type`, or fields that do not fit): such an event is
/// forwarded unchanged.
pub fn decode_event<E: DeserializeOwned>(event: &Event) -> Option<E> {
    match event.decode() {
        Ok(decoded) => Some(decoded),
        Err(error) => {
            tracing::trace!(kind = event.kind(), %error, "event forwarded without a handler");
            None
        }
    }
}

/// What an event without a handler does: it goes to the client unchanged,
/// as [`Consumer::event`](crate::Consumer::event) does by default.
///
/// # Errors
///
/// When the connection is gone, as [`Cx::send`].
pub async fn forward_event<C: Endpoint>(cx: &mut Cx<C>, event: Event) -> Result<(), Error> {
    cx.send_text(event.into_text()).await
}

#[cfg(test)]
mod tests {
    use super::{decode_event, user_required};
    use crate::error::ErrorKind;
    use crate::hub::Event;

    #[derive(Clone)]
    struct User;

    impl crate::auth::AuthUser for User {
        type Id = u8;
        fn id(&self) -> u8 {
            0
        }
    }

    #[test]
    fn a_user_passes_the_guard() {
        assert!(user_required(Some(&User), "delete").is_ok());
    }

    #[test]
    fn anonymous_gets_a_reply_naming_the_handler() {
        let error = user_required::<User>(None, "delete").unwrap_err();
        match error.0 {
            ErrorKind::Reply(message) => {
                assert_eq!(message, "authentication required for `delete`");
            }
            other => panic!(
                "expected a reply error, got {:?}",
                crate::error::Error(other)
            ),
        }
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum RoomEvent {
        Said { body: String },
        Left,
    }

    #[test]
    fn events_of_the_type_decode_and_others_do_not() {
        let said = Event::from_text(r#"{"type":"said","body":"hi","extra":1}"#);
        assert_eq!(
            decode_event::<RoomEvent>(&said),
            Some(RoomEvent::Said { body: "hi".into() })
        );
        let left = Event::from_text(r#"{"type":"left"}"#);
        assert_eq!(decode_event::<RoomEvent>(&left), Some(RoomEvent::Left));
        for other in [
            r#"{"type":"news","body":"x"}"#,
            r#"{"type":"said"}"#,
            r#"{"body":"no type"}"#,
            "not json",
        ] {
            assert_eq!(
                decode_event::<RoomEvent>(&Event::from_text(other.to_owned())),
                None,
                "{other}"
            );
        }
    }
}
