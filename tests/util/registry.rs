//! A crate from the cargo registry, for tests and benchmarks that try crates nobody wrote for
//! this tool (included by path from `benches/` too).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The source directory of `name` `version` in the cargo registry, fetched through a
/// throwaway manifest; `None` when it cannot be fetched.
pub fn registry_crate(scratch: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let fetch = scratch.join("fetch");
    std::fs::create_dir_all(fetch.join("src")).ok()?;
    std::fs::write(
        fetch.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{name} = \"{version}\"\n\n[workspace]\n"
        ),
    )
    .ok()?;
    std::fs::write(fetch.join("src/lib.rs"), "").ok()?;
    let metadata = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(fetch.join("Cargo.toml"))
        .output()
        .ok()?;
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).ok()?;
    let manifest = metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)?["manifest_path"]
        .as_str()?
        .to_owned();
    Some(Path::new(&manifest).parent()?.to_owned())
}
