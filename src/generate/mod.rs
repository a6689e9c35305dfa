//! The generate stage: edge-case tests for the functions in scope, as test modules in the
//! format of `testfile`. Engines live beneath (`offline` built in, `model` for the APIs) and
//! make the same `Generation`.

pub mod document;
pub mod emit;
pub mod llm;
pub mod offline;
pub mod write;

use crate::generate::emit::EmittedTest;

/// Test-writing engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// Built in: deterministic, no key, no network
    Offline,
    /// OpenAI's Responses API, Codex models included (OPENAI_API_KEY, OPENAI_BASE_URL)
    Openai,
    /// OpenAI's Chat Completions (OPENAI_API_KEY, OPENAI_BASE_URL)
    OpenaiChat,
    /// Anthropic's Messages API (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL)
    Anthropic,
    /// A local server speaking Chat Completions: Ollama, vLLM, llama.cpp (--base-url, --model)
    OpenaiCompatible,
    /// Codex CLI you are signed in to (`codex exec`; no API key)
    Codex,
    /// Claude Code you are signed in to (`claude -p`; no API key)
    Claude,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Offline => "offline",
            Engine::Openai => "openai",
            Engine::OpenaiChat => "openai-chat",
            Engine::Anthropic => "anthropic",
            Engine::OpenaiCompatible => "openai-compatible",
            Engine::Codex => "codex",
            Engine::Claude => "claude",
        }
    }

    /// The model backend, for every engine but `offline`.
    pub fn provider(self) -> Option<crate::generate::llm::backend::Provider> {
        use crate::generate::llm::backend::Provider;
        match self {
            Engine::Offline => None,
            Engine::Openai => Some(Provider::OpenAi),
            Engine::OpenaiChat => Some(Provider::OpenAiChat),
            Engine::Anthropic => Some(Provider::Anthropic),
            Engine::OpenaiCompatible => Some(Provider::OpenAiCompatible),
            Engine::Codex => Some(Provider::Codex),
            Engine::Claude => Some(Provider::Claude),
        }
    }
}

/// One generated test and where it goes.
pub struct GeneratedTest {
    pub test: EmittedTest,
    /// The module of the function it attacks (`ledger::money`).
    pub module: String,
}

/// A function the engine made no test for, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub function: String,
    pub reasons: Vec<String>,
}

/// The commonest reasons functions were skipped, with counts, most frequent first: `73
/// \`A\`: no std type meets \`Array\``. Reasons that differ only in a parenthesis (which
/// `cfg`) count as one.
pub fn skip_summary(skipped: &[Skipped], top: usize) -> Vec<(usize, String)> {
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for skip in skipped {
        if let Some(reason) = skip.reasons.first() {
            let general = match reason.find(" (") {
                Some(at) => reason[..at].to_owned(),
                None => reason.clone(),
            };
            *counts.entry(general).or_default() += 1;
        }
    }
    let mut ranked: Vec<(usize, String)> = counts.into_iter().map(|(r, n)| (n, r)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    ranked.truncate(top);
    ranked
}

/// What the engine made.
#[derive(Default)]
pub struct Generation {
    pub tests: Vec<GeneratedTest>,
    pub skipped: Vec<Skipped>,
    /// Files that could not be read, tests that could not be emitted.
    pub warnings: Vec<String>,
    /// Functions that had candidates, and how many candidates in all.
    pub callable: usize,
    pub candidates: usize,
    /// Items the module needs before its tests (std's prelude in a `no_std` crate).
    pub preamble: String,
    /// The fuzz harness of each function in scope that has one (offline engine only).
    pub fuzz: Vec<FuzzTarget>,
}

/// A function's fuzz harness, ready to run in the scratch copy, and what its crashes become.
pub struct FuzzTarget {
    /// The harness, a test in the function's module.
    pub harness: GeneratedTest,
    /// The no-panic test a crash becomes, its arguments [`offline::cases::harness::placeholder`]s.
    pub template: offline::cases::harness::Harness,
    pub module: String,
}

impl Generation {
    /// Every test, ready to print as one module.
    pub fn emitted(&self) -> Vec<EmittedTest> {
        self.tests.iter().map(|t| t.test.clone()).collect()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn skip_reasons_are_summed_up_by_kind() {
        let skip = |reason: &str| Skipped {
            function: "f".into(),
            reasons: vec![reason.into()],
        };
        let skipped = [
            skip("not compiled on this machine (#[cfg(feature = \"a\")])"),
            skip("not compiled on this machine (#[cfg(feature = \"b\")])"),
            skip("`unsafe fn`: its contract is not in its types"),
        ];
        assert_eq!(
            skip_summary(&skipped, 5),
            [
                (2, "not compiled on this machine".to_owned()),
                (
                    1,
                    "`unsafe fn`: its contract is not in its types".to_owned()
                )
            ]
        );
    }
}
