//! The route template of `#[consumer(path = "...")]`.
//!
//! The syntax is axum 0.8's: static segments, `{name}` captures and a final
//! `{*rest}` wildcard. Checking it here turns a route that axum would reject
//! with a panic at startup into a compile error on the literal.

use std::fmt;

/// A route template that axum accepts and whose captures can name fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathTemplate {
    segments: Vec<Segment>,
}

/// One `/`-separated part of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text matched as is, possibly empty (`/ws/` ends in an empty segment).
    Static(String),
    /// A `{name}` or `{*name}` capture.
    Capture(Capture),
}

/// A named route parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Capture {
    /// The name between the braces, without the `*`.
    pub(crate) name: String,
    /// Whether this is a `{*name}` capture of the rest of the path.
    pub(crate) wildcard: bool,
}

impl fmt::Display for Capture {
    /// Writes the capture as it appears in a route, so messages quote it as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = if self.wildcard { "*" } else { "" };
        write!(f, "{{{star}{}}}", self.name)
    }
}

impl PathTemplate {
    /// Parses a route such as `/ws/chat/{room}`.
    ///
    /// The error is a complete message; the caller puts it on the literal,
    /// since a subspan inside a string literal is nightly-only.
    pub(crate) fn parse(route: &str) -> Result<Self, String> {
        let Some(rest) = route.strip_prefix('/') else {
            return Err(format!("a route must start with `/`; write `\"/{route}\"`"));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            let segment = parse_segment(part)?;
            if let Segment::Capture(capture) = &segment {
                if capture.wildcard && index + 1 != parts.len() {
                    return Err(format!(
                        "the wildcard `{capture}` must be the last segment of the route; \
                         move it to the end or write `{{{}}}` to capture one segment",
                        capture.name
                    ));
                }
                if segments
                    .iter()
                    .any(|seen| matches!(seen, Segment::Capture(c) if c.name == capture.name))
                {
                    return Err(format!(
                        "the route captures `{{{}}}` twice; give each capture its own name",
                        capture.name
                    ));
                }
            }
            segments.push(segment);
        }
        Ok(Self { segments })
    }

    /// The route's parameters, in route order.
    pub(crate) fn captures(&self) -> impl Iterator<Item = &Capture> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Capture(capture) => Some(capture),
            Segment::Static(_) => None,
        })
    }

    /// The parameter called `name`, if the route has one.
    pub(crate) fn capture(&self, name: &str) -> Option<&Capture> {
        self.captures().find(|capture| capture.name == name)
    }
}

fn parse_segment(part: &str) -> Result<Segment, String> {
    if !part.contains(['{', '}']) {
        return Ok(Segment::Static(part.to_owned()));
    }
    let inner = part
        .strip_prefix('{')
        .and_then(|part| part.strip_suffix('}'))
        .filter(|inner| !inner.contains(['{', '}']));
    let Some(inner) = inner else {
        return Err(if part.matches('{').count() == part.matches('}').count() {
            format!(
                "route segment `{part}` mixes text and a capture; \
                 a capture is a whole segment, like `/{{room}}`"
            )
        } else {
            format!("unbalanced braces in route segment `{part}`; write a capture as `{{name}}`")
        });
    };
    let (name, wildcard) = match inner.strip_prefix('*') {
        Some(name) => (name, true),
        None => (inner, false),
    };
    if name.is_empty() {
        let star = if wildcard { "*" } else { "" };
        return Err(format!(
            "empty capture `{part}` in route; name it, like `{{{star}room}}`"
        ));
    }
    if !is_identifier(name) {
        return Err(format!(
            "invalid capture name `{part}`; a capture is named like a Rust field, like `{{room}}`"
        ));
    }
    Ok(Segment::Capture(Capture {
        name: name.to_owned(),
        wildcard,
    }))
}

/// Whether `name` is spelled like a Rust identifier, so that a field can carry it.
///
/// Keywords pass: `{type}` is filled by a field `r#type`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::{Capture, PathTemplate, Segment};

    fn captures(route: &str) -> Vec<String> {
        PathTemplate::parse(route)
            .unwrap()
            .captures()
            .map(ToString::to_string)
            .collect()
    }

    fn error(route: &str) -> String {
        PathTemplate::parse(route).unwrap_err()
    }

    #[test]
    fn static_routes_have_no_captures() {
        assert!(captures("/").is_empty());
        assert!(captures("/ws/chat").is_empty());
        assert!(captures("/ws/chat/").is_empty());
    }

    #[test]
    fn parses_captures_in_order() {
        assert_eq!(captures("/ws/{room}/{id}"), ["{room}", "{id}"]);
    }

    #[test]
    fn parses_segments() {
        let template = PathTemplate::parse("/ws/{room}/{*rest}").unwrap();
        assert_eq!(
            template.segments,
            [
                Segment::Static("ws".into()),
                Segment::Capture(Capture {
                    name: "room".into(),
                    wildcard: false
                }),
                Segment::Capture(Capture {
                    name: "rest".into(),
                    wildcard: true
                }),
            ]
        );
        assert_eq!(template.capture("rest").map(|c| c.wildcard), Some(true));
        assert_eq!(template.capture("nope"), None);
    }

    #[test]
    fn accepts_keyword_and_underscore_names() {
        assert_eq!(
            captures("/{type}/{_id}/{room2}"),
            ["{type}", "{_id}", "{room2}"]
        );
    }

    #[test]
    fn wildcard_must_be_last() {
        assert_eq!(captures("/files/{*path}"), ["{*path}"]);
        assert_eq!(
            error("/files/{*path}/raw"),
            "the wildcard `{*path}` must be the last segment of the route; \
             move it to the end or write `{path}` to capture one segment"
        );
    }

    #[test]
    fn rejects_missing_leading_slash() {
        assert_eq!(
            error("ws/chat"),
            "a route must start with `/`; write `\"/ws/chat\"`"
        );
        assert_eq!(error(""), "a route must start with `/`; write `\"/\"`");
    }

    #[test]
    fn rejects_unbalanced_braces() {
        for route in ["/{room", "/room}", "/{{room}", "/{room}}"] {
            assert!(error(route).starts_with("unbalanced braces"), "{route}");
        }
    }

    #[test]
    fn rejects_empty_captures() {
        assert_eq!(
            error("/ws/{}"),
            "empty capture `{}` in route; name it, like `{room}`"
        );
        assert_eq!(
            error("/ws/{*}"),
            "empty capture `{*}` in route; name it, like `{*room}`"
        );
    }

    #[test]
    fn rejects_text_around_a_capture() {
        for route in ["/a{b}", "/{b}c", "/{a}{b}", "/x{a}y"] {
            assert!(error(route).contains("mixes text and a capture"), "{route}");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for route in ["/{1room}", "/{ro om}", "/{ro-om}", "/{**x}", "/{r#type}"] {
            assert!(error(route).starts_with("invalid capture name"), "{route}");
        }
    }

    #[test]
    fn rejects_duplicate_names() {
        assert_eq!(
            error("/{room}/x/{room}"),
            "the route captures `{room}` twice; give each capture its own name"
        );
        assert!(error("/{room}/{*room}").contains("twice"));
    }
}
