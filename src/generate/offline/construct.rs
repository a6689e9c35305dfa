//! Values of the crate's own types: enum variants, struct literals with public fields,
//! `Default`, public constructors (`new`, `try_new`, `from_*`, ...), `From` and `FromStr`. Each
//! says how it may fail, because a failing setup is not a finding: the test steps aside.

use super::index::{CrateIndex, Shape, TypeDef};
use super::types::{InputType, input_type};
use super::values::{EdgeValue, edge_values_with};

/// How making a value may fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// A literal or a variant: cannot fail.
    Plain,
    /// Runs the crate's code, which may panic.
    MayPanic,
    /// Returns `Result<T, _>`.
    Result,
    /// Returns `Option<T>`.
    Option,
}

/// One way to make a value of a crate type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Construction {
    pub code: String,
    pub label: String,
    pub setup: Setup,
    /// The value is a reference (`fn new(s: &str) -> &Path`): it takes no `&mut` calls and
    /// cannot be passed by value.
    pub borrowed: bool,
}

/// How deep crate types nest inside each other's constructions.
const MAX_DEPTH: u8 = 2;
/// Struct literals varied one field at a time, at most this many.
const MAX_LITERALS: usize = 10;
/// Payloads per enum tuple variant, at most this many (the benign one first).
const MAX_VARIANT_PAYLOADS: usize = 4;
/// Constructor calls per type, at most this many.
const MAX_CALLS: usize = 8;

/// Makes crate values as seen from the module the tests go into.
pub struct Constructor<'a> {
    pub index: &'a CrateIndex,
    /// `crate::money`: where the test module is injected.
    pub module: &'a str,
}

impl Constructor<'_> {
    /// Every construction of the type written `written`, most plain first.
    pub fn constructions(&self, written: &str) -> Vec<Construction> {
        self.at_depth(written, 0)
    }

    /// Only the constructions that cannot fail, as edge values for use inside other values.
    pub fn plain_values(&self, written: &str) -> Vec<EdgeValue> {
        self.plain_at_depth(written, 0)
    }

    fn plain_at_depth(&self, written: &str, depth: u8) -> Vec<EdgeValue> {
        self.at_depth(written, depth)
            .into_iter()
            .filter(|c| c.setup == Setup::Plain)
            .map(|c| EdgeValue {
                code: c.code,
                label: c.label,
            })
            .collect()
    }

    /// The model of `written` with aliases expanded; `None` for a type with no model.
    pub fn resolve(&self, ty: &InputType) -> InputType {
        self.resolve_at(ty, 0)
    }

    fn resolve_at(&self, ty: &InputType, depth: u8) -> InputType {
        if depth > MAX_DEPTH {
            return ty.clone();
        }
        let deeper = |inner: &InputType| Box::new(self.resolve_at(inner, depth + 1));
        match ty {
            // A crate type named like a std one (`time::Duration`) is the crate's.
            InputType::Std(name)
                if !self.index.imports_from_std(self.module, name)
                    && self.index.type_def(name, self.module).is_some() =>
            {
                self.resolve_at(&InputType::Named(name.clone()), depth)
            }
            InputType::Named(written) => match self.index.type_def(written, self.module) {
                Some(TypeDef {
                    shape: Shape::Alias(target),
                    has_generics: false,
                    ..
                }) => match input_type(
                    &self.index.with_const_lengths(target),
                    &syn::Generics::default(),
                ) {
                    Ok(model) => self.resolve_at(&model, depth + 1),
                    Err(_) => ty.clone(),
                },
                _ => ty.clone(),
            },
            InputType::Slice { element, mutable } => InputType::Slice {
                element: deeper(element),
                mutable: *mutable,
            },
            InputType::Vec(element) => InputType::Vec(deeper(element)),
            InputType::Array { element, len } => InputType::Array {
                element: deeper(element),
                len: *len,
            },
            InputType::Option(inner) => InputType::Option(deeper(inner)),
            InputType::Tuple(elements) => InputType::Tuple(
                elements
                    .iter()
                    .map(|e| self.resolve_at(e, depth + 1))
                    .collect(),
            ),
            InputType::Ref { inner, mutable } => InputType::Ref {
                inner: deeper(inner),
                mutable: *mutable,
            },
            InputType::Wrapped { wrapper, inner } => InputType::Wrapped {
                wrapper: wrapper.clone(),
                inner: deeper(inner),
            },
            other => other.clone(),
        }
    }

    /// Whether code in the test's module can name `def`: it is visible beyond its module, or
    /// the test is inside the module that defines it.
    pub fn can_name(&self, def: &TypeDef) -> bool {
        let defined_in = def.path.rsplit_once("::").map_or("crate", |(m, _)| m);
        let inside =
            self.module == defined_in || self.module.starts_with(&format!("{defined_in}::"));
        inside || (def.crate_visible && self.index.module_reachable(defined_in, self.module))
    }

    /// Constructions of a generic type through `Default` and constructors only, naming it by
    /// `code` with its parameters filled in (`Stack<i64>`).
    pub fn generic_constructions(&self, written: &str, code: &str) -> Vec<Construction> {
        let Some(def) = self.index.type_def(written, self.module) else {
            return Vec::new();
        };
        let path = format!("<{code}>");
        let mut out = Vec::new();
        if self.index.implements(written, self.module, "Default") {
            out.push(Construction {
                code: format!("<{code} as Default>::default()"),
                label: "default".into(),
                setup: Setup::MayPanic,
                borrowed: false,
            });
        }
        out.extend(self.constructor_calls(def, &path, 0, &|assoc| impl_applies(assoc, code)));
        out
    }

    fn at_depth(&self, written: &str, depth: u8) -> Vec<Construction> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let Some(def) = self.index.type_def(written, self.module) else {
            return Vec::new();
        };
        if def.has_generics || !self.can_name(def) {
            return Vec::new();
        }
        let path = def.path.as_str();
        let mut out = Vec::new();
        match &def.shape {
            Shape::Alias(target) => {
                let target = self.index.with_const_lengths(target);
                if let Ok(model) = input_type(&target, &syn::Generics::default()) {
                    let named = |name: &str| self.plain_at_depth(name, depth + 1);
                    for value in edge_values_with(&self.resolve_at(&model, depth + 1), &named) {
                        out.push(plain(value.code, value.label));
                    }
                }
                return out;
            }
            Shape::Enum { variants } => {
                for (variant, fields) in variants {
                    let Some(fields) = fields else { continue };
                    // A variant whose docs state a condition is made by its constructors.
                    if self.index.constrained(&def.name, variant) {
                        continue;
                    }
                    let label = format!("variant_{}", snake(variant));
                    if fields.is_empty() {
                        out.push(plain(format!("{path}::{variant}"), label));
                    } else {
                        let as_fields: Vec<(String, syn::Type)> = fields
                            .iter()
                            .enumerate()
                            .map(|(i, t)| (i.to_string(), t.clone()))
                            .collect();
                        let variant_path = format!("{path}::{variant}");
                        // The benign payload, then each field at its edges (a few).
                        for (n, literal) in self
                            .literals(&variant_path, &as_fields, true, depth)
                            .into_iter()
                            .take(MAX_VARIANT_PAYLOADS)
                            .enumerate()
                        {
                            let label = if n == 0 {
                                label.clone()
                            } else {
                                format!("{label}_{}", literal.label)
                            };
                            out.push(plain(literal.code, label));
                        }
                    }
                }
            }
            Shape::Struct {
                fields,
                tuple,
                open: true,
            } if !fields
                .iter()
                .any(|(name, _)| self.index.constrained(&def.name, name)) =>
            {
                out.extend(self.literals(path, fields, *tuple, depth))
            }
            Shape::Struct { .. } => {}
        }
        // `Prerelease::EMPTY`: a value the crate names itself, as plain as a literal.
        for constant in self.index.self_consts(written, self.module) {
            out.push(plain(
                format!("{path}::{constant}"),
                format!("const_{}", constant.to_ascii_lowercase()),
            ));
        }
        // An enum without variants has no values: its `Default` can only panic.
        let uninhabited = matches!(&def.shape, Shape::Enum { variants } if variants.is_empty());
        if self.index.implements(written, self.module, "Default") && !uninhabited {
            out.push(Construction {
                code: format!("<{path} as Default>::default()"),
                label: "default".into(),
                setup: Setup::MayPanic,
                borrowed: false,
            });
        }
        out.extend(self.constructor_calls(def, path, depth, &|_| true));
        out.extend(self.producer_calls(written, def, depth));
        for source in self.index.from_sources(written, self.module).iter().take(2) {
            // The source type written out (lifetimes elided): `From<_>` would leave
            // `&[0u8]` an array reference.
            // Only where inference needs it: a name may not be in scope where the test runs.
            let source_code = match source {
                syn::Type::Reference(_) | syn::Type::Slice(_) | syn::Type::Array(_) => {
                    elided(source)
                }
                _ => "_".to_owned(),
            };
            let Ok(model) = input_type(source, &syn::Generics::default()) else {
                continue;
            };
            let named = |name: &str| self.plain_at_depth(name, depth + 1);
            for value in edge_values_with(&self.resolve_at(&model, depth + 1), &named)
                .into_iter()
                .take(6)
            {
                out.push(Construction {
                    code: format!("<{path} as From<{source_code}>>::from({})", value.code),
                    label: format!("from_{}", value.label),
                    setup: Setup::MayPanic,
                    borrowed: false,
                });
            }
        }
        if self.index.implements(written, self.module, "FromStr") {
            for text in ["0", "1", "a"] {
                out.push(Construction {
                    code: format!("{text:?}.parse::<{path}>()"),
                    label: format!("parsed_{}", if text == "a" { "a" } else { text }),
                    setup: Setup::Result,
                    borrowed: false,
                });
            }
        }
        out
    }

    /// `Type { a: .., b: .. }` with every field at a benign value, then one field at a time at
    /// its edge values.
    fn literals(
        &self,
        path: &str,
        fields: &[(String, syn::Type)],
        tuple: bool,
        depth: u8,
    ) -> Vec<Construction> {
        let models: Option<Vec<InputType>> = fields
            .iter()
            .map(|(_, ty)| {
                input_type(
                    &self.index.with_const_lengths(ty),
                    &syn::Generics::default(),
                )
                .ok()
                .map(|m| self.resolve_at(&m, depth + 1))
            })
            .collect();
        let Some(models) = models else {
            return Vec::new();
        };
        let Some(base): Option<Vec<String>> =
            models.iter().map(|m| self.benign(m, depth + 1)).collect()
        else {
            return Vec::new();
        };
        let render = |values: &[String]| {
            if fields.is_empty() {
                return path.to_owned();
            }
            if tuple {
                format!("{path}({})", values.join(", "))
            } else {
                let parts: Vec<String> = fields
                    .iter()
                    .zip(values)
                    .map(|((name, _), value)| format!("{name}: {value}"))
                    .collect();
                format!("{path} {{ {} }}", parts.join(", "))
            }
        };
        let mut out = vec![plain(render(&base), "literal")];
        let named = |name: &str| self.plain_at_depth(name, depth + 1);
        'fields: for (position, model) in models.iter().enumerate() {
            for value in edge_values_with(model, &named) {
                if value.code == base[position] {
                    continue;
                }
                if out.len() > MAX_LITERALS {
                    break 'fields;
                }
                let mut values = base.clone();
                values[position] = value.code;
                let field = snake(&fields[position].0);
                out.push(plain(render(&values), format!("{field}_{}", value.label)));
            }
        }
        out
    }

    /// Public associated functions without a receiver that return the type (`Self`, `Type`,
    /// `Result<Self, _>`, `Option<Self>`), called with benign arguments.
    fn constructor_calls(
        &self,
        def: &TypeDef,
        path: &str,
        depth: u8,
        applies: &dyn Fn(&super::index::AssocFn) -> bool,
    ) -> Vec<Construction> {
        let mut out = Vec::new();
        let mut at_limits = Vec::new();
        for assoc in self.index.assoc_fns(&def.name, self.module) {
            if !is_constructor(assoc, &def.name) || !applies(assoc) {
                continue;
            }
            if out.len() >= MAX_CALLS {
                break;
            }
            let Some(setup) = returns_self(&assoc.sig.output, &def.name) else {
                continue;
            };
            let borrowed = matches!(&assoc.sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Reference(_)));
            let Some(args) = self.call_args(&assoc.sig, depth) else {
                continue;
            };
            out.push(Construction {
                code: format!("{path}::{}({args})", assoc.sig.ident),
                label: snake(&assoc.sig.ident.to_string()),
                setup,
                borrowed,
            });
            // Made at the integer limits too: a value whose counters are at MAX is where
            // `self.minor + 1` overflows. A constructor that refuses them steps aside.
            if depth == 0
                && let Some(empty) = self.empty_args(&assoc.sig, depth)
                && empty.contains('"')
            {
                at_limits.push(Construction {
                    code: format!("{path}::{}({empty})", assoc.sig.ident),
                    label: format!("{}_empty", snake(&assoc.sig.ident.to_string())),
                    setup: if setup == Setup::Plain {
                        Setup::MayPanic
                    } else {
                        setup
                    },
                    borrowed,
                });
            }
            if depth == 0
                && let Some(negative) = self.negative_args(&assoc.sig, depth)
            {
                at_limits.push(Construction {
                    code: format!("{path}::{}({negative})", assoc.sig.ident),
                    label: format!("{}_minus_one", snake(&assoc.sig.ident.to_string())),
                    setup: if setup == Setup::Plain {
                        Setup::MayPanic
                    } else {
                        setup
                    },
                    borrowed,
                });
            }
            if depth == 0
                && let Some(edge) = self.limit_args(&assoc.sig, depth)
            {
                at_limits.push(Construction {
                    code: format!("{path}::{}({edge})", assoc.sig.ident),
                    label: format!("{}_max", snake(&assoc.sig.ident.to_string())),
                    setup: if setup == Setup::Plain {
                        Setup::MayPanic
                    } else {
                        setup
                    },
                    borrowed,
                });
            }
        }
        // Most plain first: the calls at the limits after every benign one.
        out.extend(at_limits);
        out
    }

    /// The arguments of a making call with every integer at its `MAX` and the rest benign;
    /// `None` when no argument is an integer.
    fn limit_args(&self, sig: &syn::Signature, depth: u8) -> Option<String> {
        self.edge_args(sig, depth, |model| match model {
            InputType::Int { name, .. } => Some(format!("{name}::MAX")),
            _ => None,
        })
    }

    /// The arguments of a making call with every signed integer at `-1` (a sign lost between
    /// `-1` and `0` is the classic); `None` when none is signed.
    fn negative_args(&self, sig: &syn::Signature, depth: u8) -> Option<String> {
        self.edge_args(sig, depth, |model| match model {
            InputType::Int { name, signed: true } => Some(format!("-1{name}")),
            _ => None,
        })
    }

    /// The arguments of a making call with every string empty and every integer zero (a
    /// tokenizer given no words, a parser given nothing); `None` when no argument is either.
    fn empty_args(&self, sig: &syn::Signature, depth: u8) -> Option<String> {
        self.edge_args(sig, depth, |model| match model {
            InputType::Int { name, .. } => Some(format!("0{name}")),
            InputType::Str { owned: false } => Some("\"\"".to_owned()),
            InputType::Str { owned: true } => Some("String::new()".to_owned()),
            _ => None,
        })
    }

    /// The arguments of a making call with `edge` giving the values it has, the rest benign;
    /// `None` when it gives none.
    fn edge_args(
        &self,
        sig: &syn::Signature,
        depth: u8,
        edge: impl Fn(&InputType) -> Option<String>,
    ) -> Option<String> {
        let mut any_edge = false;
        let values: Option<Vec<String>> = sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(typed) => Some(&*typed.ty),
                syn::FnArg::Receiver(_) => None,
            })
            .map(|ty| {
                let model = input_type(
                    &self.index.with_const_lengths(ty),
                    &syn::Generics::default(),
                )
                .ok()?;
                let model = self.resolve_at(&model, depth + 1);
                match edge(&model) {
                    Some(code) => {
                        any_edge = true;
                        Some(code)
                    }
                    None => self.benign(&model, depth + 1),
                }
            })
            .collect();
        let values = values?;
        let args = values.join(", ");
        (any_edge && !args.contains("&mut ")).then_some(args)
    }

    /// Calls of the crate's free functions that return the type (`percent_decode(b"a")`),
    /// with benign arguments.
    fn producer_calls(&self, written: &str, def: &TypeDef, depth: u8) -> Vec<Construction> {
        let mut out = Vec::new();
        let mut at_edges = Vec::new();
        for producer in self.index.producers(written, self.module) {
            if out.len() >= MAX_CALLS {
                break;
            }
            if !self.index.module_reachable(&producer.module, self.module) {
                continue;
            }
            let sig = &producer.sig;
            if sig.asyncness.is_some()
                || matches!(sig.safety, syn::Safety::Unsafe(_))
                || sig.generics.type_params().next().is_some()
            {
                continue;
            }
            let Some(setup) = returns_self(&sig.output, &def.name) else {
                continue;
            };
            let Some(args) = self.call_args(sig, depth) else {
                continue;
            };
            out.push(Construction {
                code: format!("{}({args})", producer.path),
                label: snake(&sig.ident.to_string()),
                setup,
                borrowed: false,
            });
            // Made from nothing too: the value a tokenizer or parser gives for empty input is
            // where its methods index an empty list.
            if depth == 0
                && let Some(empty) = self.empty_args(sig, depth)
            {
                at_edges.push(Construction {
                    code: format!("{}({empty})", producer.path),
                    label: format!("{}_empty", snake(&sig.ident.to_string())),
                    setup: if setup == Setup::Plain {
                        Setup::MayPanic
                    } else {
                        setup
                    },
                    borrowed: false,
                });
            }
        }
        out.extend(at_edges);
        out
    }

    /// Benign arguments for a making call, or `None` when one has no value or is a `&mut`
    /// temporary (which would not outlive the statement that makes the value).
    fn call_args(&self, sig: &syn::Signature, depth: u8) -> Option<String> {
        let types = sig.inputs.iter().filter_map(|arg| match arg {
            syn::FnArg::Typed(typed) => Some(&*typed.ty),
            syn::FnArg::Receiver(_) => None,
        });
        self.benign_args(types, depth)
            .filter(|args| !args.contains("&mut "))
    }

    fn benign_args<'t>(
        &self,
        types: impl Iterator<Item = &'t syn::Type>,
        depth: u8,
    ) -> Option<String> {
        let values: Option<Vec<String>> = types
            .map(|ty| {
                let model = input_type(
                    &self.index.with_const_lengths(ty),
                    &syn::Generics::default(),
                )
                .ok()?;
                self.benign(&self.resolve_at(&model, depth + 1), depth + 1)
            })
            .collect();
        Some(values?.join(", "))
    }

    /// An unremarkable value of `ty`: what a setup passes where the test is not aiming.
    pub fn benign(&self, ty: &InputType, depth: u8) -> Option<String> {
        Some(match ty {
            InputType::Int { name, .. } => format!("1{name}"),
            InputType::Float { name } => format!("1.0{name}"),
            InputType::Bool => "false".into(),
            InputType::Char => "'a'".into(),
            InputType::Str { owned: false } => "\"a\"".into(),
            InputType::Str { owned: true } => "String::from(\"a\")".into(),
            InputType::Slice { mutable, .. } => {
                if *mutable {
                    "&mut []".into()
                } else {
                    "&[]".into()
                }
            }
            InputType::Vec(_) => "Vec::new()".into(),
            InputType::Array { element, len } => {
                format!("[{}; {len}]", self.benign(element, depth)?)
            }
            InputType::Option(_) => "None".into(),
            InputType::Tuple(elements) => {
                let values: Option<Vec<String>> =
                    elements.iter().map(|e| self.benign(e, depth)).collect();
                let values = values?;
                if values.len() == 1 {
                    format!("({},)", values[0])
                } else {
                    format!("({})", values.join(", "))
                }
            }
            InputType::Ref { inner, mutable } => {
                let amp = if *mutable { "&mut " } else { "&" };
                format!("{amp}{}", self.benign(inner, depth)?)
            }
            InputType::Wrapped { .. } | InputType::Std(_) => {
                let named = |name: &str| self.plain_at_depth(name, depth);
                return edge_values_with(ty, &named)
                    .into_iter()
                    .next()
                    .map(|v| v.code);
            }
            InputType::Named(written) => {
                return self
                    .plain_at_depth(written, depth)
                    .into_iter()
                    .next()
                    .map(|v| v.code);
            }
        })
    }
}

/// A public associated function without a receiver or generics of its own that returns the
/// type (`Self`, `Type`, `Result<Self, _>`, `Option<Self>`).
fn is_constructor(assoc: &super::index::AssocFn, type_name: &str) -> bool {
    // The type's API only: a `pub(crate)` maker may skip the checks the public ones make
    // (`from_parts_raw`), and a value no user can build is no finding.
    assoc.exported
        && assoc.sig.receiver().is_none()
        && assoc.sig.asyncness.is_none()
        && !matches!(assoc.sig.safety, syn::Safety::Unsafe(_))
        && !assoc
            .sig
            .generics
            .params
            .iter()
            .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        && returns_self(&assoc.sig.output, type_name).is_some()
}

/// Whether an impl's functions exist for the instantiation `code` (`DateTime<crate::Utc>`):
/// the impl is generic in each argument, or names the same type there.
fn impl_applies(assoc: &super::index::AssocFn, code: &str) -> bool {
    let Ok(wanted) = crate::syntax::parse_str::<syn::Type>(code) else {
        return false;
    };
    let args = |ty: &syn::Type| -> Vec<String> {
        let syn::Type::Path(path) = ty else {
            return Vec::new();
        };
        let Some(last) = path.path.segments.last() else {
            return Vec::new();
        };
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return Vec::new();
        };
        args.args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(
                    super::index::last_segment(&crate::analyze::names::pretty_type(t)).to_owned(),
                ),
                _ => None,
            })
            .collect()
    };
    let have = args(&assoc.impl_self);
    let want = args(&wanted);
    have.len() == want.len()
        && have
            .iter()
            .zip(&want)
            .all(|(h, w)| assoc.impl_generics.contains(h) || h == w)
}

fn plain(code: impl Into<String>, label: impl Into<String>) -> Construction {
    Construction {
        code: code.into(),
        label: label.into(),
        setup: Setup::Plain,
        borrowed: false,
    }
}

/// A type printed with its lifetimes elided (`&'a [u8]` → `&'_ [u8]`).
fn elided(ty: &syn::Type) -> String {
    struct Elide;
    impl syn::visit_mut::VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
            if lifetime.ident != "static" {
                *lifetime = syn::Lifetime::new("'_", lifetime.span());
            }
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Elide, &mut ty);
    crate::analyze::names::pretty_type(&ty)
}

/// Whether a return type is the type itself, or it wrapped in `Result`/`Option`.
fn returns_self(output: &syn::ReturnType, type_name: &str) -> Option<Setup> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let is_self = |ty: &syn::Type| {
        matches!(ty, syn::Type::Path(p) if p.qself.is_none()
            && p.path.segments.last().is_some_and(|s| s.ident == "Self" || s.ident == type_name))
    };
    if is_self(ty) {
        return Some(Setup::MayPanic);
    }
    // `fn new(s: &str) -> &Path`: a reference works wherever the tests use the value.
    if let syn::Type::Reference(reference) = &**ty
        && reference.mutability.is_none()
        && is_self(&reference.elem)
    {
        return Some(Setup::MayPanic);
    }
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(first)) = args.args.first() else {
        return None;
    };
    if !is_self(first) {
        return None;
    }
    match last.ident.to_string().as_str() {
        "Option" => Some(Setup::Option),
        // `Result<Self, E>` and crate aliases like `io::Result<Self>`.
        "Result" => Some(Setup::Result),
        _ => None,
    }
}

/// `ParseError` → `parse_error`, `HTTPMode` → `httpmode`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let previous_lower = i > 0 && chars[i - 1].is_lowercase();
            if previous_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if c.is_alphanumeric() {
            out.push(*c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

#[cfg(test)]
mod test {
    use super::*;

    fn index(source: &str) -> CrateIndex {
        super::super::index::test_support::index_source(source)
    }

    fn codes(constructions: &[Construction]) -> Vec<String> {
        constructions.iter().map(|c| c.code.clone()).collect()
    }

    #[test]
    fn enums_give_their_variants_and_structs_their_literals() {
        let index = index(
            "pub enum Mode { Fast, Slow(u8), Odd { x: u8 } }
             pub struct Limits { pub max: u32, pub name: String }",
        );
        let maker = Constructor {
            index: &index,
            module: "crate",
        };
        assert_eq!(
            codes(&maker.constructions("Mode")),
            [
                "crate::Mode::Fast",
                "crate::Mode::Slow(1u8)",
                "crate::Mode::Slow(0u8)",
                "crate::Mode::Slow(u8::MAX)",
                "crate::Mode::Slow(u8::MAX - 1)"
            ]
        );
        let limits = codes(&maker.constructions("Limits"));
        assert_eq!(
            limits[0],
            "crate::Limits { max: 1u32, name: String::from(\"a\") }"
        );
        assert!(
            limits
                .contains(&"crate::Limits { max: u32::MAX, name: String::from(\"a\") }".to_owned())
        );
        assert!(limits.len() <= MAX_LITERALS + 1);
    }

    #[test]
    fn constructors_default_from_and_from_str_say_how_they_fail() {
        let index = index(
            "#[derive(Default)] pub struct Meter { count: u64 }
             impl Meter {
                 pub const ZERO: Meter = Meter { count: 0 };
                 pub fn new() -> Self { Meter { count: 0 } }
                 pub fn try_new(limit: u32) -> Result<Meter, String> { todo!() }
                 pub fn maybe(x: &str) -> Option<Self> { None }
                 fn private() -> Self { todo!() }
                 pub fn count(&self) -> u64 { self.count }
             }
             impl From<u8> for Meter { fn from(v: u8) -> Self { todo!() } }",
        );
        let maker = Constructor {
            index: &index,
            module: "crate",
        };
        let got: Vec<(String, Setup)> = maker
            .constructions("Meter")
            .into_iter()
            .map(|c| (c.code, c.setup))
            .take(6)
            .collect();
        assert_eq!(
            got,
            [
                ("crate::Meter::ZERO".into(), Setup::Plain),
                (
                    "<crate::Meter as Default>::default()".into(),
                    Setup::MayPanic
                ),
                ("crate::Meter::new()".into(), Setup::MayPanic),
                ("crate::Meter::try_new(1u32)".into(), Setup::Result),
                ("crate::Meter::maybe(\"a\")".into(), Setup::Option),
                // At the integer limits too, after the plain calls.
                ("crate::Meter::try_new(u32::MAX)".into(), Setup::Result),
            ]
        );
        assert!(
            maker
                .constructions("Meter")
                .iter()
                .any(|c| c.code == "<crate::Meter as From<_>>::from(u8::MAX)")
        );
    }

    #[test]
    fn free_functions_returning_the_type_make_it() {
        let index = index(
            "pub struct Decode<'a> { bytes: &'a [u8] }
             pub fn decode(bytes: &[u8]) -> Decode<'_> { Decode { bytes } }
             pub fn try_decode(text: &str) -> Option<Decode<'static>> { None }",
        );
        let maker = Constructor {
            index: &index,
            module: "crate",
        };
        let got: Vec<(String, Setup)> = maker
            .constructions("Decode")
            .into_iter()
            .map(|c| (c.code, c.setup))
            .collect();
        assert_eq!(
            got,
            [
                ("crate::decode(&[])".to_owned(), Setup::MayPanic),
                ("crate::try_decode(\"a\")".to_owned(), Setup::Option),
                // Made from nothing too, after the plain calls.
                ("crate::try_decode(\"\")".to_owned(), Setup::Option),
            ]
        );
    }

    #[test]
    fn aliases_resolve_and_unknown_types_have_nothing() {
        let index = index("pub type Id = u16; pub struct Opaque { inner: u8 }");
        let maker = Constructor {
            index: &index,
            module: "crate",
        };
        assert!(matches!(
            maker.resolve(&InputType::Named("Id".into())),
            InputType::Int { .. }
        ));
        assert!(maker.constructions("Opaque").is_empty());
        assert!(maker.constructions("Missing").is_empty());
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(snake("ParseError"), "parse_error");
        assert_eq!(snake("try_new"), "try_new");
        assert_eq!(snake("HTTP"), "http");
    }
}
