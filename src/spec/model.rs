//! The spec's data: items with their section, names, literals and contract, and the links from
//! items to sites.

use serde::{Deserialize, Serialize};

/// A recognised section of a spec.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    AcceptanceCriteria,
    Contracts,
    EdgeCases,
    OutOfScope,
}

impl Section {
    /// The section a heading introduces, by the usual wordings (case-insensitive).
    pub fn from_heading(heading: &str) -> Option<Section> {
        let heading = heading.to_lowercase();
        let has = |word: &str| heading.contains(word);
        if has("out of scope") || has("out-of-scope") || has("non-goals") {
            Some(Section::OutOfScope)
        } else if has("acceptance") {
            Some(Section::AcceptanceCriteria)
        } else if has("contract") || has("input/output") || has("examples") {
            Some(Section::Contracts)
        } else if has("edge case") || has("edge-case") || has("corner case") {
            Some(Section::EdgeCases)
        } else {
            None
        }
    }

    /// The slug used in generated item ids: `acceptance-criteria`, `edge-cases`, ...
    pub fn slug(self) -> &'static str {
        match self {
            Section::AcceptanceCriteria => "acceptance-criteria",
            Section::Contracts => "contracts",
            Section::EdgeCases => "edge-cases",
            Section::OutOfScope => "out-of-scope",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::AcceptanceCriteria => "Acceptance criteria",
            Section::Contracts => "Contracts",
            Section::EdgeCases => "Edge cases",
            Section::OutOfScope => "Out of scope",
        }
    }
}

/// One promise of the spec: a list entry or a table row under a recognised section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpecItem {
    /// `AC3` when written, else `SECTION-HASH8`; `STEM/` in front when ids of several spec
    /// files would clash.
    pub id: String,
    /// Relative to the workspace root.
    pub file: String,
    pub line: u32,
    pub section: Section,
    /// The item's text without its id, backticks kept.
    pub text: String,
    /// Backticked names and expressions, as written.
    pub names: Vec<String>,
    /// Numbers, strings and chars the item mentions, as Rust literals (`100`, `"0x"`, `'.'`).
    pub literals: Vec<String>,
    /// Contract rows: the call, as a Rust expression.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub call: Option<String>,
    /// Contract rows: the expected result, as a Rust expression.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected: Option<String>,
    /// Site ids named by `<!-- covers: ID -->`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub covers: Vec<String>,
}

impl SpecItem {
    /// Whether the item is a promise the code must keep (out-of-scope items are not).
    pub fn is_promise(&self) -> bool {
        self.section != Section::OutOfScope
    }
}

/// One spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub file: String,
    /// What the `Target:` line names: functions and types the whole spec is about.
    pub targets: Vec<String>,
    pub items: Vec<SpecItem>,
}

/// A problem with a spec that does not stop scoring.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct SpecWarning {
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// An item linked to a site, with the reason a human can check and overrule.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Link {
    pub item: String,
    pub site: String,
    pub reason: String,
    /// What the link rests on: the words of the item and the code (`text`), or a run in which
    /// the item's own tests reached the site and an ordinary call did not (`evidence`).
    #[serde(default)]
    pub basis: LinkBasis,
}

/// What a link rests on.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LinkBasis {
    /// Read from the item's words and the site's code.
    #[default]
    Text,
    /// Seen in a run: the item's tests reached the site, the baseline call did not.
    Evidence,
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn headings_map_to_sections_in_the_usual_wordings() {
        assert_eq!(
            Section::from_heading("Acceptance criteria"),
            Some(Section::AcceptanceCriteria)
        );
        assert_eq!(
            Section::from_heading("ACCEPTANCE CRITERIA"),
            Some(Section::AcceptanceCriteria)
        );
        assert_eq!(
            Section::from_heading("Input/output contracts"),
            Some(Section::Contracts)
        );
        assert_eq!(Section::from_heading("Contracts"), Some(Section::Contracts));
        assert_eq!(
            Section::from_heading("Known edge cases"),
            Some(Section::EdgeCases)
        );
        assert_eq!(
            Section::from_heading("Out of scope"),
            Some(Section::OutOfScope)
        );
        assert_eq!(Section::from_heading("Feature: money"), None);
    }
}
