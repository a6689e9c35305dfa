//! `analyze` over every crate in the local cargo registry: no crash, and every file accounted
//! for. Ignored by default (it depends on what the registry holds); run it with
//!
//! ```sh
//! cargo fetch --manifest-path benches/corpus/Cargo.toml
//! cargo test --release --test registry -- --ignored --nocapture
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn registry_crates() -> Vec<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap()).join(".cargo"));
    let mut crates = Vec::new();
    for index in std::fs::read_dir(cargo_home.join("registry/src"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for entry in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().join("Cargo.toml").is_file() {
                crates.push(entry.path());
            }
        }
    }
    crates.sort();
    crates
}

#[test]
#[ignore = "walks the whole local cargo registry"]
fn analyze_every_registry_crate_accounts_for_every_file() {
    let crates = registry_crates();
    assert!(
        !crates.is_empty(),
        "the local registry is empty: run cargo fetch first"
    );
    let mut problems = Vec::new();
    let (mut functions, mut sites, mut parse_failures, mut manifest_failures) = (0, 0, 0, 0);
    for dir in &crates {
        let output = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
            .args(["analyze", "--format", "json", "-q", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => {}
            // A registry manifest cargo itself cannot read (a newer manifest format, a
            // workspace-inherited field): one clear line, exit 2.
            Some(2) if stderr.lines().count() == 1 => {
                manifest_failures += 1;
                println!("{}: {}", dir.display(), stderr.trim());
                continue;
            }
            other => {
                problems.push(format!("{}: exit {other:?}: {stderr}", dir.display()));
                continue;
            }
        }
        let doc: Value = match serde_json::from_slice(&output.stdout) {
            Ok(doc) => doc,
            Err(err) => {
                problems.push(format!("{}: bad JSON: {err}", dir.display()));
                continue;
            }
        };
        functions += doc["functions"].as_array().unwrap().len();
        sites += doc["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["sites"].as_array().unwrap().len())
            .sum::<usize>();
        let errors: HashSet<&str> = doc["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["file"].as_str().unwrap())
            .collect();
        let files: HashSet<&str> = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let unreachable: HashSet<&str> = doc["unreachable_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        // Every file that syn cannot parse must be reported, never swallowed.
        for file in &files {
            let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
                if !errors.contains(file) {
                    problems.push(format!(
                        "{}: {file} is not UTF-8 but not reported",
                        dir.display()
                    ));
                }
                continue;
            };
            if syn::parse_file(&text).is_err() {
                parse_failures += 1;
                if !errors.contains(file) {
                    problems.push(format!(
                        "{}: {file} does not parse but is not reported",
                        dir.display()
                    ));
                }
            }
        }
        // Every .rs file under src/ is analyzed, reported, or listed as unreachable.
        let src = dir.join("src");
        for entry in walkdir::WalkDir::new(&src).into_iter().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let in_nested_package = path
                    .ancestors()
                    .take_while(|a| *a != src)
                    .any(|a| a != path && a.join("Cargo.toml").is_file());
                if !in_nested_package
                    && !files.contains(rel.as_str())
                    && !unreachable.contains(rel.as_str())
                    && !errors.contains(rel.as_str())
                {
                    problems.push(format!(
                        "{}: {rel} is neither analyzed nor listed",
                        dir.display()
                    ));
                }
            }
        }
    }
    println!(
        "{} crates: {functions} functions, {sites} sites, {parse_failures} files syn cannot parse (all reported), {manifest_failures} manifests cargo cannot read",
        crates.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
