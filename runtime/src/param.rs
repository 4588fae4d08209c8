//! Conversion of one textual scope value (a path or query parameter, a
//! header, a cookie) into a field's type.

/// A type a `#[path]`, `#[query]`, `#[header("…")]` or `#[cookie("…")]`
/// field can have.
///
/// Implemented for `String`, `Box<str>`, the integer and float types, `bool`
/// and `char`, and for `Option<T>` of each (a missing value is `None`; for the
/// others it refuses the handshake with 400).
///
/// ```
/// use sockwarden::{FromParam, ParamError};
///
/// #[derive(Debug, PartialEq)]
/// enum Color { Red, Blue }
///
/// impl FromParam for Color {
///     fn from_param(raw: Option<&str>) -> Result<Self, ParamError> {
///         match raw.ok_or(ParamError::Missing)? {
///             "red" => Ok(Color::Red),
///             "blue" => Ok(Color::Blue),
///             _ => Err(ParamError::Invalid),
///         }
///     }
/// }
///
/// assert_eq!(Option::<Color>::from_param(Some("red")), Ok(Some(Color::Red)));
/// assert_eq!(Color::from_param(None), Err(ParamError::Missing));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a connection scope",
    label = "this field's type must implement `FromParam`",
    note = "scope fields take `String`, integers, floats, `bool` and `char`, each optionally in `Option`; for your own type, implement `sockwarden::FromParam`"
)]
pub trait FromParam: Sized {
    /// Converts the raw value; `None` when the scope has no such value.
    ///
    /// # Errors
    ///
    /// [`ParamError::Missing`] when a required value is absent,
    /// [`ParamError::Invalid`] when it does not parse.
    fn from_param(raw: Option<&str>) -> Result<Self, ParamError>;
}

/// Why a scope value could not fill a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamError {
    /// The value is absent and the field is not an `Option`.
    Missing,
    /// The value does not parse as the field's type.
    Invalid,
}

impl<T: FromParam> FromParam for Option<T> {
    fn from_param(raw: Option<&str>) -> Result<Self, ParamError> {
        raw.map(|raw| T::from_param(Some(raw))).transpose()
    }
}

impl FromParam for String {
    fn from_param(raw: Option<&str>) -> Result<Self, ParamError> {
        raw.map(str::to_owned).ok_or(ParamError::Missing)
    }
}

impl FromParam for Box<str> {
    fn from_param(raw: Option<&str>) -> Result<Self, ParamError> {
        raw.map(Box::from).ok_or(ParamError::Missing)
    }
}

macro_rules! from_str_params {
    ($($ty:ty),* $(,)?) => {$(
        impl FromParam for $ty {
            fn from_param(raw: Option<&str>) -> Result<Self, ParamError> {
                raw.ok_or(ParamError::Missing)?.parse().map_err(|_| ParamError::Invalid)
            }
        }
    )*};
}

from_str_params!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_and_refuse() {
        assert_eq!(u16::from_param(Some("8080")), Ok(8080));
        assert_eq!(u8::from_param(Some("300")), Err(ParamError::Invalid));
        assert_eq!(i32::from_param(None), Err(ParamError::Missing));
        assert_eq!(
            Option::<i32>::from_param(Some("x")),
            Err(ParamError::Invalid)
        );
    }
}
