//! Answers kept for later: a response cache keyed by the request (an unchanged function is not
//! paid for twice), and replay from a run's transcripts with no network at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::InputError;

/// Where answers may come from besides the API.
#[derive(Debug, Default)]
pub struct Store {
    /// The response cache's directory, when caching.
    cache: Option<PathBuf>,
    /// Recorded responses by request key, when replaying: nothing else may be asked.
    replay: Option<HashMap<String, Value>>,
}

/// What the store holds for a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Recorded in the transcripts being replayed.
    Replayed(Value),
    /// Asked before, with this very request.
    Cached(Value),
    /// Not held: ask the API.
    Ask,
    /// Replaying, and the transcripts do not hold this request.
    NotRecorded,
}

impl Store {
    /// Asks the API every time.
    pub fn none() -> Store {
        Store::default()
    }

    /// Caches responses under `dir`.
    pub fn cache(dir: PathBuf) -> Store {
        Store {
            cache: Some(dir),
            replay: None,
        }
    }

    /// Answers only from the transcripts in `dir` (a run's `transcripts/`).
    pub fn replay(dir: &Path) -> Result<Store, InputError> {
        let entries = std::fs::read_dir(dir).map_err(|err| {
            InputError::new(format!(
                "--replay {}: {err} (name a run's `transcripts` directory)",
                dir.display()
            ))
        })?;
        let mut recorded = HashMap::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|err| InputError::new(format!("cannot read {}: {err}", path.display())))?;
            let transcript: Value = serde_json::from_str(&text).map_err(|err| {
                InputError::new(format!("{}: not a transcript: {err}", path.display()))
            })?;
            let (Some(key), Some(response)) =
                (transcript["key"].as_str(), transcript.get("response"))
            else {
                return Err(InputError::new(format!(
                    "{}: a transcript without `key` and `response`",
                    path.display()
                )));
            };
            recorded.insert(key.to_owned(), response.clone());
        }
        if recorded.is_empty() {
            return Err(InputError::new(format!(
                "--replay {}: no transcripts there",
                dir.display()
            )));
        }
        Ok(Store {
            cache: None,
            replay: Some(recorded),
        })
    }

    pub fn replaying(&self) -> bool {
        self.replay.is_some()
    }

    /// The answer held for a request: by `key` when replaying, by `cache_key` in the cache.
    pub fn lookup(&self, key: &str, cache_key: &str) -> Lookup {
        if let Some(recorded) = &self.replay {
            return match recorded.get(key) {
                Some(response) => Lookup::Replayed(response.clone()),
                None => Lookup::NotRecorded,
            };
        }
        let Some(dir) = &self.cache else {
            return Lookup::Ask;
        };
        std::fs::read_to_string(dir.join(format!("{cache_key}.json")))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .map_or(Lookup::Ask, Lookup::Cached)
    }

    /// Keep a response for the next time this request is made (best effort: a cache that
    /// cannot be written only costs money).
    pub fn remember(&self, key: &str, response: &Value) {
        if let Some(dir) = &self.cache
            && std::fs::create_dir_all(dir).is_ok()
        {
            let _ = crate::output::write_atomically(
                &dir.join(format!("{key}.json")),
                &response.to_string(),
            );
        }
    }
}

/// A request's key: the engine and the exact body sent (model, prompt, schema, budget).
pub fn request_key(engine: &str, body: &Value) -> String {
    let digest = Sha256::digest(format!("{engine}\0{body}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cached_response_comes_back_for_the_same_request_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::cache(dir.path().join("cache"));
        let key = request_key("openai", &json!({"model": "m", "input": "a"}));
        assert_eq!(store.lookup("r", &key), Lookup::Ask);
        store.remember(&key, &json!({"ok": 1}));
        assert_eq!(store.lookup("r", &key), Lookup::Cached(json!({"ok": 1})));
        let other = request_key("openai", &json!({"model": "m", "input": "b"}));
        assert_ne!(key, other);
        assert_eq!(store.lookup("r", &other), Lookup::Ask);
        assert_ne!(
            key,
            request_key("anthropic", &json!({"model": "m", "input": "a"}))
        );
    }

    #[test]
    fn replay_answers_from_transcripts_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("001-f.json"),
            json!({"key": "k1", "response": {"ok": true}}).to_string(),
        )
        .unwrap();
        let store = Store::replay(dir.path()).unwrap();
        assert!(store.replaying());
        assert_eq!(
            store.lookup("k1", "c"),
            Lookup::Replayed(json!({"ok": true}))
        );
        assert_eq!(store.lookup("k2", "c"), Lookup::NotRecorded);
        let empty = tempfile::tempdir().unwrap();
        assert!(Store::replay(empty.path()).is_err());
        assert!(Store::replay(&empty.path().join("missing")).is_err());
    }
}
