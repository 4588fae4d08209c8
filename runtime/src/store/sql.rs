//! What the SQL token stores share: the checks and conversions around
//! their queries. The queries themselves differ by database.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;

use super::StoreError;

/// The longest token a store accepts, as the carriers do.
pub(super) const MAX_TOKEN_LEN: usize = 4096;

// The message names no part of the token: errors end up in logs.
pub(super) fn check_token(token: &str) -> Result<(), StoreError> {
    if token.is_empty() {
        Err(StoreError::new("refusing to store an empty token"))
    } else if token.len() > MAX_TOKEN_LEN {
        Err(StoreError::new(format!(
            "refusing to store a token of {} bytes: the limit is {MAX_TOKEN_LEN}",
            token.len()
        )))
    } else {
        Ok(())
    }
}

pub(super) fn decode_user<U: DeserializeOwned>(json: &str) -> Result<U, StoreError> {
    serde_json::from_str(json).map_err(|error| {
        StoreError::new(format!(
            "stored user does not decode as `{}`: {error}",
            std::any::type_name::<U>()
        ))
    })
}

/// Whole unix seconds, rounded toward the past (a time before 1970 is
/// negative), saturating far outside `i64`.
pub(super) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            (-whole).saturating_sub(i64::from(before.subsec_nanos() > 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_round_toward_the_past() {
        let at = |secs: u64, nanos: u32| UNIX_EPOCH + std::time::Duration::new(secs, nanos);
        assert_eq!(unix_seconds(at(100, 999_999_999)), 100);
        assert_eq!(
            unix_seconds(UNIX_EPOCH - std::time::Duration::from_millis(1500)),
            -2
        );
    }
}
