//! Source edits of a check-in: where a test goes (a `tests/dualtrack_*.rs` file or a child
//! module beside its source), extending a file without overwriting it, the `use` lines and
//! `mod` declaration it needs, formatted as rustfmt would.

use super::*;

/// Where the tests of functions in `file` (relative) go, inside the inline modules `inline`
/// of it (outermost first), and the `#[path]` that finds them from the module declaration.
/// At a file's top level: a directory named after the file's stem beside it (`src/lib.rs` →
/// `src/lib/dualtrack_tests.rs`), the path read from the file's directory. Inside inline
/// modules Rust reads the path from the directory their names make (under the file's stem
/// for a file that is not mod-rs, a crate root or `mod.rs`), which must exist: the tests go
/// there (`mod net` in `src/lib.rs` → `src/net/dualtrack_tests.rs`, in `src/money.rs` →
/// `src/money/net/dualtrack_tests.rs`).
pub fn placement(file: &str, inline: &[String], mod_rs: bool) -> (String, String) {
    let path = Path::new(file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut below: Vec<String> = Vec::new();
    if inline.is_empty() || !mod_rs {
        below.push(stem);
    }
    below.extend(inline.iter().cloned());
    below.push(format!("{MODULE}.rs"));
    let below = below.join("/");
    let target = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => format!("{}/{below}", dir.display()),
        _ => below.clone(),
    };
    let attr = if inline.is_empty() {
        below
    } else {
        format!("{MODULE}.rs")
    };
    (target, attr)
}

/// The integration test file of the public functions of `module` (`ledger::money` →
/// `tests/dualtrack_money.rs`, the crate root's → `tests/dualtrack_lib.rs`), and the `use`
/// that brings the module's public items into it.
pub fn integration_placement(api: &PublicApi, module: &str) -> (String, String) {
    let below = module
        .strip_prefix(&api.crate_name)
        .unwrap_or(module)
        .trim_start_matches("::");
    let stem = if below.is_empty() {
        "lib".to_owned()
    } else {
        below.replace("r#", "").replace("::", "_")
    };
    let dir = if api.tests_dir.is_empty() {
        "tests"
    } else {
        api.tests_dir.as_str()
    };
    let glob = if below.is_empty() {
        format!("#[allow(unused_imports)]\nuse {}::*;", api.crate_name)
    } else {
        format!(
            "#[allow(unused_imports)]\nuse {}::{below}::*;",
            api.crate_name
        )
    };
    (format!("{dir}/dualtrack_{stem}.rs"), glob)
}

/// Where the child module of `inline` modules in `file` (the module `file_module`) goes, and
/// its `#[path]`: in the directory the analysis found for an inline module, else by the
/// file's kind.
pub(super) fn child_placement(
    file: &str,
    inline: &[String],
    dir: Option<&str>,
    file_module: &str,
) -> (String, String) {
    if let (false, Some(dir)) = (inline.is_empty(), dir) {
        return (format!("{dir}/{MODULE}.rs"), format!("{MODULE}.rs"));
    }
    let mod_rs =
        Path::new(file).file_name().is_some_and(|n| n == "mod.rs") || !file_module.contains("::");
    placement(file, inline, mod_rs)
}

/// The shapes of the tests already checked in where `tests` could go (child module or
/// integration file), named as in a child module (`crate::`), so a test is found in either.
pub(super) fn checked_in_shapes(root: &Path, tests: &[KeptTest]) -> HashSet<String> {
    let mut files: BTreeMap<String, Option<String>> = BTreeMap::new();
    for test in tests {
        let child = child_placement(
            &test.function.file,
            &inline_modules(test),
            test.inline_dir.as_deref(),
            &test.file_module,
        )
        .0;
        files.insert(child, None);
        if let Some(api) = &test.public {
            let (file, _) = integration_placement(api, &test.function.module);
            files.insert(file, Some(api.crate_name.clone()));
        }
    }
    let mut shapes = HashSet::new();
    for (file, crate_name) in files {
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        let Ok(parsed) = crate::syntax::parse_file(&text) else {
            continue;
        };
        for item in parsed.items {
            let syn::Item::Fn(function) = item else {
                continue;
            };
            let function = crate_name
                .as_deref()
                .and_then(|name| {
                    crate::generate::llm::fixup::with_root_renamed(
                        function.to_token_stream(),
                        name,
                        "crate",
                    )
                })
                .and_then(|tokens| syn::parse2(tokens).ok())
                .unwrap_or(function);
            shapes.insert(shape(&function));
        }
    }
    shapes
}

/// The lines (1-based) of the test functions `names` in `text`, by the index of their test.
pub(super) fn test_lines(text: &str, names: &[(usize, String)]) -> TestLines {
    let Ok(file) = crate::syntax::parse_file(text) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for item in &file.items {
        let syn::Item::Fn(function) = item else {
            continue;
        };
        let Some((index, _)) = names.iter().find(|(_, n)| function.sig.ident == n.as_str()) else {
            continue;
        };
        let start = function
            .attrs
            .first()
            .map_or(function.sig.fn_token.span, |a| a.pound_token.span)
            .start()
            .line;
        let end = function.block.brace_token.span.close().end().line;
        lines.push((*index, start..=end));
    }
    lines
}

/// A `use` item as one line.
pub(super) fn printed_use(used: &syn::ItemUse) -> String {
    let mut file: syn::File = syn::parse_quote!();
    file.items = vec![syn::Item::Use(used.clone())];
    prettyplease::unparse(&file).trim().to_owned()
}

/// A test as tokens, without its name, doc comments, `#[ignore]`, `#[should_panic]` and what
/// formatters change (the
/// braces rustfmt puts around a closure's or a match arm's body, trailing commas): what makes
/// two tests the same.
pub(super) fn shape(item: &syn::ItemFn) -> String {
    use syn::visit_mut::VisitMut;
    struct Unformatted;
    impl VisitMut for Unformatted {
        fn visit_expr_closure_mut(&mut self, closure: &mut syn::ExprClosure) {
            syn::visit_mut::visit_expr_closure_mut(self, closure);
            if let Some(inner) = lone_expression(&closure.body) {
                *closure.body = inner;
            }
        }
        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            syn::visit_mut::visit_arm_mut(self, arm);
            if let Some(inner) = lone_expression(&arm.body) {
                *arm.body = inner;
            }
            arm.comma = Some(Default::default());
        }
    }
    let mut item = item.clone();
    // How a test is built and run (`#[ignore]` written for a hang, a `#[should_panic]` added
    // by hand, the function's `#[cfg]`, an `#[allow]`) is not what it tests.
    item.attrs.retain(|a| {
        !(a.path().is_ident("doc")
            || a.path().is_ident("ignore")
            || a.path().is_ident("should_panic")
            || a.path().is_ident("cfg")
            || a.path().is_ident("allow"))
    });
    item.sig.ident = syn::Ident::new("t", item.sig.ident.span());
    Unformatted.visit_item_fn_mut(&mut item);
    without_trailing_commas(item.to_token_stream()).to_string()
}

/// The expression a plain block `{ expr }` holds, if that is all it holds.
pub(super) fn lone_expression(expr: &syn::Expr) -> Option<syn::Expr> {
    let syn::Expr::Block(block) = expr else {
        return None;
    };
    if block.label.is_some() || !block.attrs.is_empty() {
        return None;
    }
    match block.block.stmts.as_slice() {
        [syn::Stmt::Expr(inner, None)] => Some(inner.clone()),
        _ => None,
    }
}

/// `tokens` without a comma before a closing delimiter where it changes nothing: in brackets
/// and braces, in a call's or macro's parentheses, in parentheses holding another comma
/// (`(x,)` alone is a tuple, `(x)` is not).
pub(super) fn without_trailing_commas(
    tokens: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, TokenTree};
    let is_comma = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ',');
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    for (index, tree) in trees.iter().enumerate() {
        let TokenTree::Group(group) = tree else {
            // `::<\n    &str,\n>` as a long line prints, `::<&str>` as rustfmt does.
            let closes_generics =
                matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == '>');
            if !(is_comma(tree) && closes_generics) {
                out.push(tree.clone());
            }
            continue;
        };
        let mut inner: Vec<TokenTree> = without_trailing_commas(group.stream())
            .into_iter()
            .collect();
        let call = match index.checked_sub(1).map(|i| &trees[i]) {
            Some(TokenTree::Ident(ident)) => !KEYWORDS.contains(&ident.to_string().as_str()),
            Some(TokenTree::Punct(p)) => matches!(p.as_char(), '!' | '>'),
            Some(TokenTree::Group(_)) => true,
            _ => false,
        };
        let needless = group.delimiter() != Delimiter::Parenthesis
            || call
            || inner.iter().filter(|t| is_comma(t)).count() > 1;
        if needless && inner.last().is_some_and(is_comma) {
            inner.pop();
        }
        let mut rebuilt = proc_macro2::Group::new(group.delimiter(), inner.into_iter().collect());
        rebuilt.set_span(group.span());
        out.push(TokenTree::Group(rebuilt));
    }
    out.into_iter().collect()
}

/// Keywords a parenthesized tuple may follow (`let (x,) =`, `return (x,)`).
pub(super) const KEYWORDS: &[&str] = &[
    "as", "box", "break", "else", "if", "in", "let", "match", "move", "mut", "ref", "return",
    "while", "yield",
];

/// `text` through rustfmt (for `edition`), when rustfmt is installed and takes it.
pub(super) fn rustfmt(text: &str, edition: &str) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    let formatted = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !formatted.trim().is_empty()).then_some(formatted)
}

/// The test file's text with `tests` added after what is there (a new file starts with
/// `header`, the lines that reach the module), and the names written with their tests'
/// indices. A test whose code is there already is not written again; one whose name is taken
/// gets a number. An existing file keeps its line endings.
pub(super) fn extend(
    existing: Option<&str>,
    header: &[String],
    tests: &[Prepared<'_>],
) -> anyhow::Result<(String, Vec<(usize, String)>)> {
    let mut text = match existing {
        Some(text) => text.to_owned(),
        None => format!(
            "//! Adversarial tests checked in by cargo-dualtrack (`reconcile --keep`, `generate \
             --write`):\n//! a kept test guards a finding (its id is on the line above it) and \
             fails until the code is fixed.\n\n{}\n",
            header.join("\n")
        ),
    };
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut taken: HashSet<String> = HashSet::new();
    // The tests there and written, by shape.
    let mut batch: HashSet<String> = HashSet::new();
    if let Some(existing) = existing {
        let file = crate::syntax::parse_file(existing).map_err(|err| {
            anyhow::anyhow!(
                "line {}: {}: fix it, or move it away",
                err.line,
                err.describe()
            )
        })?;
        for item in &file.items {
            if let syn::Item::Fn(function) = item {
                taken.insert(function.sig.ident.to_string());
                batch.insert(shape(function));
            }
        }
        for line in header {
            text = with_use(&text, line);
        }
    }
    let mut names = Vec::new();
    for prepared in tests {
        // The same test (whatever its name became, however it was formatted) once.
        if !batch.insert(shape(&prepared.item)) {
            continue;
        }
        for line in &prepared.uses {
            text = with_use(&text, line.trim());
        }
        let item = crate::generate::llm::engine::with_name(prepared.item.clone(), &mut taken);
        let name = item.sig.ident.to_string();
        let test = prepared.test;
        let label = if test.finding.starts_with("F-") || test.finding == "generated" {
            test.finding.as_str()
        } else {
            "regression"
        };
        let addition = format!(
            "\n// dualtrack {label}: {}\n{}",
            test.function.path,
            printed(&item)
        );
        text.push_str(&addition.replace('\n', nl));
        names.push((prepared.index, name));
    }
    Ok((text, names))
}

/// A function printed the way rustfmt would, near enough (prettyplease).
pub(super) fn printed(item: &syn::ItemFn) -> String {
    let mut file: syn::File = crate::syntax::parse_str("").expect("an empty file parses");
    file.items = vec![syn::Item::Fn(item.clone())];
    prettyplease::unparse(&file)
}

/// `text` with the `use` (or `extern crate`) item `line` after its last top-level one (after
/// the opening comments when it has none), unless the names it brings in are there already.
pub(super) fn with_use(text: &str, line: &str) -> String {
    let Ok(file) = crate::syntax::parse_file(text) else {
        return text.to_owned();
    };
    let wanted = crate::syntax::parse_str::<syn::Item>(line).ok();
    let mut present = HashSet::new();
    let mut last_end = None;
    for item in &file.items {
        match item {
            syn::Item::Use(used) => {
                if let Some(syn::Item::Use(wanted)) = &wanted
                    && normalised_use(wanted) == normalised_use(used)
                {
                    return text.to_owned();
                }
                use_names(&used.tree, &mut present);
                last_end = Some(used.semi_token.span.byte_range().end);
            }
            syn::Item::ExternCrate(krate) => {
                if let Some(syn::Item::ExternCrate(wanted)) = &wanted
                    && wanted.ident == krate.ident
                {
                    return text.to_owned();
                }
                last_end = Some(krate.semi_token.span.byte_range().end);
            }
            _ => {}
        }
    }
    // A name imported already, perhaps in a group (`use std::{fmt, vec};`): importing it again
    // would not build.
    if let Some(syn::Item::Use(wanted)) = &wanted {
        let mut names = HashSet::new();
        use_names(&wanted.tree, &mut names);
        if !names.is_empty() && names.iter().all(|n| present.contains(n)) {
            return text.to_owned();
        }
    }
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let at = match last_end {
        Some(end) => text[end..].find('\n').map_or(text.len(), |i| end + i + 1),
        None => {
            // After the `//!` lines and inner attributes at the top.
            let mut at = 0;
            for l in text.split_inclusive('\n') {
                let t = l.trim();
                if t.starts_with("//!") || t.starts_with("#![") || t.is_empty() {
                    at += l.len();
                } else {
                    break;
                }
            }
            at
        }
    };
    let mut out = text.to_owned();
    if at == out.len() && !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    let at = at.min(out.len());
    out.insert_str(at, &format!("{}{nl}", line.replace('\n', nl)));
    out
}

/// A `use` tree as tokens, to tell two imports apart.
pub(super) fn normalised_use(used: &syn::ItemUse) -> String {
    used.tree.to_token_stream().to_string()
}

/// `source` with a `#[cfg(test)] #[path = "attr"] mod dualtrack_tests;` declaration in the
/// module `inline` names (the file's top level when empty: at its end; an inline module's:
/// before its closing brace); `None` when it is declared there already.
pub(super) fn with_declaration(
    source: &str,
    inline: &[String],
    attr: &str,
) -> anyhow::Result<Option<String>> {
    let file = crate::syntax::parse_file(source)
        .map_err(|err| anyhow::anyhow!("line {}: {}", err.line, err.describe()))?;
    // Ours is declared with our path; one declared otherwise (by hand, elsewhere) would leave
    // the tests written here uncompiled.
    let declared = |items: &[syn::Item]| -> anyhow::Result<bool> {
        for item in items {
            let syn::Item::Mod(module) = item else {
                continue;
            };
            if module.ident != MODULE {
                continue;
            }
            let path = module.attrs.iter().find_map(|attr| match &attr.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            });
            if module.content.is_none() && path.as_deref() == Some(attr) {
                return Ok(true);
            }
            anyhow::bail!(
                "a module `{MODULE}` is declared there already, not as cargo-dualtrack writes it \
                 (`#[path = \"{attr}\"]`): rename it, or move its tests to {attr}"
            );
        }
        Ok(false)
    };
    let mut items: &[syn::Item] = &file.items;
    let mut close = None;
    let mut depth = 0;
    for name in inline {
        let Some((brace, content)) = items.iter().find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name.as_str() => m.content.as_ref(),
            _ => None,
        }) else {
            anyhow::bail!("the inline module `{name}` is not in the file any more");
        };
        items = content;
        close = Some(brace.span.close());
        depth += 1;
    }
    if declared(items)? {
        return Ok(None);
    }
    let indent = "    ".repeat(depth);
    // The file's own line endings.
    let nl = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let declaration = format!(
        "{indent}#[cfg(test)]{nl}{indent}#[path = \"{attr}\"]{nl}{indent}mod {MODULE};{nl}"
    );
    let mut text = source.to_owned();
    match close {
        None => {
            if !text.ends_with('\n') {
                text.push_str(nl);
            }
            text.push_str(nl);
            text.push_str(&declaration);
        }
        Some(brace) => {
            let at = brace.byte_range().start;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if text[line_start..at].trim().is_empty() {
                // The brace on a line of its own: the declaration goes on the lines above it.
                text.insert_str(line_start, &declaration);
            } else {
                let inline_declaration =
                    format!(" #[cfg(test)] #[path = \"{attr}\"] mod {MODULE}; ");
                text.insert_str(at, &inline_declaration);
            }
        }
    }
    Ok(Some(text))
}

/// Refuse to write through a symbolic link or outside the workspace.
pub(super) fn refuse_links(root: &Path, path: &Path) -> anyhow::Result<()> {
    let mut at = root.to_path_buf();
    let relative = path
        .strip_prefix(root)
        .map_err(|_| InputError::new(format!("{} is outside the workspace", path.display())))?;
    for part in relative.components() {
        if matches!(part, std::path::Component::ParentDir) {
            return Err(InputError::new(format!("{} leaves the workspace", path.display())).into());
        }
        at.push(part);
        if at
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(InputError::new(format!(
                "{} is a symbolic link: checked-in tests are not written through links",
                at.display()
            ))
            .into());
        }
    }
    Ok(())
}
