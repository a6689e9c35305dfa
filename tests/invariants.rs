//! The invariants ARCHITECTURE.md lists, checked on the source tree: which modules start
//! processes, which talk HTTP, that the top-level modules import each other without cycles,
//! and that the sources cite only documents of this repository.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its text before its `#[cfg(test)] mod test` (test
/// code may name anything, as test data).
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root.join("src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let shipped = match text.find("#[cfg(test)]\nmod test") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        let rel = entry.path().strip_prefix(root).unwrap();
        out.push((rel.to_string_lossy().replace('\\', "/"), shipped));
    }
    out.sort();
    out
}

/// Files whose shipped code contains `needle`.
fn files_with(needle: &str) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(_, text)| text.contains(needle))
        .map(|(file, _)| file)
        .collect()
}

#[test]
fn only_the_scratch_modules_start_builds_and_tests() {
    // The others start git (what changed, the scratch copy's ignore rules), rustfmt, and the
    // agent CLIs the agent engines ask (through the scratch modules' process runner).
    let allowed = [
        "src/checkin/edit.rs",
        "src/generate/llm/agent.rs",
        "src/review/diff.rs",
        "src/scratch/build.rs",
        "src/scratch/copy.rs",
        "src/scratch/process.rs",
        "src/scratch/sandbox.rs",
    ];
    // `std::process::Command::new(`, not `MetadataCommand::new(` (cargo_metadata runs cargo
    // metadata, which runs no crate code).
    let starting: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| {
            text.match_indices("Command::new(").any(|(at, _)| {
                !text[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .map(|(file, _)| file)
        .collect();
    let strays: Vec<&String> = starting
        .iter()
        .filter(|f| !allowed.contains(&f.as_str()))
        .collect();
    assert!(
        strays.is_empty(),
        "processes started outside scratch/: {strays:?}"
    );
    for file in ["src/checkin/edit.rs", "src/review/diff.rs"] {
        let text = &sources().into_iter().find(|(f, _)| f == file).unwrap().1;
        for at in text.match_indices("Command::new(").map(|(at, _)| at) {
            let program = &text[at..text[at..].find(')').map_or(text.len(), |end| at + end)];
            assert!(
                program.contains("git") || program.contains("rustfmt"),
                "{file} starts {program}"
            );
        }
    }
}

#[test]
fn only_the_model_client_talks_http() {
    for needle in [".post(", ".send()", "reqwest::get"] {
        let files = files_with(needle);
        assert!(
            files.iter().all(|f| f == "src/generate/llm/client.rs"),
            "{needle} in {files:?}"
        );
    }
}

#[test]
fn sources_cite_only_documents_of_this_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for (file, text) in sources() {
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            assert!(
                !line.contains("DESIGN.md") && !line.contains("../shared"),
                "{file}: {line}"
            );
            for (at, _) in line.match_indices("docs/") {
                let name: String = line[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "/-_.".contains(*c))
                    .collect();
                let name = name.trim_end_matches('.');
                if name.ends_with(".md") {
                    assert!(
                        root.join(name).exists(),
                        "{file} cites {name}, which is not there"
                    );
                }
            }
        }
    }
}

/// The top-level module a source file belongs to (`src/review/scope.rs` → `review`); `None`
/// for the crate roots.
fn top_module(file: &str) -> Option<String> {
    let rest = file.strip_prefix("src/")?;
    let top = rest.split('/').next()?.trim_end_matches(".rs");
    (!matches!(top, "lib" | "main")).then(|| top.to_owned())
}

#[test]
fn the_top_level_modules_import_each_other_without_cycles() {
    use std::collections::{BTreeMap, BTreeSet};
    // Which top-level modules each one names as `crate::NAME`, and from which file.
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (file, text) in sources() {
        let Some(from) = top_module(&file) else {
            continue;
        };
        for (at, _) in text.match_indices("crate::") {
            let name: String = text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != from {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(name)
                    .or_insert_with(|| file.clone());
            }
        }
    }
    // A module reaches itself through others: a cycle. Walk from each module.
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut path = vec![start.clone()];
        let mut seen = BTreeSet::new();
        if let Some(cycle) = reaches(start, start, &edges, &mut path, &mut seen) {
            cycles.push(cycle);
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules (each step names the file that imports): \
         {cycles:#?}"
    );
}

/// The path of imports from `at` back to `target`, if there is one.
fn reaches(
    at: &str,
    target: &str,
    edges: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    path: &mut Vec<String>,
    seen: &mut std::collections::BTreeSet<String>,
) -> Option<Vec<String>> {
    for (next, file) in edges.get(at).into_iter().flatten() {
        if next == target {
            let mut found = path.clone();
            found.push(format!("{next} (in {file})"));
            return Some(found);
        }
        if seen.insert(next.clone()) {
            path.push(format!("{next} (in {file})"));
            if let Some(found) = reaches(next, target, edges, path, seen) {
                return Some(found);
            }
            path.pop();
        }
    }
    None
}
