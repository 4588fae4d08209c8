//! Which Redis channel carries which address.

use crate::layer::Address;

/// The channel names of one prefix.
///
/// Groups get a channel each, so that a process receives only the groups
/// it has members of. Users, sessions, tokens and "everyone" share one
/// channel that every process hears: any process may hold such a socket,
/// and there are far more users than a process would want subscriptions.
#[derive(Debug, Clone)]
pub(super) struct Channels {
    prefix: String,
    /// `{prefix}:all`, made once: it is used on every non-group send.
    all: String,
}

impl Channels {
    pub(super) fn new(prefix: &str) -> Channels {
        Channels {
            prefix: prefix.to_owned(),
            all: format!("{prefix}:all"),
        }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The channel every process subscribes to.
    pub(super) fn all(&self) -> &str {
        &self.all
    }

    /// A group's channel. The name is used verbatim: SUBSCRIBE and PUBLISH
    /// take channel names as binary-safe strings, and the layer never uses
    /// pattern subscriptions, so `*`, `:`, spaces and any Unicode in a name
    /// mean nothing to Redis. The `g:` part keeps every group apart from
    /// `all`, including a group called "all".
    pub(super) fn group(&self, name: &str) -> String {
        format!("{}:g:{name}", self.prefix)
    }

    /// The channel that carries envelopes for `to`.
    pub(super) fn of(&self, to: &Address) -> String {
        match to {
            Address::Group(name) => self.group(name),
            _ => self.all.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_get_their_own_channel_and_everything_else_shares_one() {
        let channels = Channels::new("app");
        assert_eq!(channels.of(&Address::Group("lobby".into())), "app:g:lobby");
        assert_eq!(channels.of(&Address::User("alice".into())), "app:all");
        assert_eq!(channels.of(&Address::Session("s".into())), "app:all");
        assert_eq!(channels.of(&Address::Token([0; 32])), "app:all");
        assert_eq!(channels.of(&Address::All), "app:all");
    }

    #[test]
    fn group_names_are_used_verbatim_and_never_collide_with_all() {
        let channels = Channels::new("app");
        for name in ["a:b", "room*", "with space", "żółw 🐢", "", "all", "g:x"] {
            assert_eq!(channels.group(name), format!("app:g:{name}"));
            assert_ne!(channels.group(name), channels.all());
        }
        assert_ne!(channels.group("a:b"), channels.group("a"));
    }
}
