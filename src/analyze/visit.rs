//! The syn walker: one parsed file in, its functions with their sites and its file-backed child
//! modules out.
//!
//! Inline modules, impls, traits, nested functions, closures and item-position macros whose
//! bodies parse as items are all handled here; the driver in `mod.rs` follows the child
//! modules to other files.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{
    Attribute, BinOp, Block, Expr, ExprIf, FnArg, ImplItem, Item, Pat, ReturnType, Signature, Stmt,
    TraitItem, Visibility,
};

use super::attrs::{cfg_attr_paths, is_test_code, path_attr};
use super::model::{PanicVia, SiteKind, Splice};
use super::names::{Container, function_path, self_type_name, trait_display, visibility_display};
use super::span::{first, last};
use crate::workspace::{ModDir, ModFileCandidate};

/// What the walker needs to know about the module a file is.
#[derive(Debug, Clone)]
pub struct FileContext {
    /// The module's path: `crate_name::a::b`.
    pub module_prefix: String,
    pub mod_dir: ModDir,
    /// The file is reached only through test modules.
    pub in_test: bool,
    pub include_tests: bool,
}

/// A site before its function's path is final and its ordinal assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSite {
    pub kind: SiteKind,
    /// Byte offset of the site's own token: orders sites of one kind within a function.
    pub offset: usize,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub text: String,
    pub params: Vec<String>,
    pub guard: bool,
    pub has_else: Option<bool>,
    pub sub_conditions: Option<Vec<String>>,
    pub arm_guard: Option<String>,
    pub outcome: Option<String>,
    pub via: Option<PanicVia>,
    pub probe: Option<Splice>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFunction {
    pub path: String,
    pub visibility: String,
    /// Byte offset of the item's start, for source order.
    pub offset: usize,
    pub line: u32,
    pub end_line: u32,
    pub sites: Vec<RawSite>,
    pub calls: Vec<String>,
    pub params: Vec<String>,
    /// The enclosing function of a nested one, as an index into the same file's functions.
    pub parent: Option<usize>,
    /// The module the function is defined in (`crate::a::b`).
    pub module: String,
}

/// A `mod name;` declaration whose body is in another file.
#[derive(Debug, Clone)]
pub struct ChildModule {
    pub name: String,
    pub module_prefix: String,
    /// Where the module may be: each alternative (the plain resolution, each
    /// `#[cfg_attr(.., path = ..)]`) lists its files in rustc's order of preference.
    pub alternatives: Vec<Vec<ModFileCandidate>>,
    pub in_test: bool,
    /// Byte offset of the declaration, for source order across files.
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Default)]
pub struct FileOutput {
    pub functions: Vec<RawFunction>,
    pub child_modules: Vec<ChildModule>,
    /// Each inline module (`crate::a::inner`) with the directory rustc reads its `mod x;`
    /// files from.
    pub inline_dirs: Vec<(String, std::path::PathBuf)>,
}

/// Walk a parsed file. `source` is the exact text it was parsed from.
pub fn visit_file(file: &syn::File, source: &str, context: &FileContext) -> FileOutput {
    let mut visitor = FileVisitor {
        source,
        item_prefix: context.module_prefix.clone(),
        module_path: context.module_prefix.clone(),
        mod_dir: context.mod_dir.clone(),
        in_test: context.in_test || is_test_code(&file.attrs),
        include_tests: context.include_tests,
        container: Container::None,
        trait_visibility: String::new(),
        fn_stack: Vec::new(),
        output: FileOutput::default(),
        macros: Default::default(),
        const_depth: 0,
        macro_depth: 0,
    };
    for item in &file.items {
        visitor.visit_item(item);
    }
    visitor.output
}

/// A function's bindings at some point: derived locals and shadowed parameters.
type Scope = (HashMap<String, Vec<String>>, HashSet<String>);

struct FnFrame {
    /// The function's slot in the file's output.
    index: usize,
    /// A `const fn`: its body may call no probe.
    constant: bool,
    params: Vec<String>,
    /// Locals bound from parameters (`let text = input.trim();`), with the parameters they
    /// come from: a test of `text` is a test of `input`.
    derived: HashMap<String, Vec<String>>,
    sites: Vec<RawSite>,
    /// The type (or trait) a method belongs to, for `Self::f()` and `self.f()` calls.
    self_type: Option<String>,
    /// Functions called by path (`helper(x)`, `Type::f(x)`) and methods called on `self`.
    calls: std::collections::BTreeSet<String>,
    /// Parameters a binding hides in the current scope (`let x = 5;`, `for v in 0..3`).
    shadowed: HashSet<String>,
    /// Offsets of the `if`/`match` tokens in return position, where an `Err(..)` value is the
    /// function's result (an early exit) rather than a value computed on the way.
    tail_positions: HashSet<usize>,
}

impl FnFrame {
    /// The parameters that a set of identifiers mentions, directly or through derived locals,
    /// in declaration order.
    fn params_in(&self, idents: &HashSet<String>) -> Vec<String> {
        self.params
            .iter()
            .filter(|param| {
                (idents.contains(param.as_str()) && !self.shadowed.contains(param.as_str()))
                    || idents.iter().any(|ident| {
                        self.derived
                            .get(ident)
                            .is_some_and(|from| from.contains(param))
                    })
            })
            .cloned()
            .collect()
    }

    /// Record what the names bound by `pattern` derive from, given what the bound value
    /// mentions; a rebinding from something else forgets the old derivation.
    /// Names bound by `pattern` from nothing known (a closure parameter): they hide the
    /// parameters of the same name.
    fn unbind(&mut self, pattern: &Pat) {
        let mut names = Vec::new();
        pattern_bindings(pattern, &mut names);
        for name in names {
            self.derived.remove(&name);
            if self.params.contains(&name) {
                self.shadowed.insert(name);
            }
        }
    }

    fn bind(&mut self, pattern: &Pat, value: &Expr) {
        let from = self.params_in(&idents_of_expr(value));
        let mut names = Vec::new();
        pattern_bindings(pattern, &mut names);
        for name in names {
            if from.is_empty() {
                self.derived.remove(&name);
                if self.params.contains(&name) {
                    self.shadowed.insert(name);
                }
            } else {
                self.shadowed.remove(&name);
                self.derived.insert(name, from.clone());
            }
        }
    }
}

struct FileVisitor<'s> {
    source: &'s str,
    /// The path items are defined under: the module, or the enclosing function.
    item_prefix: String,
    /// The module being walked (`crate::a::b`), which function bodies do not change.
    module_path: String,
    mod_dir: ModDir,
    in_test: bool,
    include_tests: bool,
    container: Container,
    /// The visibility of the trait whose default methods are being walked.
    trait_visibility: String,
    fn_stack: Vec<FnFrame>,
    output: FileOutput,
    /// The file's `macro_rules!` lists, expanded where invoked (`expand`).
    macros: super::expand::ListMacros,
    /// Inside a const context (an array length, a `const { }` block, a const generic
    /// argument): evaluated at compile time, so no probe.
    const_depth: usize,
    /// Inside code read from a macro's tokens (other than `cfg_if!`): its text is the macro's
    /// input, or a definition shared by every expansion, so no probe.
    macro_depth: usize,
}

/// The parts of a function item the walker needs, whatever kind of item it is.
struct FnParts<'a> {
    attrs: &'a [Attribute],
    vis: Option<&'a Visibility>,
    sig: &'a Signature,
    block: &'a Block,
}

impl FileVisitor<'_> {
    fn skipping_tests(&self) -> bool {
        self.in_test && !self.include_tests
    }

    /// The source text from the start of `first` to the end of `last`.
    fn slice(&self, first: Span, last: Span) -> String {
        let Range { start, .. } = first.byte_range();
        let Range { end, .. } = last.byte_range();
        self.source.get(start..end).unwrap_or_default().to_owned()
    }

    fn expr_text(&self, expr: &Expr) -> String {
        self.slice(first(expr), last(expr))
    }

    fn node_text(&self, node: &impl Spanned) -> String {
        let span = node.span();
        self.slice(span, span)
    }

    fn visit_function(&mut self, parts: FnParts<'_>) {
        let was_in_test = self.in_test;
        self.in_test |= is_test_code(parts.attrs);
        if self.skipping_tests() {
            self.in_test = was_in_test;
            return;
        }
        let path = function_path(
            &self.item_prefix,
            &self.container,
            &parts.sig.ident.to_string(),
        );
        // Trait items have no visibility of their own: a default method is as visible as its
        // trait, and a trait impl's methods as the trait and type (reported as `pub`).
        let visibility = match (&self.container, parts.vis) {
            (Container::TraitImpl { .. }, _) => "pub".to_owned(),
            (Container::TraitDef { .. }, _) => self.trait_visibility.clone(),
            (_, Some(vis)) => visibility_display(vis),
            (_, None) => "private".to_owned(),
        };
        let self_type = match &self.container {
            Container::Inherent { type_name } | Container::TraitImpl { type_name, .. } => {
                Some(type_name.clone())
            }
            Container::TraitDef { trait_name } => Some(trait_name.clone()),
            Container::None => None,
        };
        // The function starts at its signature (after attributes and doc comments) and ends at
        // the body's closing brace. Its slot is taken now, so nested functions can name it.
        let signature = match parts.vis {
            Some(vis @ (Visibility::Public(_) | Visibility::Restricted(_))) => vis.span(),
            _ => crate::analyze::span::signature_start(parts.sig),
        };
        let index = self.output.functions.len();
        self.output.functions.push(RawFunction {
            path: path.clone(),
            visibility,
            offset: signature.byte_range().start,
            line: signature.start().line as u32,
            end_line: parts.block.brace_token.span.close().end().line as u32,
            sites: Vec::new(),
            calls: Vec::new(),
            params: param_names(parts.sig),
            parent: self.fn_stack.last().map(|frame| frame.index),
            module: self.module_path.clone(),
        });
        let saved_prefix = std::mem::replace(&mut self.item_prefix, path.clone());
        let saved_container = std::mem::replace(&mut self.container, Container::None);
        self.fn_stack.push(FnFrame {
            index,
            constant: parts.sig.constness.is_some(),
            params: param_names(parts.sig),
            derived: HashMap::new(),
            sites: Vec::new(),
            self_type,
            calls: std::collections::BTreeSet::new(),
            shadowed: HashSet::new(),
            tail_positions: HashSet::new(),
        });

        if let Some((Stmt::Expr(last, None), frame)) =
            parts.block.stmts.last().zip(self.fn_stack.last_mut())
        {
            mark_tail_positions(last, &mut frame.tail_positions);
        }
        // Inside a function body rustc resolves `mod` paths without the non-mod-rs directory.
        let saved_dir = self.mod_dir.clone();
        self.mod_dir.relative = None;
        // Not `self.visit_block`: the body's bindings must outlive it for the tail below.
        visit::visit_block(self, parts.block);
        self.mod_dir = saved_dir;
        // The tail last, when the body's locals are bound: `t.len()` after `let t = input.trim()`.
        if let Some(tail) = tail_expr(parts.block, &parts.sig.output) {
            self.record_tail(tail);
        }

        let frame = self.fn_stack.pop().expect("pushed above");
        self.item_prefix = saved_prefix;
        self.container = saved_container;
        self.in_test = was_in_test;
        let function = &mut self.output.functions[index];
        function.sites = frame.sites;
        function.calls = frame.calls.into_iter().collect();
    }

    /// Record a site in the innermost function; sites outside any function body (consts,
    /// statics) are not sites.
    fn push_site(&mut self, site: SiteBuilder) {
        if self.fn_stack.is_empty() {
            return;
        }
        let start = site.token.start();
        let params = self
            .fn_stack
            .last()
            .map(|frame| frame.params_in(&site.mentions))
            .unwrap_or_default();
        let guard = site.guard_if_param && !params.is_empty();
        // Const evaluation may call no probe.
        let probe = site.probe.filter(|_| {
            self.const_depth == 0
                && self.macro_depth == 0
                && !self.fn_stack.last().is_some_and(|frame| frame.constant)
        });
        let raw = RawSite {
            kind: site.kind,
            offset: site.token.byte_range().start,
            line: start.line as u32,
            column: start.column as u32 + 1,
            end_line: site.end.end().line as u32,
            text: site.text,
            params,
            guard,
            has_else: site.has_else,
            sub_conditions: site.sub_conditions,
            arm_guard: site.arm_guard,
            outcome: site.outcome,
            via: site.via,
            probe,
        };
        if let Some(frame) = self.fn_stack.last_mut() {
            frame.sites.push(raw);
        }
    }

    /// Whether the `if`/`match` whose keyword is `token` gives the function's result.
    fn in_return_position(&self, token: Span) -> bool {
        self.fn_stack
            .last()
            .is_some_and(|f| f.tail_positions.contains(&token.byte_range().start))
    }

    /// The bindings of the innermost function, to restore when a scope ends.
    fn save_scope(&self) -> Option<Scope> {
        self.fn_stack
            .last()
            .map(|f| (f.derived.clone(), f.shadowed.clone()))
    }

    fn restore_scope(&mut self, saved: Option<Scope>) {
        if let (Some((derived, shadowed)), Some(frame)) = (saved, self.fn_stack.last_mut()) {
            frame.derived = derived;
            frame.shadowed = shadowed;
        }
    }

    fn record_tail(&mut self, tail: &Expr) {
        let mut site = SiteBuilder::new(
            SiteKind::Tail,
            first(tail),
            last(tail),
            self.expr_text(tail),
        );
        // A statement before a tail with attributes (`#[cfg(unix)] { .. }`) would take them.
        let attributed = crate::analyze::span::has_attributes(tail);
        if !attributed {
            site = site.probe(Splice::Statement(first(tail).byte_range().start));
        }
        self.push_site(site.mentions(idents_of_expr(tail)));
    }

    fn record_panic_macro(&mut self, mac: &syn::Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        let name = last.ident.to_string();
        if !is_panic_macro(&name) {
            return;
        }
        let end = mac.delimiter.span().close();
        let start = match &mac.path.leading_colon {
            Some(colon) => colon.spans[0],
            None => mac
                .path
                .segments
                .first()
                .map_or(last.ident.span(), |s| s.ident.span()),
        };
        let mut mentions = HashSet::new();
        idents_in_tokens(mac.tokens.clone(), &mut mentions);
        let site = SiteBuilder::new(
            SiteKind::Panic,
            last.ident.span(),
            end,
            self.slice(start, end),
        )
        .via(PanicVia::Macro)
        .mentions(mentions)
        // An assertion tests what it mentions and panics when that fails.
        .guard_if_param(name.contains("assert"))
        .probe(Splice::Wrap {
            start: start.byte_range().start,
            end: end.byte_range().end,
        });
        self.push_site(site);
    }

    /// `mod x;` to a file, or `mod x { ... }` inline.
    fn visit_module(&mut self, module: &syn::ItemMod) {
        let name = module.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
        let path_attr = path_attr(&module.attrs);
        let in_test = self.in_test || is_test_code(&module.attrs);
        match &module.content {
            Some((_, items)) => {
                let saved_prefix = self.item_prefix.clone();
                let saved_dir = self.mod_dir.clone();
                let saved_in_test = self.in_test;
                let saved_container = std::mem::replace(&mut self.container, Container::None);
                self.item_prefix = format!("{}::{name}", self.item_prefix);
                let saved_module =
                    std::mem::replace(&mut self.module_path, self.item_prefix.clone());
                self.mod_dir = self.mod_dir.inline_child(&name, path_attr.as_deref());
                self.output
                    .inline_dirs
                    .push((self.item_prefix.clone(), self.mod_dir.dir.clone()));
                self.in_test = in_test;
                for item in items {
                    self.visit_item(item);
                }
                self.item_prefix = saved_prefix;
                self.module_path = saved_module;
                self.mod_dir = saved_dir;
                self.in_test = saved_in_test;
                self.container = saved_container;
            }
            None => {
                let start = module.ident.span().start();
                // A plain `#[path]` always applies; `cfg_attr` paths apply under their cfg, and
                // where none holds the default file does: every alternative counts.
                let mut alternatives =
                    vec![self.mod_dir.file_candidates(&name, path_attr.as_deref())];
                if path_attr.is_none() {
                    alternatives.extend(
                        cfg_attr_paths(&module.attrs)
                            .iter()
                            .map(|path| self.mod_dir.file_candidates(&name, Some(path))),
                    );
                }
                self.output.child_modules.push(ChildModule {
                    alternatives,
                    module_prefix: format!("{}::{name}", self.item_prefix),
                    name,
                    in_test,
                    offset: module.mod_token.span.byte_range().start,
                    line: start.line as u32,
                    column: start.column as u32 + 1,
                });
            }
        }
    }

    /// Walk a const or static initializer: evaluated at compile time or once, its branches
    /// are no function's sites (functions defined inside it still are).
    fn outside_functions(&mut self, f: impl FnOnce(&mut Self)) {
        let saved = std::mem::take(&mut self.fn_stack);
        f(self);
        self.fn_stack = saved;
    }

    fn with_container(
        &mut self,
        container: Container,
        attrs: &[Attribute],
        f: impl FnOnce(&mut Self),
    ) {
        let saved = std::mem::replace(&mut self.container, container);
        let was_in_test = self.in_test;
        self.in_test |= is_test_code(attrs);
        f(self);
        self.in_test = was_in_test;
        self.container = saved;
    }
}

/// Parse the body of an item-position macro as items (`Item`, `ImplItem` or `TraitItem`), when
/// it is that. Leading inner attributes are allowed (`feature! { #![unix] mod symlink; }`).
fn parse_all<T: syn::parse::Parse>(tokens: TokenStream) -> Option<Vec<T>> {
    let parser = |input: ParseStream| {
        input.call(Attribute::parse_inner)?;
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse::<T>()?);
        }
        Ok(items)
    };
    parser.parse2(tokens).ok().filter(|items| !items.is_empty())
}

/// `cfg_if! { if #[cfg(a)] { items } else if #[cfg(b)] { items } else { items } }`: every
/// branch's items, with the branch's attributes.
fn parse_cfg_if(tokens: TokenStream) -> Option<Vec<(Vec<Attribute>, Vec<Item>)>> {
    fn braced_items(input: ParseStream) -> syn::Result<Vec<Item>> {
        let content;
        syn::braced!(content in input);
        let mut items = Vec::new();
        while !content.is_empty() {
            items.push(content.parse::<Item>()?);
        }
        Ok(items)
    }
    let parser = |input: ParseStream| {
        let mut branches = Vec::new();
        while !input.is_empty() {
            input.parse::<syn::Token![if]>()?;
            let attrs = input.call(Attribute::parse_outer)?;
            branches.push((attrs, braced_items(input)?));
            while input.peek(syn::Token![else]) {
                input.parse::<syn::Token![else]>()?;
                if input.peek(syn::Token![if]) {
                    input.parse::<syn::Token![if]>()?;
                    let attrs = input.call(Attribute::parse_outer)?;
                    branches.push((attrs, braced_items(input)?));
                } else {
                    branches.push((Vec::new(), braced_items(input)?));
                }
            }
        }
        Ok(branches)
    };
    parser.parse2(tokens).ok()
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        self.visit_module(module);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.visit_function(FnParts {
            attrs: &item.attrs,
            vis: Some(&item.vis),
            sig: &item.sig,
            block: &item.block,
        });
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.visit_function(FnParts {
            attrs: &item.attrs,
            vis: Some(&item.vis),
            sig: &item.sig,
            block: &item.block,
        });
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.visit_function(FnParts {
                attrs: &item.attrs,
                vis: None,
                sig: &item.sig,
                block,
            });
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let type_name = self_type_name(&item.self_ty);
        let container = match &item.trait_ {
            Some((trait_path, _)) => Container::TraitImpl {
                type_name,
                trait_name: trait_display(trait_path),
            },
            None => Container::Inherent { type_name },
        };
        self.with_container(container, &item.attrs, |this| {
            for impl_item in &item.items {
                this.visit_impl_item(impl_item);
            }
        });
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        let trait_name = item.ident.to_string();
        let container = Container::TraitDef {
            trait_name: trait_name
                .strip_prefix("r#")
                .unwrap_or(&trait_name)
                .to_owned(),
        };
        let saved_visibility =
            std::mem::replace(&mut self.trait_visibility, visibility_display(&item.vis));
        self.with_container(container, &item.attrs, |this| {
            for trait_item in &item.items {
                this.visit_trait_item(trait_item);
            }
        });
        self.trait_visibility = saved_visibility;
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        // `macro_rules! name { ... }` defines a macro; its body is not code, but a list
        // macro's expansions are (`impl_digits!(u8 i64)`).
        if let Some(name) = &item.ident {
            if item.mac.path.is_ident("macro_rules") {
                self.macros.define(&name.to_string(), &item.mac.tokens);
            }
            return;
        }
        if is_test_code(&item.attrs) && !self.include_tests {
            return;
        }
        if let Some(expanded) = self.macros.expand(&item.mac) {
            if let Some(items) = parse_all::<Item>(expanded) {
                self.macro_depth += 1;
                for inner in &items {
                    Visit::visit_item(self, inner);
                }
                self.macro_depth -= 1;
            }
            return;
        }
        let is_cfg_if = item
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "cfg_if");
        let branches = if is_cfg_if {
            parse_cfg_if(item.mac.tokens.clone())
        } else {
            parse_all::<Item>(item.mac.tokens.clone()).map(|items| vec![(Vec::new(), items)])
        };
        // `cfg_if!` hands its items to rustc as written; another macro may not.
        let opaque = usize::from(!is_cfg_if);
        self.macro_depth += opaque;
        for (attrs, items) in branches.unwrap_or_default() {
            // Every cfg branch counts, but a `cfg(test)` branch is test code.
            if is_test_code(&attrs) && !self.include_tests {
                continue;
            }
            for inner in &items {
                Visit::visit_item(self, inner);
            }
        }
        self.macro_depth -= opaque;
    }

    fn visit_impl_item_macro(&mut self, item: &'ast syn::ImplItemMacro) {
        if is_test_code(&item.attrs) && !self.include_tests {
            return;
        }
        if let Some(items) = parse_all::<ImplItem>(item.mac.tokens.clone()) {
            self.macro_depth += 1;
            for inner in &items {
                Visit::visit_impl_item(self, inner);
            }
            self.macro_depth -= 1;
        }
    }

    fn visit_trait_item_macro(&mut self, item: &'ast syn::TraitItemMacro) {
        if let Some(items) = parse_all::<TraitItem>(item.mac.tokens.clone()) {
            self.macro_depth += 1;
            for inner in &items {
                Visit::visit_trait_item(self, inner);
            }
            self.macro_depth -= 1;
        }
    }

    fn visit_expr_const(&mut self, expr: &'ast syn::ExprConst) {
        self.const_depth += 1;
        visit::visit_expr_const(self, expr);
        self.const_depth -= 1;
    }

    fn visit_expr_repeat(&mut self, expr: &'ast syn::ExprRepeat) {
        self.visit_expr(&expr.expr);
        self.const_depth += 1;
        self.visit_expr(&expr.len);
        self.const_depth -= 1;
    }

    // Expressions inside types (array lengths) and const generic arguments are evaluated at
    // compile time.
    fn visit_type(&mut self, ty: &'ast syn::Type) {
        self.const_depth += 1;
        visit::visit_type(self, ty);
        self.const_depth -= 1;
    }

    fn visit_generic_argument(&mut self, argument: &'ast syn::GenericArgument) {
        self.const_depth += 1;
        visit::visit_generic_argument(self, argument);
        self.const_depth -= 1;
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        if is_test_code(&item.attrs) && !self.include_tests {
            return;
        }
        self.outside_functions(|this| visit::visit_item_const(this, item));
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        if is_test_code(&item.attrs) && !self.include_tests {
            return;
        }
        self.outside_functions(|this| visit::visit_item_static(this, item));
    }

    fn visit_impl_item_const(&mut self, item: &'ast syn::ImplItemConst) {
        self.outside_functions(|this| visit::visit_impl_item_const(this, item));
    }

    fn visit_trait_item_const(&mut self, item: &'ast syn::TraitItemConst) {
        self.outside_functions(|this| visit::visit_trait_item_const(this, item));
    }

    fn visit_expr_if(&mut self, expr: &'ast ExprIf) {
        let cond = &expr.cond;
        let leaves = condition_leaves(cond);
        let sub_conditions = if leaves.len() > 1 {
            leaves.iter().map(|leaf| self.expr_text(leaf)).collect()
        } else {
            Vec::new()
        };
        let returns_value = self.in_return_position(expr.if_token.span);
        let exit =
            block_exit(&expr.then_branch, returns_value).or_else(|| match &expr.else_branch {
                Some((_, else_expr)) if !matches!(**else_expr, Expr::If(_)) => {
                    expr_exit(else_expr, returns_value)
                }
                _ => None,
            });
        let end = match &expr.else_branch {
            Some((_, else_expr)) => last(else_expr),
            None => expr.then_branch.brace_token.span.close(),
        };
        let mut site =
            SiteBuilder::new(SiteKind::If, expr.if_token.span, end, self.expr_text(cond))
                .mentions(idents_of_expr(cond))
                .guard_if_param(exit.is_some())
                .probe(Splice::Statement(after_brace(&expr.then_branch)));
        site.outcome = exit.map(|(first, last)| self.slice(first, last));
        site.has_else = Some(expr.else_branch.is_some());
        site.sub_conditions = Some(sub_conditions);
        self.push_site(site);
        visit::visit_expr_if(self, expr);
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        let returns_value = self.in_return_position(expr.match_token.span);
        for arm in &expr.arms {
            let (pattern, guard) = match &arm.pat {
                Pat::Guard(guarded) => (&*guarded.pat, Some(&*guarded.guard)),
                other => (other, None),
            };
            let mut tested = idents_of_expr(&expr.expr);
            if let Some(guard) = guard {
                tested.extend(idents_of_expr(guard));
            }
            let pattern_span = pattern.span();
            let end = arm
                .comma
                .map_or_else(|| last(&arm.body), |comma| comma.spans[0]);
            let exit = expr_exit(&arm.body, returns_value);
            let probe = match &*arm.body {
                Expr::Block(body) if body.label.is_none() => {
                    Splice::Statement(after_brace(&body.block))
                }
                body => wrap(body),
            };
            let mut site = SiteBuilder::new(
                SiteKind::MatchArm,
                pattern_span,
                end,
                self.slice(pattern_span, pattern_span),
            )
            .mentions(tested)
            .guard_if_param(exit.is_some())
            .probe(probe);
            site.arm_guard = guard.map(|g| self.expr_text(g));
            site.outcome = exit.map(|(first, last)| self.slice(first, last));
            self.push_site(site);
        }
        visit::visit_expr_match(self, expr);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init
            && init.diverge.is_some()
        {
            let tested = idents_of_expr(&init.expr);
            // The `else` of a let-else must diverge: the site exits early by construction.
            let mut site = SiteBuilder::new(
                SiteKind::LetElse,
                local.let_token.span,
                local.semi_token.spans[0],
                self.node_text(&local.pat),
            )
            .mentions(tested)
            .guard_if_param(true);
            if let Some((_, else_expr)) = &init.diverge
                && let Expr::Block(block) = &**else_expr
            {
                site = site.probe(Splice::Statement(after_brace(&block.block)));
            }
            site.outcome = init
                .diverge
                .as_ref()
                .and_then(|(_, else_expr)| expr_exit(else_expr, false))
                .map(|(first, last)| self.slice(first, last));
            self.push_site(site);
        }
        visit::visit_local(self, local);
        if let (Some(init), Some(frame)) = (&local.init, self.fn_stack.last_mut()) {
            frame.bind(&local.pat, &init.expr);
        }
    }

    fn visit_expr_while(&mut self, expr: &'ast syn::ExprWhile) {
        let leaves = condition_leaves(&expr.cond);
        let mut site = SiteBuilder::new(
            SiteKind::Loop,
            expr.while_token.span,
            expr.body.brace_token.span.close(),
            self.expr_text(&expr.cond),
        )
        .mentions(idents_of_expr(&expr.cond))
        .probe(Splice::Statement(after_brace(&expr.body)));
        site.sub_conditions = Some(if leaves.len() > 1 {
            leaves.iter().map(|leaf| self.expr_text(leaf)).collect()
        } else {
            Vec::new()
        });
        self.push_site(site);
        visit::visit_expr_while(self, expr);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast syn::ExprForLoop) {
        let mut site = SiteBuilder::new(
            SiteKind::Loop,
            expr.for_token.span,
            expr.body.brace_token.span.close(),
            self.expr_text(&expr.expr),
        )
        .mentions(idents_of_expr(&expr.expr))
        .probe(Splice::Statement(after_brace(&expr.body)));
        site.sub_conditions = Some(Vec::new());
        self.push_site(site);
        let saved = self.save_scope();
        if let Some(frame) = self.fn_stack.last_mut() {
            frame.bind(&expr.pat, &expr.expr);
        }
        visit::visit_expr_for_loop(self, expr);
        self.restore_scope(saved);
    }

    fn visit_block(&mut self, block: &'ast Block) {
        let saved = self.save_scope();
        visit::visit_block(self, block);
        self.restore_scope(saved);
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        let saved = self.save_scope();
        if let Some(frame) = self.fn_stack.last_mut() {
            for input in &closure.inputs {
                frame.unbind(input);
            }
        }
        visit::visit_expr_closure(self, closure);
        self.restore_scope(saved);
    }

    fn visit_expr_loop(&mut self, expr: &'ast syn::ExprLoop) {
        let mut site = SiteBuilder::new(
            SiteKind::Loop,
            expr.loop_token.span,
            expr.body.brace_token.span.close(),
            "loop".to_owned(),
        )
        .probe(Splice::Statement(after_brace(&expr.body)));
        site.sub_conditions = Some(Vec::new());
        self.push_site(site);
        visit::visit_expr_loop(self, expr);
    }

    fn visit_expr_try(&mut self, expr: &'ast syn::ExprTry) {
        let site = SiteBuilder::new(
            SiteKind::Try,
            expr.question_token.spans[0],
            expr.question_token.spans[0],
            self.expr_text(&expr.expr),
        )
        .mentions(idents_of_expr(&expr.expr))
        .guard_if_param(true)
        .probe(pass(&expr.expr, true));
        self.push_site(site);
        visit::visit_expr_try(self, expr);
    }

    fn visit_expr_return(&mut self, expr: &'ast syn::ExprReturn) {
        let text = expr
            .expr
            .as_deref()
            .map(|e| self.expr_text(e))
            .unwrap_or_default();
        let mentions = expr.expr.as_deref().map(idents_of_expr).unwrap_or_default();
        let end = expr.expr.as_deref().map_or(expr.return_token.span, last);
        let site = SiteBuilder::new(SiteKind::Return, expr.return_token.span, end, text)
            .mentions(mentions)
            .probe(Splice::Wrap {
                start: expr.return_token.span.byte_range().start,
                end: end.byte_range().end,
            });
        self.push_site(site);
        visit::visit_expr_return(self, expr);
    }

    fn visit_expr_macro(&mut self, expr: &'ast syn::ExprMacro) {
        self.record_panic_macro(&expr.mac);
        // Macro bodies are token soup: their insides are not analyzed.
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast syn::StmtMacro) {
        self.record_panic_macro(&stmt.mac);
    }

    fn visit_expr_call(&mut self, expr: &'ast syn::ExprCall) {
        if let Expr::Path(path) = &*expr.func
            && path.qself.is_none()
            && let Some(frame) = self.fn_stack.last_mut()
        {
            let mut segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segments.first().is_some_and(|s| s == "Self")
                && let Some(self_type) = &frame.self_type
            {
                segments[0] = self_type.clone();
            }
            // Tuple structs and enum variants (`Some(x)`, `Amount(c)`) are not calls of code.
            let last_is_function = segments
                .last()
                .is_some_and(|s| !s.starts_with(char::is_uppercase));
            if last_is_function {
                frame.calls.insert(segments.join("::"));
            }
        }
        visit::visit_expr_call(self, expr);
    }

    fn visit_expr_method_call(&mut self, expr: &'ast syn::ExprMethodCall) {
        if let Some(frame) = self.fn_stack.last_mut() {
            let on_self = matches!(&*expr.receiver, Expr::Path(p) if p.path.is_ident("self"));
            match (&frame.self_type, on_self) {
                (Some(self_type), true) => {
                    frame.calls.insert(format!("{self_type}::{}", expr.method))
                }
                // Any other receiver: only the method's name is known (`.decode`).
                _ => frame.calls.insert(format!(".{}", expr.method)),
            };
        }
        let via = match (expr.method.to_string().as_str(), expr.args.len()) {
            ("unwrap" | "unwrap_err", 0) => Some(PanicVia::Unwrap),
            ("expect" | "expect_err", 1) => Some(PanicVia::Expect),
            _ => None,
        };
        if let Some(via) = via {
            let end = expr.paren_token.span.close();
            let site = SiteBuilder::new(
                SiteKind::Panic,
                expr.method.span(),
                end,
                self.slice(first(&expr.receiver), end),
            )
            .via(via)
            .mentions(idents_of_expr(&expr.receiver))
            .guard_if_param(true)
            // The whole call, not the receiver: a receiver taken out of its place would be
            // copied or moved where the method borrows it.
            .probe(Splice::Pass {
                start: first(&expr.receiver).byte_range().start,
                end: end.byte_range().end,
                breaks: false,
            });
            self.push_site(site);
        }
        visit::visit_expr_method_call(self, expr);
    }

    fn visit_expr_index(&mut self, expr: &'ast syn::ExprIndex) {
        let mut mentions = idents_of_expr(&expr.expr);
        mentions.extend(idents_of_expr(&expr.index));
        let end = expr.bracket_token.span.close();
        let site = SiteBuilder::new(
            SiteKind::Panic,
            expr.bracket_token.span.open(),
            end,
            self.slice(first(&expr.expr), end),
        )
        .via(PanicVia::Index)
        .mentions(mentions)
        .probe(wrap(&expr.index));
        self.push_site(site);
        visit::visit_expr_index(self, expr);
    }

    fn visit_expr_binary(&mut self, expr: &'ast syn::ExprBinary) {
        let divides = matches!(
            expr.op,
            BinOp::Div(_) | BinOp::Rem(_) | BinOp::DivAssign(_) | BinOp::RemAssign(_)
        );
        if divides && !is_literal(&expr.right) {
            let end = last(&expr.right);
            let site = SiteBuilder::new(
                SiteKind::Panic,
                expr.op.span(),
                end,
                self.slice(first(&expr.left), end),
            )
            .via(PanicVia::Division)
            .mentions(idents_of_expr(&expr.right))
            .probe(wrap(&expr.right));
            self.push_site(site);
        }
        visit::visit_expr_binary(self, expr);
    }
}

/// A site under construction: its own token, its last token, and what it mentions.
struct SiteBuilder {
    kind: SiteKind,
    token: Span,
    end: Span,
    text: String,
    mentions: HashSet<String>,
    guard_if_param: bool,
    has_else: Option<bool>,
    sub_conditions: Option<Vec<String>>,
    arm_guard: Option<String>,
    outcome: Option<String>,
    via: Option<PanicVia>,
    probe: Option<Splice>,
}

impl SiteBuilder {
    fn new(kind: SiteKind, token: Span, end: Span, text: String) -> SiteBuilder {
        SiteBuilder {
            kind,
            token,
            end,
            text,
            mentions: HashSet::new(),
            guard_if_param: false,
            has_else: None,
            sub_conditions: None,
            arm_guard: None,
            outcome: None,
            via: None,
            probe: None,
        }
    }

    fn probe(mut self, splice: Splice) -> SiteBuilder {
        self.probe = Some(splice);
        self
    }

    fn mentions(mut self, idents: HashSet<String>) -> SiteBuilder {
        self.mentions = idents;
        self
    }

    /// The site exits early; it is a guard if what it tests mentions a parameter.
    fn guard_if_param(mut self, exits: bool) -> SiteBuilder {
        self.guard_if_param = exits;
        self
    }

    fn via(mut self, via: PanicVia) -> SiteBuilder {
        self.via = Some(via);
        self
    }
}

/// Just inside `block`'s opening brace: where a statement run on entering it goes.
fn after_brace(block: &Block) -> usize {
    block.brace_token.span.open().byte_range().end
}

/// `{ probe; EXPR }` around `expr`.
fn wrap(expr: &Expr) -> Splice {
    Splice::Wrap {
        start: first(expr).byte_range().start,
        end: last(expr).byte_range().end,
    }
}

/// `probe_fn(N, EXPR)` around `expr`.
fn pass(expr: &Expr, breaks: bool) -> Splice {
    Splice::Pass {
        start: first(expr).byte_range().start,
        end: last(expr).byte_range().end,
        breaks,
    }
}

/// Macros that panic (or, for `bail!`, return an error) when reached.
fn is_panic_macro(name: &str) -> bool {
    matches!(
        name,
        "panic"
            | "unreachable"
            | "todo"
            | "unimplemented"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
    )
}

/// Where evaluating the expression leaves the function, if it does: a `return`, a panic or
/// `bail!` macro, or, where the expression is the function's result (`in_return_position`), an
/// `Err(..)` value. As (first, last) spans.
fn expr_exit(expr: &Expr, in_return_position: bool) -> Option<(Span, Span)> {
    match expr {
        Expr::Return(ret) => Some(match ret.expr.as_deref() {
            Some(value) => (first(value), last(value)),
            None => (ret.return_token.span, ret.return_token.span),
        }),
        Expr::Macro(mac) if is_exit_macro(&mac.mac) => Some((first(expr), last(expr))),
        Expr::Call(call)
            if in_return_position
                && matches!(&*call.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Err")) =>
        {
            Some((first(expr), last(expr)))
        }
        Expr::Call(call)
            if matches!(&*call.func, Expr::Path(p) if {
                let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                segments.ends_with(&["process".to_owned(), "exit".to_owned()])
                    || segments.ends_with(&["process".to_owned(), "abort".to_owned()])
            }) =>
        {
            Some((first(expr), last(expr)))
        }
        Expr::Block(block) => block_exit(&block.block, in_return_position),
        Expr::Unsafe(block) => block_exit(&block.block, in_return_position),
        Expr::Paren(inner) => expr_exit(&inner.expr, in_return_position),
        Expr::Group(inner) => expr_exit(&inner.expr, in_return_position),
        _ => None,
    }
}

/// Where a block leaves the function, if it does: on any straight-line statement that
/// returns or panics, or through its final value when that is the function's result.
fn block_exit(block: &Block, in_return_position: bool) -> Option<(Span, Span)> {
    let count = block.stmts.len();
    block
        .stmts
        .iter()
        .enumerate()
        .find_map(|(index, stmt)| match stmt {
            Stmt::Expr(expr, semi) => {
                let is_value = index + 1 == count && semi.is_none();
                expr_exit(expr, in_return_position && is_value)
            }
            Stmt::Macro(stmt) if is_exit_macro(&stmt.mac) => {
                let start = stmt
                    .mac
                    .path
                    .segments
                    .first()
                    .map_or(stmt.mac.bang_token.spans[0], |s| s.ident.span());
                Some((start, stmt.mac.delimiter.span().close()))
            }
            _ => None,
        })
}

/// Record the `if` and `match` expressions whose value is the function's result: the tail,
/// through `else` chains, arms and block values.
fn mark_tail_positions(expr: &Expr, positions: &mut HashSet<usize>) {
    match expr {
        Expr::If(if_expr) => {
            positions.insert(if_expr.if_token.span.byte_range().start);
            mark_block_value(&if_expr.then_branch, positions);
            if let Some((_, else_expr)) = &if_expr.else_branch {
                mark_tail_positions(else_expr, positions);
            }
        }
        Expr::Match(match_expr) => {
            positions.insert(match_expr.match_token.span.byte_range().start);
            for arm in &match_expr.arms {
                mark_tail_positions(&arm.body, positions);
            }
        }
        Expr::Block(block) => mark_block_value(&block.block, positions),
        Expr::Unsafe(block) => mark_block_value(&block.block, positions),
        Expr::Paren(inner) => mark_tail_positions(&inner.expr, positions),
        Expr::Group(inner) => mark_tail_positions(&inner.expr, positions),
        _ => {}
    }
}

fn mark_block_value(block: &Block, positions: &mut HashSet<usize>) {
    if let Some(Stmt::Expr(value, None)) = block.stmts.last() {
        mark_tail_positions(value, positions);
    }
}

/// `panic!`-like macros (not assertions, which are conditional) and `bail!`.
fn is_exit_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| {
        let name = s.ident.to_string();
        (is_panic_macro(&name) && !name.contains("assert")) || name == "bail"
    })
}

/// The operands of the top-level `&&`/`||` chain of a condition (through no parentheses).
fn condition_leaves(cond: &Expr) -> Vec<&Expr> {
    let mut leaves = Vec::new();
    collect_leaves(cond, &mut leaves);
    leaves
}

fn collect_leaves<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_) | BinOp::Or(_)) => {
            collect_leaves(&binary.left, out);
            collect_leaves(&binary.right, out);
        }
        other => out.push(other),
    }
}

fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(_) => true,
        Expr::Paren(inner) => is_literal(&inner.expr),
        Expr::Group(inner) => is_literal(&inner.expr),
        _ => false,
    }
}

/// The function body's tail expression, when it is one in the user's sense: a value-returning
/// function's last expression, or any trailing expression that is not a block-like statement.
fn tail_expr<'b>(block: &'b Block, output: &ReturnType) -> Option<&'b Expr> {
    let Some(Stmt::Expr(expr, None)) = block.stmts.last() else {
        return None;
    };
    let returns_value = match output {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => !matches!(&**ty, syn::Type::Tuple(t) if t.elems.is_empty()),
    };
    let block_like = matches!(
        expr,
        Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::ForLoop(_)
            | Expr::While(_)
            | Expr::Block(_)
            | Expr::Unsafe(_)
    );
    (returns_value || !block_like).then_some(expr)
}

/// Parameter names in declaration order: `self` for a receiver, every binding of a pattern.
fn param_names(sig: &Signature) -> Vec<String> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(_) => names.push("self".to_owned()),
            FnArg::Typed(typed) => pattern_bindings(&typed.pat, &mut names),
        }
    }
    names
}

fn pattern_bindings(pat: &Pat, out: &mut Vec<String>) {
    struct Bindings<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for Bindings<'_> {
        fn visit_pat_ident(&mut self, ident: &'ast syn::PatIdent) {
            let name = ident.ident.to_string();
            self.0
                .push(name.strip_prefix("r#").unwrap_or(&name).to_owned());
            visit::visit_pat_ident(self, ident);
        }
    }
    Bindings(out).visit_pat(pat);
}

/// Every identifier an expression mentions, macro arguments included, found by walking the
/// syntax tree (building its token stream would copy the whole subtree).
fn idents_of_expr(expr: &Expr) -> HashSet<String> {
    let mut collector = IdentCollector::default();
    collector.visit_expr(expr);
    collector.0
}

/// Collects the variables an expression uses: single-segment paths (`input`, `self`) and every
/// identifier in macro arguments. Method and field names, multi-segment paths, types and the
/// names patterns bind are not uses.
#[derive(Default)]
struct IdentCollector(HashSet<String>);

impl<'ast> Visit<'ast> for IdentCollector {
    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        if expr.qself.is_none()
            && let Some(ident) = expr.path.get_ident()
        {
            let name = ident.to_string();
            self.0
                .insert(name.strip_prefix("r#").map(str::to_owned).unwrap_or(name));
        }
    }

    fn visit_expr_method_call(&mut self, expr: &'ast syn::ExprMethodCall) {
        self.visit_expr(&expr.receiver);
        for arg in &expr.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_field(&mut self, expr: &'ast syn::ExprField) {
        self.visit_expr(&expr.base);
    }

    fn visit_field_value(&mut self, field: &'ast syn::FieldValue) {
        self.visit_expr(&field.expr);
    }

    fn visit_pat(&mut self, _: &'ast Pat) {}

    fn visit_type(&mut self, _: &'ast syn::Type) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        idents_in_tokens(mac.tokens.clone(), &mut self.0);
    }
}

/// Every identifier in a token stream, through groups.
fn idents_in_tokens(tokens: TokenStream, out: &mut HashSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                out.insert(name.strip_prefix("r#").map(str::to_owned).unwrap_or(name));
            }
            TokenTree::Group(group) => idents_in_tokens(group.stream(), out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::path::PathBuf;

    fn visit(source: &str) -> FileOutput {
        let file = syn::parse_file(source).unwrap();
        let context = FileContext {
            module_prefix: "c".into(),
            mod_dir: ModDir {
                dir: PathBuf::from("src"),
                relative: None,
            },
            in_test: false,
            include_tests: false,
        };
        let output = visit_file(&file, source, &context);
        proc_macro2::extra::invalidate_current_thread_spans();
        output
    }

    /// `(kind, text, guard)` of each site of the one function `path`, in source order.
    fn sites(output: &FileOutput, path: &str) -> Vec<(SiteKind, String, bool)> {
        let function = output
            .functions
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| {
                panic!(
                    "no {path} in {:?}",
                    output.functions.iter().map(|f| &f.path).collect::<Vec<_>>()
                )
            });
        let mut sites = function.sites.clone();
        sites.sort_by_key(|s| s.offset);
        sites
            .into_iter()
            .map(|s| (s.kind, s.text, s.guard))
            .collect()
    }

    /// Each site of `path` with the text its probe splice covers (`None`: no probe).
    fn probes(output: &FileOutput, source: &str, path: &str) -> Vec<(SiteKind, Option<String>)> {
        let function = output.functions.iter().find(|f| f.path == path).unwrap();
        let mut sites = function.sites.clone();
        sites.sort_by_key(|s| s.offset);
        sites
            .into_iter()
            .map(|s| {
                let covered = s.probe.map(|splice| match splice {
                    Splice::Statement(at) => format!("@{}", &source[at..].trim_start()[..4]),
                    Splice::Wrap { start, end } | Splice::Pass { start, end, .. } => {
                        source[start..end].to_owned()
                    }
                });
                (s.kind, covered)
            })
            .collect()
    }

    #[test]
    fn each_site_says_where_its_probe_goes_and_const_code_gets_none() {
        let source = "fn f(x: Option<u8>, n: u8) -> Result<u8, ()> {\n\
                      let a = [0u8; 8 / M];\n\
                      let v = x.ok_or(())?;\n\
                      match v { 0 => return Ok(a[n as usize]), _ => {} }\n\
                      Ok(v / n)\n}\n\
                      const fn c(x: u8) -> u8 { if x > 1 { 1 } else { x / x } }\n\
                      macro_rules! each { ($($t:ty)*) => { $(impl T for $t { fn g(&self) -> u8 { if true { 1 } else { 2 } } })* } }\n\
                      each!(u8 u16);\n";
        let output = visit(source);
        assert_eq!(
            probes(&output, source, "c::f"),
            [
                // An array length is a const context.
                (SiteKind::Panic, None),
                (SiteKind::Try, Some("x.ok_or(())".into())),
                (SiteKind::MatchArm, Some("return Ok(a[n as usize])".into())),
                (SiteKind::Return, Some("return Ok(a[n as usize])".into())),
                (SiteKind::Panic, Some("n as usize".into())),
                (SiteKind::MatchArm, Some("@} }\n".into())),
                (SiteKind::Tail, Some("@Ok(v".into())),
                (SiteKind::Panic, Some("n".into())),
            ]
        );
        // A const fn is evaluated at compile time: no probe on any of its sites.
        assert!(
            probes(&output, source, "c::c")
                .iter()
                .all(|(_, p)| p.is_none())
        );
        // A list macro's expansions share the definition's text: no probe either.
        let expanded: Vec<_> = output
            .functions
            .iter()
            .filter(|f| f.path.ends_with("::g"))
            .flat_map(|f| &f.sites)
            .collect();
        assert!(!expanded.is_empty());
        assert!(expanded.iter().all(|s| s.probe.is_none()));
    }

    #[test]
    fn early_return_on_a_parameter_is_a_guard_and_a_local_test_is_not() {
        let output = visit(
            "fn f(n: u32) -> u32 { let k = 3; if k > 2 { return 0; } if n == 0 { return 1; } n }",
        );
        let guards: Vec<(String, bool)> = sites(&output, "c::f")
            .into_iter()
            .filter(|s| s.0 == SiteKind::If)
            .map(|s| (s.1, s.2))
            .collect();
        assert_eq!(guards, [("k > 2".into(), false), ("n == 0".into(), true)]);
    }

    #[test]
    fn a_local_bound_from_a_parameter_carries_the_parameter() {
        let output = visit(
            "fn f(input: &str) -> Result<(), ()> { let text = input.trim(); if text.is_empty() { return Err(()); } Ok(()) }",
        );
        let function = &output.functions[0];
        let if_site = function
            .sites
            .iter()
            .find(|s| s.kind == SiteKind::If)
            .unwrap();
        assert_eq!(if_site.params, ["input"]);
        assert!(if_site.guard);
    }

    #[test]
    fn rebinding_from_a_constant_forgets_the_parameter() {
        let output = visit("fn f(x: u8) { let y = x; let y = 5; if y > 1 { panic!() } }");
        let if_site = output.functions[0]
            .sites
            .iter()
            .find(|s| s.kind == SiteKind::If)
            .unwrap();
        assert!(if_site.params.is_empty());
        assert!(!if_site.guard);
    }

    #[test]
    fn tail_of_a_unit_function_ending_in_a_block_is_not_a_return_path() {
        let output = visit(
            "fn f(x: bool) { if x { g() } } fn h() -> u8 { if true { 1 } else { 2 } } fn k() { g() }",
        );
        assert!(!sites(&output, "c::f").iter().any(|s| s.0 == SiteKind::Tail));
        assert!(sites(&output, "c::h").iter().any(|s| s.0 == SiteKind::Tail));
        assert!(sites(&output, "c::k").iter().any(|s| s.0 == SiteKind::Tail));
    }

    #[test]
    fn division_by_a_literal_is_not_a_panic_site_but_by_a_variable_is() {
        let output = visit("fn f(a: u32, b: u32) -> u32 { a / 2 + a % (3) + a / b + a / -1 }");
        let divisions: Vec<String> = sites(&output, "c::f")
            .into_iter()
            .filter(|s| s.0 == SiteKind::Panic)
            .map(|s| s.1)
            .collect();
        assert_eq!(divisions, ["a / b", "a / -1"]);
    }

    #[test]
    fn const_and_static_initializers_are_no_functions_sites() {
        let output = visit(
            "fn f() -> usize { const N: usize = if cfg!(x) { 1 } else { 2 }; N }
             const _: () = { impl S { fn g(&self, v: &[u8]) -> u8 { v[0] } } };",
        );
        assert!(!sites(&output, "c::f").iter().any(|s| s.0 == SiteKind::If));
        assert_eq!(sites(&output, "c::S::g")[1].0, SiteKind::Panic);
    }

    #[test]
    fn inline_modules_record_the_directory_of_their_files() {
        let output = visit("mod net { mod v4 { fn f() {} } } #[path = \"elsewhere\"] mod odd {}");
        let dirs: Vec<(&str, PathBuf)> = output
            .inline_dirs
            .iter()
            .map(|(m, d)| (m.as_str(), d.clone()))
            .collect();
        assert_eq!(
            dirs,
            [
                ("c::net", PathBuf::from("src/net")),
                ("c::net::v4", PathBuf::from("src/net/v4")),
                ("c::odd", PathBuf::from("src/elsewhere")),
            ]
        );
    }

    #[test]
    fn item_macro_bodies_are_walked_and_macro_rules_bodies_are_not() {
        let output = visit(
            "cfg_rt! { #![doc = \"x\"] pub fn spawned(x: u8) -> u8 { x.checked_add(1).unwrap() } mod child; }
             macro_rules! m { () => { fn not_code() {} } }",
        );
        assert_eq!(output.functions.len(), 1);
        assert_eq!(output.functions[0].path, "c::spawned");
        assert_eq!(output.child_modules[0].name, "child");
    }

    #[test]
    fn cfg_if_branches_are_all_walked_except_test_ones() {
        let output = visit(
            "cfg_if::cfg_if! {
                if #[cfg(unix)] { mod unix; pub fn a() {} }
                else if #[cfg(test)] { fn t() {} }
                else { mod other; pub fn a() {} }
            }",
        );
        let paths: Vec<&str> = output.functions.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["c::a", "c::a"]);
        let mods: Vec<&str> = output
            .child_modules
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(mods, ["unix", "other"]);
    }

    #[test]
    fn shadowed_parameters_are_not_tested_and_scopes_end() {
        let output = visit(
            "fn f(x: u8, v: u8) -> u8 { { let x = 5; if x > 1 { return 0; } } for v in 0..3 { if v == 1 { return 1; } } if x == 2 { return 2; } v }",
        );
        let guards: Vec<(String, bool)> = output.functions[0]
            .sites
            .iter()
            .filter(|s| s.kind == SiteKind::If)
            .map(|s| (s.text.clone(), s.guard))
            .collect();
        assert_eq!(
            guards,
            [
                ("x > 1".to_owned(), false),
                ("v == 1".to_owned(), false),
                ("x == 2".to_owned(), true)
            ]
        );
    }

    #[test]
    fn method_and_field_names_are_not_parameter_mentions() {
        let output = visit(
            "fn f(input: &str, parse: bool, len: usize) -> u8 { if input.parse::<u8>().is_err() || input.len > 3 { return 0; } 1 }",
        );
        assert_eq!(output.functions[0].sites[0].params, ["input"]);
    }

    #[test]
    fn an_err_value_is_an_exit_only_in_return_position() {
        let output = visit(
            "fn f(x: u8) -> Result<u8, u8> { let r = if x == 0 { Err(1) } else { Ok(2) }; if x == 1 { Err(3) } else { r } }",
        );
        let guards: Vec<bool> = output.functions[0]
            .sites
            .iter()
            .filter(|s| s.kind == SiteKind::If)
            .map(|s| s.guard)
            .collect();
        let mut sites = output.functions[0].sites.clone();
        sites.sort_by_key(|s| s.offset);
        assert_eq!(guards.len(), 2);
        let by_text: Vec<(String, bool)> = sites
            .iter()
            .filter(|s| s.kind == SiteKind::If)
            .map(|s| (s.text.clone(), s.guard))
            .collect();
        assert_eq!(
            by_text,
            [("x == 0".to_owned(), false), ("x == 1".to_owned(), true)]
        );
    }

    #[test]
    fn tail_params_follow_locals_bound_in_the_body() {
        let output = visit("fn f(input: &str) -> usize { let t = input.trim(); t.len() }");
        let tail = output.functions[0]
            .sites
            .iter()
            .find(|s| s.kind == SiteKind::Tail)
            .unwrap();
        assert_eq!(tail.params, ["input"]);
    }

    #[test]
    fn nested_trait_does_not_leak_its_visibility() {
        let output =
            visit("pub trait A { fn x(&self) { trait B { fn y(&self) {} } } fn z(&self) {} }");
        let z = output
            .functions
            .iter()
            .find(|f| f.path == "c::A::z")
            .unwrap();
        assert_eq!(z.visibility, "pub");
    }

    #[test]
    fn exit_and_abort_leave_the_function() {
        let output = visit("fn f(x: u8) { if x == 2 { std::process::exit(1) } }");
        assert!(output.functions[0].sites[0].guard);
    }

    #[test]
    fn test_and_bench_functions_and_cfg_test_modules_are_skipped() {
        let output = visit(
            "#[test] fn t() {} #[divan::bench] fn b() {} #[cfg(test)] mod tests { fn helper() {} }
             #[cfg(not(test))] fn kept() {} #[cfg(test)] mod file_tests;",
        );
        let paths: Vec<&str> = output.functions.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["c::kept"]);
        assert!(output.child_modules[0].in_test);
    }

    #[test]
    fn panic_macros_unwrap_expect_and_indexing_are_panic_sites_with_their_via() {
        let output = visit(
            "fn f(v: Vec<u8>, o: Option<u8>) -> u8 { assert!(!v.is_empty()); std::unreachable!(); o.unwrap(); o.expect(\"x\"); println!(\"{}\", v[9]); v[1] }",
        );
        let function = &output.functions[0];
        let mut vias: Vec<(String, Option<PanicVia>)> = function
            .sites
            .iter()
            .filter(|s| s.kind == SiteKind::Panic)
            .map(|s| (s.text.clone(), s.via))
            .collect();
        vias.sort();
        assert_eq!(
            vias,
            [
                ("assert!(!v.is_empty())".to_owned(), Some(PanicVia::Macro)),
                ("o.expect(\"x\")".to_owned(), Some(PanicVia::Expect)),
                ("o.unwrap()".to_owned(), Some(PanicVia::Unwrap)),
                ("std::unreachable!()".to_owned(), Some(PanicVia::Macro)),
                ("v[1]".to_owned(), Some(PanicVia::Index)),
            ]
        );
    }

    #[test]
    fn match_arm_guard_and_exit_make_a_guard() {
        let output = visit(
            "fn f(x: Option<u8>) -> Result<u8, ()> { match x { Some(v) if v > 3 => Ok(v), Some(_) => Err(()), None => return Err(()) } }",
        );
        let arms: Vec<(String, bool, Option<String>)> = output.functions[0]
            .sites
            .iter()
            .filter(|s| s.kind == SiteKind::MatchArm)
            .map(|s| (s.text.clone(), s.guard, s.arm_guard.clone()))
            .collect();
        assert_eq!(
            arms,
            [
                ("Some(v)".to_owned(), false, Some("v > 3".to_owned())),
                ("Some(_)".to_owned(), true, None),
                ("None".to_owned(), true, None),
            ]
        );
    }

    #[test]
    fn positions_are_one_based_and_columns_count_characters() {
        let output =
            visit("fn f(s: &str) -> u8 {\n    let é = 1; if s.is_empty() { 0 } else { é }\n}");
        let if_site = output.functions[0]
            .sites
            .iter()
            .find(|s| s.kind == SiteKind::If)
            .unwrap();
        assert_eq!((if_site.line, if_site.column), (2, 16));
    }
}
