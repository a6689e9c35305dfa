//! Edge values of each input kind, as Rust expressions: each type's limits, empty and
//! one-element collections, and the strings that break string handling. Values mined from a
//! function's own code and its spec come on top of these.

use super::types::InputType;

/// One value to try: the expression to pass, and a name part that says what it is
/// (`max`, `empty`, `multibyte_first`) for the test's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeValue {
    pub code: String,
    pub label: String,
}

fn value(code: impl Into<String>, label: impl Into<String>) -> EdgeValue {
    EdgeValue {
        code: code.into(),
        label: label.into(),
    }
}

/// Strings that stress the usual bugs, with their labels. A multi-byte character first is what
/// byte-index slicing (`&s[..1]`) trips on; the long one is long enough to pass any small
/// length check without making a test slow.
pub const EDGE_STRINGS: &[(&str, &str)] = &[
    ("", "empty"),
    ("   ", "whitespace_only"),
    ("é", "multibyte_only"),
    ("éa", "multibyte_first"),
    ("aé", "multibyte_second"),
    ("a\u{1F600}b", "emoji"),
    ("a\0b", "nul"),
    (" a ", "padded"),
    ("-", "minus_sign"),
    ("+", "plus_sign"),
    ("-1", "negative_number"),
];

/// Characters in the long edge string, each two bytes (`é`): past common limits (255, 1024,
/// 4096 bytes) without making a test slow.
pub const LONG_STRING_CHARS: usize = 2049;

/// The edge values of `ty`; empty for a `Named` type, whose values come from the crate.
pub fn edge_values(ty: &InputType) -> Vec<EdgeValue> {
    edge_values_with(ty, &|_| Vec::new())
}

/// Values of a crate type, by the path written (`Cents`, `crate::money::Cents`).
pub type NamedValues<'a> = &'a dyn Fn(&str) -> Vec<EdgeValue>;

/// The edge values of `ty`, with `named` giving those of crate types wherever they appear.
pub fn edge_values_with(ty: &InputType, named: NamedValues) -> Vec<EdgeValue> {
    match ty {
        InputType::Int { name, signed } => {
            let mut values = vec![
                value(format!("0{name}"), "zero"),
                value(format!("1{name}"), "one"),
                value(format!("{name}::MAX"), "max"),
                value(format!("{name}::MAX - 1"), "max_minus_one"),
            ];
            if *signed {
                values.push(value(format!("-1{name}"), "minus_one"));
                values.push(value(format!("{name}::MIN"), "min"));
                values.push(value(format!("{name}::MIN + 1"), "min_plus_one"));
            }
            values
        }
        InputType::Float { name } => vec![
            value(format!("0.0{name}"), "zero"),
            value(format!("-0.0{name}"), "negative_zero"),
            value(format!("{name}::NAN"), "nan"),
            value(format!("{name}::INFINITY"), "infinity"),
            value(format!("{name}::NEG_INFINITY"), "negative_infinity"),
            value(format!("{name}::MAX"), "max"),
            value(format!("{name}::MIN"), "min"),
            value(format!("{name}::MIN_POSITIVE"), "min_positive"),
            value(format!("{name}::EPSILON"), "epsilon"),
        ],
        InputType::Bool => vec![value("false", "false"), value("true", "true")],
        InputType::Char => vec![
            value("'\\0'", "nul"),
            value("' '", "space"),
            value("'é'", "multibyte"),
            value("'\\u{10FFFF}'", "max"),
        ],
        InputType::Str { owned } => {
            let wrap = |literal: String| {
                if *owned {
                    format!("String::from({literal})")
                } else {
                    literal
                }
            };
            let mut values: Vec<EdgeValue> = EDGE_STRINGS
                .iter()
                .map(|(text, label)| value(wrap(format!("{text:?}")), *label))
                .collect();
            let long = format!("\"é\".repeat({LONG_STRING_CHARS})");
            values.push(value(
                if *owned {
                    long
                } else {
                    format!("{long}.as_str()")
                },
                "long",
            ));
            values
        }
        InputType::Slice { element, mutable } => {
            let amp = if *mutable { "&mut " } else { "&" };
            let mut values = vec![value(format!("{amp}[]"), "empty")];
            values.extend(around(element, named, "one_", |code| {
                format!("{amp}[{code}]")
            }));
            values
        }
        InputType::Vec(element) => {
            let mut values = vec![value("Vec::new()", "empty")];
            values.extend(around(element, named, "one_", |code| {
                format!("vec![{code}]")
            }));
            values
        }
        InputType::Array { element, len } => {
            around(element, named, "all_", |code| format!("[{code}; {len}]"))
        }
        InputType::Option(inner) => {
            let mut values = vec![value("None", "none")];
            values.extend(around(inner, named, "some_", |code| {
                format!("Some({code})")
            }));
            values
        }
        InputType::Tuple(elements) => tuple_values(elements, named),
        InputType::Ref { inner, mutable } => {
            let amp = if *mutable { "&mut " } else { "&" };
            // `&&[x]` is a reference to an array: `[..]` makes the inner one a slice.
            let slice = if matches!(**inner, InputType::Slice { .. }) {
                "[..]"
            } else {
                ""
            };
            // `&u8::MAX - 1` would take the reference first: parenthesize what has spaces.
            around(inner, named, "", |code| {
                if code.contains(' ') && slice.is_empty() {
                    format!("{amp}({code})")
                } else {
                    format!("{amp}{code}{slice}")
                }
            })
        }
        InputType::Wrapped { wrapper, inner } => {
            let constructor = match wrapper.as_str() {
                "Box" => "Box::from",
                "Rc" => "std::rc::Rc::from",
                "Arc" => "std::sync::Arc::from",
                _ => "std::borrow::Cow::from",
            };
            around(inner, named, "", |code| format!("{constructor}({code})"))
        }
        InputType::Std(name) => std_values(name),
        InputType::Named(name) => named(name),
    }
}

/// `inner`'s edge values put inside something: `wrap` makes the code, `prefix` goes before
/// the label (`one_`, `some_`).
fn around(
    inner: &InputType,
    named: NamedValues,
    prefix: &str,
    wrap: impl Fn(&str) -> String,
) -> Vec<EdgeValue> {
    edge_values_with(inner, named)
        .into_iter()
        .map(|e| value(wrap(&e.code), format!("{prefix}{}", e.label)))
        .collect()
}

/// Tuples: the first edge value of every element together, then each element's other values
/// with the rest at their first (one at a time, not the full product).
fn tuple_values(elements: &[InputType], named: NamedValues) -> Vec<EdgeValue> {
    let per_element: Vec<Vec<EdgeValue>> = elements
        .iter()
        .map(|e| edge_values_with(e, named))
        .collect();
    if per_element.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    let render = |choice: &[&EdgeValue]| {
        let codes: Vec<&str> = choice.iter().map(|e| e.code.as_str()).collect();
        let labels: Vec<&str> = choice.iter().map(|e| e.label.as_str()).collect();
        let trailing = if codes.len() == 1 { "," } else { "" };
        value(
            format!("({}{trailing})", codes.join(", ")),
            labels.join("_and_"),
        )
    };
    let base: Vec<&EdgeValue> = per_element.iter().map(|v| &v[0]).collect();
    let mut values = vec![render(&base)];
    for (index, options) in per_element.iter().enumerate() {
        for option in options.iter().skip(1) {
            let mut choice = base.clone();
            choice[index] = option;
            values.push(render(&choice));
        }
    }
    values
}

fn std_values(name: &str) -> Vec<EdgeValue> {
    let pairs: &[(&str, &str)] = match name {
        "Duration" => &[
            ("std::time::Duration::ZERO", "zero"),
            ("std::time::Duration::from_nanos(1)", "one_nano"),
            ("std::time::Duration::MAX", "max"),
        ],
        "Ipv4Addr" => &[
            ("std::net::Ipv4Addr::UNSPECIFIED", "unspecified"),
            ("std::net::Ipv4Addr::LOCALHOST", "localhost"),
            ("std::net::Ipv4Addr::BROADCAST", "broadcast"),
        ],
        "Ipv6Addr" => &[
            ("std::net::Ipv6Addr::UNSPECIFIED", "unspecified"),
            ("std::net::Ipv6Addr::LOCALHOST", "localhost"),
            (
                "std::net::Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff)",
                "all_ones",
            ),
        ],
        "IpAddr" => &[
            (
                "std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED)",
                "v4_unspecified",
            ),
            (
                "std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)",
                "v6_localhost",
            ),
        ],
        "SocketAddr" => &[
            ("std::net::SocketAddr::from(([0, 0, 0, 0], 0))", "port_zero"),
            (
                "std::net::SocketAddr::from(([255, 255, 255, 255], u16::MAX))",
                "port_max",
            ),
        ],
        "PathBuf" => &[
            ("std::path::PathBuf::new()", "empty"),
            ("std::path::PathBuf::from(\"/\")", "root"),
            ("std::path::PathBuf::from(\"..\")", "parent"),
        ],
        "OsString" => &[
            ("std::ffi::OsString::new()", "empty"),
            ("std::ffi::OsString::from(\"é\")", "multibyte"),
        ],
        // Empty, reversed, the first element, one inside a multi-byte character of "é…" (a
        // string argument's), and far past any input's end.
        "Range" => &[
            ("0..0", "empty"),
            ("3..1", "reversed"),
            ("0..1", "first"),
            ("1..2", "inside_multibyte"),
            ("0..100_000", "out_of_bounds"),
        ],
        "RandomState" => &[(
            "std::collections::hash_map::RandomState::new()",
            "random_state",
        )],
        "RangeInclusive" => &[
            ("0..=0", "first"),
            ("3..=1", "reversed"),
            ("1..=1", "inside_multibyte"),
            ("0..=100_000", "out_of_bounds"),
        ],
        _ => &[],
    };
    let mut values: Vec<EdgeValue> = pairs.iter().map(|(c, l)| value(*c, *l)).collect();
    if let Some(int) = name.strip_prefix("NonZero") {
        let int = int.to_lowercase();
        let ty = format!("std::num::NonZero::<{int}>");
        values.push(value(format!("{ty}::MIN"), "min"));
        values.push(value(format!("{ty}::MAX"), "max"));
    }
    values
}

#[cfg(test)]
mod test {
    use super::*;

    fn codes(ty: &InputType) -> Vec<String> {
        edge_values(ty).into_iter().map(|v| v.code).collect()
    }

    #[test]
    fn ranges_are_empty_reversed_inside_a_character_and_out_of_bounds() {
        let range = crate::generate::offline::types::input_type(
            &syn::parse_str("std::ops::Range<usize>").unwrap(),
            &syn::Generics::default(),
        )
        .unwrap();
        assert_eq!(
            codes(&range),
            ["0..0", "3..1", "0..1", "1..2", "0..100_000"]
        );
        assert!(codes(&InputType::Std("RangeInclusive".into())).contains(&"3..=1".to_owned()));
    }

    #[test]
    fn integers_get_their_limits_and_signed_ones_the_negative_side() {
        let unsigned = InputType::Int {
            name: "u8".into(),
            signed: false,
        };
        assert_eq!(codes(&unsigned), ["0u8", "1u8", "u8::MAX", "u8::MAX - 1"]);
        let signed = InputType::Int {
            name: "i64".into(),
            signed: true,
        };
        assert!(codes(&signed).contains(&"i64::MIN".to_owned()));
        assert!(codes(&signed).contains(&"-1i64".to_owned()));
    }

    #[test]
    fn strings_and_collections() {
        let borrowed = codes(&InputType::Str { owned: false });
        assert_eq!(borrowed[0], "\"\"");
        assert!(borrowed.contains(&"\"éa\"".to_owned()));
        assert!(borrowed.contains(&"\"a\\0b\"".to_owned()));
        let owned = codes(&InputType::Str { owned: true });
        assert_eq!(owned[0], "String::from(\"\")");
        let slice = InputType::Slice {
            element: Box::new(InputType::Bool),
            mutable: true,
        };
        assert_eq!(codes(&slice), ["&mut []", "&mut [false]", "&mut [true]"]);
        let option = InputType::Option(Box::new(InputType::Vec(Box::new(InputType::Bool))));
        assert_eq!(
            codes(&option)[..3],
            ["None", "Some(Vec::new())", "Some(vec![false])"]
        );
    }

    #[test]
    fn tuples_vary_one_element_at_a_time() {
        let tuple = InputType::Tuple(vec![InputType::Bool, InputType::Bool]);
        let values = edge_values(&tuple);
        let got: Vec<(&str, &str)> = values
            .iter()
            .map(|v| (v.code.as_str(), v.label.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("(false, false)", "false_and_false"),
                ("(true, false)", "true_and_false"),
                ("(false, true)", "false_and_true"),
            ]
        );
        let single = InputType::Tuple(vec![InputType::Bool]);
        assert_eq!(codes(&single)[0], "(false,)");
    }

    #[test]
    fn named_types_have_no_built_in_values() {
        assert!(edge_values(&InputType::Named("Cents".into())).is_empty());
        let pair = InputType::Tuple(vec![InputType::Bool, InputType::Named("Cents".into())]);
        assert!(edge_values(&pair).is_empty());
    }

    /// Every expression the engine can emit must be Rust: each one compiled in a scratch crate
    /// would be slow, so each is at least parsed.
    #[test]
    fn every_value_parses_as_an_expression() {
        let int = |name: &str| InputType::Int {
            name: name.into(),
            signed: name.starts_with('i'),
        };
        let kinds = [
            int("i32"),
            int("usize"),
            InputType::Float { name: "f32".into() },
            InputType::Char,
            InputType::Str { owned: false },
            InputType::Str { owned: true },
            InputType::Array {
                element: Box::new(int("u8")),
                len: 3,
            },
            InputType::Ref {
                inner: Box::new(int("i8")),
                mutable: true,
            },
            InputType::Wrapped {
                wrapper: "Cow".into(),
                inner: Box::new(InputType::Str { owned: false }),
            },
            InputType::Std("Duration".into()),
            InputType::Std("Ipv6Addr".into()),
            InputType::Std("SocketAddr".into()),
            InputType::Std("NonZeroU32".into()),
        ];
        for kind in &kinds {
            let values = edge_values(kind);
            assert!(!values.is_empty(), "{kind:?}");
            for value in values {
                syn::parse_str::<syn::Expr>(&value.code)
                    .unwrap_or_else(|e| panic!("{kind:?}: `{}`: {e}", value.code));
            }
        }
    }
}
