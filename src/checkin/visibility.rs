//! Which checked-in tests can live in `tests/` (they name only the crate's public API) and
//! which must sit inside the crate: the private names a source file declares, its imports and
//! `cfg(test)` gates.

use super::*;

/// Whether every module on the way to `module` (`crate::a::b`) is declared `pub` where the
/// analysis read its parent's file; a declaration it cannot see (in an inline module, a
/// macro) counts as public, for the build to tell.
pub(crate) fn modules_public(
    root: &Path,
    analysis: &crate::analyze::Analysis,
    module: &str,
) -> bool {
    let segments: Vec<&str> = module.split("::").collect();
    for depth in 1..segments.len() {
        let parent = segments[..depth].join("::");
        let name = segments[depth];
        for (file, _) in analysis.file_modules.iter().filter(|(_, m)| **m == parent) {
            let Ok(source) = std::fs::read_to_string(root.join(file)) else {
                continue;
            };
            let Ok(parsed) = crate::syntax::parse_file(&source) else {
                continue;
            };
            let private = parsed.items.iter().any(|item| {
                matches!(item, syn::Item::Mod(m) if m.ident == name
                    && !matches!(m.vis, syn::Visibility::Public(_)))
            });
            if private {
                return false;
            }
        }
    }
    true
}

/// Whether the file `source` declares an item (or imports a name) `name` at its top level.
pub(super) fn declares(source: &str, name: &str) -> bool {
    let Ok(file) = crate::syntax::parse_file(source) else {
        return false;
    };
    file.items.iter().any(|item| match item {
        syn::Item::Use(used) => {
            let mut names = HashSet::new();
            use_names(&used.tree, &mut names);
            names.contains(name)
        }
        _ => named_item(item).is_some_and(|(_, _, ident)| ident == name),
    })
}

/// Which tests may go to an integration test file, with the imports they need there: public
/// API, naming nothing private of the function's module but what it imports from std, and no
/// `super::` or `self::` path.
pub(super) fn public_tests(root: &Path, tests: &[KeptTest]) -> Vec<Option<Vec<String>>> {
    let mut private: BTreeMap<(String, Vec<String>), PrivateNames> = BTreeMap::new();
    tests
        .iter()
        .map(|test| {
            test.public.as_ref()?;
            let inline = inline_modules(test);
            let names = private
                .entry((test.function.file.clone(), inline.clone()))
                .or_insert_with(|| {
                    std::fs::read_to_string(root.join(&test.function.file))
                        .ok()
                        .and_then(|source| private_names(&source, &inline))
                        .unwrap_or_default()
                });
            names_only_public(test, names)
        })
        .collect()
}

/// The inline modules of the function's file its module is in (outermost first).
pub(super) fn inline_modules(test: &KeptTest) -> Vec<String> {
    test.function
        .module
        .strip_prefix(&test.file_module)
        .unwrap_or_default()
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The names of a module an integration test cannot use.
#[derive(Debug, Default)]
pub(crate) struct PrivateNames {
    /// Items not `pub`, or only under `#[cfg(test)]`, and private imports.
    pub names: HashSet<String>,
    /// Of those, the items defined here (not imported).
    pub defined: HashSet<String>,
    /// The private imports from std (or `core`, `alloc`), which a test can import itself:
    /// their `use` lines through std, by name.
    pub(super) from_std: HashMap<String, String>,
}

/// The names items of a module have that an integration test cannot use: not `pub`, or only
/// under `#[cfg(test)]`, or imported by a private `use`. `None` when the file does not parse
/// or the module is not in it.
pub(crate) fn private_names(source: &str, inline: &[String]) -> Option<PrivateNames> {
    let file = crate::syntax::parse_file(source).ok()?;
    let mut items: &[syn::Item] = &file.items;
    for name in inline {
        items = items.iter().find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name.as_str() => m.content.as_ref().map(|c| &c.1[..]),
            _ => None,
        })?;
    }
    let mut private = PrivateNames::default();
    for item in items {
        if let syn::Item::Use(used) = item {
            if !matches!(used.vis, syn::Visibility::Public(_)) || cfg_test(&used.attrs) {
                use_names(&used.tree, &mut private.names);
                if !cfg_test(&used.attrs) {
                    std_imports(&used.tree, &[], &mut private.from_std);
                }
            }
            continue;
        }
        let Some((vis, attrs, name)) = named_item(item) else {
            continue;
        };
        let public = vis.is_some_and(|v| matches!(v, syn::Visibility::Public(_)));
        if !public || cfg_test(attrs) {
            private.names.insert(name.to_string());
            private.defined.insert(name.to_string());
        }
    }
    Some(private)
}

/// The visibility (none for a `macro_rules!`, which no module path reaches), attributes and
/// name of an item that has a name.
pub(super) fn named_item(
    item: &syn::Item,
) -> Option<(Option<&syn::Visibility>, &[syn::Attribute], &syn::Ident)> {
    Some(match item {
        syn::Item::Fn(i) => (Some(&i.vis), &i.attrs, &i.sig.ident),
        syn::Item::Struct(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Enum(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Union(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Const(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Static(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Type(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Trait(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Mod(i) => (Some(&i.vis), &i.attrs, &i.ident),
        syn::Item::Macro(i) => (None, &i.attrs, i.ident.as_ref()?),
        _ => return None,
    })
}

/// The names `tree` (below the path `prefix`) imports from `std`, `core` or `alloc`, with a
/// `use` line through std for each (`use core::hash::{Hasher, BuildHasher as B};` →
/// `Hasher`: `use std::hash::Hasher;`, `B`: `use std::hash::BuildHasher as B;`).
pub(super) fn std_imports(
    tree: &syn::UseTree,
    prefix: &[String],
    found: &mut HashMap<String, String>,
) {
    let line = |path: &[String], name: &str, alias: Option<&str>| -> Option<String> {
        let (root, rest) = path.split_first()?;
        if !matches!(root.as_str(), "std" | "core" | "alloc") {
            return None;
        }
        let mut path: Vec<&str> = vec!["std"];
        path.extend(rest.iter().map(String::as_str));
        path.push(name);
        Some(match alias {
            Some(alias) => format!("use {} as {alias};", path.join("::")),
            None => format!("use {};", path.join("::")),
        })
    };
    match tree {
        syn::UseTree::Path(path) => {
            let mut below = prefix.to_vec();
            below.push(path.ident.to_string());
            std_imports(&path.tree, &below, found);
        }
        syn::UseTree::Name(name) if name.ident != "self" => {
            let name = name.ident.to_string();
            if let Some(line) = line(prefix, &name, None) {
                found.insert(name, line);
            }
        }
        syn::UseTree::Rename(rename) => {
            let alias = rename.rename.to_string();
            if let Some(line) = line(prefix, &rename.ident.to_string(), Some(&alias)) {
                found.insert(alias, line);
            }
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                std_imports(tree, prefix, found);
            }
        }
        syn::UseTree::Name(_) | syn::UseTree::Glob(_) => {}
    }
}

/// Whether `attrs` hold `#[cfg(test)]` (alone or among others).
pub(super) fn cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .meta
                .to_token_stream()
                .into_iter()
                .any(|t| matches!(&t, proc_macro2::TokenTree::Group(g) if g.stream().into_iter().any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "test"))))
    })
}

/// The `#[cfg]` attributes of functions, from their files read once each.
#[derive(Default)]
pub(super) struct CfgGates {
    pub(super) files: HashMap<String, Option<syn::File>>,
}

impl CfgGates {
    /// `function`'s file, read and parsed once.
    pub(super) fn parsed(&mut self, root: &Path, function: &Function) -> Option<&syn::File> {
        self.files
            .entry(function.file.clone())
            .or_insert_with(|| {
                let source = std::fs::read_to_string(root.join(&function.file)).ok()?;
                crate::syntax::parse_file(&source).ok()
            })
            .as_ref()
    }

    pub(super) fn of(&mut self, root: &Path, function: &Function) -> Vec<syn::Attribute> {
        let Some(file) = self.parsed(root, function) else {
            return Vec::new();
        };
        let Some(found) = crate::scratch::inject::function_at(file, function.line) else {
            return Vec::new();
        };
        found.cfgs().cloned().collect()
    }

    /// Whether `function` is `#[deprecated]`.
    pub(super) fn deprecated(&mut self, root: &Path, function: &Function) -> bool {
        let Some(file) = self.parsed(root, function) else {
            return false;
        };
        crate::scratch::inject::function_at(file, function.line)
            .is_some_and(|found| found.own.iter().any(|a| a.path().is_ident("deprecated")))
    }
}

/// The import `line` with only what code naming `named` uses (`use std::{format, vec};` →
/// `use std::vec;`); `None` when it brings in nothing used. Globs and `extern crate` stay.
pub(super) fn used_import(line: &str, named: &HashSet<String>) -> Option<String> {
    /// The tree without unused names; `None` when nothing is left.
    pub(super) fn pruned(tree: &syn::UseTree, named: &HashSet<String>) -> Option<syn::UseTree> {
        match tree {
            syn::UseTree::Path(path) => {
                let inner = pruned(&path.tree, named)?;
                let mut path = path.clone();
                *path.tree = inner;
                Some(syn::UseTree::Path(path))
            }
            syn::UseTree::Glob(_) => Some(tree.clone()),
            syn::UseTree::Name(name) => (name.ident == "self"
                || named.contains(&name.ident.to_string()))
            .then(|| tree.clone()),
            syn::UseTree::Rename(rename) => named
                .contains(&rename.rename.to_string())
                .then(|| tree.clone()),
            syn::UseTree::Group(group) => {
                let mut group = group.clone();
                group.items = group
                    .items
                    .iter()
                    .filter_map(|item| pruned(item, named))
                    .collect();
                match group.items.len() {
                    0 => None,
                    1 => group.items.pop(),
                    _ => Some(syn::UseTree::Group(group)),
                }
            }
        }
    }
    let Ok(syn::Item::Use(mut used)) = crate::syntax::parse_str::<syn::Item>(line) else {
        return Some(line.to_owned());
    };
    let tree = pruned(&used.tree, named)?;
    if tree.to_token_stream().to_string() == used.tree.to_token_stream().to_string() {
        return Some(line.to_owned());
    }
    used.tree = tree;
    Some(printed_use(&used))
}

/// The names a `use` tree brings in (`a::{b, c as d, e::self}` → `b`, `d`, `e`).
pub(super) fn use_names(tree: &syn::UseTree, names: &mut HashSet<String>) {
    match tree {
        syn::UseTree::Path(path) => use_names(&path.tree, names),
        syn::UseTree::Name(name) if name.ident != "self" => {
            names.insert(name.ident.to_string());
        }
        syn::UseTree::Name(_) | syn::UseTree::Glob(_) => {}
        syn::UseTree::Rename(rename) => {
            names.insert(rename.rename.to_string());
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                use_names(tree, names);
            }
        }
    }
}

/// The imports the test needs in an integration test file, when its code and uses name
/// nothing in `private` but what it can import from std itself (save what its own uses bring
/// in) and take no path from `super` or `self`; `None` when it needs the module's inside.
pub(super) fn names_only_public(test: &KeptTest, private: &PrivateNames) -> Option<Vec<String>> {
    let mut own = HashSet::new();
    let mut streams = Vec::new();
    for line in &test.uses {
        let used = match crate::syntax::parse_str::<syn::Item>(line.trim()) {
            Ok(syn::Item::Use(used)) => used,
            // `extern crate std;` (a `no_std` crate's tests): an integration test has std.
            Ok(syn::Item::ExternCrate(_)) => continue,
            _ => return None,
        };
        // `use self::std::..`, std through that `extern crate`.
        if matches!(&used.tree, syn::UseTree::Path(p) if p.ident == "self"
            && matches!(&*p.tree, syn::UseTree::Path(q) if q.ident == "std"))
        {
            continue;
        }
        if is_super_glob(&used) {
            continue;
        }
        use_names(&used.tree, &mut own);
        streams.push(used.tree.to_token_stream());
    }
    // The body: `#[test]` is no path to a module named `test`.
    let code = crate::syntax::parse_str::<syn::ItemFn>(&test.code).ok()?;
    streams.push(code.block.to_token_stream());
    let mut roots = Vec::new();
    for stream in streams {
        path_roots(stream, &mut roots);
    }
    let mut imports: Vec<String> = Vec::new();
    for name in &roots {
        if name == "super" || name == "self" {
            return None;
        }
        if !private.names.contains(name) || own.contains(name) {
            continue;
        }
        let line = private.from_std.get(name)?;
        if !imports.contains(line) {
            imports.push(line.clone());
        }
    }
    Some(imports)
}

/// `use super::*;`, which the child module has and an integration test does without.
pub(super) fn is_super_glob(used: &syn::ItemUse) -> bool {
    matches!(&used.tree, syn::UseTree::Path(p) if p.ident == "super" && matches!(*p.tree, syn::UseTree::Glob(_)))
}

/// Identifiers that may start a path: not after `.` or `::`; for `super` and `self`, only
/// those a `::` follows (`self.x` is a receiver). Inside macros too.
pub(super) fn path_roots(tokens: proc_macro2::TokenStream, roots: &mut Vec<String>) {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let punct = |i: Option<usize>, c: char| matches!(i.and_then(|i| trees.get(i)), Some(TokenTree::Punct(p)) if p.as_char() == c);
    for (index, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => path_roots(group.stream(), roots),
            TokenTree::Ident(ident) => {
                let before = index.checked_sub(1);
                if punct(before, '.') || punct(before, ':') {
                    continue;
                }
                let name = ident.to_string();
                if (name == "super" || name == "self") && !punct(Some(index + 1), ':') {
                    continue;
                }
                roots.push(name);
            }
            _ => {}
        }
    }
}

/// A function of a lib's public API: `pub`, in modules declared `pub`, not inside another
/// function (a visitor's methods inside `deserialize`).
pub fn in_public_api(
    workspace: &crate::workspace::Workspace,
    analysis: &crate::analyze::Analysis,
    function: &crate::analyze::Function,
) -> bool {
    let in_lib = workspace
        .target_of(&function.package, &function.path)
        .is_some_and(|(_, target)| target.kind == crate::workspace::TargetKind::Lib);
    let below = function
        .path
        .strip_prefix(&function.module)
        .unwrap_or(&function.path)
        .trim_start_matches("::");
    if function.visibility != "pub"
        || !in_lib
        || crate::analyze::resolve::simple_segments(below).len() > 2
    {
        return false;
    }
    match trait_impl_type(below) {
        // A trait's method on a type is public where the type is, whatever module the impl
        // is written in: not when the type is private to the function's file.
        Some(type_name) => std::fs::read_to_string(workspace.root.join(&function.file))
            .ok()
            .and_then(|source| private_names(&source, &[]))
            .is_none_or(|private| !private.defined.contains(type_name)),
        None => modules_public(&workspace.root, analysis, &function.module),
    }
}

/// The type of a trait impl's method path (`<Version as Display>::fmt` → `Version`, without
/// generics or path).
fn trait_impl_type(path: &str) -> Option<&str> {
    let inner = path.strip_prefix('<')?;
    let (ty, _) = inner.split_once(" as ")?;
    let ty = ty.split('<').next().unwrap_or(ty);
    Some(ty.rsplit("::").next().unwrap_or(ty).trim())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_path_s_segments_are_counted_outside_its_angle_brackets() {
        let segments = |path| crate::analyze::resolve::simple_segments(path).len();
        assert_eq!(segments("parse"), 1);
        assert_eq!(segments("Version::parse"), 2);
        assert_eq!(segments("<Version as std::str::FromStr>::from_str"), 2);
        assert_eq!(
            segments("<V as Deserialize<'de>>::deserialize::<X as Visitor<'de>>::expecting"),
            4
        );
        assert_eq!(segments("<F as Fn(u8) -> u8>::call"), 2);
        assert_eq!(
            trait_impl_type("<Version as Display>::fmt"),
            Some("Version")
        );
        assert_eq!(trait_impl_type("<a::Id<T> as Drop>::drop"), Some("Id"));
        assert_eq!(trait_impl_type("Version::parse"), None);
    }
}
