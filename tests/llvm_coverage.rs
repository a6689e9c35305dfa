//! The site probes against LLVM's own coverage (`-C instrument-coverage`): the same review's
//! tests, built instrumented, read with `llvm-profdata` and `llvm-cov` of rustc's LLVM (the
//! `llvm-tools` rustup component, or `llvm-profdata-N` of the same major on the PATH). Skipped,
//! with a message, where those tools are missing.
//!
//! Each probe is a call at its site in the scratch copy (`hit(N)`), so LLVM's count of the
//! code region holding that call says whether the site was reached. The two agree but in one
//! direction: LLVM counts a region once it is entered, and a call that panics does not end a
//! region, so the code after a panicking `unwrap` in the same region counts as run. The probes
//! see it was not. A probe that says reached where LLVM says not would be a bogus probe.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod util;
use util::{copy_fixture, dualtrack};

/// `llvm-profdata` and `llvm-cov` matching rustc's LLVM, if there are any.
fn llvm_tools() -> Option<(PathBuf, PathBuf)> {
    let rustc = |args: &[&str]| {
        let output = Command::new("rustc").args(args).output().ok()?;
        Some(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let version = rustc(&["-vV"])?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))?
        .to_owned();
    let major = version
        .lines()
        .find_map(|l| l.strip_prefix("LLVM version: "))?
        .split('.')
        .next()?
        .to_owned();
    let sysroot = rustc(&["--print", "sysroot"])?;
    let bin = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin");
    let component = (bin.join("llvm-profdata"), bin.join("llvm-cov"));
    if component.0.is_file() && component.1.is_file() {
        return Some(component);
    }
    let on_path = |name: String| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(&name))
            .find(|path| path.is_file())
    };
    Some((
        on_path(format!("llvm-profdata-{major}"))?,
        on_path(format!("llvm-cov-{major}"))?,
    ))
}

/// How the probes and LLVM compare on the crate at `dir`: (agreeing sites, sites LLVM says
/// reached and the probes not, sites the probes say reached and LLVM not).
fn compare(dir: &Path, tools: &(PathBuf, PathBuf)) -> (usize, Vec<String>, Vec<String>) {
    let output = dualtrack()
        .args([
            "review",
            "--all-functions",
            "--fail-on",
            "never",
            "--format",
            "json",
        ])
        // The tests write their profiles into their working directory, in the copy. The fuzz
        // stage's builds would replace the executables the profiles are read against.
        .args(["--sandbox", "none", "--fuzz-runs", "0", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("RUSTFLAGS", "-C instrument-coverage")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let reached: std::collections::HashSet<&str> = document["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["reached"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let area = dir.join("target/dualtrack");
    let slots: Vec<Option<String>> =
        serde_json::from_str(&std::fs::read_to_string(area.join("probes.json")).unwrap()).unwrap();
    let profiles: Vec<PathBuf> = std::fs::read_dir(area.join("scratch"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "profraw"))
        .collect();
    assert!(!profiles.is_empty(), "no test wrote a profile");
    let merged = area.join("merged.profdata");
    let status = Command::new(&tools.0)
        .args(["merge", "-sparse", "-o"])
        .arg(&merged)
        .args(&profiles)
        .status()
        .unwrap();
    assert!(status.success());
    let mut export = Command::new(&tools.1);
    export
        .args(["export", "--format=text", "-instr-profile"])
        .arg(&merged);
    for entry in std::fs::read_dir(area.join("target/debug/deps"))
        .unwrap()
        .flatten()
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = entry.metadata().unwrap();
        if metadata.is_file() && metadata.permissions().mode() & 0o111 != 0 {
            export.arg("-object").arg(entry.path());
        }
    }
    let exported = export.output().unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let coverage: Value = serde_json::from_slice(&exported.stdout).unwrap();
    let (mut agree, mut only_llvm, mut only_probes) = (0, Vec::new(), Vec::new());
    for file in coverage["data"][0]["files"].as_array().unwrap() {
        let segments = file["segments"].as_array().unwrap();
        let text = std::fs::read_to_string(file["filename"].as_str().unwrap()).unwrap();
        for (line_index, line) in text.lines().enumerate() {
            let mut rest = line;
            let mut column = 1;
            // `tried(N, ..)` counts only a `?` that propagated, which LLVM does not single out.
            while let Some(at) = rest.find("__dualtrack_probes::hit(") {
                let call = &rest[at + "__dualtrack_probes::hit(".len()..];
                let slot: usize = call[..call.find(')').unwrap()].parse().unwrap();
                let position = (line_index as u64 + 1, (column + at) as u64);
                column += at + 1;
                rest = &rest[at + 1..];
                let Some(Some(site)) = slots.get(slot) else {
                    continue;
                };
                // The segment in force at the call: its count, if it has one (code compiled
                // out of this build has none).
                let in_force = segments
                    .iter()
                    .take_while(|s| (s[0].as_u64().unwrap(), s[1].as_u64().unwrap()) <= position)
                    .last();
                let Some(segment) = in_force.filter(|s| s[3].as_bool().unwrap()) else {
                    continue;
                };
                let by_llvm = segment[2].as_u64().unwrap() > 0;
                match (by_llvm, reached.contains(site.as_str())) {
                    (true, true) | (false, false) => agree += 1,
                    (true, false) => only_llvm.push(site.clone()),
                    (false, true) => only_probes.push(site.clone()),
                }
            }
        }
    }
    (agree, only_llvm, only_probes)
}

#[test]
fn the_probes_agree_with_llvm_coverage() {
    let Some(tools) = llvm_tools() else {
        eprintln!(
            "skipped: no llvm-profdata/llvm-cov matching rustc's LLVM (`rustup component add \
             llvm-tools`, or a distribution's llvm-N of the same major)"
        );
        return;
    };
    for fixture in ["ledger", "planted"] {
        let dir = copy_fixture(fixture);
        let (agree, only_llvm, only_probes) = compare(dir.path(), &tools);
        eprintln!(
            "{fixture}: {agree} sites agree, {} reached by LLVM only, {} by the probes only",
            only_llvm.len(),
            only_probes.len()
        );
        assert!(agree > 30, "{fixture}: too few sites compared ({agree})");
        assert!(
            only_llvm.is_empty() && only_probes.is_empty(),
            "{fixture}: LLVM only {only_llvm:?}, probes only {only_probes:?}"
        );
    }
    // A crate nobody wrote for this tool, from the registry (where it can be fetched).
    let scratch = tempfile::tempdir().unwrap();
    let Some(source) = util::registry::registry_crate(scratch.path(), "semver", "1") else {
        eprintln!("semver: not fetched from the registry here, skipped");
        return;
    };
    let dir = scratch.path().join("semver");
    util::copy_dir(&source, &dir);
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
    let (agree, only_llvm, only_probes) = compare(&dir, &tools);
    eprintln!(
        "semver: {agree} sites agree, {} reached by LLVM only, {} by the probes only",
        only_llvm.len(),
        only_probes.len()
    );
    assert!(agree > 200, "semver: too few sites compared ({agree})");
    // Never a probe where LLVM saw nothing; LLVM's region granularity allows a few the other
    // way.
    assert!(only_probes.is_empty(), "{only_probes:?}");
    assert!(only_llvm.len() * 100 <= agree, "{only_llvm:?}");
}
