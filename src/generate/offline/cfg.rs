//! Whether a `#[cfg(...)]` is certainly off on the machine the tests build on: `windows` on
//! Linux, `target_os = "macos"`, `not(unix)`, a feature the default build leaves off. Anything
//! unknown counts as maybe on, so only code that cannot compile here is skipped before it is
//! tried.

use std::collections::BTreeSet;

/// `Some(false)` when the predicate is off here, `Some(true)` when on, `None` when unknown.
/// `features` are those the build enables, when known.
pub fn evaluate(predicate: &syn::Meta, features: Option<&BTreeSet<String>>) -> Option<bool> {
    match predicate {
        syn::Meta::Path(path) => {
            let name = path.get_ident()?.to_string();
            match name.as_str() {
                "unix" => Some(cfg!(unix)),
                "windows" => Some(cfg!(windows)),
                // Generated tests build as unit tests, with debug assertions.
                "test" | "debug_assertions" => Some(true),
                "miri" | "doc" | "doctest" => Some(false),
                _ => None,
            }
        }
        syn::Meta::NameValue(nv) => {
            let key = nv.path.get_ident()?.to_string();
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(value),
                ..
            }) = &nv.value
            else {
                return None;
            };
            let value = value.value();
            let here = match key.as_str() {
                "target_os" => std::env::consts::OS,
                "target_family" => std::env::consts::FAMILY,
                "target_arch" => std::env::consts::ARCH,
                "target_pointer_width" => {
                    if cfg!(target_pointer_width = "64") {
                        "64"
                    } else {
                        "32"
                    }
                }
                "panic" => "unwind",
                "feature" => return features.map(|f| f.contains(&value)),
                _ => return None,
            };
            Some(value == here)
        }
        syn::Meta::List(list) => {
            let name = list.path.get_ident()?.to_string();
            let inner: Vec<syn::Meta> = list
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .ok()?
                .into_iter()
                .collect();
            let values: Vec<Option<bool>> = inner.iter().map(|m| evaluate(m, features)).collect();
            match name.as_str() {
                "not" => match values.as_slice() {
                    [one] => one.map(|v| !v),
                    _ => None,
                },
                "all" => {
                    if values.contains(&Some(false)) {
                        Some(false)
                    } else if values.iter().all(|v| *v == Some(true)) {
                        Some(true)
                    } else {
                        None
                    }
                }
                "any" => {
                    if values.contains(&Some(true)) {
                        Some(true)
                    } else if values.iter().all(|v| *v == Some(false)) {
                        Some(false)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        }
    }
}

/// The first `#[cfg(...)]` of `attrs` that is certainly off here, as written.
pub fn off_here(attrs: &[syn::Attribute], features: Option<&BTreeSet<String>>) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .find_map(|attr| {
            let predicate: syn::Meta = attr.parse_args().ok()?;
            (evaluate(&predicate, features) == Some(false)).then(|| {
                use quote::ToTokens;
                format!("#[cfg({})]", predicate.to_token_stream())
            })
        })
}

#[cfg(test)]
mod test {
    use super::*;

    fn off(attr: &str) -> Option<String> {
        off_with(attr, None)
    }

    fn off_with(attr: &str, features: Option<&BTreeSet<String>>) -> Option<String> {
        let item: syn::ItemFn = syn::parse_str(&format!("{attr} fn f() {{}}")).unwrap();
        off_here(&item.attrs, features)
    }

    #[test]
    fn features_count_when_known() {
        let on: BTreeSet<String> = ["std".to_owned(), "u128".to_owned()].into();
        assert!(off_with("#[cfg(not(feature = \"u128\"))]", Some(&on)).is_some());
        assert!(off_with("#[cfg(feature = \"serde\")]", Some(&on)).is_some());
        assert!(off_with("#[cfg(feature = \"std\")]", Some(&on)).is_none());
        assert!(off_with("#[cfg(feature = \"serde\")]", None).is_none());
    }

    #[test]
    fn only_what_cannot_compile_here_is_off() {
        if cfg!(unix) {
            assert!(off("#[cfg(windows)]").is_some());
            assert!(off("#[cfg(not(unix))]").is_some());
            assert!(off("#[cfg(all(windows, feature = \"x\"))]").is_some());
            assert!(off("#[cfg(target_os = \"windows\")]").is_some());
        }
        assert!(off("#[cfg(feature = \"term_size\")]").is_none());
        assert!(off("#[cfg(any(unix, windows))]").is_none());
        assert!(off("#[cfg(any(feature = \"a\", miri))]").is_none());
        assert!(off("#[inline]").is_none());
    }
}
