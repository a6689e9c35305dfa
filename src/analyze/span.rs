//! Cheap spans of syntax nodes: the first and last token of an expression.
//!
//! syn's `Spanned::span()` rebuilds a node's whole token stream to join its first and last
//! span; for a function whose tail is a large `match` that is the entire body, once per site.
//! These helpers walk to the first or last token directly for the common expression kinds and
//! fall back to `Spanned` (on small nodes) otherwise.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Member, RangeLimits};

/// The span of a signature's first token (`const`, `async`, `unsafe`, `extern` or `fn`).
pub fn signature_start(sig: &syn::Signature) -> Span {
    sig.constness
        .map(|t| t.span)
        .or(sig.asyncness.map(|t| t.span))
        .or(match &sig.safety {
            syn::Safety::Safe(t) => Some(t.span),
            syn::Safety::Unsafe(t) => Some(t.span),
            _ => None,
        })
        .or(sig.abi.as_ref().map(|abi| abi.extern_token.span))
        .unwrap_or(sig.fn_token.span)
}

/// Whether `expr` carries outer attributes (`#[cfg(unix)] { .. }`), without the token stream
/// `Spanned` would build of it.
pub fn has_attributes(expr: &Expr) -> bool {
    let attrs = match expr {
        Expr::Array(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Async(e) => &e.attrs,
        Expr::Await(e) => &e.attrs,
        Expr::Binary(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        Expr::Break(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::Cast(e) => &e.attrs,
        Expr::Closure(e) => &e.attrs,
        Expr::Const(e) => &e.attrs,
        Expr::Continue(e) => &e.attrs,
        Expr::Field(e) => &e.attrs,
        Expr::ForLoop(e) => &e.attrs,
        Expr::Group(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Index(e) => &e.attrs,
        Expr::Infer(e) => &e.attrs,
        Expr::Let(e) => &e.attrs,
        Expr::Lit(e) => &e.attrs,
        Expr::Loop(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Paren(e) => &e.attrs,
        Expr::Path(e) => &e.attrs,
        Expr::Range(e) => &e.attrs,
        Expr::RawAddr(e) => &e.attrs,
        Expr::Reference(e) => &e.attrs,
        Expr::Repeat(e) => &e.attrs,
        Expr::Return(e) => &e.attrs,
        Expr::Struct(e) => &e.attrs,
        Expr::Try(e) => &e.attrs,
        Expr::TryBlock(e) => &e.attrs,
        Expr::Tuple(e) => &e.attrs,
        Expr::Unary(e) => &e.attrs,
        Expr::Unsafe(e) => &e.attrs,
        Expr::While(e) => &e.attrs,
        Expr::Yield(e) => &e.attrs,
        // Verbatim tokens and kinds syn adds later: the tokens tell.
        other => return other.span().byte_range().start < first(other).byte_range().start,
    };
    !attrs.is_empty()
}

/// The span of the first token of `expr`: `.start()` is where the expression starts.
pub fn first(expr: &Expr) -> Span {
    match expr {
        Expr::Array(e) => e.bracket_token.span.open(),
        Expr::Assign(e) => first(&e.left),
        Expr::Async(e) => e.async_token.span,
        Expr::Await(e) => first(&e.base),
        Expr::Binary(e) => first(&e.left),
        Expr::Block(e) => match &e.label {
            Some(label) => label.name.apostrophe,
            None => e.block.brace_token.span.open(),
        },
        Expr::Call(e) => first(&e.func),
        Expr::Cast(e) => first(&e.expr),
        Expr::Field(e) => first(&e.base),
        Expr::ForLoop(e) => match &e.label {
            Some(label) => label.name.apostrophe,
            None => e.for_token.span,
        },
        Expr::If(e) => e.if_token.span,
        Expr::Index(e) => first(&e.expr),
        Expr::Lit(e) => e.lit.span(),
        Expr::Loop(e) => match &e.label {
            Some(label) => label.name.apostrophe,
            None => e.loop_token.span,
        },
        Expr::Macro(e) => match &e.mac.path.leading_colon {
            Some(colon) => colon.spans[0],
            None => e
                .mac
                .path
                .segments
                .first()
                .map_or_else(|| e.span(), |s| s.ident.span()),
        },
        Expr::Match(e) => e.match_token.span,
        Expr::MethodCall(e) => first(&e.receiver),
        Expr::Paren(e) => e.paren_token.span.open(),
        Expr::Range(e) => match &e.start {
            Some(start) => first(start),
            None => limits_first(&e.limits),
        },
        Expr::Reference(e) => e.and_token.spans[0],
        Expr::Return(e) => e.return_token.span,
        Expr::Try(e) => first(&e.expr),
        Expr::Tuple(e) => e.paren_token.span.open(),
        Expr::Unary(e) => e.op.span(),
        Expr::Unsafe(e) => e.unsafe_token.span,
        Expr::While(e) => match &e.label {
            Some(label) => label.name.apostrophe,
            None => e.while_token.span,
        },
        other => other.span(),
    }
}

/// The span of the last token of `expr`: `.end()` is where the expression ends.
pub fn last(expr: &Expr) -> Span {
    match expr {
        Expr::Array(e) => e.bracket_token.span.close(),
        Expr::Assign(e) => last(&e.right),
        Expr::Async(e) => e.block.brace_token.span.close(),
        Expr::Await(e) => e.await_token.span,
        Expr::Binary(e) => last(&e.right),
        Expr::Block(e) => e.block.brace_token.span.close(),
        Expr::Call(e) => e.paren_token.span.close(),
        Expr::Closure(e) => last(&e.body),
        Expr::Field(e) => match &e.member {
            Member::Named(ident) => ident.span(),
            Member::Unnamed(index) => index.span,
        },
        Expr::ForLoop(e) => e.body.brace_token.span.close(),
        Expr::If(e) => match &e.else_branch {
            Some((_, else_expr)) => last(else_expr),
            None => e.then_branch.brace_token.span.close(),
        },
        Expr::Index(e) => e.bracket_token.span.close(),
        Expr::Lit(e) => e.lit.span(),
        Expr::Loop(e) => e.body.brace_token.span.close(),
        Expr::Macro(e) => e.mac.delimiter.span().close(),
        Expr::Match(e) => e.brace_token.span.close(),
        Expr::MethodCall(e) => e.paren_token.span.close(),
        Expr::Paren(e) => e.paren_token.span.close(),
        Expr::Range(e) => match &e.end {
            Some(end) => last(end),
            None => limits_last(&e.limits),
        },
        Expr::Reference(e) => last(&e.expr),
        Expr::Return(e) => e.expr.as_deref().map_or(e.return_token.span, last),
        Expr::Struct(e) => e.brace_token.span.close(),
        Expr::Try(e) => e.question_token.spans[0],
        Expr::Tuple(e) => e.paren_token.span.close(),
        Expr::Unary(e) => last(&e.expr),
        Expr::Unsafe(e) => e.block.brace_token.span.close(),
        Expr::While(e) => e.body.brace_token.span.close(),
        other => other.span(),
    }
}

fn limits_first(limits: &RangeLimits) -> Span {
    match limits {
        RangeLimits::HalfOpen(dots) => dots.spans[0],
        RangeLimits::Closed(dots) => dots.spans[0],
    }
}

fn limits_last(limits: &RangeLimits) -> Span {
    match limits {
        RangeLimits::HalfOpen(dots) => dots.spans[1],
        RangeLimits::Closed(dots) => dots.spans[2],
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// `first`/`last` must agree with syn's own (slow) span for every expression kind.
    #[test]
    fn first_and_last_agree_with_spanned() {
        let source = r#"
fn f() {
    let _ = [1, 2];
    let _ = async move { 1 };
    a = b + c * d;
    x.await;
    'l: { 1 }
    f(1)(2);
    x as u8;
    s.field.0;
    'o: for i in 0..n { }
    if a { 1 } else if b { 2 } else { 3 };
    v[i][j];
    "lit";
    'k: loop { break 'k; }
    let _ = std::vec![1, 2];
    let _ = ::core::panic!("x");
    match x { _ => 1 };
    a.b().c(1);
    (1);
    ..=5;
    3..;
    ..;
    &mut *x;
    return 5;
    return;
    Point { x: 1, y: 2 };
    x?;
    (1, 2);
    !x;
    unsafe { 1 };
    'w: while a && b { }
    |x| x + 1;
    <T as Tr>::f();
}
"#;
        let file = syn::parse_file(source).unwrap();
        let syn::Item::Fn(func) = &file.items[0] else {
            panic!()
        };
        let mut checked = 0;
        for stmt in &func.block.stmts {
            let expr = match stmt {
                syn::Stmt::Expr(expr, _) => expr,
                syn::Stmt::Local(local) => &local.init.as_ref().unwrap().expr,
                other => panic!("not an expression statement: {}", quote::quote!(#other)),
            };
            let whole = expr.span();
            assert_eq!(
                first(expr).start(),
                whole.start(),
                "start of `{}`",
                quote::quote!(#expr)
            );
            assert_eq!(
                last(expr).end(),
                whole.end(),
                "end of `{}`",
                quote::quote!(#expr)
            );
            checked += 1;
        }
        assert_eq!(checked, 32);
    }
}
