//! Injecting a generated test module into the module that defines the functions it tests, as
//! text: the user's code around it is never re-printed, and reported line numbers map back.

/// Where a generated module went in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// The file's text with the module inserted.
    pub text: String,
    /// 1-based lines of the new file that hold the module's own text (without the wrapper).
    pub first_line: u32,
    pub last_line: u32,
    /// The inline modules the generated module sits in (`a::b`), empty at file level.
    pub inline_path: Vec<String>,
}

impl Injected {
    /// The line of the generated module's text that line `line` of the new file is, if any.
    pub fn module_line(&self, line: u32) -> Option<u32> {
        (self.first_line..=self.last_line)
            .contains(&line)
            .then(|| line - self.first_line + 1)
    }
}

/// The inline modules (outermost first) whose braces contain `line`, with the byte offset of
/// the innermost one's closing brace.
pub fn enclosing_inline_modules(file: &syn::File, line: u32) -> (Vec<String>, Option<usize>) {
    let mut path = Vec::new();
    let mut close = None;
    let mut items: &[syn::Item] = &file.items;
    loop {
        let found = items.iter().find_map(|item| match item {
            syn::Item::Mod(module) => {
                let (brace, inner) = module.content.as_ref()?;
                let span = brace.span.join();
                let contains = span.start().line as u32 <= line && line <= span.end().line as u32;
                contains.then(|| {
                    (
                        module.ident.to_string(),
                        brace.span.close().byte_range().start,
                        inner,
                    )
                })
            }
            _ => None,
        });
        match found {
            Some((name, close_offset, inner)) => {
                path.push(name.strip_prefix("r#").map(str::to_owned).unwrap_or(name));
                close = Some(close_offset);
                items = inner;
            }
            None => return (path, close),
        }
    }
}

/// Insert `module_text` (the tests, and any `use` lines) as `mod <name>` into `source` at the
/// module that defines line `function_line`. `source` must parse as Rust.
pub fn inject(
    source: &str,
    function_line: u32,
    name: &str,
    module_text: &str,
) -> Result<Injected, crate::syntax::SyntaxError> {
    let file = crate::syntax::parse_file(source)?;
    let (inline_path, close) = enclosing_inline_modules(&file, function_line);
    drop(file);
    proc_macro2::extra::invalidate_current_thread_spans();
    let offset = close.unwrap_or(source.len());
    let (before, after) = source.split_at(offset);
    let mut text = String::with_capacity(source.len() + module_text.len() + 128);
    text.push_str(before);
    if !before.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("#[cfg(test)]\n#[allow(warnings, clippy::all)]\nmod ");
    text.push_str(name);
    text.push_str(" {\nuse super::*;\n");
    let first_line = text.matches('\n').count() as u32 + 1;
    text.push_str(module_text.trim_end_matches('\n'));
    text.push('\n');
    let last_line = text.matches('\n').count() as u32;
    text.push_str("}\n");
    text.push_str(after);
    Ok(Injected {
        text,
        first_line,
        last_line,
        inline_path,
    })
}

/// One generated module to place: the line of a function it tests (which decides the module
/// it goes into), its name, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub function_line: u32,
    pub name: String,
    pub text: String,
}

/// Where one placed module's own text ended up in the new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedRange {
    pub first_line: u32,
    pub last_line: u32,
    pub inline_path: Vec<String>,
    /// The insertion point was inside a line, which was split to make room.
    pub split_line: bool,
}

/// Insert every placement into `source` in one pass: positions are found on the original
/// text, and modules are laid down in source order, so each range is exact.
/// `allow` is the modules' lint attribute (`lints::allow_attribute`).
pub fn inject_all(
    source: &str,
    placements: &[Placement],
    allow: &str,
) -> Result<(String, Vec<PlacedRange>), crate::syntax::SyntaxError> {
    let file = crate::syntax::parse_file(source)?;
    let mut points: Vec<(usize, usize, Vec<String>)> = placements
        .iter()
        .enumerate()
        .map(|(index, placement)| {
            let (path, close) = enclosing_inline_modules(&file, placement.function_line);
            (close.unwrap_or(source.len()), index, path)
        })
        .collect();
    drop(file);
    proc_macro2::extra::invalidate_current_thread_spans();
    points.sort();
    let mut text = String::with_capacity(
        source.len() + placements.iter().map(|p| p.text.len() + 96).sum::<usize>(),
    );
    let mut ranges = vec![
        PlacedRange {
            first_line: 0,
            last_line: 0,
            inline_path: Vec::new(),
            split_line: false,
        };
        placements.len()
    ];
    let mut copied = 0;
    for (offset, index, inline_path) in points {
        text.push_str(&source[copied..offset]);
        copied = offset;
        let split_line = !text.is_empty() && !text.ends_with('\n');
        if split_line {
            text.push('\n');
        }
        let placement = &placements[index];
        text.push_str("#[cfg(test)]\n");
        text.push_str(allow);
        text.push_str("\nmod ");
        text.push_str(&placement.name);
        text.push_str(" {\nuse super::*;\n");
        let first_line = text.matches('\n').count() as u32 + 1;
        text.push_str(placement.text.trim_end_matches('\n'));
        text.push('\n');
        let last_line = text.matches('\n').count() as u32;
        text.push_str("}\n");
        ranges[index] = PlacedRange {
            first_line,
            last_line,
            inline_path,
            split_line,
        };
    }
    text.push_str(&source[copied..]);
    Ok((text, ranges))
}

/// The original line of line `line` of a file into which `ranges` were injected (lines inside
/// an injected module have none).
pub fn original_line(ranges: &[PlacedRange], line: u32) -> Option<u32> {
    let mut shift = 0;
    for range in ranges {
        // Four wrapper lines before the text (`#[cfg(test)]`, `#[allow]`, `mod`, `use`) and
        // the closing brace after it.
        let block_start = range.first_line - 4;
        let block_end = range.last_line + 1;
        if line >= block_start && line <= block_end {
            return None;
        }
        if line > block_end {
            shift += block_end - block_start + 1 + u32::from(range.split_line);
        }
    }
    Some(line - shift)
}

/// The `#[cfg(..)]` attributes, as written, on the function whose signature starts on `line`
/// (the analyzer's `Function::line`) and on the impl or trait around it. A generated test for
/// it carries them too: a test for a twin not compiled on this target is then not compiled
/// either, instead of silently testing the other twin.
pub fn cfg_attributes(file: &syn::File, source: &str, line: u32) -> Vec<String> {
    use syn::spanned::Spanned;
    let Some(found) = function_at(file, line) else {
        return Vec::new();
    };
    // As written when on one line; printed from its tokens otherwise, since the test's lines
    // must stay one to one with the test file's (and a `//` comment would eat the test).
    found
        .cfgs()
        .map(|a| match source.get(a.span().byte_range()) {
            Some(text) if !text.contains('\n') => text.to_owned(),
            _ => quote::ToTokens::to_token_stream(a).to_string(),
        })
        .collect()
}

/// A function's attributes, found by its line.
pub struct FunctionAttributes<'a> {
    /// Those of the impls, traits and inline modules around it, outermost first.
    pub enclosing: Vec<&'a [syn::Attribute]>,
    /// Its own.
    pub own: &'a [syn::Attribute],
}

impl<'a> FunctionAttributes<'a> {
    /// The `#[cfg(..)]`s that decide whether it is compiled: those around it, then its own.
    pub fn cfgs(&self) -> impl Iterator<Item = &'a syn::Attribute> + '_ {
        self.enclosing
            .iter()
            .flat_map(|attrs| attrs.iter())
            .chain(self.own)
            .filter(|a| a.path().is_ident("cfg"))
    }
}

/// The attributes of the function in `file` that starts on `line` by the analyzer's rule (at
/// `pub ...` when it has one, else at its signature), and of what encloses it.
pub fn function_at(file: &syn::File, line: u32) -> Option<FunctionAttributes<'_>> {
    use syn::spanned::Spanned;
    use syn::visit::Visit;

    struct Finder<'a> {
        line: usize,
        enclosing: Vec<&'a [syn::Attribute]>,
        found: Option<FunctionAttributes<'a>>,
    }

    impl<'a> Finder<'a> {
        fn check(
            &mut self,
            attrs: &'a [syn::Attribute],
            vis: Option<&syn::Visibility>,
            sig: &syn::Signature,
        ) {
            let start = match vis {
                Some(vis @ (syn::Visibility::Public(_) | syn::Visibility::Restricted(_))) => {
                    vis.span().start().line
                }
                _ => sig.span().start().line,
            };
            if self.found.is_none() && start == self.line {
                self.found = Some(FunctionAttributes {
                    enclosing: self.enclosing.clone(),
                    own: attrs,
                });
            }
        }
    }

    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
            self.enclosing.push(&item.attrs);
            syn::visit::visit_item_impl(self, item);
            self.enclosing.pop();
        }
        fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
            // The tests go inside an inline module, so its cfg holds for them already; it is
            // carried for the reason a dropped test is given.
            self.enclosing.push(&item.attrs);
            syn::visit::visit_item_mod(self, item);
            self.enclosing.pop();
        }
        fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
            self.enclosing.push(&item.attrs);
            syn::visit::visit_item_trait(self, item);
            self.enclosing.pop();
        }
        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            self.check(&item.attrs, Some(&item.vis), &item.sig);
            syn::visit::visit_item_fn(self, item);
        }
        fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
            self.check(&item.attrs, Some(&item.vis), &item.sig);
            syn::visit::visit_impl_item_fn(self, item);
        }
        fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
            self.check(&item.attrs, None, &item.sig);
            syn::visit::visit_trait_item_fn(self, item);
        }
    }

    let mut finder = Finder {
        line: line as usize,
        enclosing: Vec::new(),
        found: None,
    };
    finder.visit_file(file);
    finder.found
}

/// `wanted`, or `wanted_2`, `wanted_3`, ... : the first name `source` does not already use as
/// an identifier, so a user's own module of that name is never shadowed or clashed with.
pub fn unused_module_name(source: &str, wanted: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let used = |name: &str| {
        source.match_indices(name).any(|(at, _)| {
            let before = source[..at].chars().next_back();
            let after = source[at + name.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
    };
    if !used(wanted) {
        return wanted.to_owned();
    }
    (2..)
        .map(|n| format!("{wanted}_{n}"))
        .find(|name| !used(name))
        .expect("some suffix is free")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cfg_attributes_of_a_function_and_its_impl_are_found_as_written() {
        let source = "#[cfg(unix)]\npub fn platform() {}\n#[cfg(not(unix))]\npub fn platform() {}\n\
                      #[cfg(feature = \"x\")]\nimpl S {\n    #[inline]\n    fn m(&self) {}\n}\nfn plain() {}\n";
        let file = syn::parse_file(source).unwrap();
        assert_eq!(cfg_attributes(&file, source, 2), ["#[cfg(unix)]"]);
        assert_eq!(cfg_attributes(&file, source, 4), ["#[cfg(not(unix))]"]);
        assert_eq!(
            cfg_attributes(&file, source, 8),
            ["#[cfg(feature = \"x\")]"]
        );
        assert!(cfg_attributes(&file, source, 10).is_empty());

        let source = "#[cfg(feature = \"m\")]\nmod inner {\n    #[cfg(all(\n        unix, // why\n        not(windows)\n    ))]\n    fn f() {}\n}\n";
        let file = syn::parse_file(source).unwrap();
        let found = cfg_attributes(&file, source, 7);
        assert_eq!(found[0], "#[cfg(feature = \"m\")]");
        assert!(
            !found[1].contains('\n') && found[1].contains("not (windows)"),
            "{found:?}"
        );
    }

    #[test]
    fn a_module_name_the_source_uses_gets_a_suffix() {
        assert_eq!(
            unused_module_name("mod dualtrack_offline_extra;", "dualtrack_offline"),
            "dualtrack_offline"
        );
        assert_eq!(
            unused_module_name(
                "mod dualtrack_offline;\nuse dualtrack_offline_2::x;",
                "dualtrack_offline"
            ),
            "dualtrack_offline_3"
        );
    }

    const SOURCE: &str =
        "pub fn top() {}\n\nmod inner {\n    pub fn deep(x: u8) -> u8 {\n        x\n    }\n}\n";
    const TESTS: &str = "#[test]\nfn t() {\n    assert_eq!(deep(1), 1);\n}\n";

    #[test]
    fn file_level_function_gets_the_module_at_the_end() {
        let injected = inject(SOURCE, 1, "dualtrack_offline", TESTS).unwrap();
        assert!(injected.text.starts_with(SOURCE));
        assert!(injected.inline_path.is_empty());
        assert!(injected.text.ends_with("}\n}\n"));
        let lines: Vec<&str> = injected.text.lines().collect();
        assert_eq!(lines[injected.first_line as usize - 1], "#[test]");
        assert_eq!(lines[injected.last_line as usize - 1], "}");
        assert_eq!(injected.module_line(injected.first_line + 2), Some(3));
        assert_eq!(injected.module_line(1), None);
        syn::parse_file(&injected.text).unwrap();
    }

    #[test]
    fn inline_module_function_gets_the_module_before_its_closing_brace() {
        let injected = inject(SOURCE, 4, "dualtrack_offline", TESTS).unwrap();
        assert_eq!(injected.inline_path, ["inner"]);
        let close = injected.text.rfind("}\n}\n").unwrap();
        assert!(injected.text[..close].contains("mod dualtrack_offline {"));
        // User code before the insertion point is byte for byte the same.
        assert!(
            injected
                .text
                .starts_with(&SOURCE[..SOURCE.rfind('}').unwrap()])
        );
        syn::parse_file(&injected.text).unwrap();
    }

    #[test]
    fn several_modules_go_in_at_once_with_exact_ranges_and_lines_map_back() {
        let placements = [
            Placement {
                function_line: 4,
                name: "dualtrack_a".into(),
                text: TESTS.into(),
            },
            Placement {
                function_line: 1,
                name: "dualtrack_b".into(),
                text: TESTS.into(),
            },
        ];
        let (text, ranges) =
            inject_all(SOURCE, &placements, "#[allow(warnings, clippy::all)]").unwrap();
        syn::parse_file(&text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for range in &ranges {
            assert_eq!(lines[range.first_line as usize - 1], "#[test]");
            assert_eq!(lines[range.last_line as usize - 1], "}");
        }
        assert_eq!(ranges[0].inline_path, ["inner"]);
        // `pub fn deep` stays on line 4; the closing brace of `inner` moved below module a.
        assert_eq!(original_line(&ranges, 4), Some(4));
        let inner_close = lines.iter().position(|l| *l == "}").unwrap() as u32 + 1;
        assert!(original_line(&ranges, ranges[0].first_line).is_none());
        assert_eq!(original_line(&ranges, ranges[0].last_line + 2), Some(7));
        assert!(inner_close > 0);
    }

    #[test]
    fn an_insertion_inside_a_line_splits_it_and_lines_still_map_back() {
        let source = "mod a { pub fn f() {} }\nfn g() {}\n";
        let placements = [Placement {
            function_line: 1,
            name: "dualtrack_a".into(),
            text: TESTS.into(),
        }];
        let (text, ranges) =
            inject_all(source, &placements, "#[allow(warnings, clippy::all)]").unwrap();
        syn::parse_file(&text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let rest = ranges[0].last_line + 2;
        assert_eq!(lines[rest as usize - 1], "}");
        assert_eq!(original_line(&ranges, rest), Some(1));
        assert_eq!(lines[rest as usize], "fn g() {}");
        assert_eq!(original_line(&ranges, rest + 1), Some(2));
    }

    #[test]
    fn source_without_a_final_newline_still_parses() {
        let injected = inject("fn a() {}", 1, "dualtrack_x", TESTS).unwrap();
        syn::parse_file(&injected.text).unwrap();
    }
}
