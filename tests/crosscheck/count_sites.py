#!/usr/bin/env python3
"""Independent count of `if`, `match_arm`, `try` and `return` sites, to check `analyze` against.

The count uses tree-sitter-rust, a parser that shares no code with syn, and DESIGN.md's rules:
sites inside function bodies only (not in const or static initializers); `#[cfg(test)]` and `#[test]` code skipped; macro arguments
not looked into, except item-position macros whose bodies parse as items.

Usage:
    pip install tree-sitter tree-sitter-rust
    python3 tests/crosscheck/count_sites.py CRATE_DIR [CRATE_DIR ...]

For each crate it runs `cargo-dualtrack analyze --format json` (the binary from
`target/release` or `target/debug`, or $DUALTRACK_BIN) for the list of files the module walk
reached, counts those files independently, and prints both counts per kind and every file where
they differ. Exit status 1 when any count differs.
"""

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import tree_sitter_rust
from tree_sitter import Language, Parser

RUST = Language(tree_sitter_rust.language())
PARSER = Parser(RUST)
KINDS = ("if", "match_arm", "try", "return")
NODE_KIND = {
    "if_expression": "if",
    "match_arm": "match_arm",
    "try_expression": "try",
    "return_expression": "return",
}
TEST_ATTR = re.compile(
    r"^#\[\s*(?:cfg\s*\(\s*(?:test|all\s*\(.*\btest\b.*\))\s*\)|(?:[\w:]+::)?(?:test|bench)\b|rstest\b|test_case\b)"
)
ITEM_CONTAINERS = {"source_file", "declaration_list"}


def binary():
    if os.environ.get("DUALTRACK_BIN"):
        return os.environ["DUALTRACK_BIN"]
    root = Path(__file__).resolve().parents[2]
    for profile in ("release", "debug"):
        candidate = root / "target" / profile / "cargo-dualtrack"
        if candidate.exists():
            return str(candidate)
    sys.exit("build cargo-dualtrack first (cargo build --release)")


def is_test_attribute(node):
    return node.type == "attribute_item" and TEST_ATTR.match(node.text.decode("utf-8", "replace"))


def inner_test_attribute(root):
    for child in root.children:
        if child.type == "inner_attribute_item":
            text = child.text.decode("utf-8", "replace").replace("#!", "#", 1)
            if TEST_ATTR.match(text):
                return True
    return False


class Counter_:
    def __init__(self):
        self.counts = Counter()
        self.test_modules = []  # names of `#[cfg(test)] mod x;` declarations
        self.modules = []  # names of every `mod x;` declaration

    def items(self, container):
        """Walk the items of a source file or declaration list, skipping test items."""
        skip_next = False
        for child in container.children:
            if child.type == "attribute_item":
                skip_next = skip_next or bool(is_test_attribute(child))
                continue
            if child.type in ("line_comment", "block_comment"):
                continue
            if child.type == "mod_item" and child.child_by_field_name("body") is None:
                name = child.child_by_field_name("name")
                if name is not None:
                    self.modules.append(name.text.decode())
                    if skip_next:
                        self.test_modules.append(name.text.decode())
            if skip_next:
                skip_next = False
                continue
            self.item(child)

    def item(self, node):
        if node.type == "function_item":
            body = node.child_by_field_name("body")
            if body is not None:
                self.body(body)
        elif node.type in ("impl_item", "trait_item", "mod_item"):
            body = node.child_by_field_name("body")
            if body is not None:
                self.items(body)
        elif node.type == "macro_invocation":
            self.item_macro(node)
        elif node.type in ("const_item", "static_item"):
            # `const _: () = { impl X { fn f() {} } };`: functions inside the initializer.
            self.nested_items(node)

    def nested_items(self, node):
        for child in node.children:
            if child.type in ("function_item", "impl_item", "trait_item", "mod_item"):
                self.item(child)
            elif child.type != "macro_invocation":
                self.nested_items(child)

    def item_macro(self, node):
        """An item-position macro: count its body when it parses as items; for `cfg_if!`,
        every branch's body (`if #[cfg(..)] { items } else { items }`), test branches aside."""
        tree_node = next((c for c in node.children if c.type == "token_tree"), None)
        if tree_node is None:
            return
        name = node.child_by_field_name("macro")
        if name is not None and name.text.decode().split("::")[-1] == "cfg_if":
            pending_test = False
            for child in tree_node.children:
                if child.type == "attribute_item" or child.text.startswith(b"#"):
                    pending_test = pending_test or bool(TEST_ATTR.match(child.text.decode("utf-8", "replace")))
                if child.type == "token_tree" and child.text.startswith(b"{"):
                    if not pending_test:
                        self.parse_items_text(child.text[1:-1])
                    pending_test = False
                elif child.type == "token_tree" and child.text.startswith(b"["):
                    # `#[cfg(test)]` arrives as `#` then a bracketed token tree.
                    pending_test = pending_test or bool(TEST_ATTR.match("#" + child.text.decode("utf-8", "replace")))
            return
        self.parse_items_text(tree_node.text[1:-1])

    def parse_items_text(self, text):
        tree = PARSER.parse(text)
        if tree.root_node.has_error:
            return
        self.items(tree.root_node)

    def body(self, node):
        """Count sites inside a function body: closures included, nested fns as their own."""
        kind = NODE_KIND.get(node.type)
        if kind is not None:
            self.counts[kind] += 1
        if node.type == "macro_invocation":
            return  # token trees are not parsed
        if node.type in ("const_item", "static_item"):
            self.nested_items(node)  # compile-time initializers are no function's sites
            return
        if node.type in ("function_item", "impl_item", "trait_item", "mod_item"):
            # Nested items in a body: their sites count too (nested functions are functions).
            if node.type == "function_item":
                attrs_test = False
                prev = node.prev_named_sibling
                while prev is not None and prev.type == "attribute_item":
                    attrs_test = attrs_test or bool(is_test_attribute(prev))
                    prev = prev.prev_named_sibling
                if attrs_test:
                    return
                body = node.child_by_field_name("body")
                if body is not None:
                    for child in body.children:
                        self.body(child)
                return
            self.item(node)
            return
        for child in node.children:
            self.body(child)


def count_file(path):
    source = path.read_bytes()
    tree = PARSER.parse(source)
    counter = Counter_()
    if inner_test_attribute(tree.root_node):
        return counter
    counter.items(tree.root_node)
    return counter


def main():
    failed = False
    for crate in sys.argv[1:]:
        crate = Path(crate).resolve()
        result = subprocess.run(
            [binary(), "analyze", "--format", "json", "-q", "--manifest-path", str(crate / "Cargo.toml")],
            capture_output=True,
            check=True,
        )
        doc = json.loads(result.stdout)
        ours_by_file = {}
        # A file mounted as k modules (`mod a;` plus `#[path = "a.rs"] mod b;`) holds each of its
        # functions k times, under k paths.
        mounts = Counter((f["file"], f["line"]) for f in doc["functions"])
        mounts_per_file = {}
        for (file, _), count in mounts.items():
            mounts_per_file[file] = max(count, mounts_per_file.get(file, 1))
        for function in doc["functions"]:
            per_file = ours_by_file.setdefault(function["file"], Counter())
            for site in function["sites"]:
                if site["kind"] in KINDS:
                    per_file[site["kind"]] += 1
        parse_errors = {e["file"] for e in doc["errors"]}
        # Files reached only through `#[cfg(test)] mod x;` are test code, and so are the files
        # their own `mod` declarations reach.
        def children(rel, names):
            directory = (crate / rel).parent
            stem = Path(rel).stem
            base = directory if stem in ("lib", "main", "mod") else directory / stem
            return {str(c.relative_to(crate)) for n in names for c in (base / f"{n}.rs", base / n / "mod.rs")}

        counters = {rel: count_file(crate / rel) for rel in doc["files"]}
        theirs_by_file = {rel: c.counts for rel, c in counters.items()}
        test_files = set()
        for rel, counter in counters.items():
            test_files |= children(rel, counter.test_modules)
        while True:
            grown = set(test_files)
            for rel in test_files & set(counters):
                grown |= children(rel, counters[rel].modules)
            if grown == test_files:
                break
            test_files = grown
        ours, theirs, differing = Counter(), Counter(), []
        for rel in doc["files"]:
            if rel in test_files or rel in parse_errors:
                continue
            mine = ours_by_file.get(rel, Counter())
            other = Counter({k: v * mounts_per_file.get(rel, 1) for k, v in theirs_by_file[rel].items()})
            ours.update(mine)
            theirs.update(other)
            if any(mine[k] != other[k] for k in KINDS):
                differing.append((rel, {k: (mine[k], other[k]) for k in KINDS if mine[k] != other[k]}))
        print(f"{crate.name}: {len(doc['files'])} files, {len(test_files & set(doc['files']))} test-only")
        for kind in KINDS:
            mark = "ok" if ours[kind] == theirs[kind] else "DIFFERS"
            print(f"  {kind:<10} dualtrack {ours[kind]:>6}  tree-sitter {theirs[kind]:>6}  {mark}")
        for rel, diff in differing:
            failed = True
            print(f"  differs in {rel}: " + ", ".join(f"{k} {a} vs {b}" for k, (a, b) in diff.items()))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
