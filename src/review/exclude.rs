//! What a review leaves alone: functions matching `exclude = [..]` in `dualtrack.toml`
//! (globs on function paths, or on files when the pattern names a path), and functions marked
//! `// dualtrack: skip (reason)` on a line of their own just above them.

use std::path::Path;

use crate::analyze::{Function, FunctionFilter};
use crate::error::InputError;

/// The config's patterns, split into function-path and file patterns.
pub struct Exclusions {
    functions: Option<FunctionFilter>,
    files: Option<FunctionFilter>,
}

impl Exclusions {
    /// A pattern with a `/` or ending in `.rs` is about files; any other, function paths.
    pub fn new(patterns: &[String], workspace_root: &Path) -> Result<Exclusions, InputError> {
        let (files, functions): (Vec<String>, Vec<String>) = patterns
            .iter()
            .cloned()
            .partition(|p| p.contains('/') || p.ends_with(".rs"));
        let filter = |fns: &[String], files: &[String]| {
            FunctionFilter::new(fns, files, workspace_root, workspace_root)
                .map_err(|err| InputError::new(format!("dualtrack.toml `exclude`: {err}")))
        };
        Ok(Exclusions {
            functions: (!functions.is_empty())
                .then(|| filter(&functions, &[]))
                .transpose()?,
            files: (!files.is_empty())
                .then(|| filter(&[], &files))
                .transpose()?,
        })
    }

    /// Why `function` is excluded, if it is; `source` is its file's text.
    pub fn reason(&self, function: &Function, source: Option<&str>) -> Option<String> {
        if self.functions.as_ref().is_some_and(|f| f.matches(function))
            || self.files.as_ref().is_some_and(|f| f.matches(function))
        {
            return Some("excluded by `exclude` in dualtrack.toml".into());
        }
        source.and_then(|text| skip_comment(text, function.line))
    }
}

/// A `// dualtrack: skip` comment (with an optional reason) among the comment and attribute
/// lines just above line `line` (1-based).
pub fn skip_comment(source: &str, line: u32) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut index = (line as usize).checked_sub(1)?;
    while index > 0 {
        index -= 1;
        let text = lines.get(index)?.trim();
        if let Some(rest) = text.strip_prefix("// dualtrack: skip") {
            let reason = rest
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            return Some(if reason.is_empty() {
                "marked `// dualtrack: skip`".to_owned()
            } else {
                format!("marked `// dualtrack: skip` ({reason})")
            });
        }
        let above_the_item = text.starts_with("//") || text.starts_with("#[") || text.is_empty();
        if !above_the_item {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_skip_comment_above_the_function_or_its_attributes_counts() {
        let source = "fn a() {}\n// dualtrack: skip (generated code)\n/// Docs.\n#[inline]\npub fn b() {}\n\nfn c() {}\n";
        assert_eq!(
            skip_comment(source, 5).as_deref(),
            Some("marked `// dualtrack: skip` (generated code)")
        );
        assert_eq!(skip_comment(source, 1), None);
        assert_eq!(skip_comment(source, 7), None);
    }

    #[test]
    fn patterns_split_between_paths_and_files() {
        let root = Path::new("/w");
        let exclusions =
            Exclusions::new(&["crate::gen::*".into(), "src/generated/**".into()], root).unwrap();
        let function = |path: &str, file: &str| Function {
            path: path.into(),
            package: "p".into(),
            file: file.into(),
            line: 1,
            end_line: 1,
            module: "p".into(),
            visibility: "pub".into(),
            params: Vec::new(),
            sites: Vec::new(),
            calls: Vec::new(),
        };
        assert!(
            exclusions
                .reason(&function("crate::gen::f", "src/lib.rs"), None)
                .is_some()
        );
        assert!(
            exclusions
                .reason(&function("crate::f", "src/generated/x.rs"), None)
                .is_some()
        );
        assert!(
            exclusions
                .reason(&function("crate::f", "src/lib.rs"), None)
                .is_none()
        );
    }
}
