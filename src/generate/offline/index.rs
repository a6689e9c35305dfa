//! The crate as the offline engine sees it: each function's syntax, found by the file and line
//! `analyze` gives, and the crate's types with what the engine can make them from (aliases,
//! structs with public fields, enum variants, constructors, `Default`, `From`, `FromStr`,
//! `Debug`).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use syn::spanned::Spanned;

use crate::analyze::Analysis;
use crate::analyze::attrs::is_test_code;
use crate::analyze::source::{load_source, prepare_for_parse};

/// Where a function is defined.
#[derive(Clone)]
pub enum Container {
    Free,
    /// `impl Type { .. }`: the self type and the impl's generics.
    Inherent {
        self_ty: syn::Type,
        generics: syn::Generics,
    },
    /// `impl Trait for Type { .. }`.
    TraitImpl {
        self_ty: syn::Type,
        trait_path: syn::Path,
        generics: syn::Generics,
    },
    /// A default method of a trait: called through a crate type that implements it. The
    /// trait's name and path (`crate::a::Trait`), and whether it has generics.
    TraitDefault {
        trait_name: String,
        trait_path: String,
        generic: bool,
    },
}

/// A function's syntax.
#[derive(Clone)]
pub struct FnSyntax {
    pub attrs: Vec<syn::Attribute>,
    pub sig: syn::Signature,
    pub block: syn::Block,
    pub container: Container,
    /// Whether the function is nested in another's body (not callable from a test).
    pub nested: bool,
    /// A `#[cfg]` on it, its impl or an enclosing inline module that is off on this machine.
    pub cfg_off: Option<String>,
    /// The module it is in, crate-relative (`crate::a`).
    pub module: String,
}

/// Lifetimes taken out of a type: references lose theirs, other places get `'_`.
struct Unlifetimed;

impl syn::visit_mut::VisitMut for Unlifetimed {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        reference.lifetime = None;
        syn::visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        *lifetime = syn::Lifetime::new("'_", lifetime.span());
    }
}

/// `ty` with array lengths named in `values` written out (`[u8; N]` → `[u8; 4]`).
pub fn lengths_written(ty: &syn::Type, values: &HashMap<String, u64>) -> syn::Type {
    struct Lengths<'a>(&'a HashMap<String, u64>);
    impl syn::visit_mut::VisitMut for Lengths<'_> {
        fn visit_type_array_mut(&mut self, array: &mut syn::TypeArray) {
            if let syn::Expr::Path(path) = &array.len
                && let Some(ident) = path.path.segments.last()
                && let Some(value) = self.0.get(&ident.ident.to_string())
            {
                array.len = syn::parse_quote!(#value);
            }
            syn::visit_mut::visit_type_array_mut(self, array);
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Lengths(values), &mut ty);
    ty
}

/// What a struct or enum is made of.
#[derive(Clone)]
pub enum Shape {
    Alias(Box<syn::Type>),
    /// Fields as `(name, type)`, tuple fields named `0`, `1`, ...; `open` when every field is
    /// public and nothing forbids a literal (`#[non_exhaustive]`).
    Struct {
        fields: Vec<(String, syn::Type)>,
        tuple: bool,
        open: bool,
    },
    /// Variants with their field types (`None` for struct-like variants).
    Enum {
        variants: Vec<(String, Option<Vec<syn::Type>>)>,
    },
}

/// A struct, enum or type alias of the crate.
#[derive(Clone)]
pub struct TypeDef {
    pub name: String,
    /// The path a test anywhere in the crate can name it by: `crate::money::Cents`.
    pub path: String,
    pub public: bool,
    /// `pub` or `pub(..)`: nameable from other modules of the crate (as far as the engine
    /// can tell).
    pub crate_visible: bool,
    pub has_generics: bool,
    pub shape: Shape,
    /// Whether it holds `Cell`, `RefCell`, `Mutex`, atomics or the like: `&self` may mutate.
    pub interior_mutability: bool,
}

/// An associated function of an inherent impl.
#[derive(Clone)]
pub struct AssocFn {
    pub sig: syn::Signature,
    /// The module of the impl, which resolves the type's name.
    pub impl_module: String,
    /// The impl's self type and whether the impl is generic (`impl<Tz> DateTime<Tz>`): a
    /// constructor of `impl DateTime<Utc>` makes no `DateTime<FixedOffset>`.
    pub impl_self: syn::Type,
    pub impl_generics: Vec<String>,
    /// `pub` or `pub(..)`: callable from other modules of the crate.
    pub public: bool,
    /// Plain `pub`: part of the type's API.
    pub exported: bool,
    pub attrs: Vec<syn::Attribute>,
}

/// A free function that returns a crate type (`percent_decode(..) -> PercentDecode`).
#[derive(Clone)]
pub struct Producer {
    /// How a test names it: `crate::a::percent_decode`.
    pub path: String,
    pub module: String,
    pub sig: syn::Signature,
}

/// The whole index.
#[derive(Default)]
pub struct CrateIndex {
    /// By file and line; a `macro_rules!` list writes several functions at one line.
    functions: HashMap<(String, u32), Vec<FnSyntax>>,
    /// By name; several modules may define the same name.
    types: HashMap<String, Vec<TypeDef>>,
    inherent: HashMap<String, Vec<AssocFn>>,
    /// Traits implemented or derived, by type name: `Default`, `Debug`, `From<u64>`, `FromStr`.
    traits: HashMap<String, Vec<(String, String)>>,
    /// Free functions by the last segment of the type they return.
    producers: HashMap<String, Vec<Producer>>,
    /// Modules declared (`mod x;`) under a `#[cfg]` that is off here, with that cfg.
    off_modules: Vec<(String, String)>,
    /// Traits the crate defines, by name.
    defined_traits: BTreeSet<String>,
    /// The doc comments of the crate's trait methods, by (trait, method): an impl method
    /// without docs has its trait method's (as rustdoc shows them).
    trait_method_docs: HashMap<(String, String), Vec<syn::Attribute>>,
    /// Structs' and enums' doc comments by type name: their examples show valid input.
    type_docs: HashMap<String, String>,
    /// `static` items and `thread_local!` keys, by name.
    statics: BTreeSet<String>,
    /// Names each module imports from std, core or alloc (`use std::time::Duration`): there
    /// the name means the std type even if the crate defines one like it.
    std_imports: BTreeSet<(String, String)>,
    /// Enum variants and struct fields whose docs state a condition on them ("needs to
    /// contain at least two elements"): a value made by hand could break it.
    constrained: BTreeSet<(String, String)>,
    /// Integer constants (`const LEN: usize = 6;`), for array lengths.
    consts: HashMap<String, u64>,
    /// Constants whose literal values are mined where they are named (`MAGIC`, `UNITS`).
    const_values: HashMap<String, super::mined::ConstValue>,
    /// Public associated constants of a type's own type (`impl Prerelease { pub const
    /// EMPTY: Self }`) in non-generic impls, by type name: (impl module, constant).
    self_consts: HashMap<String, Vec<(String, String)>>,
    /// Modules declared without `pub`: nameable only inside their parent.
    private_modules: BTreeSet<String>,
    /// Modules declared without a plain `pub` (`pub(crate)` included): not the crate's API.
    unexported_modules: BTreeSet<String>,
    /// Names a `pub use` re-exports, and modules a `pub use path::*` re-exports whole.
    reexported_names: BTreeSet<String>,
    reexported_globs: BTreeSet<String>,
    /// A crate root says `#![no_std]` (perhaps under `cfg_attr`): tests must bring std's
    /// prelude themselves.
    pub no_std: bool,
}

/// A file the index could not read, said as a warning: its functions are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexWarning {
    pub file: String,
    pub message: String,
}

const INTERIOR: &[&str] = &[
    "Cell",
    "RefCell",
    "OnceCell",
    "Mutex",
    "RwLock",
    "UnsafeCell",
    "AtomicBool",
    "AtomicUsize",
    "AtomicIsize",
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "AtomicPtr",
];

impl CrateIndex {
    /// Index the files `analysis` read; `root` is the workspace root they are relative to.
    /// `features` are the features each crate (by name) is built with.
    pub fn build(
        root: &Path,
        analysis: &Analysis,
        features: &HashMap<String, BTreeSet<String>>,
    ) -> (CrateIndex, Vec<IndexWarning>) {
        let mut index = CrateIndex::default();
        let mut warnings = Vec::new();
        for file in &analysis.files {
            // Files without a module are test code: nothing there is the crate's API.
            let Some(module) = analysis.file_modules.get(file).cloned() else {
                continue;
            };
            let text = match load_source(&root.join(file)) {
                Ok(text) => prepare_for_parse(text),
                Err(err) => {
                    warnings.push(IndexWarning {
                        file: file.clone(),
                        message: err.message,
                    });
                    continue;
                }
            };
            match crate::syntax::parse_file(&text) {
                Ok(parsed) => {
                    let crate_name = module.split("::").next().unwrap_or_default();
                    if !module.contains("::")
                        && says_no_std(&parsed.attrs, features.get(crate_name))
                    {
                        index.no_std = true;
                    }
                    if doc_hidden(&parsed.attrs) {
                        index.unexported_modules.insert(crate_relative(&module));
                    }
                    let mut walker = Walker {
                        index: &mut index,
                        file,
                        module: crate_relative(&module),
                        cfg_off: None,
                        features: features.get(crate_name),
                        macros: Default::default(),
                    };
                    walker.items(&parsed.items, false);
                }
                // The analysis said so already, with the line.
                Err(_) if analysis.errors.iter().any(|e| e.file == *file) => {}
                Err(err) => warnings.push(IndexWarning {
                    file: file.clone(),
                    message: format!("does not parse: {err}"),
                }),
            }
        }
        (index, warnings)
    }

    /// The function `analyze` reported at `file:line`.
    pub fn function(&self, file: &str, line: u32) -> Option<&FnSyntax> {
        self.functions.get(&(file.to_owned(), line))?.first()
    }

    /// The syntax of `function`: by its file and line, and among the functions a macro
    /// wrote there, the one whose impl's self type its path names (`<i64 as Digits>`).
    pub fn function_of(&self, function: &crate::analyze::Function) -> Option<&FnSyntax> {
        let all = self
            .functions
            .get(&(function.file.clone(), function.line))?;
        if all.len() == 1 {
            return all.first();
        }
        all.iter().find(|syntax| match &syntax.container {
            Container::TraitImpl { self_ty, .. } | Container::Inherent { self_ty, .. } => {
                let ty = crate::analyze::names::pretty_type(self_ty);
                function.path.contains(&format!("<{ty} as "))
                    || function.path.contains(&format!("::{ty}::"))
            }
            _ => false,
        })
    }

    /// The `#[cfg]` that keeps `function` from compiling here, if one does: its own, its
    /// impl's, an enclosing module's.
    pub fn cfg_off(&self, function: &FnSyntax) -> Option<String> {
        function.cfg_off.clone().or_else(|| {
            self.off_modules
                .iter()
                .find(|(module, _)| {
                    function.module == *module
                        || function.module.starts_with(&format!("{module}::"))
                })
                .map(|(_, cfg)| cfg.clone())
        })
    }

    /// A crate type by the last segment of a written path, as code in `module`
    /// (`crate::money`) sees it: the one defined there, else the only one of that name.
    pub fn type_def(&self, written: &str, module: &str) -> Option<&TypeDef> {
        let candidates = self.types.get(last_segment(written))?;
        // A qualified name (`bytes::Quoter`) picks the type whose path ends that way.
        let written_path = written.split('<').next().unwrap_or(written).trim();
        if written_path.contains("::") {
            let suffix = format!("::{}", written_path.trim_start_matches("crate::"));
            let matching: Vec<&TypeDef> = candidates
                .iter()
                .filter(|t| t.path.ends_with(&suffix))
                .collect();
            if let [only] = matching.as_slice() {
                return Some(only);
            }
        }
        let local = candidates.iter().find(|t| {
            t.path
                .rsplit_once("::")
                .is_some_and(|(defined_in, _)| defined_in == module)
        });
        match (local, candidates.as_slice()) {
            (Some(local), _) => Some(local),
            (None, [only]) => Some(only),
            _ => None,
        }
    }

    /// The public associated constants of the type `written` names in `module` that are
    /// values of it (`EMPTY`).
    pub fn self_consts(&self, written: &str, module: &str) -> Vec<&str> {
        let name = last_segment(written);
        let wanted = self.type_def(written, module);
        self.self_consts
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(impl_module, _)| self.same_type(name, impl_module, wanted))
            .map(|(_, constant)| constant.as_str())
            .collect()
    }

    /// Whether an impl or derive written in `impl_module` for a type named `name` is for
    /// `wanted` (several modules may define types of one name; unresolvable means yes).
    fn same_type(&self, name: &str, impl_module: &str, wanted: Option<&TypeDef>) -> bool {
        match wanted {
            None => true,
            Some(def) => self
                .type_def(name, impl_module)
                .is_none_or(|found| found.path == def.path),
        }
    }

    /// The inherent associated functions of the type `written` names in `module`.
    pub fn assoc_fns(&self, written: &str, module: &str) -> Vec<&AssocFn> {
        let name = last_segment(written);
        let wanted = self.type_def(written, module);
        self.inherent
            .get(name)
            .into_iter()
            .flatten()
            .filter(|f| self.same_type(name, &f.impl_module, wanted))
            .collect()
    }

    /// Whether the type `written` names in `module` implements or derives a trait, by the
    /// trait's printed name (`Default`, `Debug`, `FromStr`, `From<u64>`).
    pub fn implements(&self, written: &str, module: &str, trait_name: &str) -> bool {
        self.traits_of(written, module).any(|t| t == trait_name)
    }

    /// The type arguments at `position` of every `impl Trait<..> for` the type `written`
    /// names (`Contains<&IpAddr>` and `Contains<&IpNet>` give `&IpAddr` and `&IpNet`).
    pub fn trait_arguments(
        &self,
        written: &str,
        module: &str,
        trait_name: &str,
        position: usize,
    ) -> Vec<String> {
        let mut out: Vec<String> = self
            .traits_of(written, module)
            .filter(|t| t.split('<').next() == Some(trait_name))
            .filter_map(|t| {
                let path: syn::Path = crate::syntax::parse_str(t).ok()?;
                let syn::PathArguments::AngleBracketed(args) = &path.segments.last()?.arguments
                else {
                    return None;
                };
                match args.args.iter().nth(position)? {
                    syn::GenericArgument::Type(ty) => {
                        // The impl's lifetimes mean nothing at a call: `&'a IpNet` is `&IpNet`.
                        let mut ty = ty.clone();
                        syn::visit_mut::VisitMut::visit_type_mut(&mut Unlifetimed, &mut ty);
                        Some(crate::analyze::names::pretty_type(&ty))
                    }
                    _ => None,
                }
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn traits_of<'a>(&'a self, written: &str, module: &str) -> impl Iterator<Item = &'a str> {
        let name = last_segment(written).to_owned();
        let wanted = self.type_def(written, module);
        self.traits
            .get(&name)
            .into_iter()
            .flatten()
            .filter(move |(_, impl_module)| self.same_type(&name, impl_module, wanted))
            .map(|(t, _)| t.as_str())
    }

    /// Whether code in `module` can reach into `path`'s module: no private module on the way
    /// is outside `module`'s ancestry.
    pub fn module_reachable(&self, path_module: &str, module: &str) -> bool {
        let mut prefix = String::new();
        for segment in path_module.split("::") {
            let parent = prefix.clone();
            prefix = if prefix.is_empty() {
                segment.to_owned()
            } else {
                format!("{prefix}::{segment}")
            };
            if !parent.is_empty()
                && self.private_modules.contains(&prefix)
                && module != parent
                && !module.starts_with(&format!("{parent}::"))
            {
                return false;
            }
        }
        true
    }

    /// Whether an item named `name` in `module` is part of the crate's public API: every
    /// module on the way is `pub`, or a `pub use` re-exports it (by name or by glob).
    pub fn exported(&self, module: &str, names: &[&str]) -> bool {
        if names.iter().any(|n| self.reexported_names.contains(*n))
            || self.reexported_globs.contains(module)
        {
            return true;
        }
        let mut prefix = String::new();
        for segment in module.split("::") {
            prefix = if prefix.is_empty() {
                segment.to_owned()
            } else {
                format!("{prefix}::{segment}")
            };
            if self.unexported_modules.contains(&prefix) {
                return false;
            }
        }
        true
    }

    /// The doc comment of the struct or enum named `name` (by its last segment), if any.
    pub fn type_doc(&self, name: &str) -> Option<&str> {
        self.type_docs.get(last_segment(name)).map(String::as_str)
    }

    /// The literal value of the crate's constant `name`, if it has one.
    pub fn const_value(&self, name: &str) -> Option<&super::mined::ConstValue> {
        self.const_values.get(name)
    }

    /// `ty` with array lengths named by the crate's integer constants written out
    /// (`[u8; LEN]` → `[u8; 6]`), so a value can be made.
    pub fn with_const_lengths(&self, ty: &syn::Type) -> syn::Type {
        lengths_written(ty, &self.consts)
    }

    /// The names of the crate's `static` items and `thread_local!` keys.
    pub fn statics(&self) -> &BTreeSet<String> {
        &self.statics
    }

    /// Free functions returning the type `written` names in `module`.
    pub fn producers(&self, written: &str, module: &str) -> Vec<&Producer> {
        let name = last_segment(written);
        let wanted = self.type_def(written, module);
        self.producers
            .get(name)
            .into_iter()
            .flatten()
            .filter(|p| self.same_type(name, &p.module, wanted))
            .collect()
    }

    /// The attributes of a crate trait's method, for its doc comment.
    pub fn trait_method_attrs(&self, trait_name: &str, method: &str) -> &[syn::Attribute] {
        self.trait_method_docs
            .get(&(trait_name.to_owned(), method.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether the docs of `member` (a variant or field) of type `type_name` state a
    /// condition on it.
    pub fn constrained(&self, type_name: &str, member: &str) -> bool {
        self.constrained
            .contains(&(type_name.to_owned(), member.to_owned()))
    }

    /// Whether `module` imports `name` from std, core or alloc.
    pub fn imports_from_std(&self, module: &str, name: &str) -> bool {
        self.std_imports
            .contains(&(module.to_owned(), name.to_owned()))
    }

    /// Whether the crate defines a trait of this name.
    pub fn defines_trait(&self, name: &str) -> bool {
        self.defined_traits.contains(name)
    }

    /// Types that implement (or derive) a trait, by the trait's last segment without
    /// arguments (`TimeZone`).
    pub fn implementors(&self, trait_name: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .traits
            .iter()
            .filter(|(_, traits)| {
                traits
                    .iter()
                    .any(|(t, _)| t.split('<').next().unwrap_or(t) == trait_name)
            })
            .map(|(ty, _)| ty.as_str())
            .collect();
        out.sort_unstable();
        out
    }

    /// The `T` of every `impl From<T> for Type`.
    pub fn from_sources(&self, written: &str, module: &str) -> Vec<syn::Type> {
        self.traits_of(written, module)
            .filter_map(|t| t.strip_prefix("From<")?.strip_suffix('>'))
            .filter_map(|inner| crate::syntax::parse_str(inner).ok())
            .collect()
    }
}

/// The type a function returns, by last segment, seen through `Result<T, _>` and
/// `Option<T>`: `PercentDecode` for `-> PercentDecode<'a>`.
fn returned_type_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let name = last.ident.to_string();
    if matches!(name.as_str(), "Result" | "Option")
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return returned_type_name(inner);
    }
    Some(name)
}

/// `#![no_std]`, or `#![cfg_attr(PREDICATE, no_std)]` unless the predicate is off when the
/// tests build (`not(any(feature = "std", test))`, or `not(feature = "std")` with `std` among
/// the crate's `features`): then std is there and bringing it in again is not idiomatic (a
/// crate that denies `unused_extern_crates` would not build its tests).
fn says_no_std(attrs: &[syn::Attribute], features: Option<&BTreeSet<String>>) -> bool {
    attrs.iter().any(|attr| {
        if attr.path().is_ident("no_std") {
            return true;
        }
        crate::analyze::attrs::cfg_attr_parts(attr).is_some_and(|(predicate, applied)| {
            applied.iter().any(|meta| meta.path().is_ident("no_std"))
                && super::cfg::evaluate(&predicate, features) != Some(false)
        })
    })
}

/// `Self` or the type's own name (`Prerelease`), without generics.
fn is_own_type(ty: &syn::Type, type_name: &str) -> bool {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().is_some_and(|segment| {
                segment.arguments.is_none()
                    && (segment.ident == "Self" || segment.ident == type_name)
            })
        }
        _ => false,
    }
}

/// The last path segment without generic arguments: `crate::a::Stack<T>` → `Stack`.
pub fn last_segment(written: &str) -> &str {
    let without_args = written.split('<').next().unwrap_or(written);
    without_args
        .rsplit("::")
        .next()
        .unwrap_or(without_args)
        .trim()
}

/// A `use` path as a crate-relative module: `crate::a`, `self::a`, `super::a`, or (2018)
/// a child module `a`.
fn resolve_use_path(module: &str, segments: &[String]) -> String {
    let mut current: Vec<&str> = module.split("::").collect();
    let mut rest = segments;
    match segments.first().map(String::as_str) {
        Some("crate") => {
            current = vec!["crate"];
            rest = &segments[1..];
        }
        Some("self") => rest = &segments[1..],
        Some("super") => {
            while let Some("super") = rest.first().map(String::as_str) {
                if current.len() > 1 {
                    current.pop();
                }
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    let mut out: Vec<String> = current.into_iter().map(str::to_owned).collect();
    out.extend(rest.iter().cloned());
    out.join("::")
}

/// A trait's last segment with its arguments: `std::convert::From<u64>` → `From<u64>`.
fn trait_short(printed: &str) -> String {
    let (path, args) = match printed.find('<') {
        Some(at) => printed.split_at(at),
        None => (printed, ""),
    };
    format!("{}{args}", path.rsplit("::").next().unwrap_or(path))
}

/// `ledger::money` → `crate::money`; a bin target's `name(bin)::x` → `crate::x`.
pub fn crate_relative(module: &str) -> String {
    match module.split_once("::") {
        Some((_, rest)) => format!("crate::{rest}"),
        None => "crate".to_owned(),
    }
}

struct Walker<'a> {
    index: &'a mut CrateIndex,
    file: &'a str,
    module: String,
    /// An enclosing inline module's or impl's `#[cfg]` that is off here.
    cfg_off: Option<String>,
    /// The features the crate is built with, when known.
    features: Option<&'a BTreeSet<String>>,
    /// The file's `macro_rules!` lists, expanded where invoked as the analyzer does.
    macros: crate::analyze::expand::ListMacros,
}

/// Whether two containers are the same impl (by self type and trait) or both free.
fn same_container(a: &Container, b: &Container) -> bool {
    use quote::ToTokens;
    let key = |c: &Container| match c {
        Container::Free => String::new(),
        Container::Inherent { self_ty, .. } => self_ty.to_token_stream().to_string(),
        Container::TraitImpl {
            self_ty,
            trait_path,
            ..
        } => format!(
            "{} as {}",
            self_ty.to_token_stream(),
            trait_path.to_token_stream()
        ),
        Container::TraitDefault { trait_path, .. } => trait_path.clone(),
    };
    key(a) == key(b)
}

/// The line `analyze` reports a function at: its visibility, else its signature.
fn fn_line(vis: Option<&syn::Visibility>, sig: &syn::Signature) -> u32 {
    let span = match vis {
        Some(vis @ (syn::Visibility::Public(_) | syn::Visibility::Restricted(_))) => vis.span(),
        _ => sig.span(),
    };
    span.start().line as u32
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn mentions_interior_mutability(ty: &syn::Type) -> bool {
    use quote::ToTokens;
    ty.to_token_stream().into_iter().any(|token| {
        matches!(&token, proc_macro2::TokenTree::Ident(ident) if INTERIOR.contains(&ident.to_string().as_str()))
    }) || {
        // Nested groups (`Arc<Mutex<T>>`) print as one stream; check the text too.
        let text = ty.to_token_stream().to_string();
        INTERIOR.iter().any(|name| text.contains(name))
    }
}

fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                out.push(last.ident.to_string());
            }
            Ok(())
        });
    }
    out
}

/// `#[doc(hidden)]`: not part of the documented API, whatever its visibility.
pub fn doc_hidden(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("doc") && {
            use quote::ToTokens;
            a.meta.to_token_stream().to_string().contains("hidden")
        }
    })
}

fn non_exhaustive(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

impl Walker<'_> {
    /// Record the names a `use` tree brings in from std, core or alloc.
    fn std_imports(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        let from_std = |prefix: &[String]| {
            matches!(
                prefix.first().map(String::as_str),
                Some("std" | "core" | "alloc")
            )
        };
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.std_imports(&path.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(name) if from_std(prefix) => {
                self.index
                    .std_imports
                    .insert((self.module.clone(), name.ident.to_string()));
            }
            syn::UseTree::Rename(rename) if from_std(prefix) => {
                self.index
                    .std_imports
                    .insert((self.module.clone(), rename.rename.to_string()));
            }
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.std_imports(item, prefix);
                }
            }
            _ => {}
        }
    }

    /// Record what a `pub use` tree re-exports.
    fn reexports(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.reexports(&path.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                self.index.reexported_names.insert(name.ident.to_string());
            }
            syn::UseTree::Rename(rename) => {
                self.index.reexported_names.insert(rename.ident.to_string());
            }
            syn::UseTree::Glob(_) => {
                let module = resolve_use_path(&self.module, prefix);
                self.index.reexported_globs.insert(module);
            }
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.reexports(item, prefix);
                }
            }
        }
    }

    fn items(&mut self, items: &[syn::Item], nested: bool) {
        for item in items {
            self.item(item, nested);
        }
    }

    fn add_fn(
        &mut self,
        attrs: &[syn::Attribute],
        vis: Option<&syn::Visibility>,
        sig: &syn::Signature,
        block: &syn::Block,
        container: Container,
        nested: bool,
    ) {
        let line = fn_line(vis, sig);
        let cfg_off = self
            .cfg_off
            .clone()
            .or_else(|| super::cfg::off_here(attrs, self.features));
        let same_place = self
            .index
            .functions
            .entry((self.file.to_owned(), line))
            .or_default();
        // Once per function: a file walked twice (two paths to one module) adds nothing.
        let already = same_place
            .iter()
            .any(|f| f.sig.ident == sig.ident && same_container(&f.container, &container));
        if !already {
            same_place.push(FnSyntax {
                attrs: attrs.to_vec(),
                sig: sig.clone(),
                block: block.clone(),
                container,
                nested,
                cfg_off,
                module: self.module.clone(),
            });
        }
        // Nested functions are reported by `analyze` too; they are found but never called.
        let mut nested_items = NestedItems(Vec::new());
        syn::visit::Visit::visit_block(&mut nested_items, block);
        for item in nested_items.0 {
            self.item(&item, true);
        }
    }

    fn add_type_doc(&mut self, name: &str, attrs: &[syn::Attribute]) {
        let doc = super::docs::doc_text(attrs);
        if !doc.trim().is_empty() {
            self.index.type_docs.entry(name.to_owned()).or_insert(doc);
        }
    }

    fn add_type(&mut self, name: String, vis: &syn::Visibility, generics: bool, shape: Shape) {
        if self.cfg_off.is_some() {
            return;
        }
        let interior_mutability = match &shape {
            Shape::Struct { fields, .. } => {
                fields.iter().any(|(_, t)| mentions_interior_mutability(t))
            }
            Shape::Enum { variants } => variants
                .iter()
                .flat_map(|(_, f)| f.iter().flatten())
                .any(mentions_interior_mutability),
            Shape::Alias(ty) => mentions_interior_mutability(ty),
        };
        let path = format!("{}::{name}", self.module);
        let defs = self.index.types.entry(name.clone()).or_default();
        if defs.iter().all(|d| d.path != path) {
            defs.push(TypeDef {
                name,
                path,
                public: is_pub(vis),
                crate_visible: !matches!(vis, syn::Visibility::Inherited),
                has_generics: generics,
                shape,
                interior_mutability,
            });
        }
    }

    fn add_traits(&mut self, type_name: &str, traits: impl IntoIterator<Item = String>) {
        let module = self.module.clone();
        self.index
            .traits
            .entry(type_name.to_owned())
            .or_default()
            .extend(traits.into_iter().map(|t| (t, module.clone())));
    }

    fn item(&mut self, item: &syn::Item, nested: bool) {
        match item {
            syn::Item::Fn(f) => {
                if !nested
                    && !matches!(f.vis, syn::Visibility::Inherited)
                    && self.cfg_off.is_none()
                    && super::cfg::off_here(&f.attrs, self.features).is_none()
                    && let syn::ReturnType::Type(_, ty) = &f.sig.output
                    && let Some(returned) = returned_type_name(ty)
                {
                    self.index
                        .producers
                        .entry(returned)
                        .or_default()
                        .push(Producer {
                            path: format!("{}::{}", self.module, f.sig.ident),
                            module: self.module.clone(),
                            sig: f.sig.clone(),
                        });
                }
                self.add_fn(
                    &f.attrs,
                    Some(&f.vis),
                    &f.sig,
                    &f.block,
                    Container::Free,
                    nested,
                )
            }
            syn::Item::Mod(m) => self.module_item(m, nested),
            syn::Item::Struct(s) if super::cfg::off_here(&s.attrs, self.features).is_some() => {}
            syn::Item::Enum(e) if super::cfg::off_here(&e.attrs, self.features).is_some() => {}
            syn::Item::Type(t) if super::cfg::off_here(&t.attrs, self.features).is_some() => {}
            syn::Item::Struct(s) => self.struct_item(s),
            syn::Item::Enum(e) => self.enum_item(e),
            syn::Item::Type(t) => {
                let generic = !t.generics.params.is_empty();
                self.add_type(
                    t.ident.to_string(),
                    &t.vis,
                    generic,
                    Shape::Alias(t.ty.clone()),
                );
            }
            syn::Item::Impl(imp) => self.impl_item(imp, nested),
            syn::Item::Use(u) => {
                let mut prefix = Vec::new();
                self.std_imports(&u.tree, &mut prefix);
                if is_pub(&u.vis) {
                    let mut prefix = Vec::new();
                    self.reexports(&u.tree, &mut prefix);
                }
            }
            syn::Item::Const(c) => {
                if let Some(value) = super::mined::const_value(&c.expr) {
                    self.index.const_values.insert(c.ident.to_string(), value);
                }
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(int),
                    ..
                }) = &*c.expr
                    && let Ok(value) = int.base10_parse::<u64>()
                {
                    self.index.consts.insert(c.ident.to_string(), value);
                }
            }
            syn::Item::Static(s) => {
                self.index.statics.insert(s.ident.to_string());
            }
            syn::Item::Macro(m) if m.ident.is_some() => {
                if m.mac.path.is_ident("macro_rules")
                    && let Some(name) = &m.ident
                {
                    self.macros.define(&name.to_string(), &m.mac.tokens);
                }
            }
            syn::Item::Macro(m) if self.macros.expand(&m.mac).is_some() => {
                let expanded = self.macros.expand(&m.mac).unwrap_or_default();
                if let Ok(file) = syn::parse2::<syn::File>(expanded) {
                    self.items(&file.items, nested);
                }
            }
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "thread_local") =>
            {
                // `static NAME: T = ...;` entries.
                let tokens: Vec<proc_macro2::TokenTree> =
                    m.mac.tokens.clone().into_iter().collect();
                for pair in tokens.windows(2) {
                    if let [
                        proc_macro2::TokenTree::Ident(kw),
                        proc_macro2::TokenTree::Ident(name),
                    ] = pair
                        && kw == "static"
                    {
                        self.index.statics.insert(name.to_string());
                    }
                }
            }
            syn::Item::Trait(t) => self.trait_item(t, nested),
            _ => {}
        }
    }

    /// The index entries of a `mod` item, and of the items inside it.
    fn module_item(&mut self, m: &syn::ItemMod, nested: bool) {
        if is_test_code(&m.attrs) {
            return;
        }
        let module = format!("{}::{}", self.module, m.ident);
        if matches!(m.vis, syn::Visibility::Inherited) {
            self.index.private_modules.insert(module.clone());
        }
        if !is_pub(&m.vis) || doc_hidden(&m.attrs) {
            self.index.unexported_modules.insert(module.clone());
        }
        match &m.content {
            Some((_, items)) => {
                let saved = std::mem::replace(&mut self.module, module);
                let saved_cfg = self.cfg_off.clone();
                self.cfg_off = saved_cfg
                    .clone()
                    .or_else(|| super::cfg::off_here(&m.attrs, self.features));
                self.items(items, nested);
                self.module = saved;
                self.cfg_off = saved_cfg;
            }
            None => {
                if let Some(cfg) = super::cfg::off_here(&m.attrs, self.features) {
                    self.index.off_modules.push((module, cfg));
                }
            }
        }
    }

    /// The index entries of a `struct` item.
    fn struct_item(&mut self, s: &syn::ItemStruct) {
        let tuple = matches!(s.fields, syn::Fields::Unnamed(_));
        let fields: Vec<(String, syn::Type)> = s
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let name = f
                    .ident
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| i.to_string());
                (name, f.ty.clone())
            })
            .collect();
        let open = s.fields.iter().all(|f| is_pub(&f.vis)) && !non_exhaustive(&s.attrs);
        let name = s.ident.to_string();
        for (position, field) in s.fields.iter().enumerate() {
            if super::docs::states_condition(&field.attrs) {
                let member = field
                    .ident
                    .as_ref()
                    .map_or_else(|| position.to_string(), |i| i.to_string());
                self.index.constrained.insert((name.clone(), member));
            }
        }
        self.add_traits(&name, derives(&s.attrs));
        self.add_type_doc(&name, &s.attrs);
        self.add_type(
            name,
            &s.vis,
            s.generics
                .params
                .iter()
                .any(|p| !matches!(p, syn::GenericParam::Lifetime(_))),
            Shape::Struct {
                fields,
                tuple,
                open,
            },
        );
    }

    /// The index entries of an `enum` item.
    fn enum_item(&mut self, e: &syn::ItemEnum) {
        // `#[non_exhaustive]` does not matter: the tests run inside the crate.
        let variants = e
            .variants
            .iter()
            .map(|v| {
                let fields = match &v.fields {
                    syn::Fields::Unit => Some(Vec::new()),
                    syn::Fields::Unnamed(f) => {
                        Some(f.unnamed.iter().map(|f| f.ty.clone()).collect())
                    }
                    syn::Fields::Named(_) => None,
                };
                (v.ident.to_string(), fields)
            })
            .collect();
        let name = e.ident.to_string();
        for variant in &e.variants {
            if super::docs::states_condition(&variant.attrs) {
                self.index
                    .constrained
                    .insert((name.clone(), variant.ident.to_string()));
            }
        }
        self.add_traits(&name, derives(&e.attrs));
        self.add_type_doc(&name, &e.attrs);
        self.add_type(
            name,
            &e.vis,
            e.generics
                .params
                .iter()
                .any(|p| !matches!(p, syn::GenericParam::Lifetime(_))),
            Shape::Enum { variants },
        );
    }

    /// The index entries of an `impl` block: methods, trait implementations, constructors.
    fn impl_item(&mut self, imp: &syn::ItemImpl, nested: bool) {
        if is_test_code(&imp.attrs) {
            return;
        }
        let type_name = crate::analyze::names::self_type_name(&imp.self_ty);
        let type_name = last_segment(&type_name).to_owned();
        // An impl (or its module) compiled out here adds nothing that can be called.
        let impl_off =
            self.cfg_off.is_some() || super::cfg::off_here(&imp.attrs, self.features).is_some();
        // `impl From<&str> for &Path` says nothing about what makes a `Path`.
        let for_reference = matches!(&*imp.self_ty, syn::Type::Reference(_));
        match &imp.trait_ {
            _ if impl_off || for_reference => {}
            Some((trait_path, _)) => {
                let printed = crate::analyze::names::trait_display(trait_path);
                self.add_traits(&type_name, [trait_short(&printed)]);
            }
            None => {
                for impl_item in &imp.items {
                    if let syn::ImplItem::Const(c) = impl_item
                        && is_pub(&c.vis)
                        && imp.generics.params.is_empty()
                        && !is_test_code(&c.attrs)
                        && super::cfg::off_here(&c.attrs, self.features).is_none()
                        && is_own_type(&c.ty, &type_name)
                    {
                        self.index
                            .self_consts
                            .entry(type_name.clone())
                            .or_default()
                            .push((self.module.clone(), c.ident.to_string()));
                    }
                    if let syn::ImplItem::Fn(f) = impl_item
                        && !is_test_code(&f.attrs)
                        && super::cfg::off_here(&f.attrs, self.features).is_none()
                    {
                        self.index
                            .inherent
                            .entry(type_name.clone())
                            .or_default()
                            .push(AssocFn {
                                sig: f.sig.clone(),
                                impl_module: self.module.clone(),
                                impl_self: (*imp.self_ty).clone(),
                                impl_generics: imp
                                    .generics
                                    .type_params()
                                    .map(|p| p.ident.to_string())
                                    .collect(),
                                public: !matches!(f.vis, syn::Visibility::Inherited),
                                exported: is_pub(&f.vis) && !doc_hidden(&f.attrs),
                                attrs: f.attrs.clone(),
                            });
                    }
                }
            }
        }
        let saved_cfg = self.cfg_off.clone();
        self.cfg_off = saved_cfg
            .clone()
            .or_else(|| super::cfg::off_here(&imp.attrs, self.features));
        for impl_item in &imp.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                let container = match &imp.trait_ {
                    Some((trait_path, _)) => Container::TraitImpl {
                        self_ty: (*imp.self_ty).clone(),
                        trait_path: trait_path.clone(),
                        generics: imp.generics.clone(),
                    },
                    None => Container::Inherent {
                        self_ty: (*imp.self_ty).clone(),
                        generics: imp.generics.clone(),
                    },
                };
                self.add_fn(&f.attrs, Some(&f.vis), &f.sig, &f.block, container, nested);
            }
        }
        self.cfg_off = saved_cfg;
    }

    /// The index entries of a `trait` item.
    fn trait_item(&mut self, t: &syn::ItemTrait, nested: bool) {
        self.index.defined_traits.insert(t.ident.to_string());
        for trait_item in &t.items {
            if let syn::TraitItem::Fn(f) = trait_item {
                self.index.trait_method_docs.insert(
                    (t.ident.to_string(), f.sig.ident.to_string()),
                    f.attrs.clone(),
                );
            }
        }
        for trait_item in &t.items {
            if let syn::TraitItem::Fn(f) = trait_item
                && let Some(block) = &f.default
            {
                let container = Container::TraitDefault {
                    trait_name: t.ident.to_string(),
                    trait_path: format!("{}::{}", self.module, t.ident),
                    generic: !t.generics.params.is_empty(),
                };
                self.add_fn(&f.attrs, None, &f.sig, block, container, nested);
            }
        }
    }
}

/// Items declared inside a function body (not inside closures' nested functions' bodies,
/// which the walker reaches from there).
struct NestedItems(Vec<syn::Item>);

impl<'ast> syn::visit::Visit<'ast> for NestedItems {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        self.0.push(item.clone());
    }
}

/// Indexes of source text, for the engine's unit tests.
#[cfg(test)]
pub mod test_support {
    use super::*;

    /// The index of one file, `src/lib.rs`, as the crate root.
    pub fn index_source(source: &str) -> CrateIndex {
        let parsed = crate::syntax::parse_file(source).unwrap();
        let mut index = CrateIndex::default();
        Walker {
            index: &mut index,
            file: "src/lib.rs",
            module: "crate".into(),
            cfg_off: None,
            features: None,
            macros: Default::default(),
        }
        .items(&parsed.items, false);
        index
    }
}

#[cfg(test)]
mod test {
    use super::test_support::index_source as index_of;
    use super::*;

    #[test]
    fn functions_are_found_by_the_line_analyze_reports() {
        let index = index_of(
            "/// Doc\n#[inline]\npub fn a() {}\n\nimpl S {\n    fn b(&self) { fn inner() {} }\n}\n",
        );
        assert!(matches!(
            index.function("src/lib.rs", 3).unwrap().container,
            Container::Free
        ));
        let b = index.function("src/lib.rs", 6).unwrap();
        assert!(matches!(b.container, Container::Inherent { .. }));
        assert!(!b.nested);
        assert!(index.function("src/lib.rs", 6).is_some());
        assert!(index.function("src/lib.rs", 1).is_none());
    }

    #[test]
    fn types_traits_and_constructors() {
        let index = index_of(
            "#[derive(Debug, Default, Clone)] pub struct Cents(pub i64);
             pub struct Account { pub owner: String, balance: std::cell::Cell<i64> }
             pub enum Mode { Fast, Slow(u8), Odd { x: u8 } }
             pub type Id = u32;
             impl From<u64> for Cents { fn from(v: u64) -> Self { Cents(v as i64) } }
             impl std::str::FromStr for Cents { type Err = (); fn from_str(s: &str) -> Result<Self, ()> { Err(()) } }
             impl Account { pub fn new(owner: &str) -> Self { todo!() } fn hidden() {} }
             mod inner { pub struct Deep; }",
        );
        let cents = index.type_def("Cents", "crate").unwrap();
        assert_eq!(cents.path, "crate::Cents");
        assert!(matches!(
            &cents.shape,
            Shape::Struct {
                tuple: true,
                open: true,
                ..
            }
        ));
        assert!(index.implements("Cents", "crate", "Default"));
        assert!(index.implements("crate::Cents", "crate", "Debug"));
        assert!(index.implements("Cents", "crate", "FromStr"));
        assert_eq!(index.from_sources("Cents", "crate").len(), 1);
        let account = index.type_def("Account", "crate").unwrap();
        assert!(account.interior_mutability);
        assert!(matches!(&account.shape, Shape::Struct { open: false, .. }));
        let names: Vec<String> = index
            .assoc_fns("Account", "crate")
            .iter()
            .map(|f| format!("{}:{}", f.sig.ident, f.public))
            .collect();
        assert_eq!(names, ["new:true", "hidden:false"]);
        let Shape::Enum { variants } = &index.type_def("Mode", "crate").unwrap().shape else {
            panic!("not an enum")
        };
        assert_eq!(variants.len(), 3);
        assert!(variants[2].1.is_none());
        assert!(matches!(
            index.type_def("Id", "crate").unwrap().shape,
            Shape::Alias(_)
        ));
        assert_eq!(
            index.type_def("Deep", "crate").unwrap().path,
            "crate::inner::Deep"
        );
    }

    #[test]
    fn std_imports_are_remembered_per_module() {
        let index = index_of(
            "use std::time::{Duration, Instant};\nuse crate::other::Thing;\nmod wrapper { pub struct Duration; }",
        );
        assert!(index.imports_from_std("crate", "Duration"));
        assert!(index.imports_from_std("crate", "Instant"));
        assert!(!index.imports_from_std("crate", "Thing"));
        assert!(!index.imports_from_std("crate::wrapper", "Duration"));
    }

    #[test]
    fn exported_means_reachable_from_the_crate_root() {
        let index = index_of(
            "pub mod api { pub fn open() {} }
             mod utils { pub fn helper() {} }
             mod kebab { pub trait ToKebab {} }
             pub use kebab::ToKebab;
             mod inner { pub mod deep { pub fn f() {} } }
             pub use inner::deep::*;",
        );
        assert!(index.exported("crate::api", &["open"]));
        assert!(!index.exported("crate::utils", &["helper"]));
        assert!(index.exported("crate::kebab", &["to_kebab", "str", "ToKebab"]));
        assert!(index.exported("crate::inner::deep", &["f"]));
        assert_eq!(
            resolve_use_path("crate::a", &["super".into(), "b".into()]),
            "crate::b"
        );
        assert_eq!(
            resolve_use_path("crate::a", &["crate".into(), "c".into()]),
            "crate::c"
        );
        assert_eq!(resolve_use_path("crate::a", &["d".into()]), "crate::a::d");
    }

    #[test]
    fn last_segments() {
        assert_eq!(last_segment("crate::a::Stack<T>"), "Stack");
        assert_eq!(last_segment("Cents"), "Cents");
        assert_eq!(trait_short("std::convert::From<u64>"), "From<u64>");
        assert_eq!(
            trait_short("From<std::string::String>"),
            "From<std::string::String>"
        );
        assert_eq!(trait_short("fmt::Debug"), "Debug");
    }

    #[test]
    fn no_std_only_when_it_can_hold_as_the_tests_build() {
        let says = |attr: &str, features: Option<&[&str]>| {
            let file = syn::parse_file(&format!("{attr}\nfn f() {{}}")).unwrap();
            let features: Option<BTreeSet<String>> =
                features.map(|f| f.iter().map(|s| s.to_string()).collect());
            says_no_std(&file.attrs, features.as_ref())
        };
        assert!(says("#![no_std]", None));
        assert!(says("#![cfg_attr(not(feature = \"std\"), no_std)]", None));
        assert!(says(
            "#![cfg_attr(not(feature = \"std\"), no_std)]",
            Some(&[])
        ));
        assert!(!says(
            "#![cfg_attr(not(feature = \"std\"), no_std)]",
            Some(&["std"])
        ));
        assert!(!says(
            "#![cfg_attr(not(any(feature = \"std\", test)), no_std)]",
            None
        ));
        assert!(says("#![cfg_attr(docsrs, feature(doc_cfg), no_std)]", None));
        assert!(!says("#![cfg_attr(docsrs, feature(doc_cfg))]", None));
        assert!(!says("#![deny(missing_docs)]", None));
    }
}
