//! Keep a copy of the workspace in sync: copy what changed, delete what went away, keep
//! modification times so cargo's fingerprints stay valid and builds stay incremental. The copy
//! holds what the crate is, not what lies beside it: what git ignores (`.env`, keys, local
//! configs) is left out, by the `ignore` crate's rules, as ripgrep reads them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::workspace::normalize_lexically;
use anyhow::Context;
use sha2::{Digest, Sha256};

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub copied: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Trees outside the workspace that builds need: path dependencies and workspace
    /// manifests (filled by the caller from the manifests).
    pub outside: Vec<PathBuf>,
    /// Links in the tree that point outside it: (the link, relative; where it points). A
    /// sandbox shows such a target only when builds need it or the user allows it.
    pub links_out: Vec<(PathBuf, PathBuf)>,
    /// SHA-256 over every source file's path, size and modification time: equal fingerprints
    /// mean an unchanged tree.
    pub fingerprint: String,
    /// The manifests in the tree (`Cargo.toml`, relative).
    pub manifests: Vec<PathBuf>,
}

/// Directory names never copied: version control, and tool state that builds do not need.
const SKIPPED_NAMES: &[&str] = &[".git", ".hg", ".svn", ".jj", ".dualtrack"];

/// Files a build reads even when git ignores them (a library's `Cargo.lock` often is).
const ALWAYS_COPIED: &[&str] = &[
    "Cargo.lock",
    "rust-toolchain",
    "rust-toolchain.toml",
    ".cargo/config.toml",
    ".cargo/config",
];

/// Make `dest` a copy of `src`, skipping VCS directories, what git ignores and the `skip`
/// paths (the target directory). `std::fs::copy` uses `copy_file_range`, which shares extents (a reflink) on
/// filesystems that can.
/// `keep` lists paths (relative) left in `dest` as they are: never removed, never overwritten
/// (a lock file cargo made, files the caller rewrites itself).
pub fn sync_tree(
    src: &Path,
    dest: &Path,
    skip: &[PathBuf],
    keep: &[PathBuf],
) -> anyhow::Result<SyncReport> {
    let mut report = SyncReport::default();
    let mut wanted: HashSet<PathBuf> = HashSet::new();
    let mut fingerprint = Sha256::new();
    std::fs::create_dir_all(dest)
        .with_context(|| format!("failed to create {}", dest.display()))?;
    let real_src = src.canonicalize().unwrap_or_else(|_| src.to_owned());
    for entry in walk(src, skip)? {
        let rel = entry
            .path()
            .strip_prefix(src)
            .expect("the walk stays under its root");
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(rel);
        wanted.insert(rel.to_owned());
        if rel.file_name().is_some_and(|n| n == "Cargo.toml") {
            report.manifests.push(rel.to_owned());
        }
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        // One `stat` per entry, used for the fingerprint and the comparison alike.
        let metadata = entry.metadata().ok();
        if let Some(metadata) = &metadata {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            fingerprint
                .update(format!("{}\0{}\0{modified}\0", rel.display(), metadata.len()).as_bytes());
        }
        if keep.iter().any(|k| k == rel) && target.symlink_metadata().is_ok() {
            report.unchanged += 1;
            continue;
        }
        if file_type.is_dir() {
            if !target.is_dir() {
                remove_any(&target)?;
                std::fs::create_dir_all(&target)
                    .with_context(|| format!("failed to create {}", target.display()))?;
            }
        } else if file_type.is_symlink() {
            let link = std::fs::read_link(entry.path())
                .with_context(|| format!("failed to read the link {}", entry.path().display()))?;
            // A relative link out of the workspace would dangle in the copy, which lives
            // elsewhere: point it at the same place absolutely.
            let link = match entry.path().parent() {
                Some(dir) if link.is_relative() => {
                    // `..` is taken from where the link really lives, which differs from its
                    // path when the workspace is reached through a symlink.
                    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
                    let resolved = normalize_lexically(&dir.join(&link));
                    if resolved.starts_with(&real_src) {
                        link
                    } else {
                        report.links_out.push((rel.to_owned(), resolved.clone()));
                        resolved
                    }
                }
                _ => {
                    if link.is_absolute() && !link.starts_with(src) && !link.starts_with(&real_src)
                    {
                        report.links_out.push((rel.to_owned(), link.clone()));
                    }
                    link
                }
            };
            if std::fs::read_link(&target).ok().as_ref() != Some(&link) {
                remove_any(&target)?;
                make_symlink(&link, &target)?;
                report.copied += 1;
            } else {
                report.unchanged += 1;
            }
        } else if file_type.is_file() {
            let metadata = match metadata {
                Some(metadata) => metadata,
                None => entry.metadata()?,
            };
            if same_file_content_stamp(&metadata, &target) {
                report.unchanged += 1;
                continue;
            }
            remove_any(&target)?;
            copy_keeping_time(entry.path(), &target, &metadata)?;
            report.copied += 1;
        }
    }
    // Remove what no longer exists in the source, deepest first.
    let mut extra: Vec<PathBuf> = walkdir::WalkDir::new(dest)
        .into_iter()
        .flatten()
        .filter_map(|e| e.path().strip_prefix(dest).ok().map(Path::to_owned))
        .filter(|rel| !rel.as_os_str().is_empty() && !wanted.contains(rel) && !keep.contains(rel))
        .collect();
    extra.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for rel in extra {
        let path = dest.join(&rel);
        if path.symlink_metadata().is_ok() {
            remove_any(&path)?;
            report.removed += 1;
        }
    }
    report.fingerprint = super::cache::hex(&fingerprint.finalize());
    Ok(report)
}

/// The entries of `src` to copy, parents first, in name order: not VCS or tool directories,
/// other target directories, the `skip` paths, or what git ignores there; then the files a
/// build needs that git ignores.
fn walk(src: &Path, skip: &[PathBuf]) -> anyhow::Result<Vec<ignore::DirEntry>> {
    let skip = skip.to_vec();
    let walker = ignore::WalkBuilder::new(src)
        .hidden(false)
        .ignore(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .parents(true)
        // As ripgrep: .gitignore files count inside a git repository (up to its root).
        .require_git(true)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            let path = entry.path();
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let skipped_name = entry.depth() > 0
                && is_dir
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_NAMES.contains(&n));
            // Another target directory (an old `target/` after `build.target-dir` moved):
            // cargo marks its own with CACHEDIR.TAG, and builds never read it.
            let cache = entry.depth() > 0 && is_dir && path.join("CACHEDIR.TAG").is_file();
            !skipped_name && !cache && !skip.iter().any(|s| path == s)
        })
        .build();
    let mut entries = Vec::new();
    for entry in walker {
        entries.push(entry.with_context(|| format!("failed to walk {}", src.display()))?);
    }
    let walked: HashSet<PathBuf> = entries.iter().map(|e| e.path().to_owned()).collect();
    for name in ALWAYS_COPIED {
        let path = src.join(name);
        if walked.contains(&path) || !path.is_file() {
            continue;
        }
        // Its directory too, when git ignores that (`.cargo/`).
        let walker = ignore::WalkBuilder::new(&path)
            .standard_filters(false)
            .build();
        for parent in path
            .parent()
            .into_iter()
            .filter(|p| *p != src && !walked.contains(*p))
        {
            if let Some(Ok(dir)) = ignore::WalkBuilder::new(parent)
                .standard_filters(false)
                .max_depth(Some(0))
                .build()
                .next()
            {
                entries.push(dir);
            }
        }
        entries.extend(walker.flatten());
    }
    Ok(entries)
}

/// Copy `from` (whose metadata is `metadata`) to `to` with its modification time, which
/// cargo's fingerprints compare; the bytes copied. `std::fs::copy` uses `copy_file_range`,
/// which shares extents (a reflink) on filesystems that can.
pub fn copy_keeping_time(
    from: &Path,
    to: &Path,
    metadata: &std::fs::Metadata,
) -> anyhow::Result<u64> {
    let bytes = std::fs::copy(from, to)
        .with_context(|| format!("failed to copy {} to {}", from.display(), to.display()))?;
    if let Ok(modified) = metadata.modified() {
        std::fs::File::options()
            .write(true)
            .open(to)?
            .set_modified(modified)
            .with_context(|| format!("failed to set the time of {}", to.display()))?;
    }
    Ok(bytes)
}

/// Same size and modification time: the copy is current.
fn same_file_content_stamp(source: &std::fs::Metadata, target: &Path) -> bool {
    let Ok(copy) = target.symlink_metadata() else {
        return false;
    };
    copy.is_file()
        && copy.len() == source.len()
        && copy
            .modified()
            .ok()
            .is_some_and(|m| Some(m) == source.modified().ok())
}

fn remove_any(path: &Path) -> anyhow::Result<()> {
    match path.symlink_metadata() {
        Ok(metadata) if metadata.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    }
    .with_context(|| format!("failed to remove {}", path.display()))
}

#[cfg(unix)]
fn make_symlink(link: &Path, at: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(link, at).with_context(|| format!("failed to link {}", at.display()))
}

#[cfg(not(unix))]
fn make_symlink(link: &Path, at: &Path) -> anyhow::Result<()> {
    anyhow::bail!(
        "cannot copy the symlink {} -> {} on this platform",
        at.display(),
        link.display()
    )
}

#[cfg(test)]
mod test {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn what_git_ignores_is_not_copied_but_what_builds_need_is() {
        let src = tempfile::tempdir().unwrap();
        let git = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(src.path())
            .status();
        if !git.is_ok_and(|s| s.success()) {
            eprintln!("git is not available; skipping");
            return;
        }
        write(&src.path().join("src/lib.rs"), "");
        write(
            &src.path().join(".gitignore"),
            "/.env\n*.pem\n/Cargo.lock\n.cargo/\nlocal/\n",
        );
        write(&src.path().join(".env"), "OPENAI_API_KEY=sk-secret");
        write(
            &src.path().join("keys/server.pem"),
            "-----BEGIN PRIVATE KEY-----",
        );
        write(&src.path().join("local/settings.toml"), "token = 1");
        write(&src.path().join("Cargo.lock"), "# lock");
        write(&src.path().join(".cargo/config.toml"), "[build]");
        write(
            &src.path().join(".hidden_fixture"),
            "kept: git does not ignore it",
        );
        let dest = tempfile::tempdir().unwrap();
        sync_tree(src.path(), dest.path(), &[], &[]).unwrap();
        for gone in [".env", "keys/server.pem", "local/settings.toml"] {
            assert!(!dest.path().join(gone).exists(), "{gone} was copied");
        }
        for kept in [
            "src/lib.rs",
            ".gitignore",
            "Cargo.lock",
            ".cargo/config.toml",
            ".hidden_fixture",
        ] {
            assert!(dest.path().join(kept).is_file(), "{kept} was not copied");
        }
        // A file ignored later goes from the copy.
        write(&src.path().join("src/notes.txt"), "x");
        sync_tree(src.path(), dest.path(), &[], &[]).unwrap();
        assert!(dest.path().join("src/notes.txt").is_file());
        write(&src.path().join(".gitignore"), "/.env\n*.pem\nnotes.txt\n");
        sync_tree(src.path(), dest.path(), &[], &[]).unwrap();
        assert!(!dest.path().join("src/notes.txt").exists());
    }

    #[test]
    fn other_target_directories_are_not_copied() {
        let src = tempfile::tempdir().unwrap();
        write(&src.path().join("src/lib.rs"), "");
        write(
            &src.path().join("old-target/CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        );
        write(&src.path().join("old-target/debug/big"), "x");
        let dest = tempfile::tempdir().unwrap();
        sync_tree(src.path(), dest.path(), &[], &[]).unwrap();
        assert!(dest.path().join("src/lib.rs").is_file());
        assert!(!dest.path().join("old-target").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_tree_still_reaches_its_target_from_the_copy() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("crate");
        write(&root.path().join("shared/common.rs"), "pub fn c() {}");
        write(&src.join("src/lib.rs"), "mod common;");
        write(&src.join("src/inner.rs"), "");
        std::os::unix::fs::symlink("../../shared/common.rs", src.join("src/common.rs")).unwrap();
        std::os::unix::fs::symlink("inner.rs", src.join("src/alias.rs")).unwrap();
        // Reached through a symlink whose `..` is elsewhere.
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        std::os::unix::fs::symlink("../../crate", root.path().join("a/b/entry")).unwrap();
        let src = root.path().join("a/b/entry");
        let dest = tempfile::tempdir().unwrap();
        let synced = sync_tree(&src, dest.path(), &[], &[]).unwrap();
        assert_eq!(
            synced.links_out,
            [(
                PathBuf::from("src/common.rs"),
                root.path().canonicalize().unwrap().join("shared/common.rs")
            )]
        );
        assert_eq!(
            std::fs::read_to_string(dest.path().join("src/common.rs")).unwrap(),
            "pub fn c() {}"
        );
        // A link within the tree stays relative, so it points into the copy.
        assert_eq!(
            std::fs::read_link(dest.path().join("src/alias.rs")).unwrap(),
            PathBuf::from("inner.rs")
        );
        // Unchanged on the next sync.
        let again = sync_tree(&src, dest.path(), &[], &[]).unwrap();
        assert_eq!(again.copied, 0);
    }

    #[test]
    fn sync_copies_then_only_changes_and_removes_deleted_files() {
        let src = tempfile::tempdir().unwrap();
        let dest = tempfile::tempdir().unwrap();
        write(&src.path().join("Cargo.toml"), "[package]");
        write(&src.path().join("src/lib.rs"), "fn a() {}");
        write(&src.path().join(".git/HEAD"), "ref");
        write(&src.path().join("target/debug/x"), "binary");
        let skip = [src.path().join("target")];
        let first = sync_tree(src.path(), dest.path(), &skip, &[]).unwrap();
        assert_eq!(first.copied, 2);
        assert!(!dest.path().join(".git").exists());
        assert!(!dest.path().join("target").exists());

        let again = sync_tree(src.path(), dest.path(), &skip, &[]).unwrap();
        assert_eq!((again.copied, again.unchanged), (0, 2));

        // An injected (changed) copy is restored; a deleted source file goes away.
        write(&dest.path().join("src/lib.rs"), "fn a() {} mod injected {}");
        std::fs::remove_file(src.path().join("Cargo.toml")).unwrap();
        let third = sync_tree(src.path(), dest.path(), &skip, &[]).unwrap();
        assert_eq!((third.copied, third.removed), (1, 1));
        assert_eq!(
            std::fs::read_to_string(dest.path().join("src/lib.rs")).unwrap(),
            "fn a() {}"
        );
        // A kept file is left as the caller wrote it; the fingerprint follows the source.
        write(&dest.path().join("src/lib.rs"), "fn a() {} mod injected {}");
        let kept = sync_tree(
            src.path(),
            dest.path(),
            &skip,
            &[PathBuf::from("src/lib.rs")],
        )
        .unwrap();
        assert_eq!(kept.fingerprint, third.fingerprint);
        assert!(
            std::fs::read_to_string(dest.path().join("src/lib.rs"))
                .unwrap()
                .contains("injected")
        );
        assert!(!dest.path().join("Cargo.toml").exists());
    }

    #[test]
    fn copies_keep_the_source_modification_time() {
        let src = tempfile::tempdir().unwrap();
        let dest = tempfile::tempdir().unwrap();
        write(&src.path().join("a.rs"), "x");
        sync_tree(src.path(), dest.path(), &[], &[]).unwrap();
        let a = std::fs::metadata(src.path().join("a.rs"))
            .unwrap()
            .modified()
            .unwrap();
        let b = std::fs::metadata(dest.path().join("a.rs"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(a, b);
    }
}
