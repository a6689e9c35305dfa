//! The crate's own test code, left out of the scratch copy when it alone keeps the crate's
//! tests from building (a `#[cfg(test)]` module that needs a feature `cargo test` does not
//! turn on, say): the generated tests never needed it. Never in the user's tree: the copy's
//! files are blanked where that code stands, line for line, so every other line keeps its
//! number.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::build::CompileError;

/// What to blank, per file (relative to the workspace root): byte ranges of its own text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stripped {
    /// The sources' fingerprint the ranges hold for.
    pub fingerprint: String,
    pub files: BTreeMap<PathBuf, Vec<(usize, usize)>>,
}

impl Stripped {
    /// The plan kept at `path`, if it holds for `fingerprint`; else an empty plan and the
    /// files an older plan blanked, which the copy must get back whole before a baseline
    /// (their blanked text would otherwise outlive the plan that explained it).
    pub fn load(path: &Path, fingerprint: &str) -> (Stripped, Vec<PathBuf>) {
        let kept = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str::<Stripped>(&text).ok());
        match kept {
            Some(plan) if plan.fingerprint == fingerprint => (plan, Vec::new()),
            Some(stale) => (Stripped::default(), stale.files.into_keys().collect()),
            None => (Stripped::default(), Vec::new()),
        }
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_string(self)?)?;
        Ok(())
    }

    /// `text` (the file `rel`'s own) with this plan's ranges blanked.
    pub fn apply_to(&self, rel: &Path, text: &str) -> String {
        match self.files.get(rel) {
            Some(ranges) => blank(text, ranges),
            None => text.to_owned(),
        }
    }

    /// Blank the planned files of the copy at `copy` that hold their own text now (not those
    /// in `except`, which the caller writes itself).
    pub fn apply(&self, copy: &Path, except: &[PathBuf]) -> anyhow::Result<()> {
        for (rel, ranges) in &self.files {
            if except.contains(rel) {
                continue;
            }
            let path = copy.join(rel);
            let text = std::fs::read_to_string(&path)?;
            let blanked = blank(&text, ranges);
            if blanked != text {
                super::area::write_in_copy(copy, rel, &blanked)?;
            }
        }
        Ok(())
    }
}

/// The plan that leaves out the crate's own test code where every one of `errors` lies (in
/// the copy at `copy`, holding the sources' own text), with a line naming what; `None` when
/// an error lies elsewhere (the crate itself does not build).
pub fn plan(copy: &Path, errors: &[CompileError], fingerprint: &str) -> Option<(Stripped, String)> {
    if errors.is_empty() {
        return None;
    }
    let mut stripped = Stripped {
        fingerprint: fingerprint.to_owned(),
        ..Stripped::default()
    };
    let mut said: Vec<String> = Vec::new();
    for error in errors {
        let rel = error.file.strip_prefix(copy).ok()?.to_owned();
        let text = std::fs::read_to_string(&error.file).ok()?;
        let (file, range) = match test_item_at(&text, error.line) {
            Some(range) => (rel.clone(), range),
            None => test_module_declaring(copy, &rel)?,
        };
        let ranges = stripped.files.entry(file).or_default();
        if !ranges.contains(&range) {
            ranges.push(range);
        }
        let place = format!("{}:{}", rel.display(), error.line);
        if !said.contains(&place) {
            said.push(place);
        }
    }
    let shown: Vec<&str> = said.iter().take(3).map(String::as_str).collect();
    let more = if said.len() > 3 {
        format!(" and {} more", said.len() - 3)
    } else {
        String::new()
    };
    Some((
        stripped,
        format!(
            "the crate's own tests do not build ({}{more}): they are left out of the scratch \
             copy (your tree is untouched) and the generated tests run without them",
            shown.join(", ")
        ),
    ))
}

/// The byte range of the outermost test-only item (`#[cfg(test)]`, `#[test]`) of `text` that
/// holds `line`, attributes included.
fn test_item_at(text: &str, line: u32) -> Option<(usize, usize)> {
    use syn::spanned::Spanned;
    let file = crate::syntax::parse_file(text).ok()?;
    let found = (|| {
        let mut items: &[syn::Item] = &file.items;
        loop {
            let item = items.iter().find(|item| {
                let span = item.span();
                (span.start().line as u32..=span.end().line as u32).contains(&line)
            })?;
            if crate::analyze::attrs::is_test_code(item_attrs(item)) {
                let range = item.span().byte_range();
                return Some((range.start, range.end));
            }
            match item {
                syn::Item::Mod(module) => items = &module.content.as_ref()?.1,
                _ => return None,
            }
        }
    })();
    // Byte offsets count from this file's start only while no other file is parsed after it.
    proc_macro2::extra::invalidate_current_thread_spans();
    found
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// For a file that is a test-only module of its own (`#[cfg(test)] mod tests;`), the file and
/// byte range of that declaration.
fn test_module_declaring(copy: &Path, rel: &Path) -> Option<(PathBuf, (usize, usize))> {
    use syn::spanned::Spanned;
    let stem = rel.file_stem()?.to_str()?;
    let (name, dir) = if stem == "mod" {
        let dir = rel.parent()?;
        (dir.file_name()?.to_str()?, dir.parent()?)
    } else {
        (stem, rel.parent()?)
    };
    // Where rustc looks for the declaration: the parent module's file.
    let mut candidates: Vec<PathBuf> = ["lib.rs", "main.rs", "mod.rs"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    if let (Some(parent), Some(dir_name)) = (dir.parent(), dir.file_name()) {
        candidates.push(parent.join(format!("{}.rs", dir_name.to_string_lossy())));
    }
    for candidate in candidates {
        let Ok(text) = std::fs::read_to_string(copy.join(&candidate)) else {
            continue;
        };
        let Ok(file) = crate::syntax::parse_file(&text) else {
            continue;
        };
        let declared = file.items.iter().find_map(|item| match item {
            syn::Item::Mod(module)
                if module.ident == name
                    && module.content.is_none()
                    && crate::analyze::attrs::is_test_code(&module.attrs) =>
            {
                let range = module.span().byte_range();
                Some((range.start, range.end))
            }
            _ => None,
        });
        proc_macro2::extra::invalidate_current_thread_spans();
        if let Some(range) = declared {
            return Some((candidate, range));
        }
    }
    None
}

/// `text` with the bytes of `ranges` turned to spaces, line breaks kept.
pub(super) fn blank(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(start, end) in ranges {
        for byte in bytes.iter_mut().take(end.min(text.len())).skip(start) {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b' ';
            }
        }
    }
    // Only whole items are blanked, so no character is cut; a range from a stale plan that
    // would cut one leaves the text as it was.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod test {
    use super::*;

    fn error(copy: &Path, file: &str, line: u32) -> CompileError {
        CompileError {
            file: copy.join(file),
            line,
            message: "cannot find function".into(),
            rendered: String::new(),
            imports: Vec::new(),
            places: Vec::new(),
        }
    }

    #[test]
    fn test_code_that_does_not_build_is_blanked_line_for_line() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path();
        std::fs::create_dir_all(copy.join("src")).unwrap();
        let lib = "pub fn f() -> u8 { 1 }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { needs_a_feature(); }\n}\n\n#[cfg(test)]\nmod more;\n";
        std::fs::write(copy.join("src/lib.rs"), lib).unwrap();
        // A helper of a test-only module file: its declaration goes.
        std::fs::write(
            copy.join("src/more.rs"),
            "fn helper() {}\nfn m() { missing(); }\n",
        )
        .unwrap();
        let errors = [error(copy, "src/lib.rs", 6), error(copy, "src/more.rs", 2)];
        let (plan, said) = plan(copy, &errors, "fp").unwrap();
        assert!(
            said.contains("src/lib.rs:6") && said.contains("src/more.rs:2"),
            "{said}"
        );
        plan.apply(copy, &[]).unwrap();
        let blanked = std::fs::read_to_string(copy.join("src/lib.rs")).unwrap();
        assert_eq!(blanked.lines().count(), lib.lines().count());
        assert!(blanked.starts_with("pub fn f() -> u8 { 1 }\n"));
        assert!(!blanked.contains("needs_a_feature") && !blanked.contains("mod more"));
        // Applying again changes nothing; the plan holds only for its fingerprint.
        plan.apply(copy, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(copy.join("src/lib.rs")).unwrap(),
            blanked
        );
        let saved = copy.join("stripped.json");
        plan.save(&saved).unwrap();
        assert_eq!(Stripped::load(&saved, "fp"), (plan.clone(), Vec::new()));
        // Another fingerprint: nothing applies, and the files it blanked are named.
        let (empty, stale) = Stripped::load(&saved, "other");
        assert_eq!(empty, Stripped::default());
        assert_eq!(stale, plan.files.keys().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn an_error_in_the_crate_s_own_code_is_not_stripped() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path();
        std::fs::create_dir_all(copy.join("src")).unwrap();
        std::fs::write(copy.join("src/lib.rs"), "pub fn f() -> u8 { missing() }\n").unwrap();
        assert!(plan(copy, &[error(copy, "src/lib.rs", 1)], "fp").is_none());
        assert!(plan(copy, &[], "fp").is_none());
    }
}
