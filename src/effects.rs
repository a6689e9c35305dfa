//! What a generated test may do, decided on its tokens before it is ever compiled: no
//! processes, sockets, file deletions or compile-time reads of the build machine, no module
//! or attribute that makes rustc read a file, and no macro whose expansion is unknown.
//!
//! One check serves generation, repair and check-in. It is the first line of defence only: a
//! test that passes it still compiles and runs in the sandbox, whose filesystem view is what
//! keeps a secret out of a panic message.
//!
//! The check reads every identifier of the test (inside macro calls too), unraw (`r#process`
//! is `process`), so a name is refused wherever it stands: in a path, in a `use` that renames
//! it, in a macro's arguments. Renaming needs the original name in a `use`, so aliases
//! resolve to a refusal without tracking them.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Names whose use means a test reaches outside its process, or reads the build machine.
const FORBIDDEN: &[(&str, &str)] = &[
    ("Command", "spawns a process"),
    ("process", "spawns a process"),
    ("fork", "spawns a process"),
    ("execv", "spawns a process"),
    ("execve", "spawns a process"),
    ("system", "spawns a process"),
    ("TcpStream", "opens a socket"),
    ("TcpListener", "opens a socket"),
    ("UdpSocket", "opens a socket"),
    ("UnixStream", "opens a socket"),
    ("UnixListener", "opens a socket"),
    ("UnixDatagram", "opens a socket"),
    ("socket", "opens a socket"),
    ("Socket", "opens a socket"),
    ("remove_file", "deletes files"),
    ("remove_dir", "deletes files"),
    ("remove_dir_all", "deletes files"),
    ("unlink", "deletes files"),
    ("unlinkat", "deletes files"),
    ("rename", "moves files"),
    ("set_permissions", "changes file metadata"),
    ("set_modified", "changes file metadata"),
    ("set_times", "changes file metadata"),
    ("chmod", "changes file metadata"),
    ("chown", "changes file metadata"),
    ("syscall", "makes raw system calls"),
    ("ptrace", "traces processes"),
    ("kill", "signals processes"),
    // Compile-time reads: a file's or the environment's contents would end up in compiler
    // errors, and those go back to the model.
    ("include_str", "reads files at compile time"),
    ("include_bytes", "reads files at compile time"),
    ("include", "reads files at compile time"),
    ("env", "reads the environment"),
    ("option_env", "reads the environment at compile time"),
    ("extern", "declares foreign functions"),
    ("_exit", "ends the process"),
    ("exit", "ends the process"),
    ("abort", "ends the process"),
    // rustc reads the file a module names (`#[path]`), and quotes it back in its errors.
    ("mod", "declares a module, which makes rustc read a file"),
    ("asm", "runs inline assembly"),
    // Through `unsafe` a test reaches any function by its address (libc's `socket` found in
    // the process's own symbol table) with no name here to see.
    ("unsafe", "uses `unsafe` code"),
    ("global_asm", "runs inline assembly"),
    ("naked_asm", "runs inline assembly"),
];

/// The only attributes a generated test may carry, on itself or anything in it: anything
/// else (`#[path]`, `#[no_mangle]`, `#[export_name]`, `#[link_section]`, lint levels that turn
/// notes into errors) can break every other test or smuggle data out.
const ALLOWED_ATTRIBUTES: &[&str] = &["test", "should_panic", "ignore", "doc", "allow"];

/// std's macros whose expansion touches nothing outside the process (the compile-time
/// readers are in [`FORBIDDEN`]).
const STD_MACROS: &[&str] = &[
    "addr_of",
    "addr_of_mut",
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "line",
    "matches",
    "module_path",
    "offset_of",
    "panic",
    "print",
    "println",
    "stringify",
    "thread_local",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
];

/// Keywords that a `!` may follow without making a macro call (`if !(a)`, `return !(b)`).
const KEYWORDS: &[&str] = &[
    "as", "break", "else", "if", "in", "let", "match", "move", "return", "while", "yield", "mut",
    "ref", "box", "await", "dyn", "impl", "where", "for", "loop", "const", "static", "unsafe",
];

/// The crate's own `macro_rules!` macros, each with why its expansion is not clean (or
/// `None` when it is).
#[derive(Debug, Clone, Default)]
pub struct EffectRules {
    crate_macros: BTreeMap<String, Option<String>>,
}

/// What a scan of some tokens found.
#[derive(Debug, Default)]
struct Scan {
    /// (what it does, the name that does it).
    forbidden: BTreeSet<(&'static str, String)>,
    /// Attributes outside [`ALLOWED_ATTRIBUTES`], by their path's first name.
    attributes: BTreeSet<String>,
    /// Macros called, by name.
    macros: BTreeSet<String>,
    /// Names of std's macros a `use` imports or a `macro_rules!` defines: the call would not
    /// be std's.
    shadowed: BTreeSet<String>,
}

impl EffectRules {
    /// Rules that know the crate's `macro_rules!` definitions, read from the texts of its
    /// files. A file that does not parse adds nothing (its macros stay unknown, so refused).
    pub fn for_crate<'a>(sources: impl IntoIterator<Item = &'a str>) -> EffectRules {
        let mut bodies: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
        for source in sources {
            let Ok(file) = crate::syntax::parse_file(source) else {
                continue;
            };
            let mut finder = MacroFinder(&mut bodies);
            syn::visit::Visit::visit_file(&mut finder, &file);
        }
        let scans: BTreeMap<String, Scan> = bodies
            .into_iter()
            .map(|(name, bodies)| {
                let mut scan = Scan::default();
                for body in bodies {
                    scan_tokens(body, &mut scan);
                }
                (name, scan)
            })
            .collect();
        let crate_macros = scans
            .keys()
            .map(|name| {
                let verdict = macro_verdict(name, &scans, &mut BTreeSet::new());
                (name.clone(), verdict)
            })
            .collect();
        EffectRules { crate_macros }
    }

    /// Rules that know the macros of every Rust file under `root` but its build output and
    /// hidden directories.
    pub fn for_tree(root: &std::path::Path) -> EffectRules {
        let sources: Vec<String> = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_entry(|entry| {
                let name = entry.file_name().to_string_lossy();
                entry.depth() == 0 || !(name.starts_with('.') || name == "target")
            })
            .flatten()
            .filter(|entry| {
                entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs")
            })
            .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
            .collect();
        EffectRules::for_crate(sources.iter().map(String::as_str))
    }

    /// Why `test` must not be compiled, if anything in it is refused.
    pub fn check_test(&self, test: &syn::ItemFn) -> Option<String> {
        use quote::ToTokens;
        if test.sig.abi.is_some() || matches!(test.sig.safety, syn::Safety::Unsafe(_)) {
            return Some("is `unsafe` or `extern`, which a generated test may not be".to_owned());
        }
        let mut scan = Scan::default();
        scan_tokens(test.to_token_stream(), &mut scan);
        if let Some(attribute) = scan.attributes.iter().next() {
            return Some(format!(
                "carries `#[{attribute}]`: a generated test may carry only #[test], \
                 #[should_panic], #[ignore] and #[allow]"
            ));
        }
        if let Some((what, name)) = scan.forbidden.iter().next() {
            return Some(format!(
                "{what} (`{name}`), which a generated test may not do"
            ));
        }
        if let Some(name) = scan.shadowed.iter().next() {
            return Some(format!(
                "imports or defines a macro named like std's `{name}!`, whose expansion is \
                 then unknown"
            ));
        }
        scan.macros.iter().find_map(|name| self.macro_refusal(name))
    }

    fn macro_refusal(&self, name: &str) -> Option<String> {
        if STD_MACROS.contains(&name) {
            return None;
        }
        match self.crate_macros.get(name) {
            Some(None) => None,
            Some(Some(why)) => Some(format!(
                "calls the crate's macro `{name}!`, whose expansion {why}"
            )),
            None => Some(format!(
                "calls `{name}!`, which is neither std's nor a macro of the crate: what it \
                 expands to is unknown"
            )),
        }
    }
}

/// The forbidden names `tokens` use, as (what, name): for comparing a proposed fix with the
/// function it replaces (a fix may keep what the original does, not add to it).
pub fn forbidden_names(tokens: TokenStream) -> BTreeSet<(&'static str, String)> {
    let mut scan = Scan::default();
    scan_tokens(tokens, &mut scan);
    scan.forbidden
}

/// Why the crate's macro `name` is not clean: a forbidden name, an attribute, or a call of
/// a macro that is neither std's nor clean. `seen` breaks cycles (a recursive macro).
fn macro_verdict(
    name: &str,
    scans: &BTreeMap<String, Scan>,
    seen: &mut BTreeSet<String>,
) -> Option<String> {
    if !seen.insert(name.to_owned()) {
        return None;
    }
    let scan = &scans[name];
    if let Some((what, word)) = scan.forbidden.iter().next() {
        return Some(format!("{what} (`{word}`)"));
    }
    if let Some(attribute) = scan.attributes.iter().next() {
        return Some(format!("carries `#[{attribute}]`"));
    }
    for called in &scan.macros {
        if STD_MACROS.contains(&called.as_str()) || called == "macro_rules" {
            continue;
        }
        if !scans.contains_key(called) {
            return Some(format!("calls `{called}!`, whose expansion is unknown"));
        }
        if let Some(why) = macro_verdict(called, scans, seen) {
            return Some(format!("calls `{called}!`, which {why}"));
        }
    }
    None
}

/// An identifier's name without `r#`.
fn unraw(ident: &proc_macro2::Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").unwrap_or(&name).to_owned()
}

/// Every identifier of `tokens`, groups included.
fn idents_in(tokens: TokenStream, out: &mut Vec<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => out.push(unraw(&ident)),
            TokenTree::Group(group) => idents_in(group.stream(), out),
            _ => {}
        }
    }
}

/// Every identifier (unraw), attribute and macro call in `tokens`, groups included.
fn scan_tokens(tokens: TokenStream, scan: &mut Scan) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    // Inside a `use` item: the names it imports, up to its `;`.
    let mut in_use = false;
    for (index, tree) in trees.iter().enumerate() {
        if in_use {
            match tree {
                TokenTree::Punct(p) if p.as_char() == ';' => in_use = false,
                _ => {
                    let mut names = Vec::new();
                    idents_in(TokenStream::from(tree.clone()), &mut names);
                    scan.shadowed.extend(
                        names
                            .into_iter()
                            .filter(|name| STD_MACROS.contains(&name.as_str())),
                    );
                }
            }
        }
        match tree {
            TokenTree::Ident(ident) => {
                let name = unraw(ident);
                if let Some((_, what)) = FORBIDDEN.iter().find(|(word, _)| *word == name) {
                    scan.forbidden.insert((what, name.clone()));
                }
                if name == "use" {
                    in_use = true;
                }
                // `macro_rules! assert_eq { .. }` defines one.
                if name == "macro_rules"
                    && let Some(TokenTree::Ident(defined)) = trees.get(index + 2)
                    && STD_MACROS.contains(&unraw(defined).as_str())
                {
                    scan.shadowed.insert(unraw(defined));
                }
                let bang =
                    matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                // `name!(..)`, `name![..]`, `name!{..}`, and `macro_rules! name`.
                let called = matches!(
                    trees.get(index + 2),
                    Some(TokenTree::Group(_) | TokenTree::Ident(_))
                );
                if bang && called && !KEYWORDS.contains(&name.as_str()) {
                    scan.macros.insert(name);
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == '#' => {
                // `#[attr]` or `#![attr]`.
                let group = match (trees.get(index + 1), trees.get(index + 2)) {
                    (Some(TokenTree::Group(g)), _) => Some(g),
                    (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g)))
                        if p.as_char() == '!' =>
                    {
                        Some(g)
                    }
                    _ => None,
                };
                if let Some(group) = group.filter(|g| g.delimiter() == Delimiter::Bracket) {
                    // The attribute's path: everything before its arguments. Only a single
                    // allowed name passes (`#[::dep::attr]` would run a dependency's macro).
                    let path: Vec<TokenTree> = group
                        .stream()
                        .into_iter()
                        .take_while(|t| {
                            !matches!(t, TokenTree::Group(_))
                                && !matches!(t, TokenTree::Punct(p) if p.as_char() == '=')
                        })
                        .collect();
                    let allowed = match path.as_slice() {
                        [TokenTree::Ident(name)] => {
                            ALLOWED_ATTRIBUTES.contains(&unraw(name).as_str())
                        }
                        _ => false,
                    };
                    if !allowed {
                        let shown: String = path.iter().map(ToString::to_string).collect();
                        scan.attributes.insert(shown);
                    }
                }
            }
            TokenTree::Group(group) => scan_tokens(group.stream(), scan),
            _ => {}
        }
    }
}

/// Collects `macro_rules! name { .. }` bodies, at any depth.
struct MacroFinder<'a>(&'a mut BTreeMap<String, Vec<TokenStream>>);

impl<'ast> syn::visit::Visit<'ast> for MacroFinder<'_> {
    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if item.mac.path.is_ident("macro_rules")
            && let Some(name) = &item.ident
        {
            self.0
                .entry(name.to_string())
                .or_default()
                .push(item.mac.tokens.clone());
        }
        syn::visit::visit_item_macro(self, item);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn refused(rules: &EffectRules, code: &str) -> Option<String> {
        let test: syn::ItemFn = syn::parse_str(code).unwrap();
        rules.check_test(&test)
    }

    fn plain(code: &str) -> Option<String> {
        refused(&EffectRules::default(), code)
    }

    #[test]
    fn ordinary_tests_pass() {
        for code in [
            "#[test] fn t() { assert_eq!(crate::parse(\"\"), Err(crate::Error::Empty)); }",
            "#[test] #[should_panic(expected = \"x\")] fn t() { let v = vec![1]; let _ = v[2]; }",
            "/// dualtrack: {}\n#[test] #[allow(unused)] fn t() { if !(1 > 2) { println!(\"{}\", format!(\"a\")); } }",
            "#[test] fn t() { let r = !matches!(crate::f(), Some(_)); assert!(r != (false)); }",
        ] {
            assert_eq!(plain(code), None, "{code}");
        }
    }

    #[test]
    fn raw_identifiers_are_read_unraw() {
        let why =
            plain(r##"#[test] fn t() { let s = r#include_str!("/etc/shadow"); panic!("{s}"); }"##)
                .unwrap();
        assert!(why.contains("include_str"), "{why}");
        assert!(plain("#[test] fn t() { std::r#process::r#Command::new(\"sh\"); }").is_some());
        assert!(plain("#[test] fn t() { let _ = r#option_env!(\"KEY\"); }").is_some());
    }

    #[test]
    fn renames_macro_paths_and_macro_arguments_are_refused() {
        for code in [
            "#[test] fn t() { use std::process::Command as Safe; Safe::new(\"sh\"); }",
            "#[test] fn t() { use std::fs::{remove_file as tidy}; tidy(\"x\").ok(); }",
            "#[test] fn t() { let s = ::core::include_str!(\"/etc/passwd\"); }",
            "#[test] fn t() { assert_eq!(std::include_bytes!(\"/root/.ssh/id_rsa\").len(), 0); }",
            "#[test] fn t() { println!(\"{}\", env!(\"HOME\")); }",
            "#[test] fn t() { let _ = std::fs::set_permissions(\"x\", p); }",
        ] {
            assert!(plain(code).is_some(), "{code}");
        }
    }

    #[test]
    fn modules_and_attributes_inside_a_test_are_refused() {
        let why = plain("#[test] fn t() { #[path = \"/etc/shadow\"] mod leak; }").unwrap();
        assert!(why.contains("#[path]"), "{why}");
        let why = plain("#[test] fn t() { mod inner { pub fn f() {} } inner::f(); }").unwrap();
        assert!(why.contains("module"), "{why}");
        let why = plain("#[test] fn t() { #[no_mangle] extern \"C\" fn main() {} }").unwrap();
        assert!(why.contains("no_mangle"), "{why}");
        assert!(plain("#[test] fn t() { #![deny(warnings)] }").is_some());
        assert!(plain("#[test] #[r#path = \"x\"] fn t() {}").is_some());
    }

    #[test]
    fn macros_outside_std_and_unclean_crate_macros_are_refused() {
        let why = plain("#[test] fn t() { dotenv!(\"SECRET\"); }").unwrap();
        assert!(
            why.contains("neither std's nor a macro of the crate"),
            "{why}"
        );
        let rules = EffectRules::for_crate([
            "macro_rules! square { ($x:expr) => { $x * $x }; }
             macro_rules! twice { ($x:expr) => { square!($x) + square!($x) }; }
             macro_rules! leak { () => { include_str!(\"/etc/shadow\") }; }
             macro_rules! leak_through { () => { leak!() }; }
             macro_rules! spawn { () => { ::std::process::Command::new(\"sh\") }; }
             macro_rules! other { () => { serde_json::json!({}) }; }
             macro_rules! recursive { () => {}; ($x:tt $($rest:tt)*) => { recursive!($($rest)*) }; }",
        ]);
        assert_eq!(
            refused(&rules, "#[test] fn t() { assert_eq!(twice!(2), 8); }"),
            None
        );
        assert_eq!(
            refused(&rules, "#[test] fn t() { recursive!(a b c); }"),
            None
        );
        for (code, says) in [
            ("#[test] fn t() { leak!(); }", "include_str"),
            ("#[test] fn t() { leak_through!(); }", "calls `leak!`"),
            ("#[test] fn t() { spawn!(); }", "spawns a process"),
            ("#[test] fn t() { other!(); }", "`json!`"),
        ] {
            let why = refused(&rules, code).unwrap_or_default();
            assert!(why.contains(says), "{code}: {why}");
        }
    }

    #[test]
    fn unsafe_and_extern_tests_are_refused() {
        assert!(plain("#[test] unsafe fn t() {}").is_some());
        assert!(plain("#[test] extern \"C\" fn t() {}").is_some());
        assert!(plain("#[test] fn t() { unsafe { core::arch::asm!(\"nop\") } }").is_some());
        // A libc function found by its address: no forbidden name, but `unsafe`.
        let why = plain(
            "#[test] fn t() { let f: fn(i32, i32, i32) -> i32 = unsafe { std::mem::transmute(lookup(\"socket\")) }; f(40, 1, 0); }",
        )
        .unwrap();
        assert!(why.contains("unsafe"), "{why}");
    }

    #[test]
    fn attribute_paths_and_std_macro_names_cannot_be_borrowed() {
        let why = plain("#[test] fn t() { #[::some_dep::attr] fn inner() {} }").unwrap();
        assert!(why.contains("::some_dep::attr"), "{why}");
        assert!(plain("#[test] #[::core::prelude::v1::test] fn t() {}").is_some());
        let why = plain("#[test] fn t() { use some_dep::assert_eq; assert_eq!(1, 1); }").unwrap();
        assert!(why.contains("`assert_eq!`"), "{why}");
        assert!(plain("#[test] fn t() { use dep::{x, format as f}; }").is_some());
        let why = plain("#[test] fn t() { macro_rules! vec { () => {} } vec!(); }").unwrap();
        assert!(why.contains("`vec!`"), "{why}");
        // A method or function named like a macro is not a macro.
        assert_eq!(
            plain("#[test] fn t() { let _ = date.format(\"%Y\"); use std::fmt::Write; }"),
            None
        );
    }

    #[test]
    fn forbidden_names_lists_what_a_fix_adds() {
        let names = forbidden_names(quote::quote! {
            fn f() { std::fs::remove_file("x").ok(); r#kill(1); }
        });
        let mut names: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["kill", "remove_file"]);
    }
}
