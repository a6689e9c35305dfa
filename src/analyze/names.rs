//! Function paths as the analyzer names them (docs/analyze.md, "Identifiers"): how impl
//! and trait contexts name a method, and how a visibility is written.

use quote::ToTokens;
use syn::visit::Visit;
use syn::{Type, Visibility};

/// The item a method is defined in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Container {
    /// A free function, or a function nested in another function's body.
    None,
    /// `impl Type { ... }`
    Inherent { type_name: String },
    /// `impl Trait for Type { ... }`
    TraitImpl {
        type_name: String,
        trait_name: String,
    },
    /// `trait Trait { fn m() { default } }`
    TraitDef { trait_name: String },
}

/// The path of a function named `name` defined under `prefix` (the module path, or the
/// enclosing function's path for nested functions) inside `container`.
pub fn function_path(prefix: &str, container: &Container, name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    match container {
        Container::None => format!("{prefix}::{name}"),
        Container::Inherent { type_name } => format!("{prefix}::{type_name}::{name}"),
        Container::TraitImpl {
            type_name,
            trait_name,
        } => format!("{prefix}::<{type_name} as {trait_name}>::{name}"),
        Container::TraitDef { trait_name } => format!("{prefix}::{trait_name}::{name}"),
    }
}

/// The last segment of an impl's self type without generics: `Amount` for `Amount`,
/// `Wrapper` for `crate::x::Wrapper<T>`, `Foo` for `&'a Foo`. Types that are not paths (slices,
/// tuples, trait objects) print as rustfmt would: `[T]`, `(A, B)`, `dyn Trait`.
pub fn self_type_name(ty: &Type) -> String {
    match ty {
        Type::Path(type_path) => match type_path.path.segments.last() {
            Some(segment) => strip_raw(&segment.ident.to_string()).to_owned(),
            None => pretty_type(ty),
        },
        Type::Reference(reference) => self_type_name(&reference.elem),
        Type::Paren(paren) => self_type_name(&paren.elem),
        Type::Group(group) => self_type_name(&group.elem),
        Type::Ptr(ptr) => self_type_name(&ptr.elem),
        _ => pretty_type(ty),
    }
}

/// A trait path with its generic arguments as rustfmt prints them: `From<u64>`,
/// `std::ops::Index<usize>`, `Add<&'a Amount>`.
pub fn trait_display(path: &syn::Path) -> String {
    let printed = if has_verbatim(|v| v.visit_path(path)) {
        None
    } else {
        // prettyplease prints whole files only; print `impl PATH for X {}`, cut the trait out.
        let item: syn::ItemImpl = syn::parse_quote!(impl #path for __X {});
        let printed = unparse_item(syn::Item::Impl(item));
        let joined = join_wrapped_lines(&printed);
        joined
            .strip_prefix("impl ")
            .and_then(|rest| rest.strip_suffix(" for __X {}"))
            .map(str::to_owned)
    };
    strip_raw_prefixes(&printed.unwrap_or_else(|| path.to_token_stream().to_string()))
}

pub fn pretty_type(ty: &Type) -> String {
    let printed = if has_verbatim(|v| v.visit_type(ty)) {
        None
    } else {
        let item: syn::ItemType = syn::parse_quote!(type __X = #ty;);
        let printed = unparse_item(syn::Item::Type(item));
        let joined = join_wrapped_lines(&printed);
        joined
            .strip_prefix("type __X = ")
            .and_then(|rest| rest.strip_suffix(';'))
            .map(str::to_owned)
    };
    strip_raw_prefixes(&printed.unwrap_or_else(|| ty.to_token_stream().to_string()))
}

/// Whether a node holds syntax syn keeps as raw tokens (`dyn* T`, `builtin # offset_of`),
/// which prettyplease cannot print.
fn has_verbatim(walk: impl FnOnce(&mut VerbatimFinder)) -> bool {
    let mut finder = VerbatimFinder(false);
    walk(&mut finder);
    finder.0
}

struct VerbatimFinder(bool);

impl<'ast> syn::visit::Visit<'ast> for VerbatimFinder {
    fn visit_type(&mut self, ty: &'ast Type) {
        self.0 |= matches!(ty, Type::Verbatim(_));
        syn::visit::visit_type(self, ty);
    }

    fn visit_expr(&mut self, expr: &'ast syn::Expr) {
        self.0 |= matches!(expr, syn::Expr::Verbatim(_));
        syn::visit::visit_expr(self, expr);
    }
}

/// prettyplease wraps long lines; a path must be one line: `From<\n    Vec<u8>,\n>` →
/// `From<Vec<u8>>`.
fn join_wrapped_lines(printed: &str) -> String {
    let mut out = String::new();
    for line in printed.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let glue = !(out.is_empty()
            || out.ends_with(['<', '(', '['])
            || line.starts_with(['>', ')', ']']));
        if glue {
            out.push(' ');
        }
        out.push_str(line);
    }
    out.replace(",>", ">").replace(",)", ")").replace(",]", "]")
}

/// `r#match` → `match` throughout a printed path.
fn strip_raw_prefixes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("r#") {
        let before = rest[..index].chars().next_back();
        let raw_ident = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && rest[index + 2..].starts_with(|c: char| c.is_alphabetic() || c == '_');
        out.push_str(&rest[..index]);
        if !raw_ident {
            out.push_str("r#");
        }
        rest = &rest[index + 2..];
    }
    out.push_str(rest);
    out
}

/// One item as prettyplease prints it.
pub fn unparse_item(item: syn::Item) -> String {
    prettyplease::unparse(&syn::File {
        shebang: None,
        frontmatter: None,
        attrs: Vec::new(),
        items: vec![item],
    })
}

fn strip_raw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// A visibility as written: `pub`, `pub(crate)`, `pub(super)`, `pub(in a::b)`, or `private`.
pub fn visibility_display(vis: &Visibility) -> String {
    match vis {
        Visibility::Public(_) => "pub".to_owned(),
        Visibility::Restricted(restricted) => {
            let path = restricted
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            if restricted.in_token.is_some() {
                format!("pub(in {path})")
            } else {
                format!("pub({path})")
            }
        }
        Visibility::Inherited => "private".to_owned(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn self_type_name_takes_last_segment_without_generics() {
        assert_eq!(self_type_name(&ty("Amount")), "Amount");
        assert_eq!(
            self_type_name(&ty("crate::money::Wrapper<T, u8>")),
            "Wrapper"
        );
        assert_eq!(self_type_name(&ty("&'a mut Buffer<'a>")), "Buffer");
        assert_eq!(self_type_name(&ty("r#type")), "type");
    }

    #[test]
    fn self_type_name_prints_non_path_types_like_rustfmt() {
        assert_eq!(self_type_name(&ty("[T]")), "[T]");
        assert_eq!(self_type_name(&ty("(A,B)")), "(A, B)");
        assert_eq!(self_type_name(&ty("dyn  Error+Send")), "dyn Error + Send");
    }

    #[test]
    fn trait_display_keeps_generic_arguments_as_rustfmt_prints_them() {
        let path: syn::Path = syn::parse_str("From < u64 >").unwrap();
        assert_eq!(trait_display(&path), "From<u64>");
        let path: syn::Path = syn::parse_str("std::ops::Index<Range<usize>>").unwrap();
        assert_eq!(trait_display(&path), "std::ops::Index<Range<usize>>");
        let path: syn::Path = syn::parse_str("AsRef<[u8]>").unwrap();
        assert_eq!(trait_display(&path), "AsRef<[u8]>");
        let path: syn::Path = syn::parse_str("Add < & 'a Amount >").unwrap();
        assert_eq!(trait_display(&path), "Add<&'a Amount>");
    }

    #[test]
    fn long_trait_arguments_stay_on_one_line() {
        let path: syn::Path = syn::parse_str(
            "From<std::collections::HashMap<String, Vec<(u64, std::sync::Arc<std::sync::Mutex<Option<String>>>)>>>",
        )
        .unwrap();
        assert_eq!(
            trait_display(&path),
            "From<std::collections::HashMap<String, Vec<(u64, std::sync::Arc<std::sync::Mutex<Option<String>>>)>>>"
        );
    }

    #[test]
    fn raw_identifiers_lose_their_prefix_and_verbatim_syntax_does_not_panic() {
        let path: syn::Path = syn::parse_str("r#try<r#match>").unwrap();
        assert_eq!(trait_display(&path), "try<match>");
        let item: syn::ItemImpl = syn::parse_str("impl Tr for dyn* A {}").unwrap();
        assert!(self_type_name(&item.self_ty).contains('A'));
    }

    #[test]
    fn function_path_for_each_container() {
        assert_eq!(function_path("c::m", &Container::None, "f"), "c::m::f");
        let inherent = Container::Inherent {
            type_name: "Amount".into(),
        };
        assert_eq!(function_path("c::m", &inherent, "new"), "c::m::Amount::new");
        let trait_impl = Container::TraitImpl {
            type_name: "Amount".into(),
            trait_name: "From<u64>".into(),
        };
        assert_eq!(
            function_path("c::m", &trait_impl, "from"),
            "c::m::<Amount as From<u64>>::from"
        );
        let trait_def = Container::TraitDef {
            trait_name: "Shape".into(),
        };
        assert_eq!(function_path("c", &trait_def, "area"), "c::Shape::area");
        assert_eq!(
            function_path("c::f", &Container::None, "r#match"),
            "c::f::match"
        );
    }

    #[test]
    fn visibility_display_is_as_written() {
        let vis = |text: &str| visibility_display(&syn::parse_str::<Visibility>(text).unwrap());
        assert_eq!(vis("pub"), "pub");
        assert_eq!(vis("pub(crate)"), "pub(crate)");
        assert_eq!(vis("pub(super)"), "pub(super)");
        assert_eq!(vis("pub(in crate::a)"), "pub(in crate::a)");
        assert_eq!(vis(""), "private");
    }
}
