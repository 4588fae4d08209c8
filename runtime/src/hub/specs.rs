//! The spec each consumer runs with in a hub that has app defaults: its
//! own declaration with the gaps filled from the defaults, merged once per
//! consumer type and shared by all its connections.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex, PoisonError, RwLock};

use crate::defaults::AppDefaults;
use crate::endpoint::Spec;

/// One hub's merged specs, by consumer type.
#[derive(Default)]
pub(crate) struct Specs {
    resolved: RwLock<HashMap<TypeId, &'static Spec>>,
}

impl Specs {
    /// The spec `consumer` (declared as `declared`) runs with under
    /// `defaults`.
    pub(crate) fn resolve(
        &self,
        consumer: TypeId,
        declared: &'static Spec,
        defaults: &AppDefaults,
    ) -> &'static Spec {
        // Nothing here runs user code, so a poisoned lock holds whole entries.
        if let Some(spec) = self
            .resolved
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&consumer)
        {
            return spec;
        }
        let merged = defaults.apply(declared);
        let spec = if merged == *declared {
            declared
        } else {
            intern(merged)
        };
        self.resolved
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(consumer)
            .or_insert(spec)
    }
}

/// A `'static` copy of `spec`, shared with every equal one.
///
/// The connection task and the liveness clocks hold a `&'static Spec`, one
/// pointer, as they do for a consumer's own `const` spec: an `Arc` would be
/// the same size but cost a count on every connection, and the path
/// without defaults would pay for it too. The leak is bounded: merged
/// specs are interned by value, so there is one per distinct pair of a
/// consumer's declaration and an app's defaults, whatever the number of
/// hubs (a test suite that builds a hub per test with the same defaults
/// leaks one spec per consumer type, once). Consumer types are fixed at
/// compile time, and an app builds its defaults once.
fn intern(spec: Spec) -> &'static Spec {
    static INTERNED: LazyLock<Mutex<HashSet<&'static Spec>>> = LazyLock::new(Mutex::default);
    let mut interned = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(spec) = interned.get(&spec) {
        return spec;
    }
    let spec: &'static Spec = Box::leak(Box::new(spec));
    interned.insert(spec);
    spec
}

#[cfg(test)]
mod tests {
    use std::any::TypeId;

    use super::{Specs, intern};
    use crate::defaults::AppDefaults;
    use crate::endpoint::Spec;

    static DECLARED: Spec = Spec::new("X", "/x").max_per_user(Some(3));

    #[test]
    fn merged_once_per_consumer_and_shared_by_equal_specs() {
        let defaults = AppDefaults::new().max_message_size(77).max_per_user(None);
        let (a, b) = (Specs::default(), Specs::default());
        let first = a.resolve(TypeId::of::<u8>(), &DECLARED, &defaults);
        assert_eq!(first.limits.max_message_size, 77);
        assert_eq!(first.limits.max_per_user, Some(3));
        assert!(std::ptr::eq(
            first,
            a.resolve(TypeId::of::<u8>(), &DECLARED, &defaults)
        ));
        // Another hub with the same defaults shares the same copy.
        assert!(std::ptr::eq(
            first,
            b.resolve(TypeId::of::<u8>(), &DECLARED, &defaults)
        ));
        assert!(std::ptr::eq(first, intern(*first)));
    }

    #[test]
    fn defaults_that_change_nothing_keep_the_declaration() {
        let defaults = AppDefaults::new().max_per_user(Some(9));
        let specs = Specs::default();
        let spec = specs.resolve(TypeId::of::<u16>(), &DECLARED, &defaults);
        assert!(std::ptr::eq(spec, &DECLARED));
    }
}
