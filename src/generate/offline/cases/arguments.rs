//! Values for each parameter: edge values of its type, values mined from the function, the
//! spec's literals, arguments of crate types built by their constructions.

use super::*;

/// The values of one parameter, most telling first: mined and spec values, then edge values,
/// deduplicated, at most `MAX_VALUES`.
pub(super) fn param_args(
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
pub(super) fn huge_number(code: &str) -> bool {
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

pub(super) fn is_huge(label: &str) -> bool {
    matches!(label, "max" | "max_minus_one" | "min" | "min_plus_one")
}

/// A spec literal as a value of `model`, when its kind fits.
pub(super) fn spec_value(model: &InputType, literal: &str) -> Option<EdgeValue> {
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
