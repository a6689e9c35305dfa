//! Values mined from a function's own code: the numbers it compares against, the string
//! literals and prefixes it checks, the separators it splits on and the lengths it tests. A
//! guard's boundary is where an off-by-one hides, so each gives the values around it.

use std::collections::BTreeSet;

use syn::visit::Visit;

use super::types::InputType;
use super::values::EdgeValue;

/// What a function body compares and splits by.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mined {
    /// Integers on either side of a comparison or a range, with their neighbours.
    pub ints: BTreeSet<i128>,
    /// String literals it compares with, tests as a prefix, suffix or substring, or parses.
    pub strings: BTreeSet<String>,
    /// Separators it splits on or searches for (`split_once('.')`, `find(':')`).
    pub separators: BTreeSet<String>,
    /// Lengths it checks (`len() == 60`, `len() > 3`), with their neighbours.
    pub lengths: BTreeSet<usize>,
    /// It parses text as a number (`parse`, `from_str_radix`): digits past the type's range
    /// and just inside it are what overflow the arithmetic after.
    pub parses_numbers: bool,
    /// Constants it names (`MAGIC`, `Self::UNITS`), resolved by the caller against the
    /// crate's constants into the other fields.
    pub consts: BTreeSet<String>,
    /// Byte strings it compares with or checks as a prefix (`b"PK"`, a `&[u8]` constant):
    /// magic numbers a decoder wants first.
    pub magics: BTreeSet<Vec<u8>>,
    /// It changes case (`to_lowercase`): then byte offsets of the result are not the input's.
    pub folds_case: bool,
    /// Texts that lead a parser down a call path into the function these values were
    /// mined from, and stop there (see `guards`): set on values carried to a public entry.
    pub path_texts: Vec<String>,
}

impl Mined {
    /// Take in what another body compares and splits by: a private function's values carried
    /// up to the public function that reaches it.
    pub fn absorb(&mut self, other: &Mined) {
        self.ints.extend(&other.ints);
        self.strings.extend(other.strings.iter().cloned());
        self.separators.extend(other.separators.iter().cloned());
        self.lengths.extend(&other.lengths);
        self.parses_numbers |= other.parses_numbers;
        self.consts.extend(other.consts.iter().cloned());
        self.magics.extend(other.magics.iter().cloned());
        self.folds_case |= other.folds_case;
        for text in &other.path_texts {
            if !self.path_texts.contains(text) {
                self.path_texts.push(text.clone());
            }
        }
    }

    /// A constant's value taken in as if written where it is named.
    pub fn add_const(&mut self, value: &ConstValue) {
        match value {
            ConstValue::Int(v) => self.ints.extend(neighbours(*v)),
            ConstValue::Text(text) => {
                self.strings.insert(text.clone());
            }
            ConstValue::Bytes(bytes) => {
                self.magics.insert(bytes.clone());
            }
        }
    }
}

/// The value of one of the crate's constants, as far as values are mined from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstValue {
    Int(i128),
    Text(String),
    Bytes(Vec<u8>),
}

/// A constant item's value when it is a literal the engine can use.
pub fn const_value(expr: &syn::Expr) -> Option<ConstValue> {
    if let Some(value) = int_literal(expr) {
        return Some(ConstValue::Int(value));
    }
    if let Some(text) = text_literal(expr) {
        return Some(ConstValue::Text(text));
    }
    byte_literal(expr).map(ConstValue::Bytes)
}

/// A byte string or byte literal's bytes (`b"PK"`, `b'x'`, `&[0x50, 0x4b]`).
fn byte_literal(expr: &syn::Expr) -> Option<Vec<u8>> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::ByteStr(bytes),
            ..
        }) => Some(bytes.value()),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Byte(byte),
            ..
        }) => Some(vec![byte.value()]),
        syn::Expr::Reference(reference) => byte_literal(&reference.expr),
        syn::Expr::Array(array) if !array.elems.is_empty() && array.elems.len() <= 16 => array
            .elems
            .iter()
            .map(|e| int_literal(e).and_then(|v| u8::try_from(v).ok()))
            .collect(),
        _ => None,
    }
}

/// Mine `block` (a function body).
pub fn mine(block: &syn::Block) -> Mined {
    let mut miner = Miner::default();
    miner.visit_block(block);
    miner.mined
}

#[derive(Default)]
struct Miner {
    mined: Mined,
}

const SPLITTERS: &[&str] = &[
    "split",
    "split_once",
    "rsplit_once",
    "splitn",
    "rsplit",
    "rsplitn",
    "split_terminator",
    "find",
    "rfind",
    "contains",
    "matches",
    "trim_matches",
    "trim_start_matches",
    "trim_end_matches",
];

/// Methods that drop whitespace.
const TRIMMERS: &[&str] = &[
    "trim",
    "trim_start",
    "trim_end",
    "trim_left",
    "trim_right",
    "split_whitespace",
    "trim_ascii",
];

const STRING_CHECKS: &[&str] = &[
    "starts_with",
    "ends_with",
    "strip_prefix",
    "strip_suffix",
    "eq_ignore_ascii_case",
    "contains",
];

/// A boundary and its neighbours, where they exist.
fn neighbours(value: i128) -> impl Iterator<Item = i128> {
    [value.checked_sub(1), Some(value), value.checked_add(1)]
        .into_iter()
        .flatten()
}

impl Miner {
    fn add_int(&mut self, value: i128) {
        self.mined.ints.extend(neighbours(value));
    }

    fn add_length(&mut self, value: usize) {
        let lengths = neighbours(value as i128).filter_map(|v| usize::try_from(v).ok());
        self.mined.lengths.extend(lengths);
    }
}

/// An integer literal, negated or not.
fn int_literal(expr: &syn::Expr) -> Option<i128> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse::<i128>().ok(),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => int_literal(expr).map(|v| -v),
        syn::Expr::Paren(paren) => int_literal(&paren.expr),
        // `b'A'` compares a byte: its value is the boundary.
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Byte(byte),
            ..
        }) => Some(i128::from(byte.value())),
        _ => None,
    }
}

/// A string or char literal's text.
fn text_literal(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Some(text.value()),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Char(c),
            ..
        }) => Some(c.value().to_string()),
        syn::Expr::Reference(reference) => text_literal(&reference.expr),
        _ => None,
    }
}

/// Whether `expr` is `something.len()` (or `.chars().count()`).
fn is_length(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::MethodCall(call) => {
            call.method == "len"
                || (call.method == "count"
                    && matches!(&*call.receiver, syn::Expr::MethodCall(inner) if inner.method == "chars"))
        }
        syn::Expr::Paren(paren) => is_length(&paren.expr),
        _ => false,
    }
}

impl<'ast> Visit<'ast> for Miner {
    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        use syn::BinOp::*;
        let comparison = matches!(binary.op, Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_));
        if comparison {
            for (this, other) in [(&binary.left, &binary.right), (&binary.right, &binary.left)] {
                if let Some(value) = int_literal(this) {
                    if is_length(other) {
                        if let Ok(length) = usize::try_from(value) {
                            self.add_length(length);
                        }
                    } else {
                        self.add_int(value);
                    }
                }
                if let Some(text) = text_literal(this) {
                    self.mined.strings.insert(text);
                }
                if let Some(bytes) = byte_literal(this) {
                    self.mined.magics.insert(bytes);
                }
            }
        }
        // Division and remainder by a literal are safe; by anything else, zero is the value.
        if matches!(binary.op, Div(_) | Rem(_) | DivAssign(_) | RemAssign(_))
            && int_literal(&binary.right).is_none()
        {
            self.add_int(0);
        }
        syn::visit::visit_expr_binary(self, binary);
    }

    // `x as i64`: where the target type's range ends is where the cast wraps.
    fn visit_expr_cast(&mut self, cast: &'ast syn::ExprCast) {
        if let syn::Type::Path(path) = &*cast.ty
            && let Some(ident) = path.path.get_ident()
        {
            let name = ident.to_string();
            if INT_NAMES.contains(&name.as_str()) {
                let (low, high) = int_range(&name);
                self.add_int(high);
                if low < 0 {
                    self.add_int(low);
                } else {
                    self.add_int(-1);
                }
            }
        }
        syn::visit::visit_expr_cast(self, cast);
    }

    fn visit_expr_range(&mut self, range: &'ast syn::ExprRange) {
        for end in [&range.start, &range.end].into_iter().flatten() {
            if let Some(value) = int_literal(end) {
                self.add_int(value);
            }
        }
        syn::visit::visit_expr_range(self, range);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if method == "parse" {
            self.mined.parses_numbers = true;
        }
        if method == "to_lowercase" || method == "to_uppercase" {
            self.mined.folds_case = true;
        }
        // Trimming code meets its edge in blank text: all of it is trimmed away.
        if TRIMMERS.contains(&method.as_str()) && call.args.is_empty() {
            self.mined.strings.insert("   ".to_owned());
        }
        if let Some(first) = call.args.first().and_then(text_literal) {
            if SPLITTERS.contains(&method.as_str()) {
                self.mined.separators.insert(first.clone());
            }
            if STRING_CHECKS.contains(&method.as_str()) {
                self.mined.strings.insert(first);
            }
        }
        if STRING_CHECKS.contains(&method.as_str())
            && let Some(bytes) = call.args.first().and_then(byte_literal)
        {
            self.mined.magics.insert(bytes);
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        // `MAGIC`, `Self::UNITS`: a constant, looked up later.
        let segments = &path.path.segments;
        if let Some(last) = segments.last()
            && (segments.len() == 1 || (segments.len() == 2 && segments[0].ident == "Self"))
        {
            let name = last.ident.to_string();
            if name.len() > 1
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                self.mined.consts.insert(name);
            }
        }
        if path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "from_str_radix" || s.ident == "from_str")
        {
            self.mined.parses_numbers = true;
        }
        syn::visit::visit_expr_path(self, path);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.visit_pat_for_literals(&arm.pat);
        syn::visit::visit_arm(self, arm);
    }

    // Nested items are other functions: their guards are not this one's.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl Miner {
    /// Literal patterns in a match arm: `"add" =>`, `0..=9 =>`, `b'a' =>`.
    fn visit_pat_for_literals(&mut self, pat: &syn::Pat) {
        match pat {
            syn::Pat::Lit(lit) => {
                let expr = syn::Expr::Lit(lit.clone());
                if let Some(value) = int_literal(&expr) {
                    self.add_int(value);
                } else if let Some(text) = text_literal(&expr) {
                    self.mined.strings.insert(text);
                }
            }
            syn::Pat::Range(range) => {
                for end in [&range.start, &range.end].into_iter().flatten() {
                    if let Some(value) = int_literal(end) {
                        self.add_int(value);
                    }
                }
            }
            syn::Pat::Or(or) => {
                for case in &or.cases {
                    self.visit_pat_for_literals(case);
                }
            }
            syn::Pat::Reference(reference) => self.visit_pat_for_literals(&reference.pat),
            _ => {}
        }
    }
}

/// The integer types, by name.
const INT_NAMES: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

/// The range of an integer type by name, as `i128` bounds (`u128` and `usize` capped at
/// `i128::MAX`, which no mined literal reaches).
fn int_range(name: &str) -> (i128, i128) {
    match name {
        "i8" => (i8::MIN as i128, i8::MAX as i128),
        "i16" => (i16::MIN as i128, i16::MAX as i128),
        "i32" => (i32::MIN as i128, i32::MAX as i128),
        "i64" | "isize" => (i64::MIN as i128, i64::MAX as i128),
        "u8" => (0, u8::MAX as i128),
        "u16" => (0, u16::MAX as i128),
        "u32" => (0, u32::MAX as i128),
        "u64" | "usize" => (0, u64::MAX as i128),
        "u128" => (0, i128::MAX),
        _ => (i128::MIN, i128::MAX),
    }
}

/// A name part for a value: `v100`, `v_minus_6`.
fn int_label(value: i128) -> String {
    if value < 0 {
        format!("v_minus_{}", value.unsigned_abs())
    } else {
        format!("v{value}")
    }
}

/// A name part for a piece of text: letters and digits kept, the rest by name or dropped.
pub fn text_label(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let part = match c {
            'a'..='z' | '0'..='9' => c.to_string(),
            'A'..='Z' => c.to_ascii_lowercase().to_string(),
            '.' => "_dot_".into(),
            ':' => "_colon_".into(),
            ',' => "_comma_".into(),
            '-' => "_dash_".into(),
            '+' => "_plus_".into(),
            '/' => "_slash_".into(),
            '=' => "_equals_".into(),
            ' ' => "_space_".into(),
            '@' => "_at_".into(),
            ';' => "_semicolon_".into(),
            '|' => "_pipe_".into(),
            '#' => "_hash_".into(),
            '%' => "_percent_".into(),
            '\\' => "_backslash_".into(),
            '"' => "_quote_".into(),
            '\'' => "_apostrophe_".into(),
            '(' | '[' | '{' | '<' => "_open_".into(),
            ')' | ']' | '}' | '>' => "_close_".into(),
            '&' => "_amp_".into(),
            '*' => "_star_".into(),
            '?' => "_question_".into(),
            '!' => "_bang_".into(),
            '$' => "_dollar_".into(),
            '_' => "_".into(),
            _ => "_x_".into(),
        };
        out.push_str(&part);
    }
    let mut collapsed = String::new();
    for part in out.split('_').filter(|p| !p.is_empty()) {
        if !collapsed.is_empty() {
            collapsed.push('_');
        }
        collapsed.push_str(part);
    }
    collapsed.truncate(24);
    let collapsed = collapsed.trim_end_matches('_').to_owned();
    if collapsed.is_empty() {
        "symbol".into()
    } else {
        collapsed
    }
}

/// Numbers as text around the integer limits: parsing succeeds just inside them and the
/// arithmetic after overflows, or parsing fails just outside.
const NUMERIC_STRINGS: &[(&str, &str)] = &[
    ("99999999999999999", "seventeen_nines"),
    ("9223372036854775807", "i64_max_digits"),
    ("9223372036854775808", "past_i64_max_digits"),
    ("-9223372036854775808", "i64_min_digits"),
    ("18446744073709551616", "past_u64_max_digits"),
    ("4294967296", "past_u32_max_digits"),
];

/// Longest string literal written out; longer ones are built with `repeat`.
const LITERAL_LIMIT: usize = 64;

/// A string expression of a model (`&str` or `String`) from its text.
fn string_code(text: &str, owned: bool) -> String {
    if owned {
        format!("String::from({text:?})")
    } else {
        format!("{text:?}")
    }
}

/// A string of `chars` characters: ASCII only, or ending in a two-byte character so a byte
/// index at the boundary falls inside it.
fn sized_string(chars: usize, multibyte_last: bool, owned: bool) -> String {
    let ascii = if multibyte_last { chars - 1 } else { chars };
    let tail = if multibyte_last { "é" } else { "" };
    if chars <= LITERAL_LIMIT {
        return string_code(&format!("{}{tail}", "a".repeat(ascii)), owned);
    }
    let built = format!("format!(\"{{}}{tail}\", \"a\".repeat({ascii}))");
    if owned {
        built
    } else {
        format!("{built}.as_str()")
    }
}

/// Values of a parameter of model `ty` taken from what its function compares and splits by.
pub fn mined_values(ty: &InputType, mined: &Mined, benign_element: Option<&str>) -> Vec<EdgeValue> {
    let value = |code: String, label: String| EdgeValue { code, label };
    match ty {
        InputType::Int { name, .. } => {
            let (low, high) = int_range(name);
            mined
                .ints
                .iter()
                .filter(|v| (low..=high).contains(*v))
                .map(|v| value(format!("{v}{name}"), int_label(*v)))
                .collect()
        }
        InputType::Char => mined
            .strings
            .iter()
            .chain(&mined.separators)
            .filter(|s| s.chars().count() == 1)
            .map(|s| {
                value(
                    format!("{:?}", s.chars().next().unwrap_or('a')),
                    format!("char_{}", text_label(s)),
                )
            })
            .collect(),
        InputType::Str { owned } => {
            let mut out = Vec::new();
            // The input that walks into the reached function and ends there: where its
            // edge is.
            for text in &mined.path_texts {
                let label = text_label(text);
                out.push(value(string_code(text, *owned), format!("path_{label}")));
                out.push(value(
                    string_code(&format!("{text}é"), *owned),
                    format!("path_{label}_then_multibyte"),
                ));
            }
            if mined.parses_numbers {
                // A number with each unit the code knows (`"bkmgt"` gives `"1t"`): the last
                // of a list is where a table one entry short is indexed past. Then with the
                // most digits that parse, where the unit's multiplication overflows; then
                // digits past each integer type.
                let units = units(mined);
                for unit in &units {
                    out.push(value(
                        string_code(&format!("1{unit}"), *owned),
                        format!("number_unit_{}", text_label(unit)),
                    ));
                }
                for unit in &units {
                    out.push(value(
                        string_code(&format!("99999999999999999{unit}"), *owned),
                        format!("huge_number_unit_{}", text_label(unit)),
                    ));
                }
                for (text, label) in NUMERIC_STRINGS {
                    out.push(value(string_code(text, *owned), (*label).to_owned()));
                }
            }
            if mined.folds_case {
                // `İ` lowercases to three bytes and `ß` uppercases to two letters: an offset
                // found in the folded text is off in the original. `i` is what finds them.
                for (text, label) in [
                    ("İ", "capital_i_with_dot"),
                    ("i", "letter_i"),
                    ("ß", "sharp_s"),
                ] {
                    out.push(value(string_code(text, *owned), label.to_owned()));
                }
            }
            for text in &mined.strings {
                let label = text_label(text);
                out.push(value(string_code(text, *owned), format!("text_{label}")));
                out.push(value(
                    string_code(&format!("{text}é"), *owned),
                    format!("text_{label}_then_multibyte"),
                ));
                out.push(value(
                    string_code(&format!("{text} "), *owned),
                    format!("text_{label}_then_space"),
                ));
                if let Some(shorter) = text.char_indices().last().map(|(at, _)| &text[..at])
                    && !shorter.is_empty()
                {
                    out.push(value(
                        string_code(shorter, *owned),
                        format!("text_{label}_cut_short"),
                    ));
                }
            }
            for separator in &mined.separators {
                let label = text_label(separator);
                let s = separator;
                for (text, what) in [
                    (format!("a{s}b"), "one"),
                    (format!("a{s}b{s}c"), "two"),
                    (s.to_string(), "only"),
                    (format!("a{s}"), "trailing"),
                    (format!("{s}é"), "then_multibyte"),
                ] {
                    out.push(value(string_code(&text, *owned), format!("{what}_{label}")));
                }
                out.push(value(string_code("ab", *owned), format!("no_{label}")));
            }
            for &length in &mined.lengths {
                out.push(value(
                    sized_string(length, false, *owned),
                    format!("len{length}"),
                ));
                // A number parser's length limit is a digit count: that many nines.
                if mined.parses_numbers && (2..=LITERAL_LIMIT).contains(&length) {
                    out.push(value(
                        string_code(&"9".repeat(length), *owned),
                        format!("len{length}_nines"),
                    ));
                }
                if length > 0 {
                    out.push(value(
                        sized_string(length, true, *owned),
                        format!("len{length}_multibyte_last"),
                    ));
                }
            }
            out
        }
        InputType::Vec(_) | InputType::Slice { .. } => {
            let Some(element) = benign_element else {
                return Vec::new();
            };
            let mut structured = structured_bytes(ty, mined);
            structured.extend(
                mined
                    .lengths
                    .iter()
                    .filter(|&&n| n > 1 && n <= 1 << 16)
                    .map(|&n| {
                        let code = match ty {
                            InputType::Slice { mutable: true, .. } => {
                                format!("&mut vec![{element}; {n}]")
                            }
                            InputType::Slice { .. } => format!("&vec![{element}; {n}]"),
                            _ => format!("vec![{element}; {n}]"),
                        };
                        value(code, format!("len{n}"))
                    }),
            );
            structured
        }
        InputType::Option(inner) => mined_values(inner, mined, benign_element)
            .into_iter()
            .map(|v| value(format!("Some({})", v.code), format!("some_{}", v.label)))
            .collect(),
        InputType::Ref { inner, mutable } => {
            let amp = if *mutable { "&mut " } else { "&" };
            mined_values(inner, mined, benign_element)
                .into_iter()
                .map(|v| value(format!("{amp}{}", v.code), v.label))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Most units tried after a number.
const MAX_UNITS: usize = 8;
/// Longest string taken whole as a unit (`ms`, `kib`); longer all-letter ones give their
/// letters (`"bkmgt"`).
const UNIT_CHARS: usize = 3;

/// The units a number parser knows: short all-letter strings it compares with whole, and
/// the letters of longer ones (a table of unit letters), each once, in order.
fn units(mined: &Mined) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut add = |unit: String| {
        if !units.contains(&unit) && units.len() < MAX_UNITS {
            units.push(unit);
        }
    };
    for text in &mined.strings {
        let count = text.chars().count();
        if count == 0 || count > 8 || !text.chars().all(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        if count <= UNIT_CHARS {
            add(text.clone());
        } else {
            for c in text.chars() {
                add(c.to_string());
            }
        }
    }
    units
}

/// Most prefixes (mined magic byte strings and tag bytes) structured byte inputs start with.
const MAX_PREFIXES: usize = 4;

/// What follows a prefix in a structured byte input: a length, or a tag and a length, that
/// promise more than follows, and the largest lengths of one and two bytes.
const SHAPES: &[(&[u8], &str)] = &[
    (&[0xff], "len_max"),
    (&[2, 0], "len_short"),
    (&[1, 0xff], "tag_len_max"),
    (&[1, 2, 0], "tag_len_short"),
    (&[0xff, 0xff], "len16_max"),
    (&[0x80], "varint_open"),
];

/// With a mined prefix, the prefix alone comes first: a tag with nothing after it.
const PREFIXED_SHAPES: &[(&[u8], &str)] = &[
    (&[], "alone"),
    (&[0xff], "len_max"),
    (&[2, 0], "len_short"),
    (&[1, 0xff], "tag_len_max"),
    (&[1, 2, 0], "tag_len_short"),
    (&[0xff, 0xff], "len16_max"),
    (&[0x80], "varint_open"),
];

/// Byte inputs with structure, for a parameter of bytes (`&[u8]`, `Vec<u8>`): each mined
/// magic or tag byte (else nothing) followed by truncated, overlong and maximal lengths.
fn structured_bytes(ty: &InputType, mined: &Mined) -> Vec<EdgeValue> {
    let element = match ty {
        InputType::Vec(element) | InputType::Slice { element, .. } => element,
        _ => return Vec::new(),
    };
    if !matches!(&**element, InputType::Int { name, .. } if name == "u8") {
        return Vec::new();
    }
    let mut prefixes: Vec<(Vec<u8>, String)> = mined
        .magics
        .iter()
        .filter(|m| !m.is_empty() && m.len() <= 8)
        .map(|m| (m.clone(), format!("magic_{}", hex(m))))
        .take(MAX_PREFIXES)
        .collect();
    // Tag bytes: compared values that fit a byte, not the small counts every guard has.
    for &int in &mined.ints {
        if prefixes.len() >= MAX_PREFIXES {
            break;
        }
        if let Ok(byte) = u8::try_from(int)
            && byte >= 0x10
            && mined.ints.contains(&(int - 1))
            && mined.ints.contains(&(int + 1))
        {
            prefixes.push((vec![byte], format!("tag_{byte:02x}")));
        }
    }
    // With nothing mined, the plain shapes alone.
    let shapes = if prefixes.is_empty() {
        prefixes.push((Vec::new(), String::new()));
        &SHAPES[..3]
    } else {
        PREFIXED_SHAPES
    };
    let mut out = Vec::new();
    for (prefix, prefix_label) in &prefixes {
        for (shape, shape_label) in shapes {
            let bytes: Vec<String> = prefix
                .iter()
                .chain(shape.iter())
                .map(|b| format!("0x{b:02x}"))
                .collect();
            let list = format!("[{}u8]", bytes.join("u8, "));
            let code = match ty {
                InputType::Slice { mutable: true, .. } => format!("&mut {list}[..]"),
                InputType::Slice { .. } => format!("&{list}[..]"),
                _ => format!("{list}.to_vec()"),
            };
            let label = if prefix_label.is_empty() {
                (*shape_label).to_owned()
            } else {
                format!("{prefix_label}_{shape_label}")
            };
            out.push(EdgeValue { code, label });
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Methods whose integer argument is a size: a huge one makes the test slow or the allocator
/// abort, not a finding.
const SIZE_SINKS: &[&str] = &[
    "with_capacity",
    "repeat",
    "reserve",
    "reserve_exact",
    "resize",
    "take",
    "skip",
    "step_by",
    "truncate",
    "split_off",
    "extend_from_within",
];

/// Parameter names that say they are a size.
const SIZE_NAMES: &[&str] = &[
    "count",
    "capacity",
    "cap",
    "size",
    "len",
    "length",
    "width",
    "height",
    "depth",
    "times",
    "iterations",
    "repeat",
    "repetitions",
    "rounds",
    "steps",
    "limit",
];

/// Parameters that are sizes: named like one, or used as a loop bound, a capacity, a repeat
/// count or a `vec![x; n]` length in `block`.
pub fn size_like_params(block: &syn::Block, params: &[String]) -> BTreeSet<String> {
    let mut finder = SizeFinder {
        params,
        derived: std::collections::HashMap::new(),
        found: BTreeSet::new(),
    };
    finder.visit_block(block);
    for param in params {
        let lower = param.to_lowercase();
        let named_as_size = lower.starts_with("num_")
            || SIZE_NAMES.iter().any(|name| {
                lower == *name
                    || lower.ends_with(&format!("_{name}"))
                    || lower.starts_with(&format!("{name}_"))
            });
        if named_as_size {
            finder.found.insert(param.clone());
        }
    }
    finder.found
}

/// Parameters the body does arithmetic with directly (`a + b`, `n * 8`, `x.checked_mul(y)`):
/// there the type's limits are what overflows, so they keep their `MAX`.
pub fn arithmetic_params(block: &syn::Block, params: &[String]) -> BTreeSet<String> {
    struct Arithmetic<'p> {
        params: &'p [String],
        found: BTreeSet<String>,
    }
    impl Arithmetic<'_> {
        fn direct(&mut self, expr: &syn::Expr) {
            let expr = match expr {
                syn::Expr::Paren(p) => &*p.expr,
                syn::Expr::Cast(c) => &*c.expr,
                other => other,
            };
            if let syn::Expr::Path(path) = expr
                && let Some(ident) = path.path.get_ident()
                && self.params.iter().any(|p| ident == p)
            {
                self.found.insert(ident.to_string());
            }
        }
    }
    impl<'ast> Visit<'ast> for Arithmetic<'_> {
        fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
            use syn::BinOp::*;
            if matches!(
                binary.op,
                Add(_)
                    | Sub(_)
                    | Mul(_)
                    | Shl(_)
                    | AddAssign(_)
                    | SubAssign(_)
                    | MulAssign(_)
                    | ShlAssign(_)
            ) {
                self.direct(&binary.left);
                self.direct(&binary.right);
            }
            syn::visit::visit_expr_binary(self, binary);
        }
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            let method = call.method.to_string();
            if ["checked_", "wrapping_", "saturating_", "overflowing_"]
                .iter()
                .any(|p| method.starts_with(p))
            {
                self.direct(&call.receiver);
                for arg in &call.args {
                    self.direct(arg);
                }
            }
            syn::visit::visit_expr_method_call(self, call);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Arithmetic {
        params,
        found: BTreeSet::new(),
    };
    finder.visit_block(block);
    finder.found
}

struct SizeFinder<'p> {
    params: &'p [String],
    /// Locals computed from parameters (`let blocks = blocks_for(nbits);`), with them.
    derived: std::collections::HashMap<String, BTreeSet<String>>,
    found: BTreeSet<String>,
}

impl SizeFinder<'_> {
    /// Parameters an expression draws on, through locals computed from them.
    fn sources(&self, expr: &syn::Expr) -> BTreeSet<String> {
        let mut names = Vec::new();
        collect_idents(quote::ToTokens::to_token_stream(expr), &mut names);
        let mut out = BTreeSet::new();
        for name in names {
            if self.params.contains(&name) {
                out.insert(name.clone());
            }
            if let Some(params) = self.derived.get(&name) {
                out.extend(params.iter().cloned());
            }
        }
        out
    }

    /// Mark the parameters an expression draws on as sizes.
    fn mark(&mut self, expr: &syn::Expr) {
        let sources = self.sources(expr);
        self.found.extend(sources);
    }
}

/// Every identifier in a token stream, nested groups included.
pub fn collect_idents(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) => out.push(ident.to_string()),
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for SizeFinder<'_> {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let (syn::Pat::Ident(ident), Some(init)) = (&local.pat, &local.init) {
            let sources = self.sources(&init.expr);
            if !sources.is_empty() {
                self.derived.insert(ident.ident.to_string(), sources);
            }
        } else if let (syn::Pat::Type(typed), Some(init)) = (&local.pat, &local.init)
            && let syn::Pat::Ident(ident) = &*typed.pat
        {
            let sources = self.sources(&init.expr);
            if !sources.is_empty() {
                self.derived.insert(ident.ident.to_string(), sources);
            }
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_expr_range(&mut self, range: &'ast syn::ExprRange) {
        if let Some(end) = &range.end {
            self.mark(end);
        }
        syn::visit::visit_expr_range(self, range);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if SIZE_SINKS.contains(&call.method.to_string().as_str()) {
            for arg in &call.args {
                self.mark(arg);
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let sink = matches!(&*call.func, syn::Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| SIZE_SINKS.contains(&s.ident.to_string().as_str())));
        if sink {
            for arg in &call.args {
                self.mark(arg);
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // `vec![x; n]`: the length after the semicolon.
        let tokens = &mac.tokens;
        if mac.path.is_ident("vec")
            && let Ok(syn::Expr::Repeat(repeat)) =
                syn::parse2::<syn::Expr>(quote::quote!([#tokens]))
        {
            self.mark(&repeat.len);
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

#[cfg(test)]
mod test {
    use super::*;

    fn mined(body: &str) -> Mined {
        let item: syn::ItemFn = syn::parse_str(&format!("fn f() {body}")).unwrap();
        mine(&item.block)
    }

    #[test]
    fn comparisons_give_the_values_around_their_boundary() {
        let got = mined("{ if x > 100 { return; } if -5 <= y { } }");
        assert_eq!(
            got.ints.into_iter().collect::<Vec<_>>(),
            [-6, -5, -4, 99, 100, 101]
        );
    }

    #[test]
    fn length_checks_are_lengths_not_values() {
        let got = mined("{ if s.len() == 60 { } if s.chars().count() < 3 { } }");
        assert_eq!(
            got.lengths.into_iter().collect::<Vec<_>>(),
            [2, 3, 4, 59, 60, 61]
        );
        let none: Vec<i128> = Vec::new();
        assert_eq!(got.ints.into_iter().collect::<Vec<_>>(), none);
    }

    #[test]
    fn prefixes_separators_and_match_literals() {
        let got = mined(
            r#"{
                if s.starts_with("0x") { }
                let (a, b) = s.split_once('.')?;
                match cmd { "add" | "sub" => {}, _ => {} }
                match n { 0..=9 => {}, _ => {} }
            }"#,
        );
        assert_eq!(
            got.strings.into_iter().collect::<Vec<_>>(),
            ["0x", "add", "sub"]
        );
        assert_eq!(got.separators.into_iter().collect::<Vec<_>>(), ["."]);
        assert_eq!(
            got.ints.into_iter().collect::<Vec<_>>(),
            [-1, 0, 1, 8, 9, 10]
        );
    }

    #[test]
    fn division_by_a_variable_wants_zero_and_nested_items_are_skipped() {
        let got = mined("{ let q = total / parts; fn inner() { if z > 7 {} } }");
        assert_eq!(got.ints.into_iter().collect::<Vec<_>>(), [-1, 0, 1]);
    }

    #[test]
    fn magic_bytes_constants_casts_and_case_folding_are_mined() {
        let got = mined(
            "{ if bytes.starts_with(b\"PK\") && x as u8 > 3 && UNITS.contains(c) { s.to_lowercase(); } }",
        );
        assert!(got.magics.contains(b"PK".as_slice()));
        assert!(got.ints.contains(&255) && got.ints.contains(&256) && got.ints.contains(&-1));
        assert!(got.consts.contains("UNITS"));
        assert!(got.folds_case);
        let mut with_const = got.clone();
        with_const.add_const(&ConstValue::Text("bkmgt".into()));
        with_const.strings.insert("ms".into());
        assert_eq!(units(&with_const), ["b", "k", "m", "g", "t", "ms"]);
        assert_eq!(
            const_value(&syn::parse_str("&[0x7f, 0x45]").unwrap()),
            Some(ConstValue::Bytes(vec![0x7f, 0x45]))
        );
    }

    #[test]
    fn byte_parameters_get_structured_inputs_after_each_magic() {
        let bytes = InputType::Slice {
            element: Box::new(InputType::Int {
                name: "u8".into(),
                signed: false,
            }),
            mutable: false,
        };
        let mut mined = Mined::default();
        mined.magics.insert(vec![0xa5]);
        let got = structured_bytes(&bytes, &mined);
        assert_eq!(got.len(), PREFIXED_SHAPES.len());
        assert_eq!(got[0].code, "&[0xa5u8][..]");
        assert_eq!(got[3].code, "&[0xa5u8, 0x01u8, 0xffu8][..]");
        assert_eq!(got[3].label, "magic_a5_tag_len_max");
        // With nothing mined, the plain shapes; and nothing for other elements.
        assert_eq!(structured_bytes(&bytes, &Mined::default()).len(), 3);
        let words = InputType::Vec(Box::new(InputType::Int {
            name: "u32".into(),
            signed: false,
        }));
        assert!(structured_bytes(&words, &mined).is_empty());
    }

    #[test]
    fn mined_values_fit_the_parameter_type() {
        let got = mined(
            "{ if x > 100 { } if y < -3 { } if s.starts_with(\"0x\") { } let p = s.split_once('.'); if s.len() == 3 {} }",
        );
        let int = |name: &str| InputType::Int {
            name: name.into(),
            signed: name.starts_with('i'),
        };
        let codes = |ty: &InputType| -> Vec<String> {
            mined_values(ty, &got, Some("0u8"))
                .into_iter()
                .map(|v| v.code)
                .collect()
        };
        assert_eq!(codes(&int("u8")), ["99u8", "100u8", "101u8"]);
        assert_eq!(codes(&int("i8"))[0], "-4i8");
        let strings = codes(&InputType::Str { owned: false });
        for expected in [
            "\"0x\"",
            "\"0xé\"",
            "\"0\"",
            "\"a.b\"",
            "\"a.b.c\"",
            "\"ab\"",
            "\"aaa\"",
            "\"aaé\"",
        ] {
            assert!(
                strings.contains(&expected.to_owned()),
                "{expected} missing from {strings:?}"
            );
        }
        assert!(codes(&InputType::Vec(Box::new(int("u8")))).contains(&"vec![0u8; 4]".to_owned()));
        let labels: Vec<String> = mined_values(&int("i32"), &got, None)
            .into_iter()
            .map(|v| v.label)
            .collect();
        assert!(labels.contains(&"v_minus_4".to_owned()));
    }

    #[test]
    fn long_lengths_are_built_not_written() {
        assert_eq!(sized_string(3, true, false), "\"aaé\"");
        assert_eq!(
            sized_string(100, true, false),
            "format!(\"{}é\", \"a\".repeat(99)).as_str()"
        );
        assert_eq!(text_label("0x"), "0x");
        assert_eq!(text_label("."), "dot");
        assert_eq!(text_label("é"), "x");
    }

    #[test]
    fn sizes_are_found_by_use_and_by_name() {
        let item: syn::ItemFn = syn::parse_str(
            "fn f(n: u64, cap: usize, rows: usize, k: u32, x: i32, count: u8) {
                for i in 2..n { }
                let v: Vec<u8> = Vec::with_capacity(cap * 2);
                let w = vec![0; rows as usize];
                let y = x + 1;
            }",
        )
        .unwrap();
        let params: Vec<String> = ["n", "cap", "rows", "k", "x", "count"]
            .map(String::from)
            .to_vec();
        let got: Vec<String> = size_like_params(&item.block, &params).into_iter().collect();
        assert_eq!(got, ["cap", "count", "n", "rows"]);
    }
}
