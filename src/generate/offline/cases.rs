//! The candidate tests of one function: how to call it (free function, associated function,
//! trait method, method on a constructed receiver after a few `&mut self` calls), each
//! parameter's values (edge values, values mined from its body and its spec, crate types),
//! combined pairwise, under the oracles that apply to it (no panic, determinism).

use std::collections::BTreeSet;

use quote::ToTokens;
use syn::visit_mut::VisitMut;

use super::construct::{Construction, Constructor, Setup, snake};
use super::docs::{doc_text, documents_panics, only_allocation_panics, states_preconditions};
use super::index::{Container, CrateIndex, FnSyntax, crate_relative, last_segment};
use super::mined::{Mined, arithmetic_params, mine, mined_values, size_like_params, text_label};
use super::pairwise::pairwise;
use super::signature::{CallPlan, Receiver, call_plan};
use super::types::{InputType, input_type, stand_in_types};
use super::values::{EdgeValue, edge_values_with};
use crate::analyze::{Function, PanicVia, SiteKind};
use crate::testfile::TestMeta;

/// What the spec says about a function.
#[derive(Debug, Clone, Default)]
pub struct SpecFacts {
    /// Linked items' literals, as Rust literals, with the item id.
    pub literals: Vec<(String, String)>,
    /// Whether an item names the function (so it is in scope even when private).
    pub named: bool,
    /// Whether an item says the function panics: then a panic is not a finding.
    pub says_panics: bool,
}

/// Knobs from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseOptions {
    /// Test private functions under the no-panic oracle too.
    pub private: bool,
    /// The function (or one it calls) reads a clock, randomness, I/O or a static: no
    /// determinism test.
    pub impure: bool,
    /// A method of the same type it calls on `self` asserts a precondition on the receiver's
    /// state: that invariant is the caller's too.
    pub inherits_precondition: bool,
    /// Which crate type stands in for a type parameter bounded by a crate trait: the first
    /// that implements it (0), the next (1), ... (a padded and an unpadded alphabet break
    /// differently).
    pub implementor: usize,
}

/// The reason `candidates` gives when asked for an implementor past the last.
pub const NO_FURTHER_IMPLEMENTOR: &str = "no further implementor";

/// One candidate test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The test's name before de-duplication.
    pub name: String,
    pub meta: TestMeta,
    /// The statements of the test's body.
    pub body: String,
    /// What it exercises, for choosing the tests that reach the most: `param=label` and site
    /// ids.
    pub features: Vec<String>,
    /// Counted on top of new features when choosing: combinations known to break code.
    pub priority: usize,
}

/// Most values one parameter of several gets.
const MAX_VALUES: usize = 16;
/// Most values the only parameter gets.
const MAX_VALUES_ALONE: usize = 30;
/// Most receivers (construction and call sequence) a method gets.
const MAX_RECEIVERS: usize = 6;
/// Most `&mut self` methods tried before the call under test.
const MAX_MUTATORS: usize = 3;
/// A size that is large without making a test slow.
const LARGE_SIZE: &str = "100_000";

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Edge,
    Mined,
    Spec,
    Crate,
}

/// One argument value: statements it needs first, the expression, what it is.
#[derive(Debug, Clone)]
struct Arg {
    setup: Option<String>,
    /// The setup as a reader wants it in the test's `input`: `subject = Tally::new(); ...`.
    shown: Option<String>,
    code: String,
    label: String,
    source: Source,
    item: Option<String>,
    /// A bound value moved into the call: the call cannot be repeated.
    moved: bool,
    /// The value is a reference already (`"é"` for a `str` receiver): `&self` takes it as is.
    already_ref: bool,
}

/// The tests for `function`, or every reason none can be made.
pub fn candidates(
    function: &Function,
    syntax: &FnSyntax,
    index: &CrateIndex,
    spec: &SpecFacts,
    options: CaseOptions,
    carried: Option<&Mined>,
    const_args: &[(String, u64)],
) -> Result<Vec<Candidate>, Vec<String>> {
    if syntax.nested {
        return Err(vec![
            "nested function: only its enclosing function can call it".into(),
        ]);
    }
    if let Some(cfg) = index.cfg_off(syntax) {
        return Err(vec![format!("not compiled on this machine ({cfg})")]);
    }
    if syntax.sig.ident == "main" && matches!(syntax.container, Container::Free) {
        return Err(vec![
            "a program's `main`: it reads the process's arguments and may exit".into(),
        ]);
    }
    let module = crate_relative(&function.module);
    let maker = Constructor {
        index,
        module: &module,
    };
    let (self_ty, trait_path, impl_generics) = match &syntax.container {
        Container::TraitDefault {
            trait_name,
            trait_path,
            generic,
        } => {
            // Through a crate type that implements the trait and can be made.
            let implementor = (!generic)
                .then(|| {
                    index.implementors(trait_name).into_iter().find_map(|ty| {
                        let def = index.type_def(ty, &module)?;
                        (!def.has_generics
                            && maker.can_name(def)
                            && !maker.constructions(ty).is_empty())
                        .then(|| def.path.clone())
                    })
                })
                .flatten();
            let (Some(implementor), Ok(path)) = (
                implementor,
                crate::syntax::parse_str::<syn::Path>(trait_path),
            ) else {
                return Err(vec![format!(
                    "trait default method: no crate type implementing `{trait_name}` can be made"
                )]);
            };
            let self_ty: syn::Type =
                crate::syntax::parse_str(&implementor).map_err(|e| vec![e.to_string()])?;
            (Some(self_ty), Some(path), syn::Generics::default())
        }
        Container::Free => (None, None, syn::Generics::default()),
        Container::Inherent { self_ty, generics } => {
            (Some(self_ty.clone()), None, generics.clone())
        }
        Container::TraitImpl {
            self_ty,
            trait_path,
            generics,
        } => (
            Some(self_ty.clone()),
            Some(trait_path.clone()),
            generics.clone(),
        ),
    };
    let mut fn_sig = syntax.sig.clone();
    let mut self_ty = self_ty;
    let mut trait_path = trait_path;
    // Type parameters bounded by the crate's own traits take a crate type that implements
    // them (`Tz: TimeZone` takes `Utc`).
    let bound = crate_trait_bindings(
        &[&impl_generics, &syntax.sig.generics],
        &maker,
        self_ty.as_ref(),
        options.implementor,
    )
    .map_err(|reason| vec![reason])?;
    if !bound.is_empty() {
        let mut substitute = Substitute(&bound);
        for input in fn_sig.inputs.iter_mut() {
            if let syn::FnArg::Typed(typed) = input {
                substitute.visit_type_mut(&mut typed.ty);
            }
        }
        if let Some(ty) = self_ty.as_mut() {
            substitute.visit_type_mut(ty);
        }
        if let Some(path) = trait_path.as_mut() {
            substitute.visit_path_mut(path);
        }
    }
    if let Some(syn::Type::Reference(_)) = &self_ty {
        return Err(vec![format!(
            "an impl for a reference type (`{}`): tested through the type's own methods",
            crate::analyze::names::pretty_type(self_ty.as_ref().expect("matched"))
        )]);
    }
    let self_ty = self_ty.as_ref();
    let trait_path = trait_path.as_ref();
    let mut sig = fn_sig.clone();
    sig.generics = merged_generics(&impl_generics, &fn_sig.generics);
    if let Some(self_ty) = self_ty {
        replace_self(&mut sig, self_ty);
    }
    // Const generic parameters given values: `[u8; N]` becomes `[u8; 4]` and `N` leaves
    // the generics the plan sees (the turbofish passes it).
    let assigned: std::collections::HashMap<String, u64> = const_args.iter().cloned().collect();
    for input in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(typed) = input {
            *typed.ty =
                super::index::lengths_written(&index.with_const_lengths(&typed.ty), &assigned);
        }
    }
    sig.generics.params = std::mem::take(&mut sig.generics.params)
        .into_iter()
        .filter(|p| !matches!(p, syn::GenericParam::Const(c) if assigned.contains_key(&c.ident.to_string())))
        .collect();
    // `impl Display for T`: `fmt` is called the way users call it, through `format!`.
    let format_spec = format_spec(&syntax.container, &syntax.sig);
    let plan = match format_spec {
        Some(_) => CallPlan {
            receiver: Some(Receiver::Ref),
            params: Vec::new(),
        },
        None => call_plan(&sig)?,
    };
    let oracle = no_panic_oracle(function, syntax, index, &module, self_ty, spec, options);
    let impl_stand_ins = stand_in_types(&impl_generics, &bound).map_err(|e| vec![e.0])?;
    let self_code = self_ty.map(|ty| substituted(ty, &impl_stand_ins));
    let ident = syntax.sig.ident.to_string();
    let fish = turbofish(&fn_sig, &bound, &assigned)?;
    let callee = match (&self_code, trait_path) {
        (None, _) => format!("{ident}{fish}"),
        (Some(ty), None) => format!("<{ty}>::{ident}{fish}"),
        (Some(ty), Some(trait_path)) => {
            let trait_ty: syn::Type = syn::parse_quote!(#trait_path);
            let trait_code = substituted(&trait_ty, &impl_stand_ins);
            format!("<{ty} as {trait_code}>::{ident}{fish}")
        }
    };

    let mut mined = mine(&syntax.block);
    if let Some(carried) = carried {
        mined.absorb(carried);
    }
    // The inputs its examples call valid (its own docs, its type's): near misses of them.
    let mut examples = super::docs::example_strings(&documentation(syntax, index));
    if let Some(doc) =
        self_ty.and_then(|ty| index.type_doc(&crate::analyze::names::self_type_name(ty)))
    {
        examples.extend(super::docs::example_strings(doc));
    }
    mined.strings.extend(examples);
    for name in std::mem::take(&mut mined.consts) {
        if let Some(value) = index.const_value(&name) {
            mined.add_const(value);
        }
    }
    let mut sizes = size_like_params(&syntax.block, &function.params);
    // A `usize` is nearly always a length, an index or a count: unless the body does
    // arithmetic with it (where `MAX` overflows), its `MAX` only makes allocations abort.
    let arithmetic = arithmetic_params(&syntax.block, &function.params);
    for param in &plan.params {
        let model = maker.resolve(&param.input);
        if matches!(&model, InputType::Int { name, .. } if name == "usize")
            && !arithmetic.contains(&param.name)
        {
            sizes.insert(param.name.clone());
        }
    }
    let mut dimensions: Vec<Vec<Arg>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if let Some(receiver) = plan.receiver {
        let self_ty = self_ty.expect("a receiver is inside an impl");
        let receivers = receiver_args(
            &maker,
            self_ty,
            self_code.as_deref(),
            &ident,
            receiver,
            &mined,
        );
        if receivers.is_empty() {
            return Err(vec![format!(
                "receiver `{}`: no public constructor, `Default`, `From`, `FromStr` or public fields to make one",
                crate::analyze::names::pretty_type(self_ty)
            )]);
        }
        dimensions.push(receivers);
        names.push("self".into());
    }
    for param in &plan.params {
        // One parameter takes every value as its own test; several share tests pairwise.
        let max_values = if plan.params.len() == 1 {
            MAX_VALUES_ALONE
        } else {
            MAX_VALUES
        };
        let values = param_args(
            &maker,
            max_values,
            &param.name,
            &param.input,
            &mined,
            &sizes,
            spec,
        );
        if values.is_empty() {
            return Err(vec![format!(
                "parameter `{}`: no value of `{}` can be made",
                param.name,
                model_name(&param.input)
            )]);
        }
        dimensions.push(values);
        names.push(param.name.clone());
    }

    // Called to reach another function: only whether it panics is asked.
    let deterministic = carried.is_none()
        && !options.impure
        && determinism_possible(syntax, index, &module, self_ty, &plan);
    if oracle.is_none() && !deterministic {
        return Err(vec![skip_reason(function, syntax, index, spec)]);
    }
    let counts: Vec<usize> = dimensions.iter().map(Vec::len).collect();
    let strong = strong_rows(function, &names, &dimensions);
    let mut rows: Vec<Vec<usize>> = strong.clone();
    rows.extend(
        pairwise(&counts)
            .into_iter()
            .filter(|r| !strong.contains(r)),
    );
    let display = display_name(self_ty, &ident);
    let index_check = if format_spec.is_none() {
        index_oracle(&sig, &plan)
    } else {
        None
    };
    // `Display` of a type that parses (`FromStr`) and compares: each value must parse back.
    let round_trip = match (format_spec, self_ty, &self_code) {
        (Some("{}"), Some(ty), Some(code)) => {
            let name = crate::analyze::names::self_type_name(ty);
            (["FromStr", "PartialEq", "Debug"]
                .iter()
                .all(|t| index.implements(&name, &module, t)))
            .then(|| code.clone())
        }
        _ => None,
    };
    let error_format = error_format(&syntax.sig.output, index, &module, self_ty);
    let mut out = Vec::new();
    for (row_number, row) in rows.iter().enumerate() {
        let chosen: Vec<&Arg> = row
            .iter()
            .enumerate()
            .map(|(d, &v)| &dimensions[d][v])
            .collect();
        let case = Case {
            function,
            callee: &callee,
            receiver: plan.receiver,
            trait_call: trait_path.is_some(),
            method: &ident,
            fish: &fish,
            format_spec,
            names: &names,
            args: &chosen,
            display: &display,
            error_format,
        };
        if oracle.is_some() {
            let mut candidate = match index_check {
                Some(check) => case.indexes_input(check),
                None => case.no_panic(),
            };
            candidate.priority = if strong.contains(row) {
                STRONG_PRIORITY
            } else {
                case.potency()
            };
            out.push(candidate);
            if let Some(ty) = &round_trip {
                // An oracle of its own: its values count as new, and it is cheap and sharp.
                let mut candidate = case.parses_back(ty);
                candidate.priority = case.potency().max(3);
                out.push(candidate);
            }
        }
        // Determinism on the first rows with something mined in them, and the very first.
        let repeatable = chosen.iter().all(|a| !a.moved);
        if deterministic
            && repeatable
            && (row_number == 0 || chosen.iter().any(|a| a.source == Source::Mined))
            && out
                .iter()
                .filter(|c: &&Candidate| c.meta.oracle.as_deref() == Some("deterministic"))
                .count()
                < 2
        {
            out.push(case.deterministic());
        }
    }
    if out.is_empty() {
        return Err(vec![if oracle.is_none() {
            skip_reason(function, syntax, index, spec)
        } else {
            "no input could be built".into()
        }]);
    }
    Ok(out)
}

/// Error types of std that format with `{}`.
const STD_DISPLAY_ERRORS: &[&str] = &[
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
fn error_format(
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
struct NoPanic;

/// A function that returns a range of one of its inputs: which parameter (a `&str` or
/// `&[u8]`), and whether the range comes in an `Option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IndexOracle {
    param: usize,
    optional: bool,
}

/// Parameter names of what a search looks for, not where.
const SOUGHT_NAMES: &[&str] = &[
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
fn index_oracle(sig: &syn::Signature, plan: &CallPlan) -> Option<IndexOracle> {
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
fn format_spec(container: &Container, sig: &syn::Signature) -> Option<&'static str> {
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

/// How much a known-strong combination counts when choosing, in new features.
const STRONG_PRIORITY: usize = 4;

/// String labels whose first characters span more than one byte.
const MULTIBYTE_LABELS: &[&str] = &[
    "multibyte_first",
    "multibyte_only",
    "emoji",
    "multibyte_second",
];
/// Integer labels of small offsets.
const SMALL_OFFSET_LABELS: &[&str] = &["one", "v1", "v2", "v3", "inside_multibyte"];

/// Rows pairing a multi-byte string with a small offset, for functions that slice or index
/// that string: a byte offset of 1 inside `"é"` is the commonest panic in string code, and
/// pairwise coverage alone may leave that pair to a test the budget drops.
fn strong_rows(function: &Function, names: &[String], dimensions: &[Vec<Arg>]) -> Vec<Vec<usize>> {
    let sliced: BTreeSet<&str> = function
        .sites
        .iter()
        .filter(|s| s.kind == SiteKind::Panic && s.via == Some(PanicVia::Index))
        .flat_map(|s| s.params.iter().map(String::as_str))
        .collect();
    let mut rows = Vec::new();
    // A text whose case folding changes its length, searched for the letter that finds it.
    let at = |d: usize, label: &str| dimensions[d].iter().position(|v| v.label == label);
    for text in 0..dimensions.len() {
        for sought in (0..dimensions.len()).filter(|&d| d != text) {
            if let (Some(i), Some(j)) = (at(text, "capital_i_with_dot"), at(sought, "letter_i")) {
                let mut row = vec![0; dimensions.len()];
                row[text] = i;
                row[sought] = j;
                rows.push(row);
            }
        }
    }
    for (s, text) in dimensions.iter().enumerate() {
        if !sliced.contains(names[s].as_str()) {
            continue;
        }
        let multibyte: Vec<usize> = (0..text.len())
            .filter(|&i| MULTIBYTE_LABELS.contains(&text[i].label.as_str()))
            .collect();
        if multibyte.is_empty() {
            continue;
        }
        let offsets: Vec<(usize, usize)> = dimensions
            .iter()
            .enumerate()
            .filter(|(d, _)| *d != s)
            .flat_map(|(d, values)| {
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| SMALL_OFFSET_LABELS.contains(&v.label.as_str()))
                    .map(move |(i, _)| (d, i))
            })
            .collect();
        for &m in &multibyte {
            if offsets.is_empty() {
                let mut row = vec![0; dimensions.len()];
                row[s] = m;
                rows.push(row);
            }
            for &(d, i) in &offsets {
                let mut row = vec![0; dimensions.len()];
                row[s] = m;
                row[d] = i;
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
    }
    rows.truncate(MAX_STRONG_ROWS);
    rows
}

/// Most strong rows per function: they jump the queue, so only a few.
const MAX_STRONG_ROWS: usize = 4;

/// `Self` in parameter types replaced by the impl's self type (`rhs: &Self` takes a `&Cents`).
fn replace_self(sig: &mut syn::Signature, self_ty: &syn::Type) {
    struct ReplaceSelf<'a>(&'a syn::Type);
    impl VisitMut for ReplaceSelf<'_> {
        fn visit_type_mut(&mut self, ty: &mut syn::Type) {
            if let syn::Type::Path(path) = ty
                && path.qself.is_none()
                && path.path.is_ident("Self")
            {
                *ty = self.0.clone();
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    for input in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(typed) = input {
            ReplaceSelf(self_ty).visit_type_mut(&mut typed.ty);
        }
    }
}

/// Traits whose methods panic by convention, as the built-in operators do: arithmetic
/// overflows in debug builds, indexing out of range.
const PANICKING_BY_CONVENTION: &[&str] = &[
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

/// The impl's generics then the function's, as one list.
fn merged_generics(outer: &syn::Generics, inner: &syn::Generics) -> syn::Generics {
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
fn turbofish(
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
struct Substitute<'a>(&'a [(String, String)]);

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
fn substituted(ty: &syn::Type, stand_ins: &[(String, String)]) -> String {
    let mut ty = ty.clone();
    Substitute(stand_ins).visit_type_mut(&mut ty);
    crate::analyze::names::pretty_type(&ty)
}

/// Names of std traits: a crate trait of the same name cannot be told apart from them by
/// name, so it is not bound to an implementor.
const STD_TRAIT_NAMES: &[&str] = &[
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
const AUTO_TRAITS: &[&str] = &["Send", "Sync", "Sized", "Unpin", "?Sized"];

/// For each type parameter bounded by a trait of the crate, a crate type implementing every
/// one of its bounds that the engine can make a value of, as `(name, path)`.
/// A parameter only `Self`'s bounds constrain (`where Self: Contains<T>`) takes, in turn, the
/// types `Self` implements the trait for. Past the last choice of every parameter,
/// `NO_FURTHER_IMPLEMENTOR`.
fn crate_trait_bindings(
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
fn self_bound_arguments(
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
fn implements_with_args(maker: &Constructor, ty: &str, trait_name: &str) -> bool {
    maker
        .index
        .implementors(trait_name)
        .contains(&last_segment(ty))
}

/// `Meter::push` → `meter_push`; `parse_cents` stays.
fn display_name(self_ty: Option<&syn::Type>, ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    match self_ty {
        Some(ty) => {
            let name = crate::analyze::names::self_type_name(ty);
            format!("{}_{}", snake(last_segment(&name)), ident)
        }
        None => ident.to_owned(),
    }
}

fn model_name(ty: &InputType) -> String {
    match ty {
        InputType::Named(name) => name.clone(),
        InputType::Ref { inner, .. }
        | InputType::Option(inner)
        | InputType::Vec(inner)
        | InputType::Wrapped { inner, .. } => model_name(inner),
        other => super::types::type_code(other).unwrap_or_else(|| format!("{other:?}")),
    }
}

/// Whether a panic of `function` on any input is a finding: it is public (or private ones
/// were asked for, or the spec names it), does not document its panics, and does not check
/// its parameters with an explicit `assert!`/`panic!` (a precondition said in code).
fn no_panic_oracle(
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
        || super::index::doc_hidden(&syntax.attrs)
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
fn operator_by_convention(syntax: &FnSyntax) -> bool {
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
const DIVISION_METHODS: &[&str] = &[
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
fn documentation(syntax: &FnSyntax, index: &CrateIndex) -> String {
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
fn body_only_panics(syntax: &FnSyntax) -> bool {
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

fn skip_reason(
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
fn determinism_possible(
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
fn prints_stably(
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

fn mentions_hash_order(def: &super::index::TypeDef, index: &CrateIndex, module: &str) -> bool {
    hash_order_within(def, index, module, &mut Vec::new())
}

/// Hash-ordered collections in a type's fields, following the crate's own field types (a
/// struct holding a struct holding a `HashMap` prints in hash order too).
fn hash_order_within(
    def: &super::index::TypeDef,
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
        super::index::Shape::Struct { fields, .. } => fields.iter().map(|(_, t)| t).collect(),
        super::index::Shape::Enum { variants } => variants
            .iter()
            .flat_map(|(_, f)| f.iter().flatten())
            .collect(),
        super::index::Shape::Alias(t) => vec![&**t],
    };
    let found = types.iter().any(|t| {
        let mut idents = Vec::new();
        super::mined::collect_idents(t.to_token_stream(), &mut idents);
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

/// Receivers: each construction of the self type, fresh and after short sequences of the
/// type's `&mut self` methods called with limit values.
fn receiver_args(
    maker: &Constructor,
    self_ty: &syn::Type,
    self_code: Option<&str>,
    method: &str,
    receiver: Receiver,
    mined: &Mined,
) -> Vec<Arg> {
    if let Some(values) = primitive_receivers(maker, self_ty, receiver, mined) {
        return values;
    }
    let name = crate::analyze::names::self_type_name(self_ty);
    let type_name = last_segment(&name).to_owned();
    let generic_code = maker
        .index
        .type_def(&type_name, maker.module)
        .filter(|d| d.has_generics)
        .and(self_code);
    let constructions: Vec<Construction> = match generic_code {
        Some(code) => maker.generic_constructions(&type_name, code),
        None => maker.constructions(&type_name),
    };
    let mut constructions = spread_families(constructions);
    // Plain values first: they cannot fail, so the test always reaches the call.
    constructions.sort_by_key(|c| c.setup != Setup::Plain);
    constructions.truncate(MAX_RECEIVERS);
    let sequences = mutator_sequences(maker, &type_name, method);
    let mut out = Vec::new();
    let mutable = receiver == Receiver::RefMut || !sequences.is_empty();
    // A borrowed value takes no `&mut` calls and cannot be moved.
    if receiver != Receiver::Ref {
        constructions.retain(|c| !c.borrowed);
    }
    for (position, construction) in constructions.iter().enumerate() {
        let sequences: &[Sequence] = if construction.borrowed {
            &[]
        } else {
            &sequences
        };
        let mutable = mutable && !construction.borrowed;
        let setup = bind("subject", construction, mutable);
        out.push(Arg {
            setup: Some(setup.clone()),
            shown: Some(format!("subject = {}", construction.code)),
            code: "subject".into(),
            label: construction.label.clone(),
            source: Source::Crate,
            item: None,
            moved: receiver == Receiver::Value,
            already_ref: false,
        });
        // Sequences on the first construction only: enough to find overflowing state without
        // multiplying every receiver by every sequence.
        if position == 0 {
            for sequence in sequences {
                out.push(Arg {
                    setup: Some(format!(
                        "{}\n{}",
                        bind("subject", construction, true),
                        sequence.code
                    )),
                    shown: Some(format!(
                        "subject = {}; {}",
                        construction.code, sequence.shown
                    )),
                    code: "subject".into(),
                    label: format!("{}_{}", construction.label, sequence.label),
                    source: Source::Mined,
                    item: None,
                    moved: receiver == Receiver::Value,
                    already_ref: false,
                });
            }
        }
    }
    out.truncate(MAX_RECEIVERS + sequences.len());
    out
}

/// Receivers of a method on a primitive or std type (`impl ToSnakeCase for str`,
/// `impl Float for f32`): that type's edge values, inline.
fn primitive_receivers(
    maker: &Constructor,
    self_ty: &syn::Type,
    receiver: Receiver,
    mined: &Mined,
) -> Option<Vec<Arg>> {
    let model = match self_ty {
        syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
            InputType::Str { owned: false }
        }
        syn::Type::Slice(slice) => InputType::Slice {
            element: Box::new(input_type(&slice.elem, &syn::Generics::default()).ok()?),
            mutable: false,
        },
        other => match maker.resolve(&input_type(other, &syn::Generics::default()).ok()?) {
            InputType::Named(_) => return None,
            model => model,
        },
    };
    let already_ref = matches!(
        model,
        InputType::Str { owned: false } | InputType::Slice { .. }
    );
    if already_ref && receiver != Receiver::Ref {
        return Some(Vec::new());
    }
    let named = |name: &str| maker.plain_values(name);
    // Its own boundaries first (`self as i64` wants `1 << 63`), then the type's edges.
    let mut values: Vec<(EdgeValue, Source)> = mined_values(&model, mined, None)
        .into_iter()
        .map(|v| (v, Source::Mined))
        .collect();
    for edge in edge_values_with(&model, &named) {
        if !values.iter().any(|(v, _)| v.code == edge.code) {
            values.push((edge, Source::Edge));
        }
    }
    values.truncate(MAX_VALUES_ALONE);
    Some(
        values
            .into_iter()
            .map(|(value, source)| Arg {
                setup: None,
                shown: None,
                code: value.code,
                label: value.label,
                source,
                item: None,
                moved: false,
                already_ref,
            })
            .collect(),
    )
}

/// Constructions reordered round-robin over their families (a variant, a constructor: the
/// code before its arguments), so a cut keeps every variant's edge payloads, not one
/// variant's all.
fn spread_families(constructions: Vec<Construction>) -> Vec<Construction> {
    let family = |c: &Construction| {
        c.code
            .split(['(', '{'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let mut families: Vec<(String, std::collections::VecDeque<Construction>)> = Vec::new();
    for construction in constructions {
        let key = family(&construction);
        match families.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push_back(construction),
            None => families.push((key, std::collections::VecDeque::from([construction]))),
        }
    }
    let mut out = Vec::new();
    while families.iter().any(|(_, members)| !members.is_empty()) {
        for (_, members) in &mut families {
            out.extend(members.pop_front());
        }
    }
    out
}

/// `let NAME = EXPR;`, or for a setup that may fail, a `let ... else { return; }` that steps
/// aside: a failing setup is not what the test is about.
fn bind(name: &str, construction: &Construction, mutable: bool) -> String {
    let binding = if mutable {
        format!("mut {name}")
    } else {
        name.to_owned()
    };
    let guarded = |pattern: String| {
        format!(
            "let Ok({pattern}) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {})) else {{ return; }};",
            construction.code
        )
    };
    match construction.setup {
        Setup::Plain => format!("let {binding} = {};", construction.code),
        Setup::MayPanic => guarded(binding),
        Setup::Result => guarded(format!("Ok({binding})")),
        Setup::Option => guarded(format!("Some({binding})")),
    }
}

/// Method name prefixes that view or shrink rather than add state.
const NOT_MUTATORS: &[&str] = &[
    "as_", "iter", "get_", "clear", "shrink", "reserve", "truncate", "drain", "retain", "sort",
    "reverse", "set_len",
];

/// Calls of the type's public `&mut self` methods with limit values, twice each: state that
/// overflows shows on the second call or in the call under test.
/// Setup calls on a receiver: the statements, how the input shows them, a name part.
struct Sequence {
    code: String,
    shown: String,
    label: String,
}

fn mutator_sequences(maker: &Constructor, type_name: &str, method: &str) -> Vec<Sequence> {
    let mut out = Vec::new();
    // Methods that take data first (`push`, `insert`, `add`): they build up the state that
    // overflows; views and shrinking (`as_mut_slice`, `clear`) change little.
    let mut mutators: Vec<&super::index::AssocFn> = maker
        .index
        .assoc_fns(type_name, maker.module)
        .into_iter()
        .filter(|a| {
            let name = a.sig.ident.to_string();
            !NOT_MUTATORS.iter().any(|prefix| name.starts_with(prefix))
        })
        .collect();
    mutators.sort_by_key(|a| a.sig.inputs.len() <= 1);
    for assoc in mutators {
        if out.len() >= MAX_MUTATORS {
            break;
        }
        let sig = &assoc.sig;
        let by_mut_ref = matches!(
            sig.receiver().map(|r| &r.kind),
            Some(syn::ReceiverKind::Reference(_, _, Some(_)))
        );
        if !assoc.exported || !by_mut_ref || sig.ident == method || sig.asyncness.is_some() {
            continue;
        }
        // A mutator with documented panics or preconditions would put the receiver in a state
        // its contract rules out; what fails after is not a finding.
        let doc = doc_text(&assoc.attrs);
        let names: Vec<String> = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => match &*t.pat {
                    syn::Pat::Ident(i) => Some(i.ident.to_string()),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        if (documents_panics(&doc) && !only_allocation_panics(&doc))
            || states_preconditions(&doc, &names)
        {
            continue;
        }
        if sig.generics.type_params().next().is_some()
            || matches!(sig.safety, syn::Safety::Unsafe(_))
        {
            continue;
        }
        let Ok(plan) = call_plan(sig) else { continue };
        let mut args = Vec::new();
        let mut labels = Vec::new();
        for param in &plan.params {
            let model = maker.resolve(&param.input);
            let named = |name: &str| maker.plain_values(name);
            let values = edge_values_with(&model, &named);
            let Some(chosen) = values
                .iter()
                .find(|v| v.label == "max")
                .or_else(|| values.get(1))
                .or_else(|| values.first())
            else {
                break;
            };
            args.push(chosen.code.clone());
            labels.push(chosen.label.clone());
        }
        if args.len() != plan.params.len() {
            continue;
        }
        let call = format!("subject.{}({})", sig.ident, args.join(", "));
        // The calls are setup: if one panics, that is the mutator's story (its own tests tell
        // it), not the method under test's; the test steps aside.
        // The result is dropped inside the closure: it may borrow the receiver.
        let guarded = format!(
            "let Ok(_) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {{ let _ = {call}; }})) else {{ return; }};"
        );
        let label = if labels.is_empty() {
            format!("after_{}_twice", sig.ident)
        } else {
            format!("after_{}_{}_twice", sig.ident, labels.join("_"))
        };
        out.push(Sequence {
            code: format!("{guarded}\n{guarded}"),
            shown: format!("{call}; {call}"),
            label,
        });
    }
    out
}

/// The values of one parameter, most telling first: mined and spec values, then edge values,
/// deduplicated, at most `MAX_VALUES`.
fn param_args(
    maker: &Constructor,
    max_values: usize,
    name: &str,
    input: &InputType,
    mined: &Mined,
    sizes: &BTreeSet<String>,
    spec: &SpecFacts,
) -> Vec<Arg> {
    let model = maker.resolve(input);
    let mut out: Vec<Arg> = Vec::new();
    let push = |out: &mut Vec<Arg>, arg: Arg| {
        if !out
            .iter()
            .any(|a| a.code == arg.code && a.setup == arg.setup)
        {
            out.push(arg);
        }
    };
    let plain = |value: EdgeValue, source: Source, item: Option<String>| Arg {
        setup: None,
        shown: None,
        code: value.code,
        label: value.label,
        source,
        item,
        moved: false,
        already_ref: false,
    };
    // Crate types at the top, or behind a reference: every construction, bound first.
    let (named, reference) = match &model {
        InputType::Named(n) => (Some(n.clone()), None),
        InputType::Ref { inner, mutable } => match &**inner {
            InputType::Named(n) => (Some(n.clone()), Some(*mutable)),
            _ => (None, None),
        },
        _ => (None, None),
    };
    if let Some(type_name) = named {
        let binding = format!("{}_value", snake(name));
        // A `Copy` value can be passed twice; a `Clone` one is cloned for each call.
        let copy = maker.index.implements(&type_name, maker.module, "Copy");
        let clone = maker.index.implements(&type_name, maker.module, "Clone");
        for construction in maker.constructions(&type_name) {
            if construction.borrowed && reference != Some(false) {
                continue;
            }
            let mutable = reference == Some(true);
            let code = match reference {
                Some(true) => format!("&mut {binding}"),
                Some(false) => format!("&{binding}"),
                None if !copy && clone => format!("{binding}.clone()"),
                None => binding.clone(),
            };
            push(
                &mut out,
                Arg {
                    setup: Some(bind(&binding, &construction, mutable)),
                    shown: Some(format!("{binding} = {}", construction.code)),
                    code,
                    label: construction.label,
                    source: Source::Crate,
                    item: None,
                    moved: reference.is_none() && !copy && !clone,
                    already_ref: false,
                },
            );
        }
        out.truncate(max_values);
        return out;
    }
    // A radix outside 2..=36 panics by std's convention (`from_str_radix`): only the
    // radixes callers may pass.
    if name == "radix"
        && let InputType::Int { name: int, .. } = &model
    {
        return [2, 8, 10, 16, 36]
            .into_iter()
            .map(|radix| Arg {
                setup: None,
                shown: None,
                code: format!("{radix}{int}"),
                label: format!("radix{radix}"),
                source: Source::Edge,
                item: None,
                moved: false,
                already_ref: false,
            })
            .collect();
    }
    let named_values = |type_name: &str| maker.plain_values(type_name);
    let edges = edge_values_with(&model, &named_values);
    let benign_element = match &model {
        InputType::Vec(element) | InputType::Slice { element, .. } => maker.benign(element, 0),
        _ => None,
    };
    for (item, literal) in &spec.literals {
        if let Some(value) = spec_value(&model, literal) {
            push(&mut out, plain(value, Source::Spec, Some(item.clone())));
        }
    }
    let size_like = sizes.contains(name);
    for value in mined_values(&model, mined, benign_element.as_deref()) {
        // A size past any test's memory (a cast's limit) only makes the allocator give up.
        if size_like && huge_number(&value.code) {
            continue;
        }
        push(&mut out, plain(value, Source::Mined, None));
    }
    for value in edges {
        if size_like && is_huge(&value.label) {
            continue;
        }
        push(&mut out, plain(value, Source::Edge, None));
    }
    if size_like
        && let InputType::Int { name: int, .. } = &model
        && !matches!(int.as_str(), "u8" | "i8" | "u16" | "i16")
    {
        push(
            &mut out,
            plain(
                EdgeValue {
                    code: format!("{LARGE_SIZE}{int}"),
                    label: "large".into(),
                },
                Source::Edge,
                None,
            ),
        );
    }
    // Interleave what the code and spec suggest with the type's limits, so a cut (here or
    // by the budget later) keeps some of both.
    let (first, edges): (Vec<Arg>, Vec<Arg>) =
        out.into_iter().partition(|a| a.source != Source::Edge);
    let mut first = first.into_iter();
    let mut edges = edges.into_iter();
    let mut mixed = Vec::new();
    loop {
        match (first.next(), edges.next()) {
            (None, None) => break,
            (a, b) => mixed.extend(a.into_iter().chain(b)),
        }
    }
    mixed.truncate(max_values);
    mixed
}

/// Limit values that make a size parameter a slow test or an allocator abort.
/// An integer literal (`18446744073709551615usize`) larger than a test's sizes go.
fn huge_number(code: &str) -> bool {
    let digits: String = code
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .collect();
    digits
        .replace('_', "")
        .parse::<u128>()
        .is_ok_and(|n| n > 100_000)
        || digits.len() > 38
}

fn is_huge(label: &str) -> bool {
    matches!(label, "max" | "max_minus_one" | "min" | "min_plus_one")
}

/// A spec literal as a value of `model`, when its kind fits.
fn spec_value(model: &InputType, literal: &str) -> Option<EdgeValue> {
    let expr: syn::Expr = crate::syntax::parse_str(literal).ok()?;
    let (lit, negative) = match &expr {
        syn::Expr::Lit(l) => (&l.lit, false),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            syn::Expr::Lit(l) => (&l.lit, true),
            _ => return None,
        },
        _ => return None,
    };
    let value = |code: String, label: String| Some(EdgeValue { code, label });
    match (model, lit) {
        (InputType::Str { owned }, syn::Lit::Str(text)) => {
            let text = text.value();
            let label = format!("spec_{}", text_label(&text));
            let quoted = format!("{text:?}");
            value(
                if *owned {
                    format!("String::from({quoted})")
                } else {
                    quoted
                },
                label,
            )
        }
        (InputType::Int { name, signed }, syn::Lit::Int(int)) => {
            let number: i128 = int.base10_parse().ok()?;
            let number = if negative { -number } else { number };
            if number < 0 && !signed {
                return None;
            }
            // Out-of-range literals would not compile; the range check is the compiler's.
            let fits = match name.as_str() {
                "u8" => u8::try_from(number).is_ok(),
                "i8" => i8::try_from(number).is_ok(),
                "u16" => u16::try_from(number).is_ok(),
                "i16" => i16::try_from(number).is_ok(),
                "u32" => u32::try_from(number).is_ok(),
                "i32" => i32::try_from(number).is_ok(),
                "u64" | "usize" => u64::try_from(number).is_ok(),
                "i64" | "isize" => i64::try_from(number).is_ok(),
                _ => true,
            };
            let label = if number < 0 {
                format!("spec_minus_{}", number.unsigned_abs())
            } else {
                format!("spec_{number}")
            };
            if fits {
                value(format!("{number}{name}"), label)
            } else {
                None
            }
        }
        (InputType::Char, syn::Lit::Char(c)) => value(
            format!("{:?}", c.value()),
            format!("spec_char_{}", text_label(&c.value().to_string())),
        ),
        (InputType::Option(inner), _) => {
            let v = spec_value(inner, literal)?;
            value(format!("Some({})", v.code), v.label)
        }
        (
            InputType::Ref {
                inner,
                mutable: false,
            },
            _,
        ) => {
            let v = spec_value(inner, literal)?;
            value(format!("&{}", v.code), v.label)
        }
        _ => None,
    }
}

/// One row of values, about to become a test.
struct Case<'a> {
    function: &'a Function,
    callee: &'a str,
    receiver: Option<Receiver>,
    trait_call: bool,
    method: &'a str,
    /// `::<i64>` for a generic method, else empty.
    fish: &'a str,
    /// `{}` when the call is `format!("{}", subject)` (a formatting trait's `fmt`).
    format_spec: Option<&'static str>,
    names: &'a [String],
    args: &'a [&'a Arg],
    display: &'a str,
    /// How the function's `Err` is formatted after the call (`{}` or `{:?}`), when its error
    /// type is known to format: a message that panics is the crate's bug too.
    error_format: Option<&'static str>,
}

/// Longest name part made of argument labels.
const MAX_LABEL_CHARS: usize = 60;

impl Case<'_> {
    fn setups(&self) -> String {
        self.args
            .iter()
            .filter_map(|a| a.setup.as_deref())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The call under test.
    fn call(&self) -> String {
        let (receiver, params) = match self.receiver {
            Some(kind) => (Some((kind, self.args[0])), &self.args[1..]),
            None => (None, self.args),
        };
        let codes: Vec<&str> = params.iter().map(|a| a.code.as_str()).collect();
        if let (Some(spec), Some((_, subject))) = (self.format_spec, receiver) {
            return format!("format!({spec:?}, {})", subject.code);
        }
        match receiver {
            Some((kind, subject)) if self.trait_call => {
                let receiver = match kind {
                    Receiver::Ref if subject.already_ref => subject.code.clone(),
                    Receiver::Ref => format!("&{}", subject.code),
                    Receiver::RefMut => format!("&mut {}", subject.code),
                    Receiver::Value => subject.code.clone(),
                };
                let mut all = vec![receiver.as_str()];
                all.extend(codes);
                format!("{}({})", self.callee, all.join(", "))
            }
            Some((_, subject)) => format!(
                "{}.{}{}({})",
                subject.code,
                self.method,
                self.fish,
                codes.join(", ")
            ),
            None => format!("{}({})", self.callee, codes.join(", ")),
        }
    }

    /// How likely these values are to break code, for choosing when the budget is small:
    /// values from the function's own guards and its spec first, then the classic breakers
    /// (empty, limits, multi-byte, zero).
    fn potency(&self) -> usize {
        const BREAKERS: &[&str] = &[
            "empty",
            "max",
            "min",
            "zero",
            "multibyte",
            "emoji",
            "nul",
            "long",
            "nan",
            "infinity",
            "none",
            "large",
            "after",
            "whitespace",
            "minus",
        ];
        // With one argument, a spec value or a classic breaker is as strong as a value gets
        // (one test each): potent. With several, a row is potent when a value mined from the
        // function's own code is in it, or the spec's beside a breaker.
        let alone = self.args.len() == 1;
        let score: usize = self
            .args
            .iter()
            .map(|a| match a.source {
                // The function's own boundaries first, then the spec's values, then the
                // classic breakers.
                Source::Mined => 3,
                Source::Spec if alone => 3,
                Source::Spec => 2,
                _ if a.label.split('_').any(|part| BREAKERS.contains(&part)) => {
                    if alone {
                        2
                    } else {
                        1
                    }
                }
                _ => 0,
            })
            .sum();
        score.min(STRONG_PRIORITY - 1)
    }

    fn label(&self) -> String {
        let parts: Vec<String> = if self.args.len() == 1 {
            vec![self.args[0].label.clone()]
        } else {
            self.args
                .iter()
                .zip(self.names)
                .map(|(a, n)| {
                    if n == "self" {
                        a.label.clone()
                    } else {
                        format!("{}_{}", snake(n), a.label)
                    }
                })
                .collect()
        };
        let mut joined = parts.join("_");
        if joined.len() > MAX_LABEL_CHARS {
            // Cut between words, not inside one.
            let cut = joined[..=MAX_LABEL_CHARS]
                .rfind('_')
                .filter(|&at| at > 0)
                .unwrap_or(MAX_LABEL_CHARS);
            joined.truncate(cut);
        }
        let joined = joined.trim_end_matches('_');
        if joined.is_empty() {
            "no_arguments".into()
        } else {
            joined.to_owned()
        }
    }

    fn input(&self) -> String {
        let mut text = String::new();
        for arg in self.args {
            if let Some(shown) = &arg.shown {
                text.push_str(shown);
                text.push_str("; ");
            }
        }
        text.push_str(&self.call());
        const MAX_INPUT: usize = 400;
        if text.len() > MAX_INPUT {
            let mut cut = MAX_INPUT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    fn category(&self) -> &'static str {
        if self.args.iter().any(|a| a.source == Source::Spec) {
            return "spec_contract";
        }
        if self
            .args
            .iter()
            .any(|a| a.label.contains("_after_") || a.label.starts_with("after_"))
        {
            return "misuse";
        }
        if self.args.iter().any(|a| a.source == Source::Mined) {
            return "boundary";
        }
        let has_part = |words: &[&str]| {
            self.args
                .iter()
                .any(|a| a.label.split('_').any(|part| words.contains(&part)))
        };
        if has_part(&["max", "min", "nan", "infinity", "epsilon", "long", "large"]) {
            return "type_limit";
        }
        if has_part(&["empty", "none"]) {
            return "empty";
        }
        "boundary"
    }

    fn features(&self) -> Vec<String> {
        let mut features: Vec<String> = self
            .args
            .iter()
            .zip(self.names)
            .map(|(a, n)| format!("{n}={}", a.label))
            .collect();
        features.extend(self.targets());
        features
    }

    /// Sites this input aims at: panic sites and guards that read a parameter it sets.
    fn targets(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.names.iter().map(String::as_str).collect();
        self.function
            .sites
            .iter()
            .filter(|site| {
                (site.kind == SiteKind::Panic || site.guard)
                    && site.params.iter().any(|p| set.contains(p.as_str()))
            })
            .map(|site| site.id.clone())
            .collect()
    }

    fn meta(&self, oracle: &str) -> TestMeta {
        TestMeta {
            function: self.function.path.clone(),
            targets: self.targets(),
            spec: self
                .args
                .iter()
                .filter_map(|a| a.item.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            category: Some(self.category().into()),
            oracle: Some(oracle.into()),
            input: Some(self.input()),
        }
    }

    fn no_panic(&self) -> Candidate {
        let setups = self.setups();
        Candidate {
            name: format!("{}_{}_does_not_panic", self.display, self.label()),
            meta: self.meta("no_panic"),
            body: match self.error_format {
                Some(spec) => format!(
                    "{setups}\nif let Err(error) = {} {{\n    let _ = format!(\"{spec}\", error);\n}}",
                    self.call()
                ),
                None => format!("{setups}\nlet _ = {};", self.call()),
            },
            features: self.features(),
            priority: 0,
        }
    }

    /// The call with the input it returns a range of bound first (`input`), and the range
    /// checked to index that input (`get` is `None` for a reversed range, one past the end,
    /// or on a `str`, one off a char boundary).
    fn indexes_input(&self, oracle: IndexOracle) -> Candidate {
        let setups = self.setups();
        let position = oracle.param + usize::from(self.receiver.is_some());
        let original = &self.args[position].code;
        let (binding, input) = match original.strip_suffix(".as_str()") {
            Some(owned) => (
                format!("let owned_input = {owned};\nlet input = owned_input.as_str();"),
                "input",
            ),
            None => (format!("let input = {original};"), "input"),
        };
        let mut bound: Arg = self.args[position].clone();
        bound.code = input.to_owned();
        let mut args: Vec<&Arg> = self.args.to_vec();
        args[position] = &bound;
        let call = Case {
            args: &args,
            ..*self
        }
        .call();
        let check = "assert!(input.get(range.clone()).is_some(), \"returned {range:?}, which does not index its input {input:?}\");";
        let body = if oracle.optional {
            format!("{setups}\n{binding}\nif let Some(range) = {call} {{ {check} }}")
        } else {
            format!("{setups}\n{binding}\nlet range = {call};\n{check}")
        };
        Candidate {
            name: format!("{}_{}_indexes_its_input", self.display, self.label()),
            meta: self.meta("index_valid"),
            body,
            features: self.features(),
            priority: 0,
        }
    }

    /// The value displayed and parsed back: when `FromStr` takes what `Display` wrote, it
    /// must give the same value. Text it refuses is no finding: some types parse another
    /// form than they display (a document, not a value).
    fn parses_back(&self, ty: &str) -> Candidate {
        let setups = self.setups();
        let subject = self.args[0];
        let value = if subject.already_ref {
            subject.code.clone()
        } else {
            format!("&{}", subject.code)
        };
        Candidate {
            name: format!("{}_{}_parses_back", self.display, self.label()),
            meta: self.meta("round_trip"),
            body: format!(
                "{setups}\nlet value: &{ty} = {value};\nlet text = value.to_string();\nif let Ok(back) = text.parse::<{ty}>() {{ assert_eq!(&back, value, \"`{{text}}` parses back to another value than the one it displays\"); }}"
            ),
            features: self
                .features()
                .into_iter()
                .map(|f| format!("round_trip:{f}"))
                .collect(),
            priority: 0,
        }
    }

    fn deterministic(&self) -> Candidate {
        let setups = self.setups();
        let call = self.call();
        Candidate {
            name: format!(
                "{}_{}_gives_the_same_result_twice",
                self.display,
                self.label()
            ),
            meta: self.meta("deterministic"),
            // A panic is the no-panic oracle's business (or documented): step aside.
            body: format!(
                "{setups}\nlet Ok(first) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format!(\"{{:?}}\", {call}))) else {{ return; }};\nlet second = format!(\"{{:?}}\", {call});\nassert_eq!(first, second, \"the same input gave two different results\");"
            ),
            // The same values as the no-panic twin before it: chosen after it, when the budget
            // allows (a panic is the stronger finding).
            features: self.features(),
            priority: 0,
        }
    }
}

#[cfg(test)]
mod test {
    use super::super::index::test_support::index_source;
    use super::*;

    /// A `Function` as `analyze` reports it, for the function whose signature starts `line`.
    fn function(path: &str, line: u32, params: &[&str], visibility: &str) -> Function {
        Function {
            path: path.into(),
            package: "demo".into(),
            file: "src/lib.rs".into(),
            line,
            end_line: line,
            module: "demo".into(),
            visibility: visibility.into(),
            params: params.iter().map(|p| p.to_string()).collect(),
            sites: Vec::new(),
            calls: Vec::new(),
        }
    }

    fn made(
        source: &str,
        function: &Function,
        options: CaseOptions,
    ) -> Result<Vec<Candidate>, Vec<String>> {
        let index = index_source(source);
        let syntax = index
            .function("src/lib.rs", function.line)
            .expect("indexed");
        candidates(
            function,
            syntax,
            &index,
            &SpecFacts::default(),
            options,
            None,
            &[],
        )
    }

    #[test]
    fn a_free_function_gets_pairwise_edge_values_and_sizes_stay_finite() {
        let source = "pub fn take(text: &str, n: usize) -> String {\n    text.chars().take(n).collect()\n}\n";
        let got = made(
            source,
            &function("demo::take", 1, &["text", "n"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(got.len() > 20, "{}", got.len());
        assert!(got.iter().all(|c| c.name.starts_with("take_")));
        assert!(got.iter().any(|c| c.body.contains("take(\"éa\", ")));
        assert!(got.iter().any(|c| c.body.contains("100_000usize")));
        assert!(
            !got.iter().any(|c| c.body.contains("usize::MAX")),
            "n is a size"
        );
        let oracles: BTreeSet<&str> = got
            .iter()
            .filter_map(|c| c.meta.oracle.as_deref())
            .collect();
        assert_eq!(oracles, BTreeSet::from(["deterministic", "no_panic"]));
    }

    #[test]
    fn a_parameter_only_self_s_bound_names_takes_the_types_self_implements_it_for() {
        let source = "pub trait Contains<T> { fn contains(&self, other: T) -> bool; }\n#[derive(Debug, Default)]\npub struct Net { bits: u8 }\nimpl<'a> Contains<&'a Net> for Net { fn contains(&self, other: &'a Net) -> bool { self.bits <= other.bits } }\nimpl Contains<u8> for Net { fn contains(&self, other: u8) -> bool { self.bits <= other } }\nimpl Net {\n    pub fn holds<T>(&self, other: T) -> bool where Self: Contains<T> { Contains::contains(self, other) }\n}\n";
        let holds = function("demo::Net::holds", 7, &["self", "other"], "pub");
        let with = |implementor| {
            made(
                source,
                &holds,
                CaseOptions {
                    implementor,
                    ..CaseOptions::default()
                },
            )
        };
        let first = with(0).unwrap();
        assert!(
            first.iter().all(|c| c.body.contains("holds::<&Net>(")),
            "{:#?}",
            first.iter().map(|c| &c.body).collect::<Vec<_>>()
        );
        assert!(
            with(1)
                .unwrap()
                .iter()
                .all(|c| c.body.contains("holds::<u8>("))
        );
        assert_eq!(with(2).unwrap_err(), [NO_FURTHER_IMPLEMENTOR]);
    }

    #[test]
    fn an_err_is_formatted_the_way_its_type_allows() {
        let source = "#[derive(Debug)]\npub struct Shown;\nimpl std::fmt::Display for Shown {\n    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str(\"x\") }\n}\n#[derive(Debug)]\npub struct Opaque;\npub fn shown(n: u8) -> Result<u8, Shown> { Ok(n) }\npub fn opaque(n: u8) -> Result<u8, Opaque> { Ok(n) }\npub fn parsed(n: &str) -> Result<u8, std::num::ParseIntError> { n.parse() }\npub fn plain(n: u8) -> Option<u8> { Some(n) }\n";
        let body = |name: &str, line: u32| {
            let got = made(
                source,
                &function(&format!("demo::{name}"), line, &["n"], "pub"),
                CaseOptions::default(),
            )
            .unwrap();
            got.into_iter()
                .find(|c| c.meta.oracle.as_deref() == Some("no_panic"))
                .expect("a no-panic test")
                .body
        };
        assert!(body("shown", 8).contains("if let Err(error) = shown("));
        assert!(body("shown", 8).contains("format!(\"{}\", error)"));
        assert!(body("opaque", 9).contains("format!(\"{:?}\", error)"));
        assert!(body("parsed", 10).contains("format!(\"{}\", error)"));
        assert!(
            body("plain", 11).starts_with("\nlet _ = plain("),
            "{}",
            body("plain", 11)
        );
    }

    #[test]
    fn methods_run_after_their_type_s_mutating_calls() {
        let source = "#[derive(Debug, Default)]\npub struct Tally { values: Vec<i64> }\nimpl Tally {\n    pub fn add(&mut self, value: i64) { self.values.push(value) }\n    pub fn sum(&self) -> i64 { self.values.iter().sum() }\n}\n";
        let got = made(
            source,
            &function("demo::Tally::sum", 5, &["self"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        let sequence = got
            .iter()
            .find(|c| c.body.contains("subject.add(i64::MAX)"))
            .expect("a sequence of add calls");
        // Setup calls step aside when they panic; the call under test does not.
        assert_eq!(
            sequence
                .body
                .matches("AssertUnwindSafe(|| { let _ = subject.add(i64::MAX); })")
                .count(),
            2
        );
        assert!(
            sequence.body.ends_with("let _ = subject.sum();"),
            "{}",
            sequence.body
        );
        assert_eq!(sequence.meta.category.as_deref(), Some("misuse"));
        assert!(sequence.name.starts_with("tally_sum_"), "{}", sequence.name);
    }

    #[test]
    fn a_returned_range_must_index_its_input_and_display_must_parse_back() {
        let source = "pub fn find(text: &str, word: &str) -> Option<std::ops::Range<usize>> {\n    None\n}\n";
        let got = made(
            source,
            &function("demo::find", 1, &["text", "word"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        let checked: Vec<&Candidate> = got
            .iter()
            .filter(|c| c.meta.oracle.as_deref() == Some("index_valid"))
            .collect();
        assert!(!checked.is_empty());
        // The text is bound and checked, not the word sought in it.
        assert!(
            checked[0].body.contains("find(input, "),
            "{}",
            checked[0].body
        );
        assert!(checked[0].body.contains("input.get(range.clone())"));

        let source = "#[derive(Debug, PartialEq)]\npub struct Level(pub i8);\nimpl std::fmt::Display for Level {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, \"{}\", self.0) }\n}\nimpl std::str::FromStr for Level {\n    type Err = ();\n    fn from_str(s: &str) -> Result<Self, ()> { s.parse().map(Level).map_err(|_| ()) }\n}\n";
        let got = made(
            source,
            &function(
                "demo::<Level as std::fmt::Display>::fmt",
                4,
                &["self", "f"],
                "pub",
            ),
            CaseOptions::default(),
        )
        .unwrap();
        let round_trips: Vec<&Candidate> = got
            .iter()
            .filter(|c| c.meta.oracle.as_deref() == Some("round_trip"))
            .collect();
        assert!(!round_trips.is_empty());
        assert!(
            round_trips[0]
                .body
                .contains("if let Ok(back) = text.parse::<Level>()")
        );
        assert!(
            round_trips
                .iter()
                .any(|c| c.body.contains("Level(-1i8)") || c.body.contains("Level(i8::MIN)"))
        );
    }

    #[test]
    fn const_generics_are_called_with_values_in_declaration_order() {
        let source = "pub fn pad<T: Copy, const N: usize>(fill: T, text: &str) -> [u8; N] {\n    [0; N]\n}\n";
        let index = index_source(source);
        let syntax = index.function("src/lib.rs", 1).expect("indexed");
        let f = function("demo::pad", 1, &["fill", "text"], "pub");
        let got = candidates(
            &f,
            syntax,
            &index,
            &SpecFacts::default(),
            CaseOptions::default(),
            None,
            &[("N".to_owned(), 4)],
        )
        .unwrap();
        assert!(got[0].body.contains("pad::<&str, 4>("), "{}", got[0].body);
        // Without a value, the reason is said.
        let refused = candidates(
            &f,
            syntax,
            &index,
            &SpecFacts::default(),
            CaseOptions::default(),
            None,
            &[],
        );
        assert!(
            refused
                .unwrap_err()
                .iter()
                .any(|r| r.contains("const generic"))
        );
    }

    #[test]
    fn primitive_receivers_take_the_values_their_casts_wrap_at() {
        let source = "pub trait Width { fn width(self) -> u32; }\nimpl Width for u64 {\n    fn width(self) -> u32 { let n = self as i64; n.unsigned_abs() as u32 }\n}\n";
        let got = made(
            source,
            &function("demo::<u64 as Width>::width", 3, &["self"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(
            got.iter()
                .any(|c| c.body.contains("9223372036854775808u64")),
            "{:#?}",
            got.iter().map(|c| &c.body).collect::<Vec<_>>()
        );
    }

    #[test]
    fn trait_methods_are_called_by_their_full_path_and_self_is_the_impl_type() {
        let source = "pub struct Cents(pub i64);\nimpl std::str::FromStr for Cents {\n    type Err = ();\n    fn from_str(text: &str) -> Result<Self, ()> { Err(()) }\n}\nimpl Cents {\n    pub fn plus(&self, other: &Self) -> i64 { self.0 + other.0 }\n}\n";
        let from_str = made(
            source,
            &function(
                "demo::<Cents as std::str::FromStr>::from_str",
                4,
                &["text"],
                "pub",
            ),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(
            from_str[0]
                .body
                .contains("<Cents as std::str::FromStr>::from_str("),
            "{}",
            from_str[0].body
        );
        let plus = made(
            source,
            &function("demo::Cents::plus", 7, &["self", "other"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(
            plus.iter()
                .any(|c| c.body.contains("subject.plus(&other_value)"))
        );
        assert!(
            plus.iter()
                .any(|c| c.body.contains("crate::Cents(i64::MAX)"))
        );
    }

    #[test]
    fn what_cannot_be_tested_says_why() {
        let source = "pub unsafe fn raw(p: *const u8) {}\nfn private(n: &mut u8) { *n += 1 }\n/// # Panics\n/// When `n` is zero.\npub fn halve(n: &mut u32) { *n /= 2 }\npub fn read(r: impl std::io::Seek) {}\n";
        let reasons = |line, path: &str, params: &[&str], vis: &str| {
            made(
                source,
                &function(path, line, params, vis),
                CaseOptions::default(),
            )
            .unwrap_err()
            .join("; ")
        };
        let raw = reasons(1, "demo::raw", &["p"], "pub");
        assert!(raw.contains("`unsafe fn`"), "{raw}");
        assert!(raw.contains("parameter `p`"), "{raw}");
        assert!(reasons(2, "demo::private", &["n"], "private").contains("private function"));
        assert!(reasons(5, "demo::halve", &["n"], "pub").contains("documents when it panics"));
        assert!(reasons(6, "demo::read", &["r"], "pub").contains("no std type meets"));
        let private = made(
            source,
            &function("demo::private", 2, &["n"], "private"),
            CaseOptions {
                private: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            private
                .iter()
                .all(|c| c.meta.oracle.as_deref() == Some("no_panic"))
        );
    }

    #[test]
    fn trait_default_methods_run_on_an_implementing_type() {
        let source = "pub trait Dated {\n    fn day(&self) -> u32;\n    fn is_first(&self) -> bool { self.day() == 1 }\n}\n#[derive(Debug, Default)]\npub struct Date { pub day: u32 }\nimpl Dated for Date { fn day(&self) -> u32 { self.day } }\n";
        let got = made(
            source,
            &function("demo::Dated::is_first", 3, &["self"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(
            got.iter().any(|c| c
                .body
                .contains("<crate::Date as crate::Dated>::is_first(&subject)")),
            "{:#?}",
            got.iter().map(|c| &c.body).collect::<Vec<_>>()
        );
    }

    #[test]
    fn crate_trait_bounds_take_an_implementing_type() {
        let source = "pub trait Zone { fn offset(&self) -> i32; }\n#[derive(Debug, Clone, Default)]\npub struct Utc;\nimpl Zone for Utc { fn offset(&self) -> i32 { 0 } }\npub fn shift<Z: Zone>(zone: Z, hours: i32) -> i32 { zone.offset() + hours }\n";
        let got = made(
            source,
            &function("demo::shift", 5, &["zone", "hours"], "pub"),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(
            got[0].body.contains("shift::<crate::Utc>("),
            "{}",
            got[0].body
        );
        // Each implementor in turn (by name), then the reason there is no further one.
        let source = format!(
            "{source}#[derive(Debug, Clone, Default)]\npub struct Local;\nimpl Zone for Local {{ fn offset(&self) -> i32 {{ 1 }} }}\n"
        );
        let with = |implementor| {
            made(
                &source,
                &function("demo::shift", 5, &["zone", "hours"], "pub"),
                CaseOptions {
                    implementor,
                    ..CaseOptions::default()
                },
            )
        };
        assert!(with(0).unwrap()[0].body.contains("shift::<crate::Local>("));
        assert!(with(1).unwrap()[0].body.contains("shift::<crate::Utc>("));
        assert_eq!(with(2).unwrap_err(), [NO_FURTHER_IMPLEMENTOR]);
    }

    #[test]
    fn display_impls_are_called_through_format_with_every_variant_s_edges() {
        let source = "pub const LEN: usize = 6;\npub enum ParseError { Short(usize), Count(usize, [u8; LEN]) }\nimpl std::fmt::Display for ParseError {\n    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) }\n}\n";
        let got = made(
            source,
            &function(
                "demo::<ParseError as std::fmt::Display>::fmt",
                4,
                &["self", "f"],
                "pub",
            ),
            CaseOptions::default(),
        )
        .unwrap();
        assert!(
            got.iter()
                .all(|c| c.body.contains("format!(\"{}\", subject)"))
        );
        assert!(
            got.iter().any(|c| c
                .body
                .contains("crate::ParseError::Count(usize::MAX, [1u8; 6])")),
            "{:#?}",
            got.iter().map(|c| &c.body).collect::<Vec<_>>()
        );
    }
}
