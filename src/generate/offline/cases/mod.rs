//! The candidate tests of one function: how to call it (free function, associated function,
//! trait method, method on a constructed receiver after a few `&mut self` calls), each
//! parameter's values (edge values, values mined from its body and its spec, crate types),
//! combined pairwise, under the oracles that apply to it (no panic, determinism).

mod arguments;
mod case;
mod generics;
pub mod harness;
mod oracles;
mod receivers;

use self::arguments::*;
use self::case::*;
use self::generics::*;
use self::oracles::*;
pub use self::oracles::{asserts_preconditions, is_public_api, public_api};
use self::receivers::*;
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
    /// The function's fuzz harness, carried out of the candidates by the engine (never a
    /// test of its own).
    pub harness: Option<Box<harness::Harness>>,
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
    let Callee {
        sig,
        self_ty,
        trait_path,
        format_spec,
        plan,
        self_code,
        ident,
        fish,
        text: callee,
    } = callee(syntax, index, &maker, &module, options, const_args)?;
    let (self_ty, trait_path) = (self_ty.as_ref(), trait_path.as_ref());
    let oracle = no_panic_oracle(function, syntax, index, &module, self_ty, spec, options);

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
    // Every case of the function but its arguments.
    let shape = Case {
        function,
        callee: &callee,
        receiver: plan.receiver,
        trait_call: trait_path.is_some(),
        method: &ident,
        fish: &fish,
        format_spec,
        names: &names,
        args: &[],
        display: &display,
        error_format,
    };
    let mut out = Vec::new();
    // A function the spec names gets a baseline: its most ordinary call, whose reached sites
    // `score --run` takes away from what the spec's own tests reached.
    if spec.named
        && oracle.is_some()
        && let Some(chosen) = ordinary_row(&maker, &plan, &dimensions)
    {
        let chosen: Vec<&Arg> = chosen.iter().collect();
        let case = Case {
            args: &chosen,
            ..shape
        };
        let mut candidate = case.no_panic();
        candidate.name = format!("{display}_baseline");
        candidate.meta.category = Some(crate::spec::executed::BASELINE_CATEGORY.into());
        candidate.meta.targets = Vec::new();
        candidate.priority = BASELINE_PRIORITY;
        out.push(candidate);
    }
    for (row_number, row) in rows.iter().enumerate() {
        let chosen: Vec<&Arg> = row
            .iter()
            .enumerate()
            .map(|(d, &v)| &dimensions[d][v])
            .collect();
        let case = Case {
            args: &chosen,
            ..shape
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
    // Its fuzz harness, when a panic is a finding and every parameter can be read from bytes
    // or chosen among the values above.
    if oracle.is_some() {
        let offset = usize::from(plan.receiver.is_some());
        let models: Vec<(String, InputType)> = plan
            .params
            .iter()
            .map(|p| (p.name.clone(), maker.resolve(&p.input)))
            .collect();
        let tokens: Vec<Vec<u8>> = mined
            .strings
            .iter()
            .chain(&mined.separators)
            .map(|s| s.as_bytes().to_vec())
            .chain(mined.magics.iter().cloned())
            .collect();
        if let Some(made) = harness::harness(
            &shape,
            plan.receiver.and_then(|_| dimensions[0].first()),
            &models,
            &dimensions[offset..],
            &sizes,
            &tokens,
        ) {
            out.push(Candidate {
                name: made.name.clone(),
                meta: made.template.meta.clone(),
                body: String::new(),
                features: Vec::new(),
                priority: 0,
                harness: Some(Box::new(made)),
            });
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

/// The baseline comes before every other test of its function: it is what the spec's tests
/// are compared with.
const BASELINE_PRIORITY: usize = 200;

/// The most ordinary argument per dimension: the type's unremarkable value (`"a"`, `1`) where
/// the dimension has it, else its first value that is not the spec's; the first receiver.
fn ordinary_row(maker: &Constructor, plan: &CallPlan, dimensions: &[Vec<Arg>]) -> Option<Vec<Arg>> {
    let mut row = Vec::new();
    let mut dimension = dimensions.iter();
    if plan.receiver.is_some() {
        row.push(dimension.next()?.first()?.clone());
    }
    for (param, values) in plan.params.iter().zip(dimension) {
        let benign = maker.benign(&maker.resolve(&param.input), 0);
        let listed = benign
            .as_ref()
            .and_then(|code| values.iter().find(|a| &a.code == code && a.setup.is_none()));
        let mut ordinary = match (listed, benign) {
            (Some(arg), _) => arg.clone(),
            (None, Some(code)) => Arg {
                setup: None,
                shown: None,
                code,
                label: "ordinary".into(),
                source: Source::Edge,
                item: None,
                moved: false,
                already_ref: false,
            },
            (None, None) => values
                .iter()
                .find(|a| a.source != Source::Spec)
                .or_else(|| values.first())?
                .clone(),
        };
        // Not the spec's, whatever value it is: a baseline names no item.
        ordinary.item = None;
        if ordinary.source == Source::Spec {
            ordinary.source = Source::Edge;
        }
        row.push(ordinary);
    }
    Some(row)
}

/// How a function is called in a test: the signature its plan is read from (`Self`, the
/// crate's trait bounds and const lengths substituted), its `Self` and trait, and the call.
struct Callee {
    /// The signature as called.
    sig: syn::Signature,
    self_ty: Option<syn::Type>,
    trait_path: Option<syn::Path>,
    /// How `format!` calls it (`impl Display`), when that is how users call it.
    format_spec: Option<&'static str>,
    plan: CallPlan,
    /// The `Self` type as the test writes it.
    self_code: Option<String>,
    ident: String,
    fish: String,
    /// `name::<..>`, `<Type>::name` or `<Type as Trait>::name`.
    text: String,
}

/// The call a test makes of `syntax`, or why no test can make it.
fn callee(
    syntax: &FnSyntax,
    index: &CrateIndex,
    maker: &Constructor,
    module: &str,
    options: CaseOptions,
    const_args: &[(String, u64)],
) -> Result<Callee, Vec<String>> {
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
                        let def = index.type_def(ty, module)?;
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
        maker,
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
    let impl_stand_ins = stand_in_types(&impl_generics, &bound).map_err(|e| vec![e.0])?;
    let self_code = self_ty.map(|ty| substituted(ty, &impl_stand_ins));
    let ident = syntax.sig.ident.to_string();
    let fish = turbofish(&fn_sig, &bound, &assigned)?;
    let text = match (&self_code, trait_path) {
        (None, _) => format!("{ident}{fish}"),
        (Some(ty), None) => format!("<{ty}>::{ident}{fish}"),
        (Some(ty), Some(trait_path)) => {
            let trait_ty: syn::Type = syn::parse_quote!(#trait_path);
            let trait_code = substituted(&trait_ty, &impl_stand_ins);
            format!("<{ty} as {trait_code}>::{ident}{fish}")
        }
    };

    Ok(Callee {
        sig,
        self_ty: self_ty.cloned(),
        trait_path: trait_path.cloned(),
        format_spec,
        plan,
        self_code,
        ident,
        fish,
        text,
    })
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
        // The fuzz harness rides along with the tests, last; these tests are about the tests.
        candidates(
            function,
            syntax,
            &index,
            &SpecFacts::default(),
            options,
            None,
            &[],
        )
        .map(|made| made.into_iter().filter(|c| c.harness.is_none()).collect())
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
