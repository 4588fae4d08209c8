//! `#[consumer(...)]`: parse the arguments and the struct, validate them
//! together, then emit the struct and its `Endpoint` and `FromHandshake` impls.

mod args;
mod expand;
mod fields;
mod model;

use crate::errors::Errors;
use crate::item;
use crate::requires_auth;
use model::Consumer;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Fields, Item, ItemStruct, Meta};

const NOT_A_STRUCT: &str = "`#[consumer]` can only be used on a struct with named fields";

/// Expands `#[consumer(args)]` on `item`.
///
/// The output always contains the item, so that one mistake gives one error
/// rather than a cascade of "cannot find type" errors wherever it is used.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<Item>(item.clone()) else {
        let error = syn::Error::new(Span::call_site(), NOT_A_STRUCT);
        return with_error(item, error);
    };
    let Item::Struct(input) = &mut item else {
        // A `#[requires_auth]` left on the item would expand again and add
        // a second error about the same mistake.
        if let Some(attrs) = item::attrs_mut(&mut item) {
            attrs.retain(|attr| !requires_auth::is_marker(attr));
        }
        let error = item::misplaced(&item, NOT_A_STRUCT);
        return with_error(quote!(#item), error);
    };

    let mut errors = Errors::new();
    match analyze(args, input, &mut errors) {
        Some(model) => expand::consumer(input, &model),
        None => expand::fallback(input, errors),
    }
}

/// Parses and validates the consumer, removing our attributes from `input`
/// whatever the outcome. Returns the model only when nothing is wrong.
fn analyze(args: TokenStream, input: &mut ItemStruct, errors: &mut Errors) -> Option<Consumer> {
    let args = args::parse(args, errors);
    let marker = take_sibling_attributes(&mut input.attrs, errors);
    let fields = match &mut input.fields {
        Fields::Named(named) => fields::parse(named, errors),
        // `struct Echo;` is `struct Echo {}`: `Self {}` builds either.
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            fields::strip(&mut input.fields);
            errors.spanned(
                &input.ident,
                format!(
                    "`#[consumer]` needs a struct with named fields; write `struct {} {{ name: Type }}`",
                    input.ident
                ),
            );
            return None;
        }
    };
    model::validate(input, args, marker.as_ref(), fields, errors)
}

/// Removes the `#[requires_auth]` marker and any second `#[consumer]` from
/// the struct's attributes. Returns the marker, for spans of errors about it.
fn take_sibling_attributes(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Option<Attribute> {
    let mut marker: Option<Attribute> = None;
    attrs.retain(|attr| {
        if requires_auth::is_marker(attr) {
            if marker.is_some() {
                errors.spanned(attr, "duplicate `#[requires_auth]`; give it once");
            } else {
                if !matches!(attr.meta, Meta::Path(_)) {
                    errors.spanned(
                        attr,
                        "`#[requires_auth]` takes no arguments; write `#[requires_auth]`",
                    );
                }
                marker = Some(attr.clone());
            }
            false
        } else if item::names(attr.path(), "consumer") {
            errors.spanned(
                attr,
                "duplicate `#[consumer]`; merge the arguments into one `#[consumer(...)]`",
            );
            false
        } else {
            true
        }
    });
    marker
}

fn with_error(mut tokens: TokenStream, error: syn::Error) -> TokenStream {
    tokens.extend(error.into_compile_error());
    tokens
}

#[cfg(test)]
mod tests {
    use super::{analyze, expand};
    use crate::errors::Errors;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The errors `#[consumer(args)]` reports on `item`, which must be a struct.
    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let mut input = syn::parse2(item).unwrap();
        let mut errors = Errors::new();
        let model = analyze(args, &mut input, &mut errors);
        let messages = errors.messages();
        assert_eq!(model.is_some(), messages.is_empty());
        messages
    }

    #[test]
    fn valid_consumers_have_no_errors() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            errors(
                quote!(path = "/ws"),
                quote!(
                    struct Ping {}
                )
            ),
            none
        );
        assert_eq!(
            errors(
                quote!(
                    path = "/ws/chat/{room}/{*rest}",
                    auth = "token",
                    reject = "close",
                    query_token = true,
                    token_protocol = "jwt",
                    max_message_size = 1024,
                    auth_timeout = "500ms"
                ),
                quote!(
                    #[derive(Debug)]
                    #[sockwarden::requires_auth]
                    struct Chat {
                        #[path]
                        room: String,
                        #[path("room")]
                        again: String,
                        #[path]
                        rest: String,
                        #[user]
                        user: AppUser,
                        #[query]
                        page: Option<u32>,
                        #[header("x-client")]
                        client: Option<String>,
                        #[cookie("theme")]
                        theme: Option<String>,
                        typed: u32,
                    }
                )
            ),
            none
        );
        assert_eq!(
            errors(
                quote!(path = "/ws", auth = "token"),
                quote!(
                    struct Chat {
                        #[user]
                        user: core::option::Option<AppUser>,
                    }
                )
            ),
            none
        );
    }

    #[test]
    fn missing_route() {
        assert_eq!(
            errors(
                quote!(),
                quote!(
                    struct Chat {}
                )
            ),
            ["`#[consumer]` needs a route; add `path = \"/ws/chat\"` to its arguments"]
        );
        // A misspelt key or a syntax error may hide the route: it is not
        // reported missing.
        assert_eq!(
            errors(
                quote!(pth = "/"),
                quote!(
                    struct Chat {}
                )
            ),
            [
                "unknown consumer argument `pth`; expected one of `path`, `protocols`, `auth`, \
              `user`, `reject`, `query_token`, `token_protocol`, `max_message_size`, \
              `auth_timeout`, `ping_interval`, `pong_timeout`, `idle_timeout`, `groups`, `outbox`, `overflow`, `max_per_user`, `max_per_peer`, `origins`, `missing_origin`, `revalidate`, `messages_per_second`"
            ]
        );
        assert_eq!(
            errors(
                quote!(auth = "none" path = "/"),
                quote!(
                    struct Chat {}
                )
            ),
            ["expected `,`"]
        );
    }

    #[test]
    fn captures_and_path_fields_match() {
        assert_eq!(
            errors(
                quote!(path = "/ws/{room}"),
                quote!(
                    struct Chat {}
                )
            ),
            ["route parameter `{room}` has no field; add `#[path] room: String` to `Chat`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/ws/{room}"),
                quote!(
                    struct Chat {
                        room: String,
                    }
                )
            ),
            ["route parameter `{room}` has no field; mark the field `room` with `#[path]`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/ws/{type}"),
                quote!(
                    struct Chat {}
                )
            ),
            ["route parameter `{type}` has no field; add `#[path] r#type: String` to `Chat`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/ws/{room}"),
                quote!(
                    struct Chat {
                        #[path]
                        room: String,
                        #[path]
                        rom: String,
                    }
                )
            ),
            ["the route `/ws/{room}` has no parameter `{rom}`; its parameters are `{room}`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/ws"),
                quote!(
                    struct Chat {
                        #[path("x")]
                        x: String,
                    }
                )
            ),
            ["the route `/ws` has no parameters; add `{x}` to it or remove `#[path]`"]
        );
        // An invalid route has its own error and nothing else.
        assert_eq!(
            errors(
                quote!(path = "/ws/{room"),
                quote!(
                    struct Chat {
                        #[path]
                        room: String,
                    }
                )
            ),
            ["unbalanced braces in route segment `{room`; write a capture as `{name}`"]
        );
        // So does a malformed field attribute.
        assert_eq!(
            errors(
                quote!(path = "/ws/{room}"),
                quote!(
                    struct Chat {
                        #[path(1)]
                        room: String,
                    }
                )
            ),
            ["malformed `#[path]` attribute; write `#[path]` or `#[path(\"room\")]`"]
        );
    }

    #[test]
    fn item_shape() {
        assert_eq!(
            errors(
                quote!(path = "/"),
                quote!(
                    struct Chat(String);
                )
            ),
            ["`#[consumer]` needs a struct with named fields; write `struct Chat { name: Type }`"]
        );
        // A unit struct is a consumer without fields.
        assert!(
            errors(
                quote!(path = "/"),
                quote!(
                    struct Chat;
                )
            )
            .is_empty()
        );
        assert_eq!(
            errors(
                quote!(path = "/{room}"),
                quote!(
                    struct Chat;
                )
            ),
            ["route parameter `{room}` has no field; add `#[path] room: String` to `Chat`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/"),
                quote!(
                    struct Chat<T> {
                        t: T,
                    }
                )
            ),
            [
                "a consumer cannot be generic; remove the generic parameters and give the fields \
              concrete types"
            ]
        );
        assert_eq!(
            errors(
                quote!(path = "/"),
                quote!(
                    #[consumer(path = "/")]
                    struct Chat {}
                )
            ),
            ["duplicate `#[consumer]`; merge the arguments into one `#[consumer(...)]`"]
        );
    }

    #[test]
    fn auth_rules() {
        let token = quote!(path = "/", auth = "token");
        assert_eq!(
            errors(
                token.clone(),
                quote!(
                    struct Chat {}
                )
            ),
            ["`auth = \"token\"` needs to know the user type; add a \
              `#[user] user: Option<YourUser>` field or `user = YourUser` to `#[consumer]`"]
        );
        assert_eq!(
            errors(
                token.clone(),
                quote!(
                    #[requires_auth]
                    struct Chat {}
                )
            ),
            [
                "`auth = \"token\"` needs to know the user type; add a `#[user] user: YourUser` \
                 field or `user = YourUser` to `#[consumer]`"
            ]
        );
        assert_eq!(
            errors(
                token.clone(),
                quote!(
                    struct Chat {
                        #[user]
                        me: AppUser,
                    }
                )
            ),
            [
                "this consumer admits anonymous users, so `me` may be missing; \
              write `Option<AppUser>` or add `#[requires_auth]`"
            ]
        );
        assert_eq!(
            errors(
                token.clone(),
                quote!(
                    #[requires_auth]
                    struct Chat {
                        #[user]
                        me: Option<AppUser>,
                    }
                )
            ),
            ["`#[requires_auth]` guarantees a user; write `me: AppUser`"]
        );
        assert_eq!(
            errors(
                token.clone(),
                quote!(
                    #[requires_auth]
                    struct Chat {
                        #[user]
                        a: AppUser,
                        #[user]
                        b: AppUser,
                    }
                )
            ),
            ["a consumer has one user; remove this second `#[user]`"]
        );
        assert_eq!(
            errors(
                token.clone(),
                quote!(
                    #[requires_auth]
                    struct Chat {
                        #[user(x)]
                        a: AppUser,
                    }
                )
            ),
            ["`#[user]` takes no arguments; write `#[user]`"]
        );
        assert_eq!(
            errors(
                token,
                quote!(
                    #[requires_auth(strict)]
                    struct Chat {
                        #[user]
                        a: AppUser,
                    }
                )
            ),
            ["`#[requires_auth]` takes no arguments; write `#[requires_auth]`"]
        );
    }

    #[test]
    fn auth_needs_a_scheme() {
        assert_eq!(
            errors(
                quote!(path = "/"),
                quote!(
                    #[requires_auth]
                    struct Chat {}
                )
            ),
            ["`#[requires_auth]` needs an auth scheme; add `auth = \"token\"` to `#[consumer]`"]
        );
        // One mistake, one error: the `#[user]` field is explained by the same fix.
        assert_eq!(
            errors(
                quote!(path = "/", auth = "none"),
                quote!(
                    #[requires_auth]
                    struct Chat {
                        #[user]
                        user: AppUser,
                    }
                )
            ),
            ["`#[requires_auth]` needs an auth scheme; add `auth = \"token\"` to `#[consumer]`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/"),
                quote!(
                    struct Chat {
                        #[user]
                        user: Option<AppUser>,
                    }
                )
            ),
            [
                "`#[user]` is filled by an auth scheme; add `auth = \"token\"` to `#[consumer]` \
              or remove `#[user]`"
            ]
        );
        assert_eq!(
            errors(
                quote!(
                    path = "/",
                    query_token = true,
                    token_protocol = "x",
                    auth_timeout = "1s"
                ),
                quote!(
                    struct Chat {}
                )
            ),
            [
                "`query_token` has no effect without an auth scheme; add `auth = \"token\"`",
                "`token_protocol` has no effect without an auth scheme; add `auth = \"token\"`",
                "`auth_timeout` has no effect without an auth scheme; add `auth = \"token\"`",
            ]
        );
        // An unknown scheme has its own error and nothing else.
        assert_eq!(
            errors(
                quote!(path = "/", auth = "tokn"),
                quote!(
                    #[requires_auth]
                    struct Chat {}
                )
            ),
            ["unknown auth scheme `tokn`; expected one of `none`, `token`, `jwt`, `session`"]
        );
    }

    #[test]
    fn revalidate_needs_a_session_scheme() {
        let chat = quote!(
            #[requires_auth]
            struct Chat {
                #[user]
                user: User,
            }
        );
        for auth in [quote!(auth = "token"), quote!(auth = "jwt")] {
            let messages = errors(quote!(path = "/", #auth, revalidate = "30s"), chat.clone());
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert!(
                messages[0].starts_with("`revalidate` re-reads sessions from their store"),
                "{messages:?}"
            );
            // "0s" turns an app default off: nothing promised, nothing refused.
            let messages = errors(quote!(path = "/", #auth, revalidate = "0s"), chat.clone());
            assert!(messages.is_empty(), "{messages:?}");
        }
        let none: Vec<String> = Vec::new();
        for auth in [
            quote!(auth = "session"),
            quote!(auth = ["session", "token"]),
        ] {
            let messages = errors(quote!(path = "/", #auth, revalidate = "30s"), chat.clone());
            assert_eq!(messages, none);
        }
    }

    #[test]
    fn user_argument() {
        let none: Vec<String> = Vec::new();
        for item in [
            quote!(
                struct Echo;
            ),
            quote!(
                #[requires_auth]
                struct Echo {}
            ),
        ] {
            assert_eq!(
                errors(quote!(path = "/", auth = "token", user = AppUser), item),
                none
            );
        }
        assert_eq!(
            errors(
                quote!(path = "/", user = AppUser),
                quote!(
                    struct Echo;
                )
            ),
            [
                "`user` names the user type of an auth scheme; add `auth = \"token\"` to \
                 `#[consumer]` or remove `user = AppUser`"
            ]
        );
        // `#[requires_auth]` without a scheme is the one mistake reported.
        assert_eq!(
            errors(
                quote!(path = "/", auth = "none", user = AppUser),
                quote!(
                    #[requires_auth]
                    struct Echo;
                )
            ),
            ["`#[requires_auth]` needs an auth scheme; add `auth = \"token\"` to `#[consumer]`"]
        );
        assert_eq!(
            errors(
                quote!(path = "/", auth = "token", user = crate::AppUser),
                quote!(
                    #[requires_auth]
                    struct Chat {
                        #[user]
                        user: AppUser,
                    }
                )
            ),
            ["remove `user = crate::AppUser`: the `#[user]` field already names the user type"]
        );
        assert_eq!(
            errors(
                quote!(path = "/", auth = "token", user = Option<AppUser>),
                quote!(
                    struct Echo;
                )
            ),
            [
                "`user` names the user type itself, even when anonymous users are admitted; \
                 write `user = AppUser`"
            ]
        );
        // A string has its own error and nothing else.
        assert_eq!(
            errors(
                quote!(path = "/", auth = "token", user = "AppUser"),
                quote!(
                    struct Echo;
                )
            ),
            ["`user` takes a type, not a string; write `user = AppUser`"]
        );
    }

    #[test]
    fn protocols_and_the_token_marker() {
        let none: Vec<String> = Vec::new();
        let echo = || {
            quote!(
                struct Echo;
            )
        };
        // Without a scheme that reads tokens, `bearer` is only a name.
        assert_eq!(
            errors(quote!(path = "/", protocols = ["bearer"]), echo()),
            none
        );
        assert_eq!(
            errors(
                quote!(
                    path = "/",
                    auth = "token",
                    user = U,
                    protocols = ["chat", "bearer"]
                ),
                echo()
            ),
            [
                "the subprotocol `bearer` is the default token marker of `auth = \"token\"`, \
                 which a client sends before its token; rename the subprotocol or choose \
                 another marker with `token_protocol = \"jwt\"`"
            ]
        );
        assert_eq!(
            errors(
                quote!(
                    path = "/",
                    auth = "token",
                    user = U,
                    protocols = ["bearer"],
                    token_protocol = "jwt"
                ),
                echo()
            ),
            none
        );
        assert_eq!(
            errors(
                quote!(
                    path = "/",
                    auth = "token",
                    user = U,
                    protocols = ["jwt"],
                    token_protocol = "jwt"
                ),
                echo()
            ),
            [
                "the subprotocol `jwt` is also `token_protocol`, the marker a client sends \
                 before its token; rename one of them"
            ]
        );
        // Subprotocols are compared as the runtime does: case matters.
        assert_eq!(
            errors(
                quote!(path = "/", auth = "token", user = U, protocols = ["Bearer"]),
                echo()
            ),
            none
        );
    }

    #[test]
    fn state_fields() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            errors(
                quote!(path = "/ws/{room}"),
                quote!(
                    struct Chat {
                        #[path]
                        room: String,
                        #[state]
                        db: Db,
                        #[state]
                        config: Arc<Config>,
                    }
                )
            ),
            none
        );
        // A `#[state]` field named like a capture does not fill it.
        assert_eq!(
            errors(
                quote!(path = "/ws/{room}"),
                quote!(
                    struct Chat {
                        #[state]
                        room: Room,
                    }
                )
            ),
            [
                "route parameter `{room}` has no field; add `#[path(\"room\")] room_param: \
                 String` to `Chat`"
            ]
        );
        assert_eq!(
            errors(
                quote!(path = "/"),
                quote!(
                    struct Chat {
                        #[state]
                        #[user]
                        db: Db,
                    }
                )
            ),
            [
                "the field `db` already takes its value from `#[state]`; a field has at most one \
                 of `#[path]`, `#[query]`, `#[header]`, `#[cookie]`, `#[user]` and `#[state]`"
            ]
        );
    }

    fn expanded(args: TokenStream, item: TokenStream) -> String {
        expand(args, item).to_string()
    }

    #[test]
    fn expansion_is_data_and_one_call_per_field() {
        let output = expanded(
            quote!(
                path = "/ws/{room}",
                protocols = ["chat.v2", "chat.v1"],
                auth = "token",
                reject = "close",
                query_token = true,
                token_protocol = "bearer",
                max_message_size = 65536,
                auth_timeout = "5s"
            ),
            quote!(
                #[requires_auth]
                pub struct Chat {
                    #[path]
                    room: String,
                    #[user]
                    user: AppUser,
                    #[cfg(test)]
                    #[query("p")]
                    page: Option<u32>,
                    #[state]
                    db: Db,
                    typed: u32,
                }
            ),
        );
        for expected in [
            "pub struct Chat { room : String , user : AppUser , # [cfg (test)] page : Option < u32 > , db : Db , typed : u32 , }",
            "type User = AppUser ;",
            "type Auth = :: sockwarden :: __private :: TokenAuth < Self :: User > ;",
            ":: sockwarden :: __private :: Spec :: new (\"Chat\" , \"/ws/{room}\") . requires_auth () \
             . reject_with_close () . protocols (& [\"chat.v2\" , \"chat.v1\"]) . query_token () \
             . token_protocol (\"bearer\") . max_message_size (65536) . auth_timeout_ms (5000) ;",
            "impl < __S > :: sockwarden :: __private :: FromHandshake < __S > for Chat \
             where __S : :: sockwarden :: __private :: StateProvides < Db > , {",
            "fn from_handshake (__scope : & mut :: sockwarden :: __private :: Scope << Self as \
             :: sockwarden :: __private :: Endpoint > :: User > , __state : & __S ,) \
             -> :: core :: result :: Result < Self , :: sockwarden :: __private :: Rejection > {",
            "db : < __S as :: sockwarden :: __private :: StateProvides < Db >> :: provide (__state)",
            "room : __scope . path_param :: < String > (\"room\") ?",
            "user : __scope . user_required () ?",
            "# [cfg (test)] page : __scope . query_param :: < Option < u32 > > (\"p\") ?",
            "typed : :: core :: default :: Default :: default ()",
        ] {
            assert!(
                output.contains(expected),
                "missing `{expected}` in:\n{output}"
            );
        }
    }

    #[test]
    fn a_stack_expands_to_nested_runtime_stacks() {
        let consumer = quote!(
            #[requires_auth]
            struct Feed {
                #[user]
                user: AppUser,
            }
        );
        let output = expanded(
            quote!(path = "/ws", auth = ["session", "token"]),
            consumer.clone(),
        );
        let expected = "type Auth = :: sockwarden :: __private :: Stack < :: sockwarden :: \
                        __private :: SessionAuth < Self :: User > , :: sockwarden :: __private \
                        :: TokenAuth < Self :: User > > ;";
        assert!(
            output.contains(expected),
            "missing `{expected}` in:\n{output}"
        );
        let output = expanded(quote!(path = "/ws", auth = ["jwt", "session"]), consumer);
        let expected = "type Auth = :: sockwarden :: __private :: Stack < :: sockwarden :: \
                        __private :: JwtAuth < Self :: User > , :: sockwarden :: __private :: \
                        SessionAuth < Self :: User > > ;";
        assert!(
            output.contains(expected),
            "missing `{expected}` in:\n{output}"
        );
    }

    #[test]
    fn stack_rules() {
        let stack = quote!(path = "/", auth = ["session", "token"]);
        assert_eq!(
            errors(
                stack.clone(),
                quote!(
                    #[requires_auth]
                    struct Feed {}
                )
            ),
            [
                "`auth = [\"session\", \"token\"]` needs to know the user type; add a \
                 `#[user] user: YourUser` field or `user = YourUser` to `#[consumer]`"
            ]
        );
        assert_eq!(
            errors(
                quote!(
                    path = "/",
                    auth = ["session", "token"],
                    protocols = ["bearer"]
                ),
                quote!(
                    #[requires_auth]
                    struct Feed {
                        #[user]
                        user: AppUser,
                    }
                )
            ),
            [
                "the subprotocol `bearer` is the default token marker of `auth = [\"session\", \
                 \"token\"]`, which a client sends before its token; rename the subprotocol or \
                 choose another marker with `token_protocol = \"jwt\"`"
            ]
        );
        // A stack may let a user in by token: no session to name a group by.
        let messages = errors(
            quote!(
                path = "/",
                auth = ["session", "token"],
                groups = ["s:{session}"]
            ),
            quote!(
                #[requires_auth]
                struct Feed {
                    #[user]
                    user: AppUser,
                }
            ),
        );
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].starts_with("`{session}` names a group"),
            "{messages:?}"
        );
        let none: Vec<String> = Vec::new();
        assert_eq!(
            errors(
                stack,
                quote!(
                    struct Feed {
                        #[user]
                        user: Option<AppUser>,
                    }
                )
            ),
            none
        );
    }

    #[test]
    fn anonymous_consumers_use_no_auth() {
        let output = expanded(
            quote!(path = "/"),
            quote!(
                struct Ping {}
            ),
        );
        assert!(output.contains("type User = :: sockwarden :: __private :: Anonymous ;"));
        assert!(output.contains("type Auth = :: sockwarden :: __private :: NoAuth ;"));
        assert!(output.contains("Spec :: new (\"Ping\" , \"/\") ;"));
        let output = expanded(
            quote!(path = "/", auth = "token"),
            quote!(
                struct Chat {
                    #[user]
                    user: Option<AppUser>,
                }
            ),
        );
        assert!(output.contains("type User = AppUser ;"));
        assert!(output.contains("user : __scope . user_optional ()"));
    }

    #[test]
    fn unit_structs_and_consumers_without_state() {
        let output = expanded(
            quote!(path = "/ws/echo", auth = "token", user = AppUser),
            quote!(
                pub struct Echo;
            ),
        );
        assert!(output.starts_with("pub struct Echo ;"), "{output}");
        assert!(output.contains("type User = AppUser ;"), "{output}");
        // No `#[state]` field: any router state, no `where` clause.
        assert!(
            output.contains(
                "impl < __S > :: sockwarden :: __private :: FromHandshake < __S > for Echo { fn"
            ),
            "{output}"
        );
        assert!(
            output.contains(":: core :: result :: Result :: Ok (Self { })"),
            "{output}"
        );
        assert!(!output.contains("protocols"), "{output}");
    }

    #[test]
    fn invalid_input_keeps_the_struct_and_stubs_the_impl() {
        let output = expanded(
            quote!(path = "ws"),
            quote!(
                struct Chat {
                    #[path]
                    room: String,
                }
            ),
        );
        assert!(
            output.starts_with("struct Chat { room : String , }"),
            "{output}"
        );
        assert!(output.contains(":: core :: unreachable ! ()"));
        assert!(output.contains("compile_error !"));
        // Both traits are stubbed, for any router state.
        assert!(output.contains("impl :: sockwarden :: __private :: Endpoint for Chat"));
        assert!(output.contains(
            "impl < __S > :: sockwarden :: __private :: FromHandshake < __S > for Chat {"
        ));
        let output = expanded(
            quote!(path = "/", protocols = []),
            quote!(
                struct Echo;
            ),
        );
        assert!(output.starts_with("struct Echo ;"), "{output}");
        assert!(
            output.contains("FromHandshake < __S > for Echo {"),
            "{output}"
        );
        let output = expanded(
            quote!(path = "/"),
            quote!(
                struct Chat<T> {
                    t: T,
                }
            ),
        );
        assert!(!output.contains("impl"), "{output}");
    }

    #[test]
    fn other_items_come_back_without_the_marker() {
        let output = expanded(
            quote!(path = "/"),
            quote!(
                #[requires_auth]
                #[derive(Debug)]
                enum Chat {}
            ),
        );
        assert!(
            output.starts_with("# [derive (Debug)] enum Chat { }"),
            "{output}"
        );
        assert!(output.contains("can only be used on a struct with named fields"));
    }
}
