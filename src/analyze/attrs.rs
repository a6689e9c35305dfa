//! Attributes the analyzer acts on: test code (`#[cfg(test)]`, `#[test]`) and `#[path]`.

use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Lit, Meta, Token};

/// Whether items with these attributes are test code: under a `cfg` that needs `test`, or
/// marked as a test or benchmark function (`#[test]`, `#[tokio::test]`, `#[rstest]`, ...).
pub fn is_test_code(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.is_ident("cfg") {
            return match &attr.meta {
                Meta::List(list) => list
                    .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .map(|predicates| predicates.iter().any(cfg_requires_test))
                    .unwrap_or(false),
                _ => false,
            };
        }
        if path.is_ident("cfg_attr") {
            // `#[cfg_attr(test, test)]`: a test when testing, and only then compiled as one.
            return cfg_attr_parts(attr).is_some_and(|(predicate, applied)| {
                cfg_requires_test(&predicate) && applied.iter().any(|m| m.path().is_ident("test"))
            });
        }
        let last = path.segments.last().map(|s| s.ident.to_string());
        matches!(
            last.as_deref(),
            Some("test" | "bench" | "rstest" | "test_case" | "quickcheck" | "proptest")
        )
    })
}

/// Whether a `cfg` predicate can only hold when `test` is set.
fn cfg_requires_test(predicate: &Meta) -> bool {
    match predicate {
        Meta::Path(path) => path.is_ident("test"),
        Meta::List(list) => {
            let Ok(inner) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                return false;
            };
            if list.path.is_ident("all") {
                inner.iter().any(cfg_requires_test)
            } else if list.path.is_ident("any") {
                !inner.is_empty() && inner.iter().all(cfg_requires_test)
            } else {
                // `not(test)` is exactly the code that is not test code.
                false
            }
        }
        Meta::NameValue(_) => false,
    }
}

/// The value of a `#[path = "..."]` attribute.
pub fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => Some(s.value()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    })
}

/// A `#[cfg_attr(PREDICATE, ATTR, ...)]` read as its predicate and the attributes it applies;
/// `None` for any other attribute or one that does not parse.
pub fn cfg_attr_parts(attr: &Attribute) -> Option<(Meta, Vec<Meta>)> {
    if !attr.path().is_ident("cfg_attr") {
        return None;
    }
    let Meta::List(list) = &attr.meta else {
        return None;
    };
    let mut metas = list
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?
        .into_iter();
    let predicate = metas.next()?;
    Some((predicate, metas.collect()))
}

/// The paths of `#[cfg_attr(PREDICATE, path = "...")]` attributes: the files a module is in
/// under some cfg.
pub fn cfg_attr_paths(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(cfg_attr_parts)
        .flat_map(|(_, applied)| applied)
        .filter_map(|meta| match meta {
            Meta::NameValue(nv) if nv.path.is_ident("path") => match nv.value {
                Expr::Lit(lit) => match lit.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    fn attrs(text: &str) -> Vec<Attribute> {
        let item: syn::ItemFn = syn::parse_str(&format!("{text} fn f() {{}}")).unwrap();
        item.attrs
    }

    #[test]
    fn cfg_test_and_test_attributes_are_test_code() {
        assert!(is_test_code(&attrs("#[cfg(test)]")));
        assert!(is_test_code(&attrs("#[test]")));
        assert!(is_test_code(&attrs(
            "#[tokio::test(flavor = \"multi_thread\")]"
        )));
        assert!(is_test_code(&attrs("#[cfg(all(test, feature = \"x\"))]")));
        assert!(is_test_code(&attrs("#[cfg(any(test, test))]")));
        assert!(is_test_code(&attrs("#[cfg_attr(test, test)]")));
    }

    #[test]
    fn not_test_and_unrelated_cfgs_are_not_test_code() {
        assert!(!is_test_code(&attrs("#[cfg(not(test))]")));
        assert!(!is_test_code(&attrs("#[cfg(any(test, feature = \"x\"))]")));
        assert!(!is_test_code(&attrs("#[cfg(unix)]")));
        assert!(!is_test_code(&attrs("#[inline]")));
        assert!(!is_test_code(&attrs("#[cfg_attr(test, derive(Debug))]")));
    }

    #[test]
    fn cfg_attr_paths_are_read_from_each_cfg_attr() {
        let attrs = attrs(
            "#[cfg_attr(unix, path = \"sys_unix.rs\")] #[cfg_attr(windows, inline, path = \"sys_win.rs\")]",
        );
        assert_eq!(cfg_attr_paths(&attrs), ["sys_unix.rs", "sys_win.rs"]);
    }

    #[test]
    fn path_attr_reads_the_string() {
        assert_eq!(
            path_attr(&attrs("#[path = \"x/y.rs\"]")).as_deref(),
            Some("x/y.rs")
        );
        assert_eq!(path_attr(&attrs("#[inline]")), None);
    }
}
