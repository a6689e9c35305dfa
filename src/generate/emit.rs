//! Emitting test modules in the format of `testfile`: each test a `#[test]` function after its
//! `/// dualtrack: {JSON}` line, the module after a `//! dualtrack: {JSON}` header, printed by
//! prettyplease so every engine's output reads the same.

use crate::testfile::TestMeta;

/// A test ready to print: its metadata and its function.
#[derive(Clone)]
pub struct EmittedTest {
    pub meta: TestMeta,
    pub item: syn::ItemFn,
}

/// A `#[test]` function named `name` with `body` (statements) and the metadata line, or why
/// the body does not parse.
pub fn test_item(name: &str, meta: &TestMeta, body: &str) -> Result<EmittedTest, String> {
    let block: syn::Block = crate::syntax::parse_str(&format!("{{\n{body}\n}}"))
        .map_err(|err| format!("test `{name}` does not parse: {err}"))?;
    let ident: syn::Ident = crate::syntax::parse_str(name)
        .map_err(|err| format!("`{name}` is not a test name: {err}"))?;
    let item: syn::ItemFn = syn::parse_quote! {
        #[test]
        fn #ident() #block
    };
    Ok(with_meta(item, meta))
}

/// A whole `#[test]` function (a model's) with its metadata line in front; doc comments it
/// carried are dropped, so the metadata line is the test's only one.
pub fn with_meta(mut item: syn::ItemFn, meta: &TestMeta) -> EmittedTest {
    let json = serde_json::to_string(meta).expect("metadata serializes");
    let doc = format!(" dualtrack: {json}");
    item.attrs.retain(|attr| !attr.path().is_ident("doc"));
    item.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
    EmittedTest {
        meta: meta.clone(),
        item,
    }
}

/// The module text: the header line, the preamble (items the tests share), then the tests.
pub fn module_text(header: &serde_json::Value, preamble: &str, tests: &[EmittedTest]) -> String {
    let mut file: syn::File = syn::parse_quote!();
    file.items = tests
        .iter()
        .map(|t| syn::Item::Fn(t.item.clone()))
        .collect();
    let mut text = format!("//! dualtrack: {header}\n\n");
    if !preamble.trim().is_empty() {
        text.push_str(preamble.trim_end());
        text.push_str("\n\n");
    }
    text.push_str(&prettyplease::unparse(&file));
    text
}

/// `name` made a valid, lower-case test name: other characters become `_`, runs collapse.
pub fn sanitize_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_end_matches('_').to_owned();
    match out.chars().next() {
        None => "dualtrack_test".into(),
        Some(c) if c.is_ascii_digit() => format!("t_{out}"),
        _ if crate::syntax::parse_str::<syn::Ident>(&out).is_err() => format!("{out}_test"),
        _ => out,
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::testfile::parse_test_module;

    #[test]
    fn emitted_modules_read_back_as_test_files() {
        let meta = TestMeta {
            function: "ledger::parse_cents".into(),
            oracle: Some("no_panic".into()),
            input: Some("parse_cents(\"é\")".into()),
            ..Default::default()
        };
        let test = test_item(
            "parse_cents_multibyte_does_not_panic",
            &meta,
            "let _ = parse_cents(\"é\");",
        )
        .unwrap();
        let text = module_text(&serde_json::json!({"engine": "offline"}), "", &[test]);
        insta::assert_snapshot!(text);
        let module = parse_test_module(&text).unwrap();
        assert_eq!(module.tests.len(), 1);
        assert_eq!(module.tests[0].meta, meta);
        assert_eq!(module.header.unwrap()["engine"], "offline");
    }

    #[test]
    fn bodies_that_do_not_parse_are_refused_with_the_name() {
        let err = test_item("t", &TestMeta::default(), "let x = ;")
            .err()
            .unwrap();
        assert!(err.starts_with("test `t` does not parse"), "{err}");
    }

    #[test]
    fn names_are_made_valid() {
        assert_eq!(sanitize_name("Parse__Cents-é!"), "parse_cents");
        assert_eq!(sanitize_name("1x"), "t_1x");
        assert_eq!(sanitize_name("match"), "match_test");
        assert_eq!(sanitize_name(""), "dualtrack_test");
    }
}
