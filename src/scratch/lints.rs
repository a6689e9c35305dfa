//! The lints a crate denies, which the generated test modules allow by name: `allow(warnings)`
//! does not reach a lint the crate sets to `deny` (`#![deny(unused_results)]` would fail every
//! test that drops a result), and allowing one it forbids is an error of its own (E0453).

use std::collections::BTreeSet;
use std::path::Path;

/// The lints denied, and not forbidden, by the crate whose root file is `root_file` (its
/// `#![deny(..)]` attributes, under `cfg_attr` too) and by the `[lints]` table of its
/// manifest in `manifest_dir` (or the workspace's at `workspace_root` when it says
/// `workspace = true`). Unreadable files deny nothing.
pub fn denied(root_file: &Path, manifest_dir: &Path, workspace_root: &Path) -> Vec<String> {
    let mut levels = Levels::default();
    if let Ok(source) = std::fs::read_to_string(root_file) {
        levels.read_source(&source);
    }
    if let Ok(manifest) = std::fs::read_to_string(manifest_dir.join("Cargo.toml")) {
        let workspace = || std::fs::read_to_string(workspace_root.join("Cargo.toml")).ok();
        levels.read_manifest(&manifest, workspace);
    }
    levels.denied()
}

/// The lints denied, and not forbidden, by the crate root `source` itself.
pub fn denied_in_source(source: &str) -> Vec<String> {
    let mut levels = Levels::default();
    levels.read_source(source);
    levels.denied()
}

/// `#[allow(..)]` for a generated test module: every warning, and `denied` by name.
pub fn allow_attribute(denied: &[String]) -> String {
    let mut names = vec!["warnings", "clippy::all"];
    names.extend(
        denied
            .iter()
            .map(String::as_str)
            .filter(|name| !matches!(*name, "warnings" | "clippy::all")),
    );
    format!("#[allow({})]", names.join(", "))
}

#[derive(Default)]
struct Levels {
    deny: BTreeSet<String>,
    forbid: BTreeSet<String>,
}

impl Levels {
    fn denied(&self) -> Vec<String> {
        self.deny.difference(&self.forbid).cloned().collect()
    }

    fn read_source(&mut self, source: &str) {
        let Ok(file) = crate::syntax::parse_file(source) else {
            return;
        };
        for attr in &file.attrs {
            if attr.path().is_ident("cfg_attr") {
                // `cfg_attr(PREDICATE, deny(..), ..)`: whether the predicate holds is not
                // known here; allowing a lint that is not denied does no harm.
                let applied = crate::analyze::attrs::cfg_attr_parts(attr)
                    .map(|(_, applied)| applied)
                    .unwrap_or_default();
                for meta in &applied {
                    self.read_meta(meta);
                }
            } else {
                self.read_meta(&attr.meta);
            }
        }
    }

    fn read_meta(&mut self, meta: &syn::Meta) {
        let syn::Meta::List(list) = meta else {
            return;
        };
        let set = if list.path.is_ident("deny") {
            &mut self.deny
        } else if list.path.is_ident("forbid") {
            &mut self.forbid
        } else {
            return;
        };
        let Ok(paths) = list.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            return;
        };
        for path in paths {
            let name = path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            set.insert(name);
        }
    }

    /// `[lints.rust]` and `[lints.clippy]` (`name = "deny"` or `{ level = "deny", .. }`),
    /// or the workspace's `[workspace.lints]` when the package inherits them.
    fn read_manifest(&mut self, manifest: &str, workspace: impl FnOnce() -> Option<String>) {
        let Ok(manifest) = manifest.parse::<toml::Table>() else {
            return;
        };
        let Some(lints) = manifest.get("lints").and_then(toml::Value::as_table) else {
            return;
        };
        let inherited;
        let lints = if lints.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
            let Some(root) = workspace().and_then(|text| text.parse::<toml::Table>().ok()) else {
                return;
            };
            let Some(table) = root
                .get("workspace")
                .and_then(|w| w.get("lints"))
                .and_then(toml::Value::as_table)
            else {
                return;
            };
            inherited = table.clone();
            &inherited
        } else {
            lints
        };
        for (tool, table) in lints {
            let Some(table) = table.as_table() else {
                continue;
            };
            for (name, level) in table {
                let level = match level {
                    toml::Value::String(level) => level.as_str(),
                    toml::Value::Table(spec) => spec
                        .get("level")
                        .and_then(toml::Value::as_str)
                        .unwrap_or_default(),
                    _ => continue,
                };
                let name = if tool == "rust" {
                    name.clone()
                } else {
                    format!("{tool}::{name}")
                };
                match level {
                    "deny" => self.deny.insert(name),
                    "forbid" => self.forbid.insert(name),
                    _ => continue,
                };
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn from(source: &str, manifest: &str, workspace: Option<&str>) -> Vec<String> {
        let mut levels = Levels::default();
        levels.read_source(source);
        levels.read_manifest(manifest, || workspace.map(str::to_owned));
        levels.denied()
    }

    #[test]
    fn denied_lints_come_from_the_root_and_the_manifest_less_the_forbidden() {
        let source = "#![deny(missing_docs, unused_results, unsafe_code)]\n\
                      #![cfg_attr(not(test), deny(clippy::unwrap_used))]\n\
                      #![forbid(unsafe_code)]\n#![warn(unreachable_pub)]\npub fn f() {}\n";
        let manifest = "[package]\nname = \"x\"\n\n[lints.rust]\ntrivial_casts = \"deny\"\n\
                        unused_qualifications = { level = \"deny\", priority = -1 }\n\
                        missing_debug_implementations = \"warn\"\n\n[lints.clippy]\n\
                        pedantic = \"deny\"\n";
        assert_eq!(
            from(source, manifest, None),
            [
                "clippy::pedantic",
                "clippy::unwrap_used",
                "missing_docs",
                "trivial_casts",
                "unused_qualifications",
                "unused_results"
            ]
        );
        // Inherited from the workspace.
        let member = "[package]\nname = \"x\"\n\n[lints]\nworkspace = true\n";
        let root = "[workspace]\n\n[workspace.lints.rust]\nunused_results = \"deny\"\n";
        assert_eq!(from("", member, Some(root)), ["unused_results"]);
        assert!(from("fn (", "not toml [", None).is_empty());
    }

    #[test]
    fn the_module_allows_warnings_and_the_denied_lints() {
        assert_eq!(allow_attribute(&[]), "#[allow(warnings, clippy::all)]");
        assert_eq!(
            allow_attribute(&["warnings".into(), "unused_results".into()]),
            "#[allow(warnings, clippy::all, unused_results)]"
        );
    }
}
