//! Type and const parameters of a function under test: the stand-in each takes (a crate type
//! implementing its crate-trait bounds, the types `Self` implements a where-bound for), the
//! turbofish, and the substitution into its signature.

use super::*;

/// The impl's generics then the function's, as one list.
pub(super) fn merged_generics(outer: &syn::Generics, inner: &syn::Generics) -> syn::Generics {
    let mut merged = outer.clone();
    merged.params.extend(inner.params.iter().cloned());
    match (&mut merged.where_clause, &inner.where_clause) {
        (Some(outer), Some(inner)) => outer.predicates.extend(inner.predicates.iter().cloned()),
        (None, Some(inner)) => merged.where_clause = Some(inner.clone()),
        _ => {}
    }
    merged
}

/// `::<i64, &str>` when the function has type parameters and no `impl Trait` argument (which
/// forbids one); empty otherwise.
pub(super) fn turbofish(
    sig: &syn::Signature,
    bound: &[(String, String)],
    consts: &std::collections::HashMap<String, u64>,
) -> Result<String, Vec<String>> {
    if sig.generics.type_params().next().is_none() && consts.is_empty() {
        return Ok(String::new());
    }
    let impl_trait = sig.inputs.iter().any(|arg| {
        matches!(arg, syn::FnArg::Typed(t) if t.ty.to_token_stream().to_string().contains("impl "))
    });
    if impl_trait {
        return if consts.is_empty() {
            Ok(String::new())
        } else {
            Err(vec![
                "a const generic beside an `impl Trait` argument: no turbofish can name it".into(),
            ])
        };
    }
    let types = stand_in_types(&sig.generics, bound).map_err(|e| vec![e.0])?;
    let mut types = types.into_iter();
    // In the order declared: types by their stand-ins, consts by their values.
    let mut codes = Vec::new();
    for param in &sig.generics.params {
        match param {
            syn::GenericParam::Type(_) => codes.extend(types.next().map(|(_, code)| code)),
            syn::GenericParam::Const(c) => match consts.get(&c.ident.to_string()) {
                Some(value) => codes.push(value.to_string()),
                None => return Err(vec!["a const generic parameter".into()]),
            },
            syn::GenericParam::Lifetime(_) => {}
        }
    }
    Ok(format!("::<{}>", codes.join(", ")))
}

/// Type parameters replaced by types (`(name, type code)`) and lifetimes by `'_`.
pub(super) struct Substitute<'a>(pub(super) &'a [(String, String)]);

impl VisitMut for Substitute<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(path) = ty
            && path.qself.is_none()
            && let Some(ident) = path.path.get_ident()
            && let Some((_, code)) = self.0.iter().find(|(name, _)| ident == name)
            && let Ok(replacement) = crate::syntax::parse_str::<syn::Type>(code)
        {
            *ty = replacement;
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        if lifetime.ident != "static" {
            *lifetime = syn::Lifetime::new("'_", lifetime.span());
        }
    }
}

/// A type with type parameters replaced by their stand-ins and lifetimes by `'_`, printed.
pub(super) fn substituted(ty: &syn::Type, stand_ins: &[(String, String)]) -> String {
    let mut ty = ty.clone();
    Substitute(stand_ins).visit_type_mut(&mut ty);
    crate::analyze::names::pretty_type(&ty)
}

/// Names of std traits: a crate trait of the same name cannot be told apart from them by
/// name, so it is not bound to an implementor.
pub(super) const STD_TRAIT_NAMES: &[&str] = &[
    "Index",
    "IndexMut",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "Iterator",
    "IntoIterator",
    "Display",
    "Debug",
    "Default",
    "Clone",
    "Copy",
    "Hash",
    "Hasher",
    "Read",
    "Write",
    "Seek",
    "Deref",
    "DerefMut",
    "AsRef",
    "AsMut",
    "Borrow",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Rem",
    "Neg",
    "Not",
    "FromStr",
    "ToString",
    "Extend",
    "Error",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Sum",
    "Product",
];

/// Traits every type has or that no impl spells out: not a reason to pick one type over another.
pub(super) const AUTO_TRAITS: &[&str] = &["Send", "Sync", "Sized", "Unpin", "?Sized"];

/// For each type parameter bounded by a trait of the crate, a crate type implementing every
/// one of its bounds that the engine can make a value of, as `(name, path)`.
/// A parameter only `Self`'s bounds constrain (`where Self: Contains<T>`) takes, in turn, the
/// types `Self` implements the trait for. Past the last choice of every parameter,
/// `NO_FURTHER_IMPLEMENTOR`.
pub(super) fn crate_trait_bindings(
    generics: &[&syn::Generics],
    maker: &Constructor,
    self_ty: Option<&syn::Type>,
    choice: usize,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    // Whether some parameter has a `choice`th implementor: past that, nothing new is made.
    let mut any_choice = choice == 0;
    for generics in generics {
        for param in generics.type_params() {
            let name = param.ident.to_string();
            let mut bounds: Vec<&syn::Path> = param
                .bounds
                .iter()
                .filter_map(|b| match b {
                    syn::TypeParamBound::Trait(t) => Some(&t.path),
                    _ => None,
                })
                .collect();
            if let Some(clause) = &generics.where_clause {
                for predicate in &clause.predicates {
                    if let syn::WherePredicate::Type(typed) = predicate
                        && matches!(&typed.bounded_ty, syn::Type::Path(p) if p.path.is_ident(&name))
                    {
                        bounds.extend(typed.bounds.iter().filter_map(|b| match b {
                            syn::TypeParamBound::Trait(t) => Some(&t.path),
                            _ => None,
                        }));
                    }
                }
            }
            let traits: Vec<String> = bounds
                .iter()
                .filter_map(|p| p.segments.last().map(|s| s.ident.to_string()))
                .filter(|t| !AUTO_TRAITS.contains(&t.as_str()))
                .collect();
            // Only bounds naming a crate trait: std bounds have std stand-ins.
            let crate_traits: Vec<&String> = traits
                .iter()
                .filter(|t| maker.index.defines_trait(t) && !STD_TRAIT_NAMES.contains(&t.as_str()))
                .collect();
            if crate_traits.is_empty() {
                if bounds.is_empty()
                    && let Some(arguments) = self_bound_arguments(generics, &name, self_ty, maker)?
                {
                    any_choice |= choice < arguments.len();
                    if let Some(argument) = arguments.get(choice).or(arguments.last()) {
                        out.push((name, argument.clone()));
                    }
                }
                continue;
            }
            let candidates = maker.index.implementors(crate_traits[0]);
            let fitting: Vec<&str> = candidates
                .into_iter()
                .filter(|ty| {
                    traits.iter().all(|t| {
                        maker.index.implements(ty, maker.module, t)
                            || implements_with_args(maker, ty, t)
                    }) && maker
                        .index
                        .type_def(ty, maker.module)
                        .is_some_and(|d| !d.has_generics && d.public)
                        && !maker.constructions(ty).is_empty()
                })
                .collect();
            any_choice |= choice < fitting.len();
            let chosen = fitting.get(choice).or(fitting.last());
            if let Some(ty) = chosen
                && let Some(def) = maker.index.type_def(ty, maker.module)
            {
                out.push((name, def.path.clone()));
            }
        }
    }
    if any_choice {
        Ok(out)
    } else {
        Err(NO_FURTHER_IMPLEMENTOR.to_owned())
    }
}

/// For a type parameter `name` that a `where Self: Trait<.., name, ..>` (or `where Type:`
/// naming the self type) constrains, the types the self type implements `Trait` for, at that
/// argument; `None` when no such bound names it, an error when the crate has no such impl.
pub(super) fn self_bound_arguments(
    generics: &syn::Generics,
    name: &str,
    self_ty: Option<&syn::Type>,
    maker: &Constructor,
) -> Result<Option<Vec<String>>, String> {
    let (Some(clause), Some(self_ty)) = (&generics.where_clause, self_ty) else {
        return Ok(None);
    };
    let self_name = crate::analyze::names::self_type_name(self_ty);
    for predicate in &clause.predicates {
        let syn::WherePredicate::Type(typed) = predicate else {
            continue;
        };
        let syn::Type::Path(bounded) = &typed.bounded_ty else {
            continue;
        };
        let is_self = bounded.path.is_ident("Self")
            || bounded
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == last_segment(&self_name));
        if !is_self {
            continue;
        }
        for bound in &typed.bounds {
            let syn::TypeParamBound::Trait(bound) = bound else {
                continue;
            };
            let Some(segment) = bound.path.segments.last() else {
                continue;
            };
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                continue;
            };
            let position = args.args.iter().position(|arg| {
                matches!(arg, syn::GenericArgument::Type(syn::Type::Path(p)) if p.path.is_ident(name))
            });
            let Some(position) = position else {
                continue;
            };
            let trait_name = segment.ident.to_string();
            let arguments =
                maker
                    .index
                    .trait_arguments(&self_name, maker.module, &trait_name, position);
            if arguments.is_empty() {
                return Err(format!(
                    "type parameter `{name}`: no `impl {trait_name}<..> for {self_name}` names a type for it"
                ));
            }
            return Ok(Some(arguments));
        }
    }
    Ok(None)
}

/// `Add<TimeDelta>` recorded for a type satisfies a bound written `Add`.
pub(super) fn implements_with_args(maker: &Constructor, ty: &str, trait_name: &str) -> bool {
    maker
        .index
        .implementors(trait_name)
        .contains(&last_segment(ty))
}
