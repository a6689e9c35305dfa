//! A function's fuzz harness: generated code that reads typed arguments from a byte input
//! (primitives, strings, bytes and collections of them decoded; crate types chosen among the
//! engine's constructions), calls the function, and renders a failing input's arguments as Rust
//! literals; seeds from the engine's own values, tokens from its mined and spec literals. The
//! driver it calls is the probes' runtime (`scratch::fuzz_runtime`), in the scratch copy only.
//! Its code names std as `std::`, which the module's preamble brings into a `no_std` crate.

use super::*;

/// The driver's path in the scratch copy.
const DRIVER: &str = "crate::__dualtrack_probes::fuzz";

/// The category of a harness test, and of the regression tests its crashes become.
pub const FUZZ_CATEGORY: &str = "fuzz";

/// What stands for argument `n` in a crash test's template, until the crash's literals
/// replace it.
pub fn placeholder(n: usize) -> String {
    format!("__dualtrack_fuzz_arg{n}")
}

/// Seed inputs a harness starts from, at most.
const MAX_SEEDS: usize = 64;
/// Dictionary tokens, at most.
const MAX_TOKENS: usize = 32;

/// A function's harness and the template of the test each of its crashes becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Harness {
    /// The harness test's name and body.
    pub name: String,
    pub body: String,
    /// The no-panic test with [`placeholder`]s for the arguments, its metadata's input too.
    pub template: Candidate,
    /// The function the harness calls (an entry of a private one when reached through it).
    pub function: String,
}

/// How one parameter is fuzzed: decoded from bytes, or chosen among the engine's values.
enum Plan {
    Decoded(InputType),
    /// The engine's values of a type it builds (`Duration::from_secs(1)`), by position.
    Chosen(Vec<String>),
}

/// The harness of `case` (its receiver, if any, the first of the engine's; each parameter's
/// model in `models`, its values in `values`), or `None` when some parameter can be neither
/// decoded nor chosen.
pub(super) fn harness(
    shape: &Case,
    receiver: Option<&Arg>,
    params: &[(String, InputType)],
    values: &[Vec<Arg>],
    sizes: &BTreeSet<String>,
    mined_tokens: &[Vec<u8>],
) -> Option<Harness> {
    let plans: Vec<Plan> = params
        .iter()
        .zip(values)
        .map(|((_, model), values)| {
            if decodable(model) {
                Some(Plan::Decoded(model.clone()))
            } else {
                // Owned constructions with no statements before them: a `match` arm each.
                let codes: Vec<String> = values
                    .iter()
                    .filter(|a| a.setup.is_none() && !a.already_ref && !a.code.starts_with('&'))
                    .map(|a| a.code.clone())
                    .take(16)
                    .collect();
                (!codes.is_empty()).then_some(Plan::Chosen(codes))
            }
        })
        .collect::<Option<_>>()?;
    // Nothing an input could change: the engine's own tests cover the call.
    if !plans.iter().any(|plan| match plan {
        Plan::Decoded(_) => true,
        Plan::Chosen(codes) => codes.len() > 1,
    }) {
        return None;
    }
    let is_size = |n: usize| sizes.contains(&params[n].0);
    let last = tail_argument(&plans, &is_size);
    let var = |n: usize| format!("__a{n}");
    let mut decode = String::new();
    let mut shown = vec![String::new(); plans.len()];
    let mut arg_codes = vec![String::new(); plans.len()];
    for n in decode_order(plans.len(), last) {
        let plan = &plans[n];
        let tail = Some(n) == last;
        match plan {
            Plan::Decoded(model) => {
                let binding = if borrows_mutably(model) {
                    "let mut"
                } else {
                    "let"
                };
                decode.push_str(&format!(
                    "{binding} {} = {};\n",
                    var(n),
                    decoder(model, is_size(n), tail, 0)
                ));
                arg_codes[n] = passed(model, &var(n));
                shown[n] = shown_arg(model, &var(n));
            }
            Plan::Chosen(codes) => {
                let arms: String = codes
                    .iter()
                    .enumerate()
                    .map(|(k, code)| {
                        let pattern = if k + 1 == codes.len() {
                            "_".to_owned()
                        } else {
                            k.to_string()
                        };
                        format!("{pattern} => {code},\n")
                    })
                    .collect();
                decode.push_str(&format!(
                    "let __c{n} = __i.byte() as usize % {};\nlet {} = match __c{n} {{\n{arms}}};\n",
                    codes.len(),
                    var(n)
                ));
                arg_codes[n] = var(n);
                let names: Vec<String> = codes.iter().map(|c| format!("{c:?}")).collect();
                shown[n] = format!("std::string::String::from([{}][__c{n}])", names.join(", "));
            }
        }
    }
    // The call, as the engine's own tests make it, with the decoded values.
    let arg = |code: String| Arg {
        setup: None,
        shown: None,
        code,
        label: String::new(),
        source: Source::Edge,
        item: None,
        moved: false,
        already_ref: false,
    };
    let decoded_args: Vec<Arg> = arg_codes.into_iter().map(arg).collect();
    let placeholders: Vec<Arg> = (0..plans.len()).map(|n| arg(placeholder(n))).collect();
    let with = |params: &[Arg]| -> Vec<Arg> {
        receiver
            .cloned()
            .into_iter()
            .chain(params.iter().cloned())
            .collect()
    };
    let call_args = with(&decoded_args);
    let call_refs: Vec<&Arg> = call_args.iter().collect();
    let case = Case {
        args: &call_refs,
        ..*shape
    };
    let template_args = with(&placeholders);
    let template_refs: Vec<&Arg> = template_args.iter().collect();
    let mut template = Case {
        args: &template_refs,
        ..*shape
    }
    .no_panic();
    template.meta.category = Some(FUZZ_CATEGORY.into());
    template.name = format!("{}_fuzz", shape.display);
    let seeds = seed_code((&plans, last), values, params, sizes);
    let tokens = tokens(values, mined_tokens);
    let name = format!("{}_fuzz_harness", shape.display);
    let body = format!(
        "{DRIVER}::run({name:?}, &[{tokens}], |__s: &mut {DRIVER}::Seeds| {{\n{seeds}}}, \
         |__i: &mut {DRIVER}::Input| {{\n{decode}{call}\n}}, \
         |__i: &mut {DRIVER}::Input| -> std::vec::Vec<std::string::String> {{\n{decode}std::vec![{shown}]\n}});",
        // The call as the engine's no-panic test makes it (an `Err` formatted too).
        call = case.no_panic().body,
        shown = shown.join(", "),
    );
    Some(Harness {
        name,
        body,
        template,
        function: shape.function.path.clone(),
    })
}

/// The argument that takes the rest of the input: the last one whose reading changes when it
/// is last (a string, bytes, a collection). It is read after the others, so that a mutation
/// that lengthens it (a run of digits, a token) does not shift the fixed-size arguments
/// behind it, nor need a length byte to agree.
fn tail_argument(plans: &[Plan], is_size: &dyn Fn(usize) -> bool) -> Option<usize> {
    (0..plans.len())
        .rev()
        .find(|&n| match &plans[n] {
            Plan::Decoded(model) => {
                decoder(model, is_size(n), true, 0) != decoder(model, is_size(n), false, 0)
            }
            Plan::Chosen(_) => false,
        })
        .or_else(|| plans.len().checked_sub(1))
}

/// The order arguments are read in: as declared, the tail argument last.
fn decode_order(count: usize, tail: Option<usize>) -> impl Iterator<Item = usize> {
    (0..count).filter(move |&n| Some(n) != tail).chain(tail)
}

/// Whether the function takes the decoded value by `&mut`.
fn borrows_mutably(model: &InputType) -> bool {
    matches!(
        model,
        InputType::Slice { mutable: true, .. } | InputType::Ref { mutable: true, .. }
    )
}

/// Whether values of `model` are read from bytes.
fn decodable(model: &InputType) -> bool {
    match model {
        InputType::Int { .. }
        | InputType::Float { .. }
        | InputType::Bool
        | InputType::Char
        | InputType::Str { .. } => true,
        InputType::Slice { element, .. } | InputType::Vec(element) => owned_decodable(element),
        InputType::Array { element, len } => *len <= 64 && owned_decodable(element),
        InputType::Option(inner) => {
            owned_decodable(inner) || matches!(**inner, InputType::Str { owned: false })
        }
        InputType::Tuple(items) => {
            (2..=4).contains(&items.len()) && items.iter().all(owned_decodable)
        }
        InputType::Ref { inner, .. } => owned_decodable(inner),
        _ => false,
    }
}

/// Whether `model` is an owned value read from bytes (an element, an option's content).
fn owned_decodable(model: &InputType) -> bool {
    match model {
        InputType::Str { owned } => *owned,
        InputType::Int { .. } | InputType::Float { .. } | InputType::Bool | InputType::Char => true,
        InputType::Vec(element) => owned_decodable(element),
        InputType::Option(inner) => owned_decodable(inner),
        InputType::Tuple(items) => {
            (2..=4).contains(&items.len()) && items.iter().all(owned_decodable)
        }
        _ => false,
    }
}

fn is_byte(model: &InputType) -> bool {
    matches!(model, InputType::Int { name, .. } if name == "u8")
}

/// The expression that reads an owned value of `model` from `__i`; `tail`: the input's last
/// value takes what is left (a string, bytes). `depth` keeps nested names apart.
fn decoder(model: &InputType, size: bool, tail: bool, depth: usize) -> String {
    match model {
        InputType::Int { name, .. } if size => format!("(__i.size() as {name})"),
        InputType::Int { name, .. } => format!("__i.{name}()"),
        InputType::Float { name } => format!("__i.{name}()"),
        InputType::Bool => "__i.bool()".into(),
        InputType::Char => "__i.char()".into(),
        InputType::Str { .. } => format!("__i.string({tail})"),
        InputType::Slice { element, .. } | InputType::Vec(element) if is_byte(element) => {
            format!("__i.bytes({tail})")
        }
        InputType::Slice { element, .. } | InputType::Vec(element) => format!(
            "{{ let __n{depth} = __i.len(); let mut __v{depth} = std::vec::Vec::new(); for _ in 0..__n{depth} {{ __v{depth}.push({}); }} __v{depth} }}",
            decoder(element, false, false, depth + 1)
        ),
        InputType::Array { element, len } => format!(
            "{{ let mut __v{depth} = std::vec::Vec::new(); for _ in 0..{len} {{ __v{depth}.push({}); }} let __a: [_; {len}] = match std::convert::TryInto::try_into(__v{depth}) {{ Ok(a) => a, Err(_) => unreachable!() }}; __a }}",
            decoder(element, false, false, depth + 1)
        ),
        InputType::Option(inner) => format!(
            "if __i.bool() {{ Some({}) }} else {{ None }}",
            decoder(inner, false, false, depth + 1)
        ),
        InputType::Tuple(items) => format!(
            "({})",
            items
                .iter()
                .map(|item| decoder(item, false, false, depth + 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        InputType::Ref { inner, .. } => decoder(inner, size, tail, depth),
        _ => "unreachable!()".into(),
    }
}

/// How the decoded variable `var` is passed to the function.
fn passed(model: &InputType, var: &str) -> String {
    match model {
        InputType::Str { owned: false } => format!("&{var}"),
        InputType::Slice { mutable: false, .. } => format!("&{var}[..]"),
        InputType::Slice { mutable: true, .. } => format!("&mut {var}[..]"),
        InputType::Option(inner) if matches!(**inner, InputType::Str { owned: false }) => {
            format!("{var}.as_deref()")
        }
        InputType::Ref { mutable: false, .. } => format!("&{var}"),
        InputType::Ref { mutable: true, .. } => format!("&mut {var}"),
        _ => var.to_owned(),
    }
}

/// The expression (a `String`) that renders `var` as the argument's Rust code in a test.
fn shown_arg(model: &InputType, var: &str) -> String {
    match model {
        InputType::Str { owned: false } => format!("{DRIVER}::lit_str(&{var})"),
        InputType::Slice { mutable, .. } => format!(
            "std::format!(\"{}[{{}}]\", {})",
            if *mutable { "&mut " } else { "&" },
            elements(var, model)
        ),
        InputType::Option(inner) if matches!(**inner, InputType::Str { owned: false }) => format!(
            "match &{var} {{ Some(__x) => std::format!(\"Some({{}})\", {DRIVER}::lit_str(__x)), None => std::string::String::from(\"None\") }}"
        ),
        InputType::Ref { inner, mutable } => format!(
            "std::format!(\"{}{{}}\", {})",
            if *mutable { "&mut " } else { "&" },
            owned_lit(inner, &format!("&{var}"), 0)
        ),
        _ => owned_lit(model, &format!("&{var}"), 0),
    }
}

/// The elements of the collection `var` (of `model`), rendered and joined with commas.
fn elements(var: &str, model: &InputType) -> String {
    let element = match model {
        InputType::Slice { element, .. }
        | InputType::Vec(element)
        | InputType::Array { element, .. } => element,
        _ => return "\"\"".into(),
    };
    format!(
        "{DRIVER}::lit_list(({var}).iter().map(|__e| {}).collect())",
        owned_lit(element, "__e", 1)
    )
}

/// The expression (a `String`) that renders the owned value `reference` points to.
fn owned_lit(model: &InputType, reference: &str, depth: usize) -> String {
    let reference = &format!("({reference})");
    match model {
        InputType::Int { name, .. } => format!("{DRIVER}::lit_int(*{reference}, \"{name}\")"),
        InputType::Float { name } if name == "f32" => {
            format!("{DRIVER}::lit_f32(*{reference}, \"f32\")")
        }
        InputType::Float { .. } => format!("{DRIVER}::lit_f64(*{reference}, \"f64\")"),
        InputType::Bool => format!("std::format!(\"{{}}\", *{reference})"),
        InputType::Char => format!("{DRIVER}::lit_char(*{reference})"),
        InputType::Str { .. } => {
            format!("std::format!(\"String::from({{}})\", {DRIVER}::lit_str({reference}))")
        }
        InputType::Vec(_) => format!(
            "if {reference}.is_empty() {{ std::string::String::from(\"Vec::new()\") }} else {{ std::format!(\"vec![{{}}]\", {}) }}",
            elements(reference, model)
        ),
        InputType::Array { .. } => {
            format!("std::format!(\"[{{}}]\", {})", elements(reference, model))
        }
        InputType::Option(inner) => format!(
            "match {reference} {{ Some(__o{depth}) => std::format!(\"Some({{}})\", {}), None => std::string::String::from(\"None\") }}",
            owned_lit(inner, &format!("__o{depth}"), depth + 1)
        ),
        InputType::Tuple(items) => {
            let parts: Vec<String> = (0..items.len())
                .map(|k| owned_lit(&items[k], &format!("&{reference}.{k}"), depth + 1))
                .collect();
            format!(
                "std::format!(\"({})\", {})",
                vec!["{}"; items.len()].join(", "),
                parts.join(", ")
            )
        }
        _ => "std::string::String::new()".into(),
    }
}

/// Statements writing the seeds: one per row of the engine's values (spread over every
/// value of each parameter), each value written as the decoder reads it; a value that is not a
/// plain literal of a decoded type is written as the type's empty value. `last` is the tail
/// argument, written last as the decoder reads it last.
fn seed_code(
    (plans, last): (&[Plan], Option<usize>),
    values: &[Vec<Arg>],
    params: &[(String, InputType)],
    sizes: &BTreeSet<String>,
) -> String {
    let rows = values
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .min(MAX_SEEDS);
    let mut out = String::new();
    for row in 0..rows {
        out.push_str("__s.next();\n");
        for n in decode_order(plans.len(), last) {
            let plan = &plans[n];
            let tail = Some(n) == last;
            let chosen = &values[n][row % values[n].len()];
            match plan {
                Plan::Chosen(codes) => {
                    let k = codes.iter().position(|c| *c == chosen.code).unwrap_or(0);
                    out.push_str(&format!("__s.u8({k});\n"));
                }
                Plan::Decoded(model) => {
                    let size = sizes.contains(&params[n].0);
                    let literal = chosen.setup.is_none() && plain_literal(model, &chosen.code);
                    out.push_str(&if literal {
                        encoder(model, &format!("&({})", chosen.code), size, tail)
                    } else {
                        empty_encoding(model, size, tail)
                    });
                }
            }
        }
    }
    out
}

/// Whether `code` is a value of `model` the seed can write as is: a string, number, `bool`
/// or `char` literal (or a constant like `i64::MAX`), for those types only.
fn plain_literal(model: &InputType, code: &str) -> bool {
    let Ok(expr) = crate::syntax::parse_str::<syn::Expr>(code) else {
        return false;
    };
    let expr = match &expr {
        syn::Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => &*unary.expr,
        other => other,
    };
    match (model, expr) {
        (InputType::Str { owned: false }, syn::Expr::Lit(lit)) => {
            matches!(lit.lit, syn::Lit::Str(_))
        }
        (InputType::Int { .. }, syn::Expr::Lit(lit)) => matches!(lit.lit, syn::Lit::Int(_)),
        (InputType::Int { name, .. }, syn::Expr::Path(path)) => {
            path.path.segments.len() == 2 && path.path.segments[0].ident == name.as_str()
        }
        (InputType::Float { .. }, syn::Expr::Lit(lit)) => {
            matches!(lit.lit, syn::Lit::Float(_) | syn::Lit::Int(_))
        }
        (InputType::Bool, syn::Expr::Lit(lit)) => matches!(lit.lit, syn::Lit::Bool(_)),
        (InputType::Char, syn::Expr::Lit(lit)) => matches!(lit.lit, syn::Lit::Char(_)),
        _ => false,
    }
}

/// The statement writing the value `reference` points to.
fn encoder(model: &InputType, reference: &str, size: bool, tail: bool) -> String {
    match model {
        InputType::Int { .. } if size => format!("__s.size(*{reference} as usize);\n"),
        InputType::Int { name, .. } => format!("__s.{name}(*{reference} as {name});\n"),
        InputType::Float { name } => format!("__s.{name}(*{reference} as {name});\n"),
        InputType::Bool => format!("__s.bool(*{reference});\n"),
        InputType::Char => format!("__s.char(*{reference});\n"),
        InputType::Str { .. } => format!("__s.string({reference}, {tail});\n"),
        _ => empty_encoding(model, size, tail),
    }
}

/// The statements writing `model`'s empty or zero value.
fn empty_encoding(model: &InputType, size: bool, tail: bool) -> String {
    match model {
        InputType::Int { .. } if size => "__s.size(0);\n".into(),
        InputType::Int { name, .. } => format!("__s.{name}(0);\n"),
        InputType::Float { name } => format!("__s.{name}(0.0);\n"),
        InputType::Bool => "__s.bool(false);\n".into(),
        InputType::Char => "__s.char('a');\n".into(),
        InputType::Str { .. } => format!("__s.string(\"\", {tail});\n"),
        InputType::Slice { element, .. } | InputType::Vec(element) if is_byte(element) => {
            format!("__s.bytes(&[], {tail});\n")
        }
        InputType::Slice { .. } | InputType::Vec(_) => "__s.len(0);\n".into(),
        InputType::Array { element, len } => empty_encoding(element, false, false).repeat(*len),
        InputType::Option(_) => "__s.bool(false);\n".into(),
        InputType::Tuple(items) => items
            .iter()
            .map(|item| empty_encoding(item, false, false))
            .collect(),
        InputType::Ref { inner, .. } => empty_encoding(inner, size, tail),
        _ => String::new(),
    }
}

/// Tokens the mutator inserts: what the engine mined from the function's body (compared
/// strings, separators, magic bytes), then the string literals among its mined and spec
/// values, as byte strings.
fn tokens(values: &[Vec<Arg>], mined: &[Vec<u8>]) -> String {
    let mut seen: BTreeSet<Vec<u8>> = BTreeSet::new();
    // The values mined from the function and its spec, not the engine's edge variants of them
    // (`"1dup"`, `"é"`): a token is a word of the input's language.
    let from_values = values
        .iter()
        .flatten()
        .filter(|arg| matches!(arg.source, Source::Mined | Source::Spec))
        .filter_map(
            |arg| match crate::syntax::parse_str::<syn::Expr>(&arg.code).ok()? {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value().into_bytes()),
                _ => None,
            },
        );
    let mut out = Vec::new();
    for token in mined.iter().cloned().chain(from_values) {
        if token.is_empty() || token.len() > 64 || !seen.insert(token.clone()) {
            continue;
        }
        out.push(format!(
            "b\"{}\" as &[u8]",
            token
                .iter()
                .map(|b| format!("\\x{b:02x}"))
                .collect::<String>()
        ));
        if out.len() == MAX_TOKENS {
            break;
        }
    }
    out.join(", ")
}

#[cfg(test)]
mod test {
    use super::*;

    fn int(name: &str) -> InputType {
        InputType::Int {
            name: name.into(),
            signed: name.starts_with('i'),
        }
    }

    #[test]
    fn values_are_decoded_passed_and_shown_by_their_model() {
        let text = InputType::Str { owned: false };
        assert_eq!(decoder(&text, false, true, 0), "__i.string(true)");
        assert_eq!(passed(&text, "__a0"), "&__a0");
        assert!(shown_arg(&text, "__a0").ends_with("lit_str(&__a0)"));
        // A size reads small; a plain integer reads its width.
        assert_eq!(
            decoder(&int("usize"), true, false, 0),
            "(__i.size() as usize)"
        );
        assert_eq!(decoder(&int("i64"), false, false, 0), "__i.i64()");
        let bytes = InputType::Slice {
            element: Box::new(int("u8")),
            mutable: false,
        };
        assert_eq!(decoder(&bytes, false, false, 0), "__i.bytes(false)");
        assert_eq!(passed(&bytes, "__a1"), "&__a1[..]");
        let optional = InputType::Option(Box::new(InputType::Str { owned: false }));
        assert!(decodable(&optional));
        assert_eq!(passed(&optional, "__a0"), "__a0.as_deref()");
        // A crate type is not decoded: it is chosen among the engine's constructions.
        assert!(!decodable(&InputType::Named("Config".into())));
    }

    #[test]
    fn seeds_write_only_plain_literals_and_keep_the_layout_otherwise() {
        let text = InputType::Str { owned: false };
        assert!(plain_literal(&text, "\"1.5\""));
        assert!(!plain_literal(&text, "&long_text"));
        assert!(plain_literal(&int("i64"), "i64::MAX"));
        assert!(plain_literal(&int("i64"), "-1"));
        assert!(!plain_literal(&int("i64"), "u8::MAX"));
        assert_eq!(
            encoder(&text, "&(\"ab\")", false, true),
            "__s.string(&(\"ab\"), true);\n"
        );
        assert_eq!(
            empty_encoding(&text, false, false),
            "__s.string(\"\", false);\n"
        );
        assert_eq!(empty_encoding(&int("u32"), true, false), "__s.size(0);\n");
    }
}
