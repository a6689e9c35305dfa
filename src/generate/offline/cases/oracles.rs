//! Which oracles apply to a function, and what they need: no panic (public documented API,
//! no stated precondition), an `Err` that formats, a returned range that indexes its input,
//! `Display` through `format!`, determinism (nothing impure, stable printing).

use super::*;

/// Error types of std that format with `{}`.
pub(super) const STD_DISPLAY_ERRORS: &[&str] = &[
    "ParseIntError",
    "ParseFloatError",
    "ParseBoolError",
    "ParseCharError",
    "TryFromIntError",
    "Utf8Error",
    "FromUtf8Error",
    "AddrParseError",
    "String",
];

/// How to format the `Err` of a function returning `Result<_, E>`: `{}` when `E` is a std
/// error or a crate type that implements `Display`, `{:?}` when it only implements `Debug`;
/// `None` when `E` is not written out (an alias's) or not known to format.
pub(super) fn error_format(
    output: &syn::ReturnType,
    index: &CrateIndex,
    module: &str,
    self_ty: Option<&syn::Type>,
) -> Option<&'static str> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types: Vec<&syn::Type> = args
        .args
        .iter()
        .filter_map(|arg| match arg {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect();
    let [_, error] = types[..] else {
        return None;
    };
    let syn::Type::Path(error) = error else {
        return None;
    };
    let segment = error.path.segments.last()?;
    if !segment.arguments.is_none() {
        return None;
    }
    let name = if segment.ident == "Self" {
        crate::analyze::names::self_type_name(self_ty?)
    } else {
        segment.ident.to_string()
    };
    if STD_DISPLAY_ERRORS.contains(&name.as_str()) && index.type_def(&name, module).is_none() {
        return Some("{}");
    }
    if index.implements(&name, module, "Display") {
        Some("{}")
    } else if index.implements(&name, module, "Debug") {
        Some("{:?}")
    } else {
        None
    }
}

/// The no-panic oracle applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NoPanic;

/// A function that returns a range of one of its inputs: which parameter (a `&str` or
/// `&[u8]`), and whether the range comes in an `Option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IndexOracle {
    pub(super) param: usize,
    pub(super) optional: bool,
}

/// Parameter names of what a search looks for, not where.
pub(super) const SOUGHT_NAMES: &[&str] = &[
    "needle",
    "pattern",
    "pat",
    "word",
    "sep",
    "separator",
    "delim",
    "delimiter",
    "prefix",
    "suffix",
    "query",
    "target",
    "sub",
    "substring",
    "token",
];

/// `Range<usize>` or `Option<Range<usize>>` returned about the only `&str` or `&[u8]`
/// parameter: the range must index it.
pub(super) fn index_oracle(sig: &syn::Signature, plan: &CallPlan) -> Option<IndexOracle> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let printed = ty.to_token_stream().to_string().replace(' ', "");
    let printed = printed
        .trim_start_matches("std::option::")
        .replace("std::ops::", "")
        .replace("core::ops::", "");
    let optional = match printed.as_str() {
        "Range<usize>" => false,
        "Option<Range<usize>>" => true,
        _ => return None,
    };
    let indexable: Vec<usize> = plan
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            matches!(&p.input, InputType::Str { owned: false })
                || matches!(&p.input, InputType::Slice { mutable: false, element } if matches!(**element, InputType::Int { .. }))
        })
        .map(|(i, _)| i)
        .collect();
    // With several, the one that is not what is looked for (`needle`, `word`, `pattern`).
    let subjects: Vec<usize> = if indexable.len() > 1 {
        indexable
            .iter()
            .copied()
            .filter(|&i| !SOUGHT_NAMES.contains(&plan.params[i].name.as_str()))
            .collect()
    } else {
        indexable
    };
    match subjects[..] {
        [param] => Some(IndexOracle { param, optional }),
        _ => None,
    }
}

/// The `format!` spec that runs a formatting trait's `fmt` (`{}` for `Display`), when
/// `sig` is that method.
pub(super) fn format_spec(container: &Container, sig: &syn::Signature) -> Option<&'static str> {
    let Container::TraitImpl { trait_path, .. } = container else {
        return None;
    };
    if sig.ident != "fmt" {
        return None;
    }
    let spec = match trait_path.segments.last()?.ident.to_string().as_str() {
        "Display" => "{}",
        "Debug" => "{:?}",
        "LowerHex" => "{:x}",
        "UpperHex" => "{:X}",
        "Octal" => "{:o}",
        "Binary" => "{:b}",
        "LowerExp" => "{:e}",
        "UpperExp" => "{:E}",
        _ => return None,
    };
    Some(spec)
}

/// Traits whose methods panic by convention, as the built-in operators do: arithmetic
/// overflows in debug builds, indexing out of range.
pub(super) const PANICKING_BY_CONVENTION: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Rem",
    "Neg",
    "Shl",
    "Shr",
    "AddAssign",
    "SubAssign",
    "MulAssign",
    "DivAssign",
    "RemAssign",
    "ShlAssign",
    "ShrAssign",
    "Sum",
    "Product",
    "Index",
    "IndexMut",
];

/// Whether a panic of `function` on any input is a finding: it is public (or private ones
/// were asked for, or the spec names it), does not document its panics, and does not check
/// its parameters with an explicit `assert!`/`panic!` (a precondition said in code).
pub(super) fn no_panic_oracle(
    function: &Function,
    syntax: &FnSyntax,
    index: &CrateIndex,
    module: &str,
    self_ty: Option<&syn::Type>,
    spec: &SpecFacts,
    options: CaseOptions,
) -> Option<NoPanic> {
    let doc = documentation(syntax, index);
    if documents_panics(&doc)
        || body_only_panics(syntax)
        || super::super::index::doc_hidden(&syntax.attrs)
        || states_preconditions(&doc, &function.params)
        || spec.says_panics
        || asserts_preconditions(function)
        || options.inherits_precondition
        || operator_by_convention(syntax)
    {
        return None;
    }
    let public = public_api(function, syntax, index, module, self_ty);
    (public || options.private || spec.named).then_some(NoPanic)
}

/// Whether `function` is public API: `pub`, of a public type, reachable from the crate root.
/// A panic reached from public API is the crate's bug; inside, it may be a caller's
/// precondition, so a private function is attacked through the public ones that reach it.
pub fn public_api(
    function: &Function,
    syntax: &FnSyntax,
    index: &CrateIndex,
    module: &str,
    self_ty: Option<&syn::Type>,
) -> bool {
    let type_public = self_ty.is_none_or(|ty| {
        let name = crate::analyze::names::self_type_name(ty);
        index
            .type_def(last_segment(&name), module)
            .is_none_or(|def| def.public)
    });
    let own_name = syntax.sig.ident.to_string();
    let type_name =
        self_ty.map(|ty| last_segment(&crate::analyze::names::self_type_name(ty)).to_owned());
    // A trait method is reachable when its trait is (`pub use kebab::ToKebabCase`).
    let trait_name = match &syntax.container {
        Container::TraitImpl { trait_path, .. } => {
            trait_path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    };
    let mut names = vec![own_name.as_str()];
    names.extend(type_name.as_deref());
    names.extend(trait_name.as_deref());
    function.visibility == "pub" && type_public && index.exported(&syntax.module, &names)
}

/// [`public_api`] from the function's own syntax: its impl's self type, if any.
pub fn is_public_api(function: &Function, syntax: &FnSyntax, index: &CrateIndex) -> bool {
    let self_ty = match &syntax.container {
        Container::Inherent { self_ty, .. } | Container::TraitImpl { self_ty, .. } => Some(self_ty),
        Container::Free | Container::TraitDefault { .. } => None,
    };
    public_api(
        function,
        syntax,
        index,
        &crate_relative(&function.module),
        self_ty,
    )
}

/// A method of an operator trait (`impl Add for Cents`), which panics as the built-in
/// operators do.
pub(super) fn operator_by_convention(syntax: &FnSyntax) -> bool {
    let Container::TraitImpl { trait_path, .. } = &syntax.container else {
        return false;
    };
    let operator_trait = trait_path
        .segments
        .last()
        .is_some_and(|s| PANICKING_BY_CONVENTION.contains(&s.ident.to_string().as_str()));
    // Numeric traits' division methods divide by zero as `/` does.
    let division = DIVISION_METHODS.contains(&syntax.sig.ident.to_string().as_str());
    operator_trait || division
}

/// Trait method names that divide like the `/` and `%` operators (num-integer's and std's).
pub(super) const DIVISION_METHODS: &[&str] = &[
    "div_rem",
    "div_floor",
    "mod_floor",
    "div_mod_floor",
    "div_euclid",
    "rem_euclid",
    "div_ceil",
    "div_exact",
    "div_trunc",
    "rem_floor",
];

/// A function's doc comment, or for a trait impl method without one, its trait method's.
pub(super) fn documentation(syntax: &FnSyntax, index: &CrateIndex) -> String {
    let own = doc_text(&syntax.attrs);
    if !own.trim().is_empty() {
        return own;
    }
    match &syntax.container {
        Container::TraitImpl { trait_path, .. } => trait_path
            .segments
            .last()
            .map(|t| {
                doc_text(
                    index.trait_method_attrs(&t.ident.to_string(), &syntax.sig.ident.to_string()),
                )
            })
            .unwrap_or_default(),
        _ => own,
    }
}

/// A body that is nothing but a panic (`unreachable!(..)`, `panic!(..)`, `todo!()`): the
/// function says it must not be called.
pub(super) fn body_only_panics(syntax: &FnSyntax) -> bool {
    let [stmt] = syntax.block.stmts.as_slice() else {
        return false;
    };
    let mac = match stmt {
        syn::Stmt::Macro(m) => &m.mac,
        syn::Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
        _ => return false,
    };
    mac.path.segments.last().is_some_and(|s| {
        ["panic", "unreachable", "todo", "unimplemented"].contains(&s.ident.to_string().as_str())
    })
}

pub(super) fn skip_reason(
    function: &Function,
    syntax: &FnSyntax,
    index: &CrateIndex,
    spec: &SpecFacts,
) -> String {
    // The docs the oracle read: a trait method's own, else its trait's.
    let doc = documentation(syntax, index);
    if operator_by_convention(syntax) {
        "an operator trait method: it panics as the built-in operators do (overflow, index out of range), and its result cannot be checked twice".into()
    } else if documents_panics(&doc) {
        "documents when it panics and its result cannot be checked twice".into()
    } else if states_preconditions(&doc, &function.params) {
        "its documentation states conditions its parameters must meet, and its result cannot be checked twice".into()
    } else if spec.says_panics {
        "the spec says it panics and its result cannot be checked twice".into()
    } else if asserts_preconditions(function) {
        "checks its parameters with `assert!`/`panic!` (a stated precondition) and its result cannot be checked twice".into()
    } else {
        format!(
            "{} function: its callers may never pass edge values (pass --private, or name it in the spec)",
            if function.visibility == "pub" {
                "unexported"
            } else {
                "private"
            }
        )
    }
}

/// `assert!(n > 0)`, `if n == 0 { panic!(..) }`: the function states a precondition on a
/// parameter by panicking.
pub fn asserts_preconditions(function: &Function) -> bool {
    function.sites.iter().any(|site| {
        let stated_panic = |text: &str| {
            let text = text.trim_start();
            ["assert", "debug_assert", "panic!"]
                .iter()
                .any(|p| text.starts_with(p))
        };
        // The receiver's own state counts: `assert!(self.len > 0)` states an invariant.
        let param_named = !site.params.is_empty();
        (site.kind == SiteKind::Panic
            && site.via == Some(PanicVia::Macro)
            && param_named
            && stated_panic(&site.text))
            || (site.guard && param_named && site.outcome.as_deref().is_some_and(stated_panic))
    })
}

/// Whether the function can be called twice on the same input to compare results: nothing
/// `&mut`, no interior mutability in the receiver, a result that prints with `Debug` and does
/// not print in hash order, and a body that reads no clock, randomness, environment or I/O.
pub(super) fn determinism_possible(
    syntax: &FnSyntax,
    index: &CrateIndex,
    module: &str,
    self_ty: Option<&syn::Type>,
    plan: &CallPlan,
) -> bool {
    if matches!(plan.receiver, Some(Receiver::RefMut | Receiver::Value)) {
        return false;
    }
    let mutable_param = plan.params.iter().any(|p| {
        matches!(
            p.input,
            InputType::Ref { mutable: true, .. } | InputType::Slice { mutable: true, .. }
        )
    });
    if mutable_param {
        return false;
    }
    if let Some(ty) = self_ty {
        let name = crate::analyze::names::self_type_name(ty);
        if index
            .type_def(last_segment(&name), module)
            .is_none_or(|d| d.interior_mutability)
        {
            return false;
        }
    }
    let syn::ReturnType::Type(_, output) = &syntax.sig.output else {
        return false;
    };
    let self_name = self_ty.map(crate::analyze::names::self_type_name);
    if !prints_stably(
        output,
        index,
        module,
        self_name.as_deref(),
        &syntax.sig.generics,
    ) {
        return false;
    }
    true
}

/// Whether values of `ty` print with `Debug`, the same way each time.
pub(super) fn prints_stably(
    ty: &syn::Type,
    index: &CrateIndex,
    module: &str,
    self_name: Option<&str>,
    generics: &syn::Generics,
) -> bool {
    match ty {
        syn::Type::Reference(r) => prints_stably(&r.elem, index, module, self_name, generics),
        syn::Type::Paren(p) => prints_stably(&p.elem, index, module, self_name, generics),
        syn::Type::Slice(s) => prints_stably(&s.elem, index, module, self_name, generics),
        syn::Type::Array(a) => prints_stably(&a.elem, index, module, self_name, generics),
        syn::Type::Tuple(t) => t
            .elems
            .iter()
            .all(|e| prints_stably(e, index, module, self_name, generics)),
        syn::Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            let args_ok = match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => args.args.iter().all(|a| match a {
                    syn::GenericArgument::Type(t) => {
                        prints_stably(t, index, module, self_name, generics)
                    }
                    _ => true,
                }),
                _ => true,
            };
            const STD: &[&str] = &[
                "i8",
                "i16",
                "i32",
                "i64",
                "i128",
                "isize",
                "u8",
                "u16",
                "u32",
                "u64",
                "u128",
                "usize",
                "f32",
                "f64",
                "bool",
                "char",
                "str",
                "String",
                "Vec",
                "Option",
                "Result",
                "Box",
                "Rc",
                "Arc",
                "Cow",
                "VecDeque",
                "BTreeMap",
                "BTreeSet",
                "Duration",
                "Ipv4Addr",
                "Ipv6Addr",
                "IpAddr",
                "SocketAddr",
                "PathBuf",
                "Path",
                "Ordering",
                "NonZeroU8",
                "NonZeroU16",
                "NonZeroU32",
                "NonZeroU64",
                "NonZeroUsize",
                "ParseIntError",
                "ParseFloatError",
                "Utf8Error",
            ];
            if STD.contains(&name.as_str()) {
                return args_ok;
            }
            if generics.type_params().any(|p| p.ident == name) {
                // Stand-ins are std types that print.
                return true;
            }
            let type_name = if name == "Self" {
                match self_name {
                    Some(n) => last_segment(n).to_owned(),
                    None => return false,
                }
            } else {
                name
            };
            args_ok
                && index.implements(&type_name, module, "Debug")
                && index.type_def(&type_name, module).is_some_and(|d| {
                    !d.interior_mutability && !mentions_hash_order(d, index, module)
                })
        }
        _ => false,
    }
}

pub(super) fn mentions_hash_order(
    def: &super::super::index::TypeDef,
    index: &CrateIndex,
    module: &str,
) -> bool {
    hash_order_within(def, index, module, &mut Vec::new())
}

/// Hash-ordered collections in a type's fields, following the crate's own field types (a
/// struct holding a struct holding a `HashMap` prints in hash order too).
pub(super) fn hash_order_within(
    def: &super::super::index::TypeDef,
    index: &CrateIndex,
    module: &str,
    seen: &mut Vec<String>,
) -> bool {
    const DEPTH: usize = 4;
    if seen.contains(&def.path) || seen.len() >= DEPTH {
        return false;
    }
    seen.push(def.path.clone());
    let types: Vec<&syn::Type> = match &def.shape {
        super::super::index::Shape::Struct { fields, .. } => {
            fields.iter().map(|(_, t)| t).collect()
        }
        super::super::index::Shape::Enum { variants } => variants
            .iter()
            .flat_map(|(_, f)| f.iter().flatten())
            .collect(),
        super::super::index::Shape::Alias(t) => vec![&**t],
    };
    let found = types.iter().any(|t| {
        let mut idents = Vec::new();
        super::super::mined::collect_idents(t.to_token_stream(), &mut idents);
        idents.iter().any(|ident| {
            ident == "HashMap"
                || ident == "HashSet"
                || index
                    .type_def(ident, module)
                    .is_some_and(|inner| hash_order_within(inner, index, module, seen))
        })
    });
    seen.pop();
    found
}
