//! One test case (a function, its receiver and a row of arguments) rendered as a candidate
//! test under each oracle: its body, name, label, features and potency.

use super::*;

/// One row of values, about to become a test.
pub(super) struct Case<'a> {
    pub(super) function: &'a Function,
    pub(super) callee: &'a str,
    pub(super) receiver: Option<Receiver>,
    pub(super) trait_call: bool,
    pub(super) method: &'a str,
    /// `::<i64>` for a generic method, else empty.
    pub(super) fish: &'a str,
    /// `{}` when the call is `format!("{}", subject)` (a formatting trait's `fmt`).
    pub(super) format_spec: Option<&'static str>,
    pub(super) names: &'a [String],
    pub(super) args: &'a [&'a Arg],
    pub(super) display: &'a str,
    /// How the function's `Err` is formatted after the call (`{}` or `{:?}`), when its error
    /// type is known to format: a message that panics is the crate's bug too.
    pub(super) error_format: Option<&'static str>,
}

/// Longest name part made of argument labels.
pub(super) const MAX_LABEL_CHARS: usize = 60;

impl Case<'_> {
    pub(super) fn setups(&self) -> String {
        self.args
            .iter()
            .filter_map(|a| a.setup.as_deref())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The call under test.
    pub(super) fn call(&self) -> String {
        let (receiver, params) = match self.receiver {
            Some(kind) => (Some((kind, self.args[0])), &self.args[1..]),
            None => (None, self.args),
        };
        let codes: Vec<&str> = params.iter().map(|a| a.code.as_str()).collect();
        if let (Some(spec), Some((_, subject))) = (self.format_spec, receiver) {
            return format!("format!({spec:?}, {})", subject.code);
        }
        match receiver {
            Some((kind, subject)) if self.trait_call => {
                let receiver = match kind {
                    Receiver::Ref if subject.already_ref => subject.code.clone(),
                    Receiver::Ref => format!("&{}", subject.code),
                    Receiver::RefMut => format!("&mut {}", subject.code),
                    Receiver::Value => subject.code.clone(),
                };
                let mut all = vec![receiver.as_str()];
                all.extend(codes);
                format!("{}({})", self.callee, all.join(", "))
            }
            Some((_, subject)) => format!(
                "{}.{}{}({})",
                subject.code,
                self.method,
                self.fish,
                codes.join(", ")
            ),
            None => format!("{}({})", self.callee, codes.join(", ")),
        }
    }

    /// How likely these values are to break code, for choosing when the budget is small:
    /// values from the function's own guards and its spec first, then the classic breakers
    /// (empty, limits, multi-byte, zero).
    pub(super) fn potency(&self) -> usize {
        const BREAKERS: &[&str] = &[
            "empty",
            "max",
            "min",
            "zero",
            "multibyte",
            "emoji",
            "nul",
            "long",
            "nan",
            "infinity",
            "none",
            "large",
            "after",
            "whitespace",
            "minus",
        ];
        // With one argument, a spec value or a classic breaker is as strong as a value gets
        // (one test each): potent. With several, a row is potent when a value mined from the
        // function's own code is in it, or the spec's beside a breaker.
        let alone = self.args.len() == 1;
        let score: usize = self
            .args
            .iter()
            .map(|a| match a.source {
                // The function's own boundaries first, then the spec's values, then the
                // classic breakers.
                Source::Mined => 3,
                Source::Spec if alone => 3,
                Source::Spec => 2,
                _ if a.label.split('_').any(|part| BREAKERS.contains(&part)) => {
                    if alone {
                        2
                    } else {
                        1
                    }
                }
                _ => 0,
            })
            .sum();
        score.min(STRONG_PRIORITY - 1)
    }

    pub(super) fn label(&self) -> String {
        let parts: Vec<String> = if self.args.len() == 1 {
            vec![self.args[0].label.clone()]
        } else {
            self.args
                .iter()
                .zip(self.names)
                .map(|(a, n)| {
                    if n == "self" {
                        a.label.clone()
                    } else {
                        format!("{}_{}", snake(n), a.label)
                    }
                })
                .collect()
        };
        let mut joined = parts.join("_");
        if joined.len() > MAX_LABEL_CHARS {
            // Cut between words, not inside one.
            let cut = joined[..=MAX_LABEL_CHARS]
                .rfind('_')
                .filter(|&at| at > 0)
                .unwrap_or(MAX_LABEL_CHARS);
            joined.truncate(cut);
        }
        let joined = joined.trim_end_matches('_');
        if joined.is_empty() {
            "no_arguments".into()
        } else {
            joined.to_owned()
        }
    }

    pub(super) fn input(&self) -> String {
        let mut text = String::new();
        for arg in self.args {
            if let Some(shown) = &arg.shown {
                text.push_str(shown);
                text.push_str("; ");
            }
        }
        text.push_str(&self.call());
        const MAX_INPUT: usize = 400;
        if text.len() > MAX_INPUT {
            let mut cut = MAX_INPUT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    pub(super) fn category(&self) -> &'static str {
        if self.args.iter().any(|a| a.source == Source::Spec) {
            return "spec_contract";
        }
        if self
            .args
            .iter()
            .any(|a| a.label.contains("_after_") || a.label.starts_with("after_"))
        {
            return "misuse";
        }
        if self.args.iter().any(|a| a.source == Source::Mined) {
            return "boundary";
        }
        let has_part = |words: &[&str]| {
            self.args
                .iter()
                .any(|a| a.label.split('_').any(|part| words.contains(&part)))
        };
        if has_part(&["max", "min", "nan", "infinity", "epsilon", "long", "large"]) {
            return "type_limit";
        }
        if has_part(&["empty", "none"]) {
            return "empty";
        }
        "boundary"
    }

    pub(super) fn features(&self) -> Vec<String> {
        let mut features: Vec<String> = self
            .args
            .iter()
            .zip(self.names)
            .map(|(a, n)| format!("{n}={}", a.label))
            .collect();
        features.extend(self.targets());
        features
    }

    /// Sites this input aims at: panic sites and guards that read a parameter it sets.
    pub(super) fn targets(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.names.iter().map(String::as_str).collect();
        self.function
            .sites
            .iter()
            .filter(|site| {
                (site.kind == SiteKind::Panic || site.guard)
                    && site.params.iter().any(|p| set.contains(p.as_str()))
            })
            .map(|site| site.id.clone())
            .collect()
    }

    pub(super) fn meta(&self, oracle: &str) -> TestMeta {
        TestMeta {
            function: self.function.path.clone(),
            targets: self.targets(),
            spec: self
                .args
                .iter()
                .filter_map(|a| a.item.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            category: Some(self.category().into()),
            oracle: Some(oracle.into()),
            input: Some(self.input()),
        }
    }

    pub(super) fn no_panic(&self) -> Candidate {
        let setups = self.setups();
        Candidate {
            name: format!("{}_{}_does_not_panic", self.display, self.label()),
            meta: self.meta("no_panic"),
            body: match self.error_format {
                Some(spec) => format!(
                    "{setups}\nif let Err(error) = {} {{\n    let _ = format!(\"{spec}\", error);\n}}",
                    self.call()
                ),
                None => format!("{setups}\nlet _ = {};", self.call()),
            },
            features: self.features(),
            priority: 0,
            harness: None,
        }
    }

    /// The call with the input it returns a range of bound first (`input`), and the range
    /// checked to index that input (`get` is `None` for a reversed range, one past the end,
    /// or on a `str`, one off a char boundary).
    pub(super) fn indexes_input(&self, oracle: IndexOracle) -> Candidate {
        let setups = self.setups();
        let position = oracle.param + usize::from(self.receiver.is_some());
        let original = &self.args[position].code;
        let (binding, input) = match original.strip_suffix(".as_str()") {
            Some(owned) => (
                format!("let owned_input = {owned};\nlet input = owned_input.as_str();"),
                "input",
            ),
            None => (format!("let input = {original};"), "input"),
        };
        let mut bound: Arg = self.args[position].clone();
        bound.code = input.to_owned();
        let mut args: Vec<&Arg> = self.args.to_vec();
        args[position] = &bound;
        let call = Case {
            args: &args,
            ..*self
        }
        .call();
        let check = "assert!(input.get(range.clone()).is_some(), \"returned {range:?}, which does not index its input {input:?}\");";
        let body = if oracle.optional {
            format!("{setups}\n{binding}\nif let Some(range) = {call} {{ {check} }}")
        } else {
            format!("{setups}\n{binding}\nlet range = {call};\n{check}")
        };
        Candidate {
            name: format!("{}_{}_indexes_its_input", self.display, self.label()),
            meta: self.meta("index_valid"),
            body,
            features: self.features(),
            priority: 0,
            harness: None,
        }
    }

    /// The value displayed and parsed back: when `FromStr` takes what `Display` wrote, it
    /// must give the same value. Text it refuses is no finding: some types parse another
    /// form than they display (a document, not a value).
    pub(super) fn parses_back(&self, ty: &str) -> Candidate {
        let setups = self.setups();
        let subject = self.args[0];
        let value = if subject.already_ref {
            subject.code.clone()
        } else {
            format!("&{}", subject.code)
        };
        Candidate {
            name: format!("{}_{}_parses_back", self.display, self.label()),
            meta: self.meta("round_trip"),
            body: format!(
                "{setups}\nlet value: &{ty} = {value};\nlet text = value.to_string();\nif let Ok(back) = text.parse::<{ty}>() {{ assert_eq!(&back, value, \"`{{text}}` parses back to another value than the one it displays\"); }}"
            ),
            features: self
                .features()
                .into_iter()
                .map(|f| format!("round_trip:{f}"))
                .collect(),
            priority: 0,
            harness: None,
        }
    }

    pub(super) fn deterministic(&self) -> Candidate {
        let setups = self.setups();
        let call = self.call();
        Candidate {
            name: format!(
                "{}_{}_gives_the_same_result_twice",
                self.display,
                self.label()
            ),
            meta: self.meta("deterministic"),
            // A panic is the no-panic oracle's business (or documented): step aside.
            body: format!(
                "{setups}\nlet Ok(first) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format!(\"{{:?}}\", {call}))) else {{ return; }};\nlet second = format!(\"{{:?}}\", {call});\nassert_eq!(first, second, \"the same input gave two different results\");"
            ),
            // The same values as the no-panic twin before it: chosen after it, when the budget
            // allows (a panic is the stronger finding).
            features: self.features(),
            priority: 0,
            harness: None,
        }
    }
}
