//! The errors `#[handlers]` reports, and what it expands to.

use super::{analyze, expand};
use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::quote;

/// The errors `#[handlers(args)]` reports on `item`, which must be an impl.
fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    let mut input = syn::parse2(item).unwrap();
    let mut errors = Errors::new();
    let (dispatch, _) = analyze(args, &mut input, &mut errors);
    let messages = errors.messages();
    assert_eq!(dispatch.is_some(), messages.is_empty());
    messages
}

/// The errors for a block of `type In = ChatIn;` and `methods`.
fn method_errors(methods: TokenStream) -> Vec<String> {
    errors(
        quote!(),
        quote!(
            impl Consumer for Chat {
                type In = ChatIn;
                #methods
            }
        ),
    )
}

#[test]
fn valid_blocks_have_no_errors() {
    let none: Vec<String> = Vec::new();
    assert_eq!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl sockwarden::Consumer for Chat {
                    type In = crate::msgs::ChatIn;

                    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
                        Connect::Accept
                    }

                    async fn disconnect(&mut self, cx: &mut Cx<Self>, why: Disconnect) {}

                    /// Documented.
                    pub async fn chat_message(
                        &mut self,
                        cx: &mut sockwarden::Cx<Self>,
                        mut body: String,
                        r#type: u8,
                    ) -> Result<(), Error> {
                        Ok(())
                    }

                    #[requires_auth]
                    #[on(Leave)]
                    async fn leave_room(&mut self, _: &mut Cx<Chat>) -> Result<(), Error> {
                        Ok(())
                    }

                    #[sockwarden::requires_auth]
                    async fn r#move(&'_ mut self, _cx: &'_ mut Cx<Self>) -> Result<(), Error> {
                        Ok(())
                    }

                    #[event]
                    async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                        Ok(())
                    }

                    #[event(Left)]
                    async fn someone_left(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                        Ok(())
                    }
                }
            )
        ),
        none
    );
    // A written `receive`, with event handlers only.
    assert_eq!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl Consumer for Chat {
                    type In = Frame;
                    async fn receive(&mut self, cx: &mut Cx<Self>, msg: Frame) -> Result<(), Error> {
                        Ok(())
                    }
                    #[event]
                    async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                        Ok(())
                    }
                }
            )
        ),
        none
    );
}

#[test]
fn signatures() {
    assert_eq!(
        method_errors(quote!(
            fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "a handler is an `async fn`; write `async fn say`, or move `say` to an `impl` block \
             of its own if it handles no message"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(&self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        ["a handler takes `&mut self`; write `&mut self` instead of `&self`"]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        ["a handler takes `&mut self`; write `&mut self` instead of `mut self`"]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "a handler is a method: write `async fn say(&mut self, cx: &mut Cx<Self>, …)`, \
             `&mut self` first"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say() -> Result<(), Error> {}
        )),
        ["a handler is a method: write `async fn say(&mut self, cx: &mut Cx<Self>, …)`"]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self) -> Result<(), Error> {}
        )),
        ["a handler takes the connection after `&mut self`; write \
             `async fn say(&mut self, cx: &mut Cx<Self>, …)`"]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, body: String) -> Result<(), Error> {}
        )),
        [
            "the second parameter of a handler is the connection; write `cx: &mut Cx<Self>` \
             before `body: String`"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, cx: &Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "the second parameter of a handler is the connection; write `cx: &mut Cx<Self>` \
             instead of `cx: &Cx<Self>`"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, cx: &mut Cx<Self>, ref body: String) -> Result<(), Error> {}
        )),
        [
            "a handler's parameters after `cx` take the variant's fields by name; name the \
             field here, as in `field: String`, and destructure it in the body"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, cx: &mut Cx<Self>) {}
        )),
        ["a handler returns `Result<(), Error>`; add `-> Result<(), Error>` to `say`"]
    );
    assert_eq!(
        method_errors(quote!(
            async fn say<T>(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        ["a handler cannot be generic; remove the generic parameters of `say`"]
    );
    // Every mistake of one signature at once: not async, unsafe, `&self`,
    // the connection's type, `_`, no return type.
    assert_eq!(
        method_errors(quote!(
            unsafe fn say(&self, cx: Cx<Self>, _: u8) {}
        ))
        .len(),
        6
    );
}

#[test]
fn variants() {
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
            #[on(Say)]
            async fn shout(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "`Say` already has a handler, `say`; remove one of them, or point this one at \
             another variant with `#[on(Variant)]`"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            #[on]
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "`#[on]` names the variant that the handler takes; write `#[on(ChatMessage)]`, or \
             leave `#[on]` out to take the variant named after the method"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            #[on(ChatIn::Say)]
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        ["name the variant alone, without its enum: write `#[on(Say)]`"]
    );
    assert_eq!(
        method_errors(quote!(
            #[on(Say)]
            #[on(Shout)]
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        ["duplicate `#[on]`; give it once"]
    );
    assert_eq!(
        method_errors(quote!(
            #[on(Connect)]
            async fn connect(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "`connect` is a method of `Consumer`, so it cannot be a handler; name the handler \
             otherwise and keep `#[on(…)]` to choose its variant"
        ]
    );
}

#[test]
fn requires_auth_on_methods() {
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
            #[requires_auth]
            async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {}
        )),
        [
            "`#[requires_auth]` guards a handler, and `connect` is a method of `Consumer`; to \
             refuse anonymous clients before `connect`, put `#[requires_auth]` on the struct \
             beside `#[consumer(...)]`"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            #[requires_auth(admin)]
            #[requires_auth]
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "`#[requires_auth]` takes no arguments; write `#[requires_auth]`",
            "duplicate `#[requires_auth]`; give it once"
        ]
    );
    assert_eq!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl Consumer for Chat {
                    type In = ChatIn;
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                    #[event]
                    #[requires_auth]
                    async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "`#[requires_auth]` guards a client message, and `said` handles a group event, \
             which the server sends; remove `#[requires_auth]` and choose who gets the event \
             when sending it"
        ]
    );
}

#[test]
fn the_block() {
    assert_eq!(
        errors(
            quote!(),
            quote!(
                impl Chat {
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "`#[handlers]` goes on the consumer's trait impl; write `#[handlers] impl Consumer \
             for Chat { type In = …; … }`"
        ]
    );
    assert_eq!(
        errors(
            quote!(),
            quote!(
                impl Consumer for Chat {
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "`#[handlers]` routes client messages by the variants of `In`; add `type In = \
             ChatIn;` naming the enum of the messages"
        ]
    );
    assert_eq!(
        errors(
            quote!(),
            quote!(
                impl Consumer for Chat {
                    type In = ChatIn;
                }
            )
        ),
        [
            "`#[handlers]` found no handler for client messages and no `receive`; add an \
             `async fn` per variant of `ChatIn`, named after it (`chat_message` takes \
             `ChatMessage`), or write `receive`"
        ]
    );
    assert_eq!(
        errors(
            quote!(),
            quote!(
                impl Consumer for Chat {
                    type In = (u8, u8);
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "handlers take the variants of an enum, and `type In` is `(u8 , u8)`; name an enum \
             here, like `ChatIn`"
        ]
    );
    assert_eq!(
        method_errors(quote!(
            async fn receive(&mut self, cx: &mut Cx<Self>, msg: ChatIn) -> Result<(), Error> {}
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
            async fn leave(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "this `receive` takes every client message, so the handlers `say`, `leave` would \
             never run; remove `receive` to route messages by their type, or move the handlers \
             to an `impl Chat { … }` block and call them from `receive`"
        ]
    );
}

#[test]
fn events() {
    assert_eq!(
        method_errors(quote!(
            async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
            #[event]
            async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
        )),
        [
            "`#[event]` handlers take the variants of an event enum; name it: \
             `#[handlers(events = RoomEvent)]`"
        ]
    );
    assert_eq!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl Consumer for Chat {
                    type In = ChatIn;
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "`events = RoomEvent` names the events of `#[event]` handlers, and there are none; \
             mark a handler with `#[event]`, or remove `events`"
        ]
    );
    assert_eq!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl Consumer for Chat {
                    type In = ChatIn;
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                    async fn event(&mut self, cx: &mut Cx<Self>, event: Event) -> Result<(), Error> {}
                    #[event]
                    async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "this `event` takes every group event, so the `#[event]` handler `said` would never \
             run; remove `event` to route events by their type"
        ]
    );
    assert_eq!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl Consumer for Chat {
                    type In = ChatIn;
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                    #[event]
                    async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                    #[event(Said)]
                    async fn also_said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        ),
        [
            "`Said` already has a handler, `said`; remove one of them, or point this one at \
             another variant with `#[event(Variant)]`"
        ]
    );
    // A message handler and an event handler may take variants of one name.
    assert!(
        errors(
            quote!(events = RoomEvent),
            quote!(
                impl Consumer for Chat {
                    type In = ChatIn;
                    async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                    #[event(Say)]
                    async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {}
                }
            )
        )
        .is_empty()
    );
}

/// The whole expansion of `#[handlers(args)]` on `item`, as a string.
fn expanded(args: TokenStream, item: TokenStream) -> String {
    expand(args, item).to_string()
}

#[test]
fn expansion() {
    let output = expanded(
        quote!(events = RoomEvent),
        quote!(
            impl Consumer for Chat {
                type In = ChatIn;
                async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
                    Connect::Accept
                }
                async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
                    Ok(())
                }
                #[requires_auth]
                #[cfg(feature = "x")]
                async fn delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
                    Ok(())
                }
                #[event]
                async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                    Ok(())
                }
            }
        ),
    );
    let expected = quote!(
        impl Consumer for Chat {
            type In = ChatIn;
            async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
                Connect::Accept
            }
            async fn receive(
                &mut self,
                __cx: &mut ::sockwarden::__private::Cx<Self>,
                __msg: <Self as ::sockwarden::__private::Consumer>::In,
            ) -> ::core::result::Result<(), ::sockwarden::__private::Error> {
                match __msg {
                    ChatIn::Say { body, .. } => {
                        self.say(__cx, body).await
                    }
                    #[cfg(feature = "x")]
                    ChatIn::Delete { id, .. } => {
                        ::sockwarden::__private::require_user(__cx, "delete")?;
                        self.delete(__cx, id).await
                    }
                    _ if false => ::core::unreachable!(),
                }
            }
            async fn event(
                &mut self,
                __cx: &mut ::sockwarden::__private::Cx<Self>,
                __event: ::sockwarden::__private::Event,
            ) -> ::core::result::Result<(), ::sockwarden::__private::Error> {
                match ::sockwarden::__private::decode_event::<RoomEvent>(&__event) {
                    ::core::option::Option::Some(RoomEvent::Said { .. }) => self.said(__cx).await,
                    _ => ::sockwarden::__private::forward_event(__cx, __event).await,
                }
            }
        }
        impl Chat {
            async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
                Ok(())
            }
            #[cfg(feature = "x")]
            async fn delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
                Ok(())
            }
            async fn said(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                Ok(())
            }
        }
    );
    assert_eq!(output, expected.to_string());
}

#[test]
fn generic_enums_are_named_with_a_turbofish() {
    let output = expanded(
        quote!(),
        quote!(
            impl Consumer for Chat {
                type In = msgs::ChatIn<u8>;
                async fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                    Ok(())
                }
            }
        ),
    );
    assert!(
        output.contains("msgs :: ChatIn :: < u8 > :: Say { .. }"),
        "{output}"
    );
}

#[test]
fn a_mistake_keeps_the_block_and_the_handlers() {
    let output = expanded(
        quote!(),
        quote!(
            impl Consumer for Chat {
                type In = ChatIn;
                #[requires_auth]
                fn say(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
                    Ok(())
                }
            }
        ),
    );
    // The handler, without our attribute, in an impl of its own; a stub
    // `receive`, so that rustc does not report it missing; the error.
    assert!(
        output.contains(
            "impl Chat { fn say (& mut self , cx : & mut Cx < Self >) -> Result < () , Error > { Ok (()) } }"
        ),
        "{output}"
    );
    assert!(output.contains("async fn receive"), "{output}");
    assert!(output.contains("compile_error"), "{output}");
    assert!(!output.contains("requires_auth"), "{output}");
}

#[test]
fn not_an_impl() {
    let output = expanded(
        quote!(),
        quote!(
            struct Chat;
        ),
    );
    assert!(output.starts_with("struct Chat ;"), "{output}");
    assert!(output.contains("`#[handlers]` goes on the consumer's `impl Consumer for Chat"));
}
