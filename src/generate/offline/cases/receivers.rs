//! Receivers for a method under test: built by the type's public constructions, spread over
//! construction families, primitive receivers from mined values, and sequences of the
//! type's mutating calls before the call.

use super::*;

/// Receivers: each construction of the self type, fresh and after short sequences of the
/// type's `&mut self` methods called with limit values.
pub(super) fn receiver_args(
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
pub(super) fn primitive_receivers(
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
pub(super) fn spread_families(constructions: Vec<Construction>) -> Vec<Construction> {
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
pub(super) fn bind(name: &str, construction: &Construction, mutable: bool) -> String {
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
pub(super) const NOT_MUTATORS: &[&str] = &[
    "as_", "iter", "get_", "clear", "shrink", "reserve", "truncate", "drain", "retain", "sort",
    "reverse", "set_len",
];

/// Calls of the type's public `&mut self` methods with limit values, twice each: state that
/// overflows shows on the second call or in the call under test.
/// Setup calls on a receiver: the statements, how the input shows them, a name part.
pub(super) struct Sequence {
    pub(super) code: String,
    pub(super) shown: String,
    pub(super) label: String,
}

pub(super) fn mutator_sequences(
    maker: &Constructor,
    type_name: &str,
    method: &str,
) -> Vec<Sequence> {
    let mut out = Vec::new();
    // Methods that take data first (`push`, `insert`, `add`): they build up the state that
    // overflows; views and shrinking (`as_mut_slice`, `clear`) change little.
    let mut mutators: Vec<&super::super::index::AssocFn> = maker
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
