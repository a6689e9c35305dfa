//! `--fn` and `--file` filters: which functions a command reports on.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use super::model::Function;
use crate::error::InputError;
use crate::workspace::{normalize_lexically, relative_display};

/// One `--fn` or `--file` pattern: a glob when it has glob characters, else a plain string.
#[derive(Debug, Clone)]
enum Pattern {
    Glob(GlobMatcher),
    Plain(String),
}

impl Pattern {
    fn new(text: &str, flag: &str) -> Result<Pattern, InputError> {
        // Only `*` and `?` make a glob: function paths contain `[u8]`, `<..>` and `{ N }`.
        if text.contains(['*', '?']) {
            let glob = GlobBuilder::new(text)
                .literal_separator(false)
                .build()
                .map_err(|err| {
                    InputError::new(format!("{flag} `{text}` is not a valid glob: {err}"))
                })?;
            Ok(Pattern::Glob(glob.compile_matcher()))
        } else {
            Ok(Pattern::Plain(text.to_owned()))
        }
    }
}

/// Filters on function paths (`--fn`) and on files (`--file`); empty filters match everything.
#[derive(Debug, Clone, Default)]
pub struct FunctionFilter {
    functions: Vec<Pattern>,
    files: Vec<Pattern>,
}

impl FunctionFilter {
    /// `fn_patterns` match a function path as a glob, or as a substring. `file_patterns` are
    /// paths (relative to `cwd` or absolute; a directory matches what is under it) or globs
    /// relative to the workspace root.
    pub fn new(
        fn_patterns: &[String],
        file_patterns: &[String],
        workspace_root: &Path,
        cwd: &Path,
    ) -> Result<FunctionFilter, InputError> {
        let functions = fn_patterns
            .iter()
            .map(|p| Pattern::new(p, "--fn"))
            .collect::<Result<_, _>>()?;
        let files = file_patterns
            .iter()
            .map(|p| {
                let pattern = Pattern::new(p, "--file")?;
                Ok(match pattern {
                    Pattern::Plain(path) => {
                        let absolute = normalize_lexically(&cwd.join(&path));
                        Pattern::Plain(relative_display(workspace_root, &absolute))
                    }
                    glob => glob,
                })
            })
            .collect::<Result<_, InputError>>()?;
        Ok(FunctionFilter { functions, files })
    }

    pub fn matches(&self, function: &Function) -> bool {
        let path_ok = self.functions.is_empty()
            || self.functions.iter().any(|pattern| match pattern {
                Pattern::Glob(glob) => glob.is_match(&function.path),
                Pattern::Plain(text) => function.path.contains(text.as_str()),
            });
        path_ok && self.matches_file(&function.file)
    }

    /// `file` is relative to the workspace root with forward slashes.
    pub fn matches_file(&self, file: &str) -> bool {
        self.files.is_empty()
            || self.files.iter().any(|pattern| match pattern {
                Pattern::Glob(glob) => glob.is_match(file),
                Pattern::Plain(path) => {
                    path.is_empty()
                        || file == path
                        || file
                            .strip_prefix(path.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                }
            })
    }
}

/// `--fn`/`--file` that match nothing: a usage error in every command that takes them.
pub fn no_function_matches() -> crate::error::InputError {
    crate::error::InputError::new(
        "no function matches --fn/--file: `cargo dualtrack analyze` lists the function paths",
    )
}

#[cfg(test)]
mod test {
    use super::*;

    fn function(path: &str, file: &str) -> Function {
        Function {
            path: path.into(),
            package: "p".into(),
            file: file.into(),
            line: 1,
            end_line: 2,
            visibility: "pub".into(),
            module: String::new(),
            params: Vec::new(),
            sites: Vec::new(),
            calls: Vec::new(),
        }
    }

    fn filter(fns: &[&str], files: &[&str]) -> FunctionFilter {
        let fns: Vec<String> = fns.iter().map(|s| s.to_string()).collect();
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        FunctionFilter::new(&fns, &files, Path::new("/w"), Path::new("/w")).unwrap()
    }

    #[test]
    fn fn_substring_and_glob() {
        let f = function("ledger::money::parse_cents", "src/money.rs");
        assert!(filter(&["parse_"], &[]).matches(&f));
        assert!(filter(&["ledger::*::parse_*"], &[]).matches(&f));
        assert!(filter(&["*cents"], &[]).matches(&f));
        assert!(!filter(&["format_"], &[]).matches(&f));
        assert!(!filter(&["ledger::parse*"], &["src/money.rs"]).matches(&f));
    }

    #[test]
    fn file_path_directory_and_glob() {
        let f = function("c::f", "src/money/parse.rs");
        assert!(filter(&[], &["src/money/parse.rs"]).matches(&f));
        assert!(filter(&[], &["./src/money/../money/parse.rs"]).matches(&f));
        assert!(filter(&[], &["src/money"]).matches(&f));
        assert!(filter(&[], &["/w/src"]).matches(&f));
        assert!(!filter(&[], &["src/mon"]).matches(&f));
        assert!(filter(&[], &["src/**/parse.rs"]).matches(&f));
    }

    #[test]
    fn invalid_glob_is_an_input_error() {
        let err = FunctionFilter::new(&["a[*".into()], &[], Path::new("/w"), Path::new("/w"))
            .unwrap_err();
        assert!(err.to_string().contains("--fn `a[*`"));
    }

    #[test]
    fn paths_with_brackets_match_as_text() {
        let f = function("c::<[u8] as PartialEq<W<u8>>>::eq", "src/lib.rs");
        assert!(filter(&["c::<[u8] as PartialEq<W<u8>>>::eq"], &[]).matches(&f));
        assert!(filter(&["<[u8] as"], &[]).matches(&f));
    }
}
