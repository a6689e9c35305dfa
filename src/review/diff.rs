//! What changed since a base revision: the lines each file gained or changed between the
//! merge-base of the base and the working tree (committed, staged and unstaged changes, and
//! untracked files), and which functions those lines touch. Git is the one external concern
//! here, run as a process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::analyze::Function;
use crate::error::InputError;

/// Changed line ranges (1-based, inclusive) by file, relative to the repository's top level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedLines {
    pub files: BTreeMap<String, Vec<(u32, u32)>>,
}

impl ChangedLines {
    /// Whether any `.rs` file changed.
    pub fn touches_rust(&self) -> bool {
        self.files.keys().any(|f| f.ends_with(".rs"))
    }
}

/// The lines a `git diff -U0` adds or changes, by new file path. A pure deletion counts as a
/// change of the line after it: the code around it is no longer what it was.
pub fn parse_unified_diff(text: &str) -> BTreeMap<String, Vec<(u32, u32)>> {
    let mut files: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            // Git ends a name with a space in it with a tab.
            let path = unquote(path.trim_end_matches(['\t', '\r']));
            current = match path.as_str() {
                "/dev/null" => None,
                other => Some(other.strip_prefix("b/").unwrap_or(other).to_owned()),
            };
            continue;
        }
        let Some(hunk) = line.strip_prefix("@@ ") else {
            continue;
        };
        let Some(file) = &current else { continue };
        // `@@ -a,b +c,d @@`: the new side is `+c,d` (`d` absent means 1).
        let Some(new_side) = hunk.split_whitespace().find(|p| p.starts_with('+')) else {
            continue;
        };
        let mut parts = new_side[1..].splitn(2, ',');
        let start: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let count: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        let range = if count == 0 {
            let at = start.max(1);
            (at, at)
        } else {
            (start, start + count - 1)
        };
        files.entry(file.clone()).or_default().push(range);
    }
    files
}

/// A path as git prints it: C-quoted (`"src/a\\tb.rs"`, octal bytes for what is not plain)
/// when it holds a quote, a backslash or a control character.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(byte) = chars.next() {
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'a') => bytes.push(7),
            Some(b'b') => bytes.push(8),
            Some(b'f') => bytes.push(12),
            Some(b'v') => bytes.push(11),
            Some(digit @ b'0'..=b'7') => {
                let mut value = u32::from(digit - b'0');
                for _ in 0..2 {
                    if let Some(&next @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(next - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The functions whose span (signature to closing brace) overlaps a changed line.
/// `prefix` is the workspace root relative to the repository's top level (`""` when equal).
pub fn touched_functions(
    functions: &[Function],
    changed: &ChangedLines,
    prefix: &str,
) -> Vec<usize> {
    functions
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let path = if prefix.is_empty() {
                f.file.clone()
            } else {
                format!("{}/{}", prefix.trim_end_matches('/'), f.file)
            };
            changed.files.get(&path).is_some_and(|ranges| {
                ranges
                    .iter()
                    .any(|&(start, end)| start <= f.end_line && end >= f.line)
            })
        })
        .map(|(index, _)| index)
        .collect()
}

/// Run git in `dir`, returning stdout, or a clear error naming the command.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        // Names as they are (`café.rs`, not `"caf\303\251.rs"`), whatever the user's config.
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("failed to run `git {}`", args.join(" ")))?;
    if !output.status.success() {
        return Err(InputError::new(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The repository's top level, or `None` outside a git repository.
pub fn repository_root(dir: &Path) -> Option<PathBuf> {
    let output = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// Whether HEAD names a commit (a fresh repository has none).
pub fn has_commits(repo: &Path) -> bool {
    git(repo, &["rev-parse", "--verify", "--quiet", "HEAD"]).is_ok()
}

/// The error for a repository without commits: there is no base to compare with.
pub fn no_commits() -> InputError {
    InputError::new(
        "the repository has no commits yet, so nothing to compare with: pass --all-functions",
    )
}

/// The default base and how it was chosen: the current branch's upstream, else `origin/HEAD`,
/// else `main`, else `master`.
pub fn default_base(repo: &Path) -> Option<(String, &'static str)> {
    let resolves = |rev: &str| git(repo, &["rev-parse", "--verify", "--quiet", rev]).is_ok();
    if let Ok(upstream) = git(
        repo,
        &[
            "rev-parse",
            "--abbrev-ref",
            "--symbolic-full-name",
            "@{upstream}",
        ],
    ) {
        let upstream = upstream.trim().to_owned();
        if !upstream.is_empty() {
            return Some((upstream, "the branch's upstream"));
        }
    }
    for (rev, how) in [
        ("origin/HEAD", "origin/HEAD"),
        ("main", "the `main` branch"),
        ("master", "the `master` branch"),
    ] {
        if resolves(rev) {
            return Some((rev.to_owned(), how));
        }
    }
    None
}

/// What changed between the merge-base of `base` and HEAD, and the working tree: committed,
/// staged and unstaged changes, and untracked files (whole).
pub fn changed_since(repo: &Path, base: &str) -> anyhow::Result<ChangedLines> {
    if !has_commits(repo) {
        return Err(no_commits().into());
    }
    if git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{base}^{{commit}}"),
        ],
    )
    .is_err()
    {
        return Err(InputError::new(format!(
            "`{base}` is not a revision of this repository: pass --base with a branch, tag or \
             commit (or --all-functions)"
        ))
        .into());
    }
    let merge_base = git(repo, &["merge-base", base, "HEAD"]).map_err(|err| {
        let shallow = git(repo, &["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|out| out.trim() == "true");
        let why = if shallow {
            "this is a shallow clone: fetch the history (`git fetch --unshallow`, or \
             `fetch-depth: 0` in actions/checkout)"
                .to_owned()
        } else {
            let detail = err.to_string();
            if detail.trim_end().ends_with("failed:") {
                "they share no history: pass a --base on this branch's history".to_owned()
            } else {
                detail
            }
        };
        InputError::new(format!("cannot find where `{base}` and HEAD meet: {why}"))
    })?;
    let merge_base = merge_base.trim();
    let diff = git(
        repo,
        &[
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            // `a/` and `b/` whatever `diff.noprefix` or `diff.mnemonicPrefix` say.
            "--src-prefix=a/",
            "--dst-prefix=b/",
            merge_base,
            "--",
        ],
    )?;
    let mut files = parse_unified_diff(&diff);
    let untracked = git(repo, &["ls-files", "-z", "--others", "--exclude-standard"])?;
    for path in untracked.split('\0').filter(|l| !l.is_empty()) {
        // Only Rust files are read (a large untracked data file is not), and only for their
        // length: all of a new file is new.
        let lines = if path.ends_with(".rs") {
            std::fs::read_to_string(repo.join(path))
                .map(|text| text.lines().count().max(1) as u32)
                .unwrap_or(1)
        } else {
            1
        };
        files.insert(path.to_owned(), vec![(1, lines)]);
    }
    Ok(ChangedLines { files })
}

/// The checked-out branch of the repository around `dir`, the task a review is part of.
pub fn current_branch(dir: &Path) -> Option<String> {
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).ok()?;
    let branch = branch.trim();
    (!branch.is_empty() && branch != "HEAD").then(|| branch.to_owned())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn hunks_give_new_side_ranges_and_deletions_the_line_after() {
        let diff = "diff --git a/src/lib.rs b/src/lib.rs
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,0 +4,2 @@ fn a() {
+    let x = 1;
+    let y = 2;
@@ -10 +12 @@ fn b() {
-    old
+    new
@@ -20,3 +24,0 @@ fn c() {
diff --git a/gone.rs b/gone.rs
--- a/gone.rs
+++ /dev/null
@@ -1,2 +0,0 @@
";
        let got = parse_unified_diff(diff);
        assert_eq!(got.len(), 1);
        assert_eq!(got["src/lib.rs"], [(4, 5), (12, 12), (24, 24)]);
    }

    fn function(file: &str, line: u32, end_line: u32) -> Function {
        Function {
            path: format!("demo::f{line}"),
            package: "demo".into(),
            file: file.into(),
            line,
            end_line,
            module: "demo".into(),
            visibility: "pub".into(),
            params: Vec::new(),
            sites: Vec::new(),
            calls: Vec::new(),
        }
    }

    #[test]
    fn quoted_names_are_unquoted() {
        assert_eq!(unquote("b/src/lib.rs"), "b/src/lib.rs");
        assert_eq!(unquote("\"b/src/caf\\303\\251.rs\""), "b/src/café.rs");
        assert_eq!(unquote("\"b/a\\\"q\\\\.rs\""), "b/a\"q\\.rs");
        let diff =
            "+++ \"b/src/caf\\303\\251.rs\"\n@@ -1 +1 @@\n+++ b/with space.rs\t\n@@ -0,0 +1,2 @@\n";
        let files = parse_unified_diff(diff);
        assert_eq!(files["src/café.rs"], [(1, 1)]);
        assert_eq!(files["with space.rs"], [(1, 2)]);
    }

    #[test]
    fn a_function_is_touched_when_a_changed_line_falls_in_its_span() {
        let changed = ChangedLines {
            files: BTreeMap::from([("crates/x/src/lib.rs".to_owned(), vec![(10, 12)])]),
        };
        let functions = [
            function("src/lib.rs", 1, 9),
            function("src/lib.rs", 12, 20),
            function("src/other.rs", 10, 12),
        ];
        assert_eq!(touched_functions(&functions, &changed, "crates/x"), [1]);
        assert!(changed.touches_rust());
    }

    #[test]
    fn changes_since_a_base_include_commits_edits_and_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let empty = tempfile::tempdir().unwrap();
        Command::new("git")
            .args(["init", "-q"])
            .current_dir(empty.path())
            .output()
            .unwrap();
        assert!(!has_commits(empty.path()));
        let err = changed_since(empty.path(), "main").unwrap_err().to_string();
        assert!(err.contains("no commits yet"), "{err}");
        let run = |args: &[&str]| {
            let status = Command::new("git")
                .args(args)
                .current_dir(repo)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@t")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@t")
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "{}",
                String::from_utf8_lossy(&status.stderr)
            );
        };
        run(&["init", "-q", "-b", "main"]);
        std::fs::write(
            repo.join("a.rs"),
            "fn a() {\n    1\n}\nfn b() {\n    2\n}\n",
        )
        .unwrap();
        run(&["add", "."]);
        run(&["commit", "-q", "-m", "base"]);
        run(&["checkout", "-q", "-b", "feature"]);
        std::fs::write(
            repo.join("a.rs"),
            "fn a() {\n    1\n}\nfn b() {\n    3\n}\n",
        )
        .unwrap();
        run(&["commit", "-q", "-am", "change b"]);
        std::fs::write(repo.join("new.rs"), "fn n() {}\n").unwrap();
        assert_eq!(
            default_base(repo),
            Some(("main".to_owned(), "the `main` branch"))
        );
        let changed = changed_since(repo, "main").unwrap();
        assert_eq!(changed.files["a.rs"], [(5, 5)]);
        assert_eq!(changed.files["new.rs"], [(1, 1)]);
        // Names git would quote, and configs that change the diff's prefixes.
        std::fs::write(repo.join("café.rs"), "fn c() {}\nfn d() {}\n").unwrap();
        run(&["add", "café.rs"]);
        run(&["config", "diff.mnemonicPrefix", "true"]);
        run(&["config", "diff.noprefix", "true"]);
        let changed = changed_since(repo, "main").unwrap();
        assert_eq!(changed.files["café.rs"], [(1, 2)], "{changed:?}");
        assert_eq!(changed.files["a.rs"], [(5, 5)]);
        let err = changed_since(repo, "no-such-branch")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a revision"), "{err}");
        // A branch with no shared history.
        run(&["checkout", "-q", "--orphan", "lonely"]);
        run(&["commit", "-q", "-m", "alone"]);
        let err = changed_since(repo, "main").unwrap_err().to_string();
        assert!(err.contains("share no history"), "{err}");
        assert_eq!(
            repository_root(repo).unwrap().canonicalize().unwrap(),
            repo.canonicalize().unwrap()
        );
    }
}
