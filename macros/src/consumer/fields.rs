//! The field attributes `#[path]`, `#[query]`, `#[header]`, `#[cookie]`,
//! `#[user]` and `#[state]`: where each field of a consumer gets its value.
//!
//! An attribute macro cannot declare helper attributes the way a derive does,
//! so these are removed from the struct here, before the compiler sees them.

use crate::errors::Errors;
use crate::http;
use syn::{Attribute, Fields, FieldsNamed, Ident, LitStr, Meta, Type};

/// Where a field's value comes from.
#[derive(Debug)]
pub(crate) enum Source {
    /// `#[path]` / `#[path("room")]`: a route capture.
    Path {
        /// The capture's name.
        name: String,
        /// The explicit name literal, where errors about the name go; `None`
        /// when the name is the field's.
        literal: Option<LitStr>,
    },
    /// `#[query]` / `#[query("p")]`: a query parameter.
    Query(String),
    /// `#[header("x-client")]`: a request header.
    Header(String),
    /// `#[cookie("theme")]`: a cookie.
    Cookie(String),
    /// `#[user]`: the authenticated user.
    User,
    /// `#[state]`: taken from the router state through `FromRef`.
    State,
    /// No attribute: `Default::default()`.
    Default,
    /// A malformed attribute, already reported: the field may be meant to
    /// fill anything, so checks about what is missing stay quiet.
    Malformed,
}

/// One named field of the consumer, with its source.
#[derive(Debug)]
pub(crate) struct ConsumerField {
    /// The field's name as written, raw prefix included.
    pub(crate) ident: Ident,
    /// The field's type.
    pub(crate) ty: Type,
    /// Where the value comes from.
    pub(crate) source: Source,
    /// The attribute that chose `source`, where errors about the choice go.
    pub(crate) attr: Option<Attribute>,
    /// The field's `#[cfg]`s, repeated on its initializer so a field that is
    /// configured out is not initialized either.
    pub(crate) cfgs: Vec<Attribute>,
}

/// The field attributes, in the order messages list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Helper {
    Path,
    Query,
    Header,
    Cookie,
    User,
    State,
}

impl Helper {
    const ALL: [Helper; 6] = [
        Helper::Path,
        Helper::Query,
        Helper::Header,
        Helper::Cookie,
        Helper::User,
        Helper::State,
    ];

    fn name(self) -> &'static str {
        match self {
            Helper::Path => "path",
            Helper::Query => "query",
            Helper::Header => "header",
            Helper::Cookie => "cookie",
            Helper::User => "user",
            Helper::State => "state",
        }
    }

    /// The helper that `attr` is, if any. Only the bare name counts: these
    /// attributes exist only inside `#[consumer]`, so nothing imports them.
    fn of(attr: &Attribute) -> Option<Helper> {
        Helper::ALL
            .into_iter()
            .find(|helper| attr.path().is_ident(helper.name()))
    }

    /// The accepted forms, quoted in messages about a malformed attribute.
    fn usage(self) -> &'static str {
        match self {
            Helper::Path => "`#[path]` or `#[path(\"room\")]`",
            Helper::Query => "`#[query]` or `#[query(\"page\")]`",
            Helper::Header => "`#[header(\"x-client\")]`",
            Helper::Cookie => "`#[cookie(\"theme\")]`",
            Helper::User => "`#[user]`",
            Helper::State => "`#[state]`",
        }
    }
}

/// Removes the field attributes from every field, so the struct can be
/// emitted even when it is not a valid consumer.
pub(crate) fn strip(fields: &mut Fields) {
    for field in fields.iter_mut() {
        field.attrs.retain(|attr| Helper::of(attr).is_none());
    }
}

/// Reads the source of every field and removes the field attributes,
/// recording malformed ones in `errors`.
pub(crate) fn parse(fields: &mut FieldsNamed, errors: &mut Errors) -> Vec<ConsumerField> {
    let mut parsed = Vec::with_capacity(fields.named.len());
    for field in &mut fields.named {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let (helpers, kept): (Vec<Attribute>, Vec<Attribute>) = field
            .attrs
            .drain(..)
            .partition(|attr| Helper::of(attr).is_some());
        field.attrs = kept;

        let mut chosen: Option<(Source, Attribute)> = None;
        for attr in helpers {
            if let Some((_, first)) = &chosen {
                let first = first.path().get_ident().map(ToString::to_string);
                errors.spanned(
                    &attr,
                    format!(
                        "the field `{}` already takes its value from `#[{}]`; \
                         a field has at most one of `#[path]`, `#[query]`, `#[header]`, \
                         `#[cookie]`, `#[user]` and `#[state]`",
                        unraw(&ident),
                        first.unwrap_or_default(),
                    ),
                );
                continue;
            }
            let source = parse_helper(&attr, &ident, errors).unwrap_or(Source::Malformed);
            chosen = Some((source, attr));
        }
        let (source, attr) = match chosen {
            Some((source, attr)) => (source, Some(attr)),
            None => (Source::Default, None),
        };
        let cfgs: Vec<Attribute> = field
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .cloned()
            .collect();
        if let (Source::State, Some(cfg)) = (&source, cfgs.first()) {
            // The field's `FromRef` bound goes in a `where` clause, and
            // `#[cfg]` there is unstable: the bound would outlive the field.
            errors.spanned(
                cfg,
                "a `#[state]` field cannot be configured out: its `FromRef` bound stays; \
                 put the `#[cfg]` on the whole consumer instead",
            );
        }
        parsed.push(ConsumerField {
            ident,
            ty: field.ty.clone(),
            source,
            attr,
            cfgs,
        });
    }
    parsed
}

/// The field's name as a route, query or user would spell it: `r#type` is `type`.
pub(crate) fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(name) => name.to_owned(),
        None => name,
    }
}

fn parse_helper(attr: &Attribute, ident: &Ident, errors: &mut Errors) -> Option<Source> {
    let helper = Helper::of(attr)?;
    let malformed = |errors: &mut Errors| {
        errors.spanned(
            attr,
            format!(
                "malformed `#[{}]` attribute; write {}",
                helper.name(),
                helper.usage()
            ),
        );
    };
    let name: Option<LitStr> = match &attr.meta {
        Meta::Path(_) => None,
        Meta::List(_) | Meta::NameValue(_) if matches!(helper, Helper::User | Helper::State) => {
            let name = helper.name();
            errors.spanned(
                attr,
                format!("`#[{name}]` takes no arguments; write `#[{name}]`"),
            );
            return None;
        }
        Meta::List(_) => {
            let Ok(name) = attr.parse_args::<LitStr>() else {
                malformed(errors);
                return None;
            };
            Some(name)
        }
        Meta::NameValue(_) => {
            malformed(errors);
            return None;
        }
    };
    if let Some(name) = &name {
        let value = name.value();
        let problem = if value.is_empty() {
            Some("the name is empty".to_owned())
        } else if matches!(helper, Helper::Header | Helper::Cookie) && !http::is_token(&value) {
            Some(format!(
                "`{value}` is not a valid {} name: it must be an HTTP token, \
                 without spaces or separators",
                helper.name()
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            errors.spanned(name, format!("{problem}; write {}", helper.usage()));
            return None;
        }
    }
    let by_field = || unraw(ident);
    Some(match helper {
        Helper::Path => Source::Path {
            name: name.as_ref().map_or_else(by_field, LitStr::value),
            literal: name,
        },
        Helper::Query => Source::Query(name.as_ref().map_or_else(by_field, LitStr::value)),
        Helper::Header | Helper::Cookie => {
            let Some(name) = name else {
                errors.spanned(
                    attr,
                    format!(
                        "`#[{}]` needs the {} name; write {}",
                        helper.name(),
                        helper.name(),
                        helper.usage()
                    ),
                );
                return None;
            };
            if helper == Helper::Header {
                Source::Header(name.value())
            } else {
                Source::Cookie(name.value())
            }
        }
        Helper::User => Source::User,
        Helper::State => Source::State,
    })
}

#[cfg(test)]
mod tests {
    use super::{ConsumerField, Source, parse, strip};
    use crate::errors::Errors;
    use quote::quote;
    use syn::{Fields, FieldsNamed};

    fn parse_fields(
        tokens: proc_macro2::TokenStream,
    ) -> (FieldsNamed, Vec<ConsumerField>, Vec<String>) {
        let mut fields: FieldsNamed = syn::parse2(tokens).unwrap();
        let mut errors = Errors::new();
        let parsed = parse(&mut fields, &mut errors);
        let messages = errors.messages();
        (fields, parsed, messages)
    }

    #[test]
    fn reads_every_source_and_strips_the_attributes() {
        let (fields, parsed, messages) = parse_fields(quote!({
            #[path] room: String,
            #[path("room")] again: String,
            #[user] user: AppUser,
            #[query] page: Option<u32>,
            #[query("p")] r#type: Option<u32>,
            #[header("x-client")] client: Option<String>,
            #[state] db: Db,
            /// Docs stay.
            #[cookie("theme")] #[cfg(test)] theme: Option<String>,
            typed: u32,
        }));
        assert!(messages.is_empty(), "{messages:?}");
        let sources: Vec<String> = parsed.iter().map(|f| format!("{:?}", f.source)).collect();
        assert_eq!(
            sources,
            [
                "Path { name: \"room\", literal: None }",
                "Path { name: \"room\", literal: Some(LitStr { token: \"room\" }) }",
                "User",
                "Query(\"page\")",
                "Query(\"p\")",
                "Header(\"x-client\")",
                "State",
                "Cookie(\"theme\")",
                "Default",
            ]
        );
        assert_eq!(parsed[7].cfgs.len(), 1);
        let remaining: Vec<String> = fields
            .named
            .iter()
            .flat_map(|f| &f.attrs)
            .map(|a| quote!(#a).to_string())
            .collect();
        assert_eq!(remaining, ["# [doc = r\" Docs stay.\"]", "# [cfg (test)]"]);
    }

    #[test]
    fn field_name_is_unraw() {
        let (_, parsed, _) = parse_fields(quote!({ #[path] r#type: String }));
        assert!(matches!(&parsed[0].source, Source::Path { name, .. } if name == "type"));
    }

    #[test]
    fn malformed_attributes() {
        let (_, parsed, messages) = parse_fields(quote!({
            #[header] a: String,
            #[path(1)] b: String,
            #[user("x")] c: String,
            #[query = "q"] d: String,
            #[cookie("a b")] e: String,
            #[path("")] f: String,
            #[state(db)] g: Db,
            #[state = "db"] h: Db,
            #[user = "x"] i: String,
        }));
        assert_eq!(
            messages,
            [
                "`#[header]` needs the header name; write `#[header(\"x-client\")]`",
                "malformed `#[path]` attribute; write `#[path]` or `#[path(\"room\")]`",
                "`#[user]` takes no arguments; write `#[user]`",
                "malformed `#[query]` attribute; write `#[query]` or `#[query(\"page\")]`",
                "`a b` is not a valid cookie name: it must be an HTTP token, without spaces or \
                 separators; write `#[cookie(\"theme\")]`",
                "the name is empty; write `#[path]` or `#[path(\"room\")]`",
                "`#[state]` takes no arguments; write `#[state]`",
                "`#[state]` takes no arguments; write `#[state]`",
                "`#[user]` takes no arguments; write `#[user]`",
            ]
        );
        // A field whose attribute is broken is not reported again as unmarked.
        assert!(parsed.iter().all(|f| matches!(f.source, Source::Malformed)));
    }

    #[test]
    fn one_attribute_per_field() {
        let (_, parsed, messages) = parse_fields(quote!({ #[path] #[query] room: String }));
        assert_eq!(
            messages,
            [
                "the field `room` already takes its value from `#[path]`; a field has at most one \
              of `#[path]`, `#[query]`, `#[header]`, `#[cookie]`, `#[user]` and `#[state]`"
            ]
        );
        assert!(matches!(parsed[0].source, Source::Path { .. }));
    }

    #[test]
    fn state_fields_cannot_be_configured_out() {
        let (_, parsed, messages) = parse_fields(quote!({
            #[cfg(feature = "db")] #[state] db: Db,
            #[cfg(feature = "db")] #[query] page: u32,
        }));
        assert_eq!(
            messages,
            [
                "a `#[state]` field cannot be configured out: its `FromRef` bound stays; put the \
                 `#[cfg]` on the whole consumer instead"
            ]
        );
        assert!(matches!(parsed[0].source, Source::State));
    }

    #[test]
    fn strip_handles_tuple_fields() {
        let mut fields: Fields = Fields::Unnamed(syn::parse_quote!((
            #[path]
            String,
            #[doc = "x"]
            u32
        )));
        strip(&mut fields);
        let count: usize = fields.iter().map(|f| f.attrs.len()).sum();
        assert_eq!(count, 1);
    }
}
