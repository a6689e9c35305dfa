//! Values mined from a function's own code: the numbers it compares against, the string
//! literals and prefixes it checks, the separators it splits on and the lengths it tests. A
//! guard's boundary is where an off-by-one hides, so each gives the values around it.

use std::collections::BTreeSet;

use syn::visit::Visit;

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
        if let Some(first) = call.args.first().and_then(text_literal) {
            if SPLITTERS.contains(&method.as_str()) {
                self.mined.separators.insert(first.clone());
            }
            if STRING_CHECKS.contains(&method.as_str()) {
                self.mined.strings.insert(first);
            }
        }
        syn::visit::visit_expr_method_call(self, call);
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
}
