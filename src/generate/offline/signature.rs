//! What calling a function takes: its receiver, a model of each parameter, or the reason the
//! engine cannot call it at all (`unsafe fn`, `async fn`, a `const` generic, a parameter with
//! no value source), said rather than skipped in silence.

use super::types::{InputType, NoValueSource, input_type};

/// How a method takes `self`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    Value,
    Ref,
    RefMut,
}

/// One parameter: its name as written (a pattern prints as `arg2`) and its model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub input: InputType,
}

/// A callable function's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPlan {
    pub receiver: Option<Receiver>,
    pub params: Vec<Param>,
}

/// The plan for `sig`, or every reason it cannot be called (all of them, so the user sees the
/// whole picture at once).
pub fn call_plan(sig: &syn::Signature) -> Result<CallPlan, Vec<String>> {
    let mut reasons = Vec::new();
    if matches!(sig.safety, syn::Safety::Unsafe(_)) {
        reasons.push("`unsafe fn`: its contract is not in its types".to_owned());
    }
    if sig.asyncness.is_some() {
        reasons.push("`async fn`: needs a runtime".to_owned());
    }
    if sig.variadic.is_some() {
        reasons.push("variadic".to_owned());
    }
    if sig.generics.const_params().next().is_some() {
        reasons.push("a const generic parameter".to_owned());
    }
    let mut receiver = None;
    let mut params = Vec::new();
    for (index, arg) in sig.inputs.iter().enumerate() {
        match arg {
            syn::FnArg::Receiver(r) => {
                receiver = Some(match &r.kind {
                    syn::ReceiverKind::Reference(_, _, Some(_)) => Receiver::RefMut,
                    syn::ReceiverKind::Reference(_, _, None) => Receiver::Ref,
                    syn::ReceiverKind::Value => Receiver::Value,
                    // `self: Box<Self>`, `self: Pin<&mut Self>`, ...
                    _ => {
                        reasons.push("a typed `self` receiver".to_owned());
                        Receiver::Value
                    }
                });
            }
            syn::FnArg::Typed(typed) => {
                let name = match &*typed.pat {
                    syn::Pat::Ident(ident) => ident.ident.to_string(),
                    _ => format!("arg{}", index + 1),
                };
                match input_type(&typed.ty, &sig.generics) {
                    Ok(input) => params.push(Param { name, input }),
                    Err(NoValueSource(why)) => reasons.push(format!("parameter `{name}`: {why}")),
                }
            }
        }
    }
    if reasons.is_empty() {
        Ok(CallPlan { receiver, params })
    } else {
        Err(reasons)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn plan(item: &str) -> Result<CallPlan, Vec<String>> {
        let item: syn::ImplItemFn = syn::parse_str(item).unwrap();
        call_plan(&item.sig)
    }

    #[test]
    fn a_method_takes_its_receiver_and_modelled_parameters() {
        let got = plan("pub fn push(&mut self, (a, b): (u8, u8), label: &str) {}").unwrap();
        assert_eq!(got.receiver, Some(Receiver::RefMut));
        let names: Vec<&str> = got.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["arg2", "label"]);
        assert_eq!(got.params[1].input, InputType::Str { owned: false });
    }

    #[test]
    fn every_reason_is_given_at_once() {
        let got = plan("async unsafe fn f<const N: usize>(r: impl std::io::Seek, n: u8) {}");
        assert_eq!(
            got.unwrap_err(),
            [
                "`unsafe fn`: its contract is not in its types",
                "`async fn`: needs a runtime",
                "a const generic parameter",
                "parameter `r`: `impl std::io::Seek`: no std type meets `std::io::Seek`",
            ]
        );
        assert!(plan("fn f(self: Box<Self>) {}").is_err());
        assert_eq!(
            plan("fn f(self) {}").unwrap().receiver,
            Some(Receiver::Value)
        );
    }
}
