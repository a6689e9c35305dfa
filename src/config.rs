//! `dualtrack.toml` (at the workspace root, or `.cargo/dualtrack.toml`): read, checked for
//! unknown keys, and merged with the command line (command-line scalars win, lists add up).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::InputError;

/// The file's contents. Unknown keys are rejected so a typo never silently does nothing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Spec files or directories, relative to the workspace root.
    #[serde(default)]
    pub spec: Vec<PathBuf>,
    #[serde(default)]
    pub score: ScoreConfig,
    /// Functions `review` leaves alone: globs on function paths (`crate::gen::*`), or on
    /// files relative to the workspace root when they name a path (`src/generated/**`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Files (globs relative to the workspace root) whose code and specs never go to a model.
    #[serde(default)]
    pub never_send: Vec<String>,
    /// Model prices in US dollars per million tokens, by model name (or name prefix).
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, crate::generate::llm::cost::Price>,
    /// The engine `generate` and `review` use when `--engine` is not given.
    pub engine: Option<crate::generate::Engine>,
    /// `--model`, `--base-url`, `--max-cost`, `--total-timeout`, `--repair-rounds` and
    /// `--cover-rounds` when not given.
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub max_cost: Option<f64>,
    pub total_timeout: Option<u64>,
    pub repair_rounds: Option<u32>,
    pub cover_rounds: Option<u32>,
    /// `false`: reviews append no row to `.dualtrack/ledger.csv`.
    pub ledger: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoreConfig {
    /// Minimum site coverage, in percent, for `score` to pass.
    pub min: Option<f64>,
    /// Minimum spec item coverage, in percent.
    pub min_items: Option<f64>,
}

/// Where the config file is looked for, in order.
pub fn config_paths(workspace_root: &Path) -> [PathBuf; 2] {
    [
        workspace_root.join("dualtrack.toml"),
        workspace_root.join(".cargo").join("dualtrack.toml"),
    ]
}

impl Config {
    /// Read the first config file that exists; none is an empty config.
    pub fn load(workspace_root: &Path) -> Result<Config, InputError> {
        for path in config_paths(workspace_root) {
            if path.is_file() {
                let text = crate::input::read_to_string(&path).map_err(|err| {
                    InputError::new(format!("cannot read {}: {err}", path.display()))
                })?;
                return Config::parse(&text, &path);
            }
        }
        Ok(Config::default())
    }

    /// Parse config text; errors name the file and line and say what to do.
    pub fn parse(text: &str, path: &Path) -> Result<Config, InputError> {
        let config: Config = toml::from_str(text).map_err(|err| toml_error(text, path, &err))?;
        for (model, price) in &config.prices {
            let values = [Some(price.input), price.cached_input, Some(price.output)];
            if model.is_empty()
                || values
                    .iter()
                    .flatten()
                    .any(|v| !(v.is_finite() && *v >= 0.0))
            {
                return Err(InputError::new(format!(
                    "{}: [prices.\"{model}\"] needs a model name and prices of 0 or more \
                     (dollars per million tokens)",
                    path.display()
                )));
            }
        }
        for (key, value) in [
            ("score.min", config.score.min),
            ("score.min_items", config.score.min_items),
        ] {
            if let Some(value) = value
                && !(0.0..=100.0).contains(&value)
            {
                return Err(InputError::new(format!(
                    "{}: `{key} = {value}` is not a percentage from 0 to 100",
                    path.display()
                )));
            }
        }
        if let Some(cost) = config.max_cost
            && !(cost.is_finite() && cost > 0.0)
        {
            return Err(InputError::new(format!(
                "{}: `max_cost = {cost}` is not an amount of dollars above 0",
                path.display()
            )));
        }
        if let Some(rounds) = config.repair_rounds
            && rounds > 5
        {
            return Err(InputError::new(format!(
                "{}: `repair_rounds = {rounds}`: at most 5",
                path.display()
            )));
        }
        if let Some(rounds) = config.cover_rounds
            && rounds > 3
        {
            return Err(InputError::new(format!(
                "{}: `cover_rounds = {rounds}`: at most 3",
                path.display()
            )));
        }
        if config.total_timeout == Some(0) {
            return Err(InputError::new(format!(
                "{}: `total_timeout` is in seconds, at least 1",
                path.display()
            )));
        }
        Ok(config)
    }
}

/// A TOML error as `file:line: message`, the line the parser pointed at.
pub fn toml_error(text: &str, path: &Path, err: &toml::de::Error) -> InputError {
    let line = err
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let location = match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    };
    InputError::new(format!(
        "{location}: {}",
        err.message().trim_end_matches('\n')
    ))
}

/// The commented `dualtrack.toml` `cargo dualtrack init` writes: every key, none set.
pub const TEMPLATE: &str = r#"# cargo-dualtrack configuration (written by `cargo dualtrack init`). Every key is optional;
# the command line wins over this file. See docs/configuration.md for each.

# Spec files or directories besides SPEC.md, specs/ and docs/specs/.
# spec = ["docs/feature.md"]

# Functions `review` leaves alone (function-path globs, or file globs).
# exclude = ["mycrate::generated::*", "src/bindings/**"]

# Files whose code and specs never go to a model engine.
# never_send = ["src/secret/**"]

# The engine and model when the command line names none: offline (the default, no key),
# openai, openai-chat, anthropic, openai-compatible (with base_url), or codex and claude
# (the Codex CLI or Claude Code you are signed in to, no key).
# engine = "offline"
# model = "gpt-5.1-codex"
# base_url = "http://localhost:11434/v1"    # openai-compatible only
# max_cost = 2.50                           # dollars per run
# total_timeout = 1800                      # seconds per run
# repair_rounds = 2
# cover_rounds = 1                         # asking again for unreached sites

# Reviews append a row to .dualtrack/ledger.csv unless this is false.
# ledger = true

# [score]
# min = 80          # minimum site coverage, percent (like --min)
# min_items = 90    # minimum spec item coverage (like --min-items)

# Model prices, dollars per million tokens.
# [prices."qwen3-coder:30b"]
# input = 0.0
# output = 0.0
"#;

#[cfg(test)]
mod test {
    use super::*;

    fn parse(text: &str) -> Result<Config, InputError> {
        Config::parse(text, Path::new("dualtrack.toml"))
    }

    #[test]
    fn empty_config_is_default() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn score_section_and_spec_list_are_read() {
        let config =
            parse("spec = [\"docs/feature.md\"]\n[score]\nmin = 80\nmin_items = 50.5\n").unwrap();
        assert_eq!(config.spec, [PathBuf::from("docs/feature.md")]);
        assert_eq!(config.score.min, Some(80.0));
        assert_eq!(config.score.min_items, Some(50.5));
    }

    #[test]
    fn prices_are_read_by_model() {
        let config = parse(
            "[prices.\"qwen3-coder:30b\"]\ninput = 0.0\noutput = 0.0\n\
             [prices.gpt-5]\ninput = 1.25\ncached_input = 0.125\noutput = 10\n",
        )
        .unwrap();
        assert_eq!(config.prices["gpt-5"].cached_input, Some(0.125));
        assert_eq!(config.prices["qwen3-coder:30b"].output, 0.0);
        assert!(parse("[prices.gpt-5]\ninput = 1\noutput = 2\ncache = 3\n").is_err());
        assert!(parse("[prices.gpt-5]\ninput = -1\noutput = 2\n").is_err());
        assert!(parse("[prices.\"\"]\ninput = 1\noutput = 2\n").is_err());
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("[score]\nmin = 80\nminimum = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("dualtrack.toml:3:"), "{err}");
        assert!(err.contains("minimum"), "{err}");
    }

    #[test]
    fn out_of_range_percentage_is_rejected() {
        let err = parse("[score]\nmin = 180\n").unwrap_err().to_string();
        assert!(err.contains("not a percentage"), "{err}");
    }

    #[test]
    fn engine_and_model_settings_are_read_and_checked() {
        let config = parse(
            "engine = \"openai-compatible\"\nmodel = \"qwen3-coder:30b\"\n\
             base_url = \"http://localhost:11434/v1\"\nmax_cost = 2.5\ntotal_timeout = 900\n\
             repair_rounds = 1\ncover_rounds = 0\n",
        )
        .unwrap();
        assert_eq!(
            config.engine,
            Some(crate::generate::Engine::OpenaiCompatible)
        );
        assert_eq!(config.model.as_deref(), Some("qwen3-coder:30b"));
        assert_eq!(config.max_cost, Some(2.5));
        assert_eq!(config.repair_rounds, Some(1));
        assert_eq!(config.cover_rounds, Some(0));
        let err = parse("\nengine = \"gpt\"\n").unwrap_err().to_string();
        assert!(err.starts_with("dualtrack.toml:2:"), "{err}");
        assert!(
            err.contains("openai-compatible"),
            "the choices are named: {err}"
        );
        assert!(parse("max_cost = -1\n").is_err());
        assert!(parse("repair_rounds = 9\n").is_err());
        assert!(parse("cover_rounds = 4\n").is_err());
        assert!(parse("total_timeout = 0\n").is_err());
    }

    #[test]
    fn the_config_template_parses_and_says_nothing() {
        let config = crate::config::Config::parse(TEMPLATE, Path::new("dualtrack.toml")).unwrap();
        assert_eq!(config, crate::config::Config::default());
    }
}
