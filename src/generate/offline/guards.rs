//! The text that leads a parser from its public entry down to a private function: each call
//! on the way is guarded by a byte, char or string literal (`b'\\' => self.parse_escape(ix)`,
//! `else if b == b'x' { self.parse_hex(..) }`), and those literals, joined down the call path,
//! make an input that reaches the deepest function and then stops (`"\\x"`). A private
//! function's edge is where its input ends, and no edge value alone gets that far.

use syn::visit::Visit;

/// Most literals one call site contributes (a `match` arm of many bytes).
const MAX_ALTERNATIVES: usize = 3;
/// Most texts a call path composes into.
const MAX_TEXTS: usize = 6;

/// The literal texts guarding calls of the function named `callee` in `block`, one entry
/// per distinct text; an empty text when some call is not guarded by a literal.
pub fn guarding_texts(block: &syn::Block, callee: &str) -> Vec<String> {
    let mut guards = Guards {
        callee,
        stack: Vec::new(),
        found: Vec::new(),
    };
    guards.visit_block(block);
    guards.found
}

/// Texts that reach the last function of a call path: `steps` holds, for each call from
/// the entry down, the texts that guard it (see `guarding_texts`). Joined in order, each
/// combination taken once, nearest the first alternatives first; only texts that say
/// something (non-empty) are returned.
pub fn compose(steps: &[Vec<String>]) -> Vec<String> {
    let mut texts = vec![String::new()];
    for step in steps {
        if step.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for text in &texts {
            for piece in step.iter().take(MAX_ALTERNATIVES) {
                let joined = format!("{text}{piece}");
                if !next.contains(&joined) && next.len() < MAX_TEXTS {
                    next.push(joined);
                }
            }
        }
        texts = next;
    }
    texts.retain(|text| !text.is_empty());
    texts
}

struct Guards<'a> {
    callee: &'a str,
    /// The literal texts of the conditions the visit is inside, outermost first.
    stack: Vec<Vec<String>>,
    found: Vec<String>,
}

impl Guards<'_> {
    fn record(&mut self) {
        let innermost = self.stack.iter().rev().find(|texts| !texts.is_empty());
        let texts = innermost.cloned().unwrap_or_else(|| vec![String::new()]);
        for text in texts {
            if !self.found.contains(&text) {
                self.found.push(text);
            }
        }
    }

    fn inside(&mut self, texts: Vec<String>, visit: impl FnOnce(&mut Self)) {
        self.stack.push(texts);
        visit(self);
        self.stack.pop();
    }
}

impl<'ast> Visit<'ast> for Guards<'_> {
    fn visit_expr_if(&mut self, expr: &'ast syn::ExprIf) {
        self.visit_expr(&expr.cond);
        self.inside(condition_texts(&expr.cond), |guards| {
            guards.visit_block(&expr.then_branch);
        });
        if let Some((_, otherwise)) = &expr.else_branch {
            self.visit_expr(otherwise);
        }
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        let mut texts = Vec::new();
        pattern_texts(&arm.pat, &mut texts);
        self.inside(texts, |guards| syn::visit::visit_arm(guards, arm));
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func
            && path
                .path
                .segments
                .last()
                .is_some_and(|segment| segment.ident == self.callee)
        {
            self.record();
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == self.callee {
            self.record();
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    // Nested items are other functions: their calls are not this one's.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The texts a condition wants to see: literals it compares with `==`, tests as a prefix
/// or matches in a `let` pattern, but none under `!=` or `!` (those it wants absent).
fn condition_texts(cond: &syn::Expr) -> Vec<String> {
    struct Wanted(Vec<String>);
    impl<'ast> Visit<'ast> for Wanted {
        fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
            if !matches!(binary.op, syn::BinOp::Ne(_)) {
                syn::visit::visit_expr_binary(self, binary);
            }
        }
        fn visit_expr_unary(&mut self, unary: &'ast syn::ExprUnary) {
            if !matches!(unary.op, syn::UnOp::Not(_)) {
                syn::visit::visit_expr_unary(self, unary);
            }
        }
        fn visit_expr_let(&mut self, expr: &'ast syn::ExprLet) {
            pattern_texts(&expr.pat, &mut self.0);
            self.visit_expr(&expr.expr);
        }
        fn visit_lit(&mut self, lit: &'ast syn::Lit) {
            if let Some(text) = literal_text(lit)
                && !self.0.contains(&text)
            {
                self.0.push(text);
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut wanted = Wanted(Vec::new());
    wanted.visit_expr(cond);
    wanted.0
}

/// The texts of a pattern's literals: `b'\\'`, `'x' | 'X'`, `"--"`, a range's start.
fn pattern_texts(pat: &syn::Pat, out: &mut Vec<String>) {
    let mut add = |lit: &syn::Lit| {
        if let Some(text) = literal_text(lit)
            && !out.contains(&text)
        {
            out.push(text);
        }
    };
    match pat {
        syn::Pat::Lit(lit) => add(&lit.lit),
        syn::Pat::Range(range) => {
            if let Some(syn::Expr::Lit(start)) = range.start.as_deref() {
                add(&start.lit);
            }
        }
        syn::Pat::Or(or) => {
            for case in &or.cases {
                pattern_texts(case, out);
            }
        }
        syn::Pat::Reference(reference) => pattern_texts(&reference.pat, out),
        syn::Pat::Guard(guarded) => {
            pattern_texts(&guarded.pat, out);
            for text in condition_texts(&guarded.guard) {
                if !out.contains(&text) {
                    out.push(text);
                }
            }
        }
        syn::Pat::TupleStruct(tuple) => {
            for element in &tuple.elems {
                pattern_texts(element, out);
            }
        }
        syn::Pat::Slice(slice) => {
            let mut joined = String::new();
            for element in &slice.elems {
                match element {
                    syn::Pat::Lit(lit) => match literal_text(&lit.lit) {
                        Some(text) => joined.push_str(&text),
                        None => break,
                    },
                    _ => break,
                }
            }
            if !joined.is_empty() && !out.contains(&joined) {
                out.push(joined);
            }
        }
        _ => {}
    }
}

/// A literal as input text: a string, a char, a byte or byte string that is valid UTF-8.
/// Numbers and booleans are not text an input holds.
fn literal_text(lit: &syn::Lit) -> Option<String> {
    let text = match lit {
        syn::Lit::Str(text) => text.value(),
        syn::Lit::Char(c) => c.value().to_string(),
        syn::Lit::Byte(byte) if byte.value().is_ascii() => char::from(byte.value()).to_string(),
        syn::Lit::ByteStr(bytes) => String::from_utf8(bytes.value()).ok()?,
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod test {
    use super::*;

    fn texts(body: &str, callee: &str) -> Vec<String> {
        let block: syn::Block = syn::parse_str(body).expect("test body parses");
        guarding_texts(&block, callee)
    }

    #[test]
    fn match_arms_and_else_if_chains_guard_their_calls() {
        let atom = r"{ match bytes[ix] {
            b'(' => self.parse_group(ix),
            b'\\' => { let (next, e) = self.parse_escape(ix)?; Ok((next, e)) }
            _ => self.literal(ix),
        } }";
        assert_eq!(texts(atom, "parse_escape"), ["\\"]);
        let escape = r"{ if ix + 1 == len { return Err(E) }
            if is_digit(b) { return backref(ix) }
            else if b == b'x' { return self.parse_hex(end, 2); }
            else if b == b'u' { return self.parse_hex(end, 4); } }";
        assert_eq!(texts(escape, "parse_hex"), ["x", "u"]);
    }

    #[test]
    fn negated_conditions_and_unguarded_calls_want_no_text() {
        let body = r#"{ if b != b'x' { helper(b) } if !s.starts_with("--") { helper(s) } }"#;
        assert_eq!(texts(body, "helper"), [""]);
        let prefixed = r#"{ if let Some(rest) = s.strip_prefix("--") { long(rest) } }"#;
        assert_eq!(texts(prefixed, "long"), ["--"]);
        assert!(texts("{ other() }", "long").is_empty());
    }

    #[test]
    fn a_path_composes_its_guards_in_order() {
        let steps = vec![
            vec![String::new()],
            vec!["\\".to_owned()],
            Vec::new(),
            vec!["x".to_owned(), "u".to_owned()],
        ];
        assert_eq!(compose(&steps), ["\\x", "\\u"]);
        assert!(compose(&[vec![String::new()]]).is_empty());
    }
}
