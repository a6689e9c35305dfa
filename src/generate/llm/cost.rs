//! What the tokens cost: a price per model (US dollars per million tokens), from
//! `[prices."MODEL"]` in `dualtrack.toml` or a small table of defaults, and the cost of a
//! usage under it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::wire::Usage;

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    /// Cached input; the input price when not given.
    pub cached_input: Option<f64>,
    pub output: f64,
}

/// Defaults for the engines' default models and their kin, as the providers list them.
/// Prices change: `[prices."MODEL"]` in `dualtrack.toml` overrides any of them.
const DEFAULTS: &[(&str, Price)] = &[
    (
        "gpt-5.1-codex-mini",
        Price {
            input: 0.25,
            cached_input: Some(0.025),
            output: 2.0,
        },
    ),
    (
        "gpt-5.1",
        Price {
            input: 1.25,
            cached_input: Some(0.125),
            output: 10.0,
        },
    ),
    (
        "gpt-5",
        Price {
            input: 1.25,
            cached_input: Some(0.125),
            output: 10.0,
        },
    ),
    (
        "claude-sonnet-4",
        Price {
            input: 3.0,
            cached_input: Some(0.3),
            output: 15.0,
        },
    ),
    (
        "claude-haiku-4",
        Price {
            input: 1.0,
            cached_input: Some(0.1),
            output: 5.0,
        },
    ),
    (
        "claude-opus-4",
        Price {
            input: 15.0,
            cached_input: Some(1.5),
            output: 75.0,
        },
    ),
];

/// The price of `model`: the configured one, else a default; an exact name first, else the
/// longest name `model` starts with (`gpt-5.1-codex` has `gpt-5.1`'s price).
pub fn price_of(model: &str, configured: &BTreeMap<String, Price>) -> Option<Price> {
    let longest = |names: &mut dyn Iterator<Item = (&str, Price)>| {
        names
            .filter(|(name, _)| model == *name || model.starts_with(name))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| price)
    };
    longest(&mut configured.iter().map(|(n, p)| (n.as_str(), *p)))
        .or_else(|| longest(&mut DEFAULTS.iter().map(|(n, p)| (*n, *p))))
}

/// The cost of `usage` in US dollars.
/// What to say of a cost nobody knows: an agent on a subscription bills it there; any other
/// model lacks a price.
pub fn no_cost(engine: &str) -> &'static str {
    match engine {
        "codex" => "no cost reported (billed to the Codex subscription it is signed in to)",
        "claude" => "no cost reported (billed to the Claude subscription it is signed in to)",
        _ => "cost unknown (no price for the model: see [prices] in dualtrack.toml)",
    }
}

/// What `usage` cost: what the engine reported, else its tokens at `price`; `None` when
/// neither is known (a subscription's agent that reports no cost).
pub fn cost_of(usage: &Usage, price: Option<Price>) -> Option<f64> {
    if usage.reported_micro_usd > 0 {
        return Some(usage.reported_micro_usd as f64 / 1e6);
    }
    price.map(|price| cost(usage, price))
}

pub fn cost(usage: &Usage, price: Price) -> f64 {
    let cached = usage.cached_input_tokens.min(usage.input_tokens);
    let fresh = usage.input_tokens - cached;
    (fresh as f64 * price.input
        + cached as f64 * price.cached_input.unwrap_or(price.input)
        + usage.output_tokens as f64 * price.output)
        / 1_000_000.0
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn prices_come_from_config_then_defaults_by_longest_prefix() {
        let mut configured = BTreeMap::new();
        configured.insert(
            "local".to_owned(),
            Price {
                input: 0.0,
                cached_input: None,
                output: 0.0,
            },
        );
        assert_eq!(price_of("local", &configured).unwrap().output, 0.0);
        assert_eq!(price_of("gpt-5.1-codex", &configured).unwrap().input, 1.25);
        assert_eq!(
            price_of("gpt-5.1-codex-mini", &configured).unwrap().input,
            0.25
        );
        assert_eq!(
            price_of("claude-sonnet-4-5", &configured).unwrap().output,
            15.0
        );
        assert!(price_of("qwen3-coder:30b", &configured).is_none());
    }

    #[test]
    fn a_cost_the_engine_reported_is_taken_over_the_price_table() {
        let usage = Usage {
            input_tokens: 1_000_000,
            reported_micro_usd: 18_700,
            ..Usage::default()
        };
        let price = Price {
            input: 1.0,
            cached_input: None,
            output: 10.0,
        };
        assert_eq!(cost_of(&usage, Some(price)), Some(0.0187));
        let unreported = Usage {
            reported_micro_usd: 0,
            ..usage
        };
        assert_eq!(cost_of(&unreported, Some(price)), Some(1.0));
        assert_eq!(cost_of(&unreported, None), None);
    }

    #[test]
    fn cached_input_is_priced_apart() {
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 400_000,
            output_tokens: 100_000,
            reasoning_tokens: 50_000,
            reported_micro_usd: 0,
        };
        let price = Price {
            input: 1.0,
            cached_input: Some(0.1),
            output: 10.0,
        };
        // 600k fresh at $1 + 400k cached at $0.1 + 100k output at $10.
        assert!((cost(&usage, price) - (0.6 + 0.04 + 1.0)).abs() < 1e-9);
    }
}
