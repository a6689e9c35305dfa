//! The build cache of the scratch area: a build's key (the copy's fingerprint and the placed
//! tests) and what it produced, so an unchanged review does not build again.

use super::*;

/// Bytes (a digest) as lowercase hex: the form of every key the scratch area keeps.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
    hex(&hasher.finalize())
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

/// Texts known to parse, by their SHA-256, kept in the scratch area: the probe plan of a warm
/// run parses only the probed files whose text changed, not the whole crate again.
#[derive(Debug, Default)]
pub struct ParsedTexts {
    path: Option<PathBuf>,
    known: std::collections::BTreeSet<String>,
    /// What this run asked about and found parsing: all the next run keeps.
    used: std::collections::BTreeSet<String>,
}

impl ParsedTexts {
    /// The memo saved at `path` (none yet, or unreadable: an empty one).
    pub fn load(path: &Path) -> ParsedTexts {
        let known = std::fs::read_to_string(path)
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        ParsedTexts {
            path: Some(path.to_owned()),
            known,
            used: Default::default(),
        }
    }

    /// Parse `text` unless it parsed before.
    pub fn parse(&mut self, text: &str) -> Result<(), crate::syntax::SyntaxError> {
        use sha2::Digest;
        let digest = hex(&sha2::Sha256::digest(text.as_bytes()));
        if !self.known.contains(&digest) {
            crate::syntax::parse_file(text)?;
        }
        self.used.insert(digest);
        Ok(())
    }

    /// Save what this run found parsing (texts of older runs drop out). A memo that cannot be
    /// written only costs the next run its parses.
    pub fn save(&self) {
        // A run that parsed nothing (no probes) says nothing of what parses.
        if let Some(path) = self
            .path
            .as_ref()
            .filter(|_| !self.used.is_empty() && self.used != self.known)
        {
            let text: String = self.used.iter().map(|d| format!("{d}\n")).collect();
            let _ = std::fs::write(path, text);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_text_that_parsed_is_not_parsed_again_and_old_texts_drop_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parsed");
        let mut memo = ParsedTexts::load(&path);
        memo.parse("fn a() {}").unwrap();
        memo.parse("fn b() {}").unwrap();
        assert!(memo.parse("fn (").is_err());
        memo.save();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        let mut again = ParsedTexts::load(&path);
        again.parse("fn a() {}").unwrap();
        // Known: not parsed, so not counted a second time; `b` was not asked about.
        assert_eq!(again.known.len(), 2);
        again.save();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
