//! Message decoding (`message.rs`): `Inbound::decode` of a data message into
//! a consumer's `In`, for `serde_json::Value`, a typed serde enum and `Frame`.
//!
//! An input that starts with `b` is a binary message of the bytes after it;
//! any other input is a text message (dropped, as tungstenite drops it with
//! close 1007, when it is not UTF-8). Besides never panicking:
//!
//! - `Frame` takes every message unchanged;
//! - JSON consumers refuse binary messages as unsupported (close 1003), and
//!   a text message that does not decode is invalid (an error frame) with a
//!   reason to give;
//! - a message that decodes into the typed enum is valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::DecodeError;
use sockwarden::fuzzing::{decode_frame, decode_typed, decode_value, frame};

fuzz_target!(|data: &[u8]| {
    let (text, payload) = match data.split_first() {
        Some((b'b', payload)) => (false, payload),
        _ => (true, data),
    };
    let Some(frame) = frame(text, payload) else {
        assert!(text, "every binary payload is a frame");
        return;
    };

    assert_eq!(decode_frame(frame.clone()).as_ref(), Ok(&frame));

    let value = decode_value(frame.clone());
    let typed = decode_typed(frame);
    for error in [value.as_ref().err(), typed.as_ref().err()]
        .into_iter()
        .flatten()
    {
        match error {
            DecodeError::Unsupported => assert!(!text, "text refused as unsupported"),
            DecodeError::Invalid(why) => {
                assert!(text, "binary judged as JSON");
                assert!(!why.is_empty(), "an invalid message without a reason");
            }
        }
    }
    if typed.is_ok() {
        assert!(value.is_ok(), "the typed enum decoded from invalid JSON");
    }
});
