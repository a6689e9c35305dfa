//! Start the scratch target from the user's own build. The builds of dependencies from outside
//! the workspace (registry, git, path) that the user's target directory holds are put into
//! the scratch target, so a first review compiles the crate, not its dependency tree again.
//! Cargo's fingerprints still decide what is fresh: a build made with other flags, features
//! or another rustc carries another hash and is never picked. The user's directory is only
//! read, under cargo's own shared lock.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

/// What seeding put into the scratch target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Profile directories read (`debug`, `<triple>/debug`), relative to the user's target.
    pub profiles: Vec<PathBuf>,
    /// Compilation units (one `.fingerprint/<name>-<hash>` each) put in.
    pub units: usize,
    /// Files hard-linked (libraries rustc replaces by rename, never rewrites in place).
    pub linked: usize,
    /// Files copied (what cargo or a build script rewrites in place), and their bytes.
    pub copied: usize,
    pub copied_bytes: u64,
    pub elapsed_ms: u64,
    /// Why nothing was read, when nothing was (cargo holds the directory for a build).
    pub skipped: Option<String>,
}

/// The profile cargo builds tests' dependencies with (`cargo test` compiles them under `dev`,
/// whose directory is `debug`).
const PROFILE_DIR: &str = "debug";

/// Outputs rustc writes to a temporary file and renames into place, so a rebuild in the
/// scratch target replaces a link instead of writing through it into the user's file.
const LINKED_EXTENSIONS: &[&str] = &["rlib", "rmeta", "so", "dylib", "dll"];

/// Put into `scratch_target` every unit of the user's `users_target` that is not a build of one
/// of `members` and that the scratch target lacks. Never writes under `users_target`.
pub fn seed_target(
    users_target: &Path,
    scratch_target: &Path,
    members: &[String],
) -> anyhow::Result<SeedReport> {
    let start = Instant::now();
    let mut report = SeedReport::default();
    if same_directory(users_target, scratch_target) {
        return Ok(report);
    }
    for profile in profile_dirs(users_target) {
        let from = users_target.join(&profile);
        let to = scratch_target.join(&profile);
        // Cargo locks a profile directory exclusively while it builds there: a shared lock
        // means no build is half-written while we read.
        let Ok(lock) = std::fs::File::open(from.join(".cargo-lock")) else {
            continue;
        };
        if lock.try_lock_shared().is_err() {
            report.skipped = Some(format!(
                "cargo is building in {}; its builds were not reused",
                from.display()
            ));
            continue;
        }
        let units = units_to_seed(&from, &to, members)?;
        if units.is_empty() {
            continue;
        }
        report.profiles.push(profile);
        seed_units(&from, &to, &units, &mut report)?;
        drop(lock);
    }
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(report)
}

impl SeedReport {
    /// One line for the user, or none when nothing was reused. `dependencies` is what the
    /// first build then made of the dependencies: (fresh, compiled).
    pub fn summary(&self, users_target: &Path, dependencies: (usize, usize)) -> Option<String> {
        let skipped = self
            .skipped
            .as_ref()
            .map(|why| format!("; {why}"))
            .unwrap_or_default();
        if self.units == 0 && !skipped.is_empty() {
            return self.skipped.clone();
        }
        if self.units == 0 {
            return None;
        }
        let dirs: Vec<String> = self
            .profiles
            .iter()
            .map(|p| users_target.join(p).display().to_string())
            .collect();
        let (fresh, compiled) = dependencies;
        Some(format!(
            "reused your build in {}: {} dependency unit{} put in ({} files linked, {} copied, \
             {}, {:.1}s); cargo found {fresh} fresh and compiled {compiled}{skipped}",
            dirs.join(", "),
            self.units,
            if self.units == 1 { "" } else { "s" },
            self.linked,
            self.copied,
            human_bytes(self.copied_bytes),
            self.elapsed_ms as f64 / 1000.0
        ))
    }
}

/// `debug`, and `<triple>/debug` for builds with `--target` or `build.target`.
fn profile_dirs(users_target: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if users_target.join(PROFILE_DIR).join(".fingerprint").is_dir() {
        dirs.push(PathBuf::from(PROFILE_DIR));
    }
    if let Ok(entries) = std::fs::read_dir(users_target) {
        let mut triples: Vec<PathBuf> = entries
            .flatten()
            .map(|e| PathBuf::from(e.file_name()))
            .filter(|name| {
                name.as_os_str() != PROFILE_DIR
                    && looks_like_a_triple(name)
                    && users_target
                        .join(name)
                        .join(PROFILE_DIR)
                        .join(".fingerprint")
                        .is_dir()
            })
            .map(|name| name.join(PROFILE_DIR))
            .collect();
        triples.sort();
        dirs.extend(triples);
    }
    dirs
}

/// `x86_64-unknown-linux-gnu`, `wasm32-wasip1`: a `--target` build's directory, not another
/// tool's target directory that happens to hold a `debug/` (`llvm-cov-target`).
fn looks_like_a_triple(name: &Path) -> bool {
    const ARCHES: &[&str] = &[
        "x86_64",
        "i686",
        "i586",
        "aarch64",
        "arm",
        "armv7",
        "armv7a",
        "thumbv6m",
        "thumbv7m",
        "thumbv7em",
        "thumbv8m",
        "riscv32imac",
        "riscv32imc",
        "riscv64gc",
        "wasm32",
        "wasm64",
        "powerpc64le",
        "powerpc64",
        "s390x",
        "mips",
        "mipsel",
        "loongarch64",
        "sparc64",
    ];
    name.to_str()
        .and_then(|n| n.split_once('-'))
        .is_some_and(|(arch, _)| ARCHES.contains(&arch))
}

/// The `<name>-<hash>` units of `from` to put into `to`: not a member's, not there already.
fn units_to_seed(from: &Path, to: &Path, members: &[String]) -> anyhow::Result<Vec<String>> {
    let fingerprints = from.join(".fingerprint");
    let entries = std::fs::read_dir(&fingerprints)
        .with_context(|| format!("failed to read {}", fingerprints.display()))?;
    let mut units: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|unit| {
            unit_parts(unit).is_some_and(|(name, _)| !members.iter().any(|m| m == name))
                && !to.join(".fingerprint").join(unit).exists()
        })
        .collect();
    units.sort();
    Ok(units)
}

/// `serde_json-0123456789abcdef` → (`serde_json`, `0123456789abcdef`).
fn unit_parts(unit: &str) -> Option<(&str, &str)> {
    let (name, hash) = unit.rsplit_once('-')?;
    (!name.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((name, hash))
}

/// The unit hash in a file name of `deps/`: `libfoo-<hash>.rlib`, `foo-<hash>.d`,
/// `foo-<hash>` (an executable).
fn deps_file_hash(file: &str) -> Option<&str> {
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    unit_parts(stem).map(|(_, hash)| hash)
}

/// Put `units` into `to`: their `deps/` files and `build/` directories first and their
/// fingerprints last, so a unit cut off halfway has no fingerprint and is built again.
fn seed_units(
    from: &Path,
    to: &Path,
    units: &[String],
    report: &mut SeedReport,
) -> anyhow::Result<()> {
    let hashes: HashSet<&str> = units
        .iter()
        .filter_map(|u| unit_parts(u))
        .map(|p| p.1)
        .collect();
    let deps = from.join("deps");
    if let Ok(entries) = std::fs::read_dir(&deps) {
        std::fs::create_dir_all(to.join("deps"))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if deps_file_hash(name).is_some_and(|h| hashes.contains(h))
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                put_file(&entry.path(), &to.join("deps").join(name), report)?;
            }
        }
    }
    // Build scripts write their `OUT_DIR` in place when they run again: copied, never linked.
    let profiles = (from, to);
    for unit in units {
        let build = from.join("build").join(unit);
        if build.is_dir() {
            put_tree(&build, &to.join("build").join(unit), profiles, report)?;
        }
    }
    for unit in units {
        put_tree(
            &from.join(".fingerprint").join(unit),
            &to.join(".fingerprint").join(unit),
            profiles,
            report,
        )?;
        report.units += 1;
    }
    Ok(())
}

/// Copy the tree `from` to `to`, files with their times. A link into the user's profile
/// directory (`profiles.0`, an `OUT_DIR` a build script linked to) points at the same place
/// under the scratch one (`profiles.1`), never back into the user's.
fn put_tree(
    from: &Path,
    to: &Path,
    profiles: (&Path, &Path),
    report: &mut SeedReport,
) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.with_context(|| format!("failed to read {}", from.display()))?;
        let rel = entry.path().strip_prefix(from).expect("under its root");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)
                .with_context(|| format!("failed to create {}", dest.display()))?;
        } else if entry.file_type().is_file() {
            copy_file(entry.path(), &dest, report)?;
        } else if entry.file_type().is_symlink() {
            let link = std::fs::read_link(entry.path())
                .with_context(|| format!("failed to read the link {}", entry.path().display()))?;
            let link = match link.strip_prefix(profiles.0) {
                Ok(rest) => profiles.1.join(rest),
                Err(_) => link,
            };
            let _ = std::fs::remove_file(&dest);
            #[cfg(unix)]
            std::os::unix::fs::symlink(&link, &dest)
                .with_context(|| format!("failed to link {}", dest.display()))?;
            report.copied += 1;
        }
    }
    Ok(())
}

/// A file of `deps/`: a library rustc writes linked, anything else copied.
fn put_file(from: &Path, to: &Path, report: &mut SeedReport) -> anyhow::Result<()> {
    let linkable = from
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| LINKED_EXTENSIONS.contains(&e));
    let _ = std::fs::remove_file(to);
    if linkable && std::fs::hard_link(from, to).is_ok() {
        report.linked += 1;
        return Ok(());
    }
    copy_file(from, to, report)
}

/// Copy a file keeping its modification time (cargo compares them).
fn copy_file(from: &Path, to: &Path, report: &mut SeedReport) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(to);
    let metadata =
        std::fs::metadata(from).with_context(|| format!("failed to read {}", from.display()))?;
    report.copied_bytes += super::copy::copy_keeping_time(from, to, &metadata)?;
    report.copied += 1;
    Ok(())
}

fn same_directory(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn unit_and_deps_names_are_split_at_the_hash() {
        assert_eq!(
            unit_parts("serde_json-0123456789abcdef"),
            Some(("serde_json", "0123456789abcdef"))
        );
        assert_eq!(
            unit_parts("proc-macro2-1f195612b489f3ee"),
            Some(("proc-macro2", "1f195612b489f3ee"))
        );
        assert_eq!(unit_parts("lib-not-a-unit"), None);
        assert_eq!(
            deps_file_hash("libserde_json-0123456789abcdef.rlib"),
            Some("0123456789abcdef")
        );
        assert_eq!(
            deps_file_hash("dateutils-ff53abe770c1cf5a"),
            Some("ff53abe770c1cf5a")
        );
        assert_eq!(deps_file_hash(".cargo-lock"), None);
        assert!(looks_like_a_triple(Path::new("x86_64-unknown-linux-gnu")));
        assert!(looks_like_a_triple(Path::new("wasm32-wasip1")));
        assert!(!looks_like_a_triple(Path::new("llvm-cov-target")));
        assert!(!looks_like_a_triple(Path::new("dualtrack")));
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A user target holding a registry dependency's unit and a member's.
    fn users_target(root: &Path) -> PathBuf {
        let t = root.join("target");
        let d = t.join("debug");
        write(&d.join(".cargo-lock"), "");
        write(&d.join(".fingerprint/itoa-6c1e270c698fa6a6/lib-itoa"), "fp");
        write(&d.join("deps/libitoa-6c1e270c698fa6a6.rlib"), "rlib");
        write(&d.join("deps/itoa-6c1e270c698fa6a6.d"), "dep-info");
        write(&d.join(".fingerprint/mine-0000000000000001/lib-mine"), "fp");
        write(&d.join("deps/libmine-0000000000000001.rlib"), "mine");
        write(&d.join(".fingerprint/cc-0123456789abcdef/run"), "fp");
        write(&d.join("build/cc-0123456789abcdef/out/gen.rs"), "gen");
        // A prebuilt library a build script put in its OUT_DIR, and a link to it.
        write(&d.join("build/cc-0123456789abcdef/out/libfoo.so"), "so");
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            d.join("build/cc-0123456789abcdef/out/libfoo.so"),
            d.join("build/cc-0123456789abcdef/out/libfoo.so.1"),
        )
        .unwrap();
        t
    }

    #[test]
    fn dependencies_are_linked_or_copied_and_members_left_out() {
        let root = tempfile::tempdir().unwrap();
        let users = users_target(root.path());
        let scratch = root.path().join("scratch");
        let report = seed_target(&users, &scratch, &["mine".to_owned()]).unwrap();
        assert_eq!((report.units, report.linked), (2, 1));
        let d = scratch.join("debug");
        assert!(d.join("deps/libitoa-6c1e270c698fa6a6.rlib").is_file());
        assert!(d.join("build/cc-0123456789abcdef/out/gen.rs").is_file());
        assert!(
            d.join(".fingerprint/itoa-6c1e270c698fa6a6/lib-itoa")
                .is_file()
        );
        assert!(!d.join("deps/libmine-0000000000000001.rlib").exists());
        assert!(!d.join(".fingerprint/mine-0000000000000001").exists());
        // Modification times kept: cargo compares them.
        let time = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
        assert_eq!(
            time(&d.join("deps/itoa-6c1e270c698fa6a6.d")),
            time(&users.join("debug/deps/itoa-6c1e270c698fa6a6.d"))
        );
        // The copy is its own file: writing it leaves the user's alone.
        std::fs::write(d.join("deps/itoa-6c1e270c698fa6a6.d"), "rewritten").unwrap();
        assert_eq!(
            std::fs::read_to_string(users.join("debug/deps/itoa-6c1e270c698fa6a6.d")).unwrap(),
            "dep-info"
        );
        // Under `build/`, everything is copied (a build script rewrites its OUT_DIR in place),
        // and a link into the user's directory points into the scratch one.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
            let out = "build/cc-0123456789abcdef/out";
            assert_ne!(
                ino(&d.join(out).join("libfoo.so")),
                ino(&users.join("debug").join(out).join("libfoo.so"))
            );
            assert_eq!(
                std::fs::read_link(d.join(out).join("libfoo.so.1")).unwrap(),
                d.join(out).join("libfoo.so")
            );
            // The library of `deps/` is the same file.
            assert_eq!(
                ino(&d.join("deps/libitoa-6c1e270c698fa6a6.rlib")),
                ino(&users.join("debug/deps/libitoa-6c1e270c698fa6a6.rlib"))
            );
        }
        // A second seeding finds everything there.
        let again = seed_target(&users, &scratch, &["mine".to_owned()]).unwrap();
        assert_eq!(again.units, 0);
        assert_eq!(again.summary(&users, (2, 0)), None);
        let line = report.summary(&users, (2, 1)).unwrap();
        assert!(
            line.contains("2 dependency units put in") && line.contains("2 fresh and compiled 1"),
            "{line}"
        );
    }

    #[test]
    fn a_directory_cargo_is_building_in_is_not_read() {
        let root = tempfile::tempdir().unwrap();
        let users = users_target(root.path());
        let lock = std::fs::File::open(users.join("debug/.cargo-lock")).unwrap();
        lock.lock().unwrap();
        let report = seed_target(&users, &root.path().join("scratch"), &[]).unwrap();
        assert_eq!(report.units, 0);
        assert!(report.skipped.unwrap().contains("cargo is building"));
    }
}
