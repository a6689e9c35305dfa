//! The build cache of the scratch area: a build's key (the copy's fingerprint and the placed
//! tests) and what it produced, so an unchanged review does not build again.

use super::*;

/// The key of a build: the sources' fingerprint and the text of every injected file.
pub(super) fn build_key(fingerprint: &str, area: &ScratchArea, ranges: &Ranges) -> String {
    let mut hasher = sha2::Sha256::new();
    use sha2::Digest;
    hasher.update(fingerprint.as_bytes());
    for file in ranges.keys() {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(file).unwrap_or_default());
    }
    hasher.update(area.target.to_string_lossy().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The executables and test names of the last successful build.
#[derive(Serialize, Deserialize)]
pub(super) struct BuildCache {
    pub(super) key: String,
    pub(super) executables: Vec<Executable>,
    /// (package, target, test names): JSON maps need string keys.
    pub(super) names: Vec<(String, String, Vec<String>)>,
}

pub(super) fn cached_build(area: &ScratchArea, key: &str) -> Option<BuildCache> {
    let text = std::fs::read_to_string(area.root.join("build.json")).ok()?;
    let cache: BuildCache = serde_json::from_str(&text).ok()?;
    let fresh = cache.key == key && cache.executables.iter().all(|e| e.path.is_file());
    fresh.then_some(cache)
}

pub(super) fn remember_build(
    area: &ScratchArea,
    key: &str,
    executables: &HashMap<(String, String), &Executable>,
    names: &HashMap<(String, String), Vec<String>>,
) {
    let cache = BuildCache {
        key: key.to_owned(),
        executables: executables.values().map(|e| (*e).clone()).collect(),
        names: names
            .iter()
            .map(|((package, target), list)| (package.clone(), target.clone(), list.clone()))
            .collect(),
    };
    if let Ok(text) = serde_json::to_string(&cache) {
        // A cache that cannot be written only costs the next run a build.
        let _ = std::fs::write(area.root.join("build.json"), text);
    }
}
