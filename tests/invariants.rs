//! The invariants ARCHITECTURE.md lists, checked on the source tree: which modules start
//! processes, which talk HTTP, and that the sources cite only documents of this repository.

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
    // The others start git (what changed, the scratch copy's ignore rules) and rustfmt.
    let allowed = [
        "src/checkin/edit.rs",
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
            files.iter().all(|f| f == "src/generate/model/client.rs"),
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
