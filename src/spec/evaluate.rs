//! A contract row's literal arguments bound to a function's parameters, and the simple
//! conditions they decide (`format_cents(-5)` takes `cents < 0`): comparisons with literals,
//! `is_empty()`, `len()`, `!`, `&&`, `||`.

use crate::analyze::Function;

/// A literal value a contract passes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

fn literal_value(expr: &syn::Expr) -> Option<Value> {
    match expr {
        syn::Expr::Lit(lit) => match &lit.lit {
            syn::Lit::Int(i) => i.base10_parse::<i128>().ok().map(Value::Int),
            syn::Lit::Float(f) => f.base10_parse::<f64>().ok().map(Value::Float),
            syn::Lit::Str(s) => Some(Value::Str(s.value())),
            syn::Lit::Bool(b) => Some(Value::Bool(b.value)),
            _ => None,
        },
        syn::Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            match literal_value(&unary.expr)? {
                Value::Int(i) => Some(Value::Int(-i)),
                Value::Float(f) => Some(Value::Float(-f)),
                _ => None,
            }
        }
        syn::Expr::Reference(reference) => literal_value(&reference.expr),
        syn::Expr::Paren(paren) => literal_value(&paren.expr),
        _ => None,
    }
}

/// A contract call's literal arguments bound to `function`'s parameters, by position.
pub(super) fn contract_bindings(call: &str, function: &Function) -> Vec<(String, Value)> {
    let Ok(expr) = crate::syntax::parse_str::<syn::Expr>(call) else {
        return Vec::new();
    };
    let (args, skip_self) = match &expr {
        syn::Expr::Call(call) => (call.args.iter().collect::<Vec<_>>(), false),
        syn::Expr::MethodCall(call) => (call.args.iter().collect::<Vec<_>>(), true),
        _ => return Vec::new(),
    };
    let receiver = skip_self && function.params.first().is_some_and(|p| p == "self");
    let params: Vec<&String> = function.params.iter().skip(usize::from(receiver)).collect();
    if params.len() != args.len() {
        return Vec::new();
    }
    params
        .into_iter()
        .zip(args)
        .filter_map(|(param, arg)| literal_value(arg).map(|value| (param.clone(), value)))
        .collect()
}

/// Evaluate a simple condition under a contract's bindings: comparisons of a parameter with a
/// literal, `is_empty()`, `len()`, `!`, `&&`, `||`; `None` when it cannot tell. Only
/// parameters the site really uses (`params`: not shadowed) are read.
pub(super) fn evaluate_condition(
    text: &str,
    bindings: &[(String, Value)],
    params: &[String],
) -> Option<bool> {
    let expr = crate::syntax::parse_str::<syn::Expr>(text).ok()?;
    let lookup = |name: &str| -> Option<Value> {
        if !params.iter().any(|p| p == name) {
            return None;
        }
        bindings
            .iter()
            .find(|(param, _)| param == name)
            .map(|(_, v)| v.clone())
    };
    eval_bool(&expr, &lookup)
}

fn eval_bool(expr: &syn::Expr, lookup: &dyn Fn(&str) -> Option<Value>) -> Option<bool> {
    use syn::{BinOp, Expr};
    match expr {
        Expr::Paren(paren) => eval_bool(&paren.expr, lookup),
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Not(_)) => {
            eval_bool(&unary.expr, lookup).map(|b| !b)
        }
        Expr::Binary(binary) => match binary.op {
            BinOp::And(_) => match (
                eval_bool(&binary.left, lookup),
                eval_bool(&binary.right, lookup),
            ) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            BinOp::Or(_) => match (
                eval_bool(&binary.left, lookup),
                eval_bool(&binary.right, lookup),
            ) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            op => {
                let left = eval_value(&binary.left, lookup)?;
                let right = eval_value(&binary.right, lookup)?;
                let ordering = match (&left, &right) {
                    (Value::Int(a), Value::Int(b)) => a.partial_cmp(b),
                    (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
                    (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
                    (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
                    (Value::Str(a), Value::Str(b)) => a.partial_cmp(b),
                    (Value::Bool(a), Value::Bool(b)) => a.partial_cmp(b),
                    _ => None,
                }?;
                use std::cmp::Ordering::{Equal, Greater, Less};
                match op {
                    BinOp::Lt(_) => Some(ordering == Less),
                    BinOp::Le(_) => Some(ordering != Greater),
                    BinOp::Gt(_) => Some(ordering == Greater),
                    BinOp::Ge(_) => Some(ordering != Less),
                    BinOp::Eq(_) => Some(ordering == Equal),
                    BinOp::Ne(_) => Some(ordering != Equal),
                    _ => None,
                }
            }
        },
        Expr::MethodCall(call) if call.method == "is_empty" && call.args.is_empty() => {
            match eval_value(&call.receiver, lookup)? {
                Value::Str(s) => Some(s.is_empty()),
                _ => None,
            }
        }
        _ => match eval_value(expr, lookup)? {
            Value::Bool(b) => Some(b),
            _ => None,
        },
    }
}

fn eval_value(expr: &syn::Expr, lookup: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
    match expr {
        syn::Expr::Path(path) => lookup(&path.path.get_ident()?.to_string()),
        syn::Expr::Paren(paren) => eval_value(&paren.expr, lookup),
        syn::Expr::MethodCall(call) if call.method == "len" && call.args.is_empty() => {
            match eval_value(&call.receiver, lookup)? {
                Value::Str(s) => Some(Value::Int(s.len() as i128)),
                _ => None,
            }
        }
        other => literal_value(other),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn contract_arguments_decide_simple_conditions() {
        let bindings = vec![
            ("cents".to_owned(), Value::Int(-5)),
            ("s".to_owned(), Value::Str(String::new())),
        ];
        let params = vec!["cents".to_owned(), "s".to_owned()];
        assert_eq!(
            evaluate_condition("cents < 0", &bindings, &params),
            Some(true)
        );
        assert_eq!(
            evaluate_condition("cents > 100 || s.is_empty()", &bindings, &params),
            Some(true)
        );
        assert_eq!(
            evaluate_condition("!s.is_empty() && cents == 3", &bindings, &params),
            Some(false)
        );
        assert_eq!(
            evaluate_condition("s.len() > 60", &bindings, &params),
            Some(false)
        );
        assert_eq!(evaluate_condition("other < 0", &bindings, &params), None);
        // A shadowed parameter is not the contract's value.
        assert_eq!(
            evaluate_condition("cents < 0", &bindings, &["s".to_owned()]),
            None
        );
    }
}
