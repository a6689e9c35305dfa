//! The `dualtrack.review/v1` document, typed: what a review (or a `run-tests` run) ran and
//! found. Written as `report.json`; the terminal, markdown, JUnit and SARIF reports, the
//! ledger and `reconcile` all read it through these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scratch::Timings;
use crate::scratch::execute::Outcome;

/// The document's `schema` field.
pub const SCHEMA: &str = "dualtrack.review/v1";

/// A review's or a test run's report. Reading is lenient (a field an older run did not write
/// takes its default), so the findings of every earlier run in the runs directory are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReviewDocument {
    /// Always `dualtrack.review/v1`.
    pub schema: String,
    /// The run's id, which sorts by time: `r<seconds>-<pid>`.
    pub run_id: String,
    /// The command that wrote it: `review` or `run-tests`.
    pub scope: String,
    /// The engine that wrote the tests: `offline`, `openai`, `anthropic`, `local`, or for
    /// `run-tests` the engine named in the files' headers.
    pub engine: String,
    /// What was reviewed, in words: `functions changed since origin/main (upstream)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub counts: Counts,
    /// Every test that was built (or dropped), in run order.
    pub tests: Vec<TestRecord>,
    pub findings: Vec<Finding>,
    /// The fixes a model proposed, verified or not; absent when none was asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
    pub usage: Usage,
    /// The sandbox the build and the tests ran in; absent when nothing ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    /// Ctrl-C stopped the run: `tests` holds the tests that finished before.
    pub interrupted: bool,
    /// The crate does not build (or its own tests fail) before any test is injected.
    #[serde(skip_serializing_if = "is_false")]
    pub baseline_failed: bool,
    pub timings: Timings,
    /// Share of the sites in scope a spec item speaks to; `null` without a spec.
    #[schemars(extend("x-always-written" = true))]
    pub site_coverage: Option<f64>,
    /// Share of the spec items in scope a site backs; `null` without a spec, or when no item
    /// is about a function in scope.
    #[schemars(extend("x-always-written" = true))]
    pub item_coverage: Option<f64>,
    /// Functions no test was written for, with why.
    pub skipped: Vec<Skipped>,
    /// Tests and outcomes per function, in path order.
    pub per_function: Vec<FunctionRow>,
    /// What the site probes saw the tests reach; absent when the run had no probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// What the fuzz stage ran and found; absent when it did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzz: Option<FuzzReport>,
    /// What a model engine did besides the tests that ran: the tests it wrote that were
    /// refused, and each repair round; absent for the offline engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelAccount>,
}

/// What a model engine did besides the tests that ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ModelAccount {
    /// Tests the model wrote that never ran: refused before any build (they spawn a process,
    /// read the environment, include a file, ...), with why.
    pub refused: Vec<RefusedTest>,
    /// Each test that did not compile and went back to the model, with the compiler's errors
    /// sent, and how it came back.
    pub repairs: Vec<RepairRecord>,
}

// What a model engine did is the engine's to say: its records are the document's.
pub use crate::generate::llm::engine::{RefusedTest, RepairRecord};

/// The fuzz stage of a review: its seed, its runs, and what each harness did. The crashes it
/// confirmed are among `tests` (category `fuzz`) and `findings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FuzzReport {
    /// `--fuzz-seed`: with `--fuzz-runs` and no saved corpus, the same findings again.
    pub seed: u64,
    /// Executions asked per function.
    pub runs: u64,
    /// Whether the saved corpus (`<target-dir>/dualtrack/corpus/`) was left out.
    pub fresh: bool,
    /// Crashes whose regression test did not fail when run alone.
    pub unconfirmed: usize,
    pub harnesses: Vec<HarnessReport>,
}

/// One function's harness.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HarnessReport {
    pub function: String,
    /// Inputs run, and in how long.
    pub runs: u64,
    pub elapsed_ms: u64,
    /// Inputs in the corpus at the end; of them, those loaded from the saved corpus, and those
    /// kept this run for reaching a new site or hit count.
    pub corpus: u64,
    pub saved: u64,
    pub new: u64,
    /// Distinct crashes it found, before confirmation.
    pub crashes: u64,
    /// The first crash: the input's number (1 for the first input run) and the time since
    /// the harness started; absent when it found none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_crash_run: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_crash_ms: Option<u64>,
    /// Sites of the crate its inputs reached, the function's callees' too.
    pub sites_reached: usize,
    /// How the harness's process ended: `passed`, or what stopped it.
    pub outcome: String,
}

/// Site coverage from evidence: the sites of the functions in scope that some test's run
/// reached, beside the share the tests only targeted (by their metadata).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Evidence {
    /// Sites of the functions in scope that carried a probe.
    pub sites: usize,
    /// Of those, the sites some test reached.
    pub reached: usize,
    /// `reached / sites`, 0 to 1; `null` when no site carried a probe.
    #[schemars(extend("x-always-written" = true))]
    pub coverage: Option<f64>,
    /// The share of the same sites some test named as its target; `null` as `coverage`.
    #[schemars(extend("x-always-written" = true))]
    pub targeted: Option<f64>,
    /// Functions in scope with sites no probe could go on, and why.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unprobed: std::collections::BTreeMap<String, String>,
    /// Why the probes were taken out of the run, when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    /// SHA-256 of each source file the analysis read (`src/lib.rs` → hex): `score --run` uses
    /// the run's evidence only while every file is as it was.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sources: std::collections::BTreeMap<String, String>,
}

/// One function's sites by evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FunctionEvidence {
    /// Its sites that carried a probe.
    pub sites: usize,
    /// The ids of those some test reached, in id order.
    pub reached: Vec<String>,
    /// Of those, the ones only the fuzz stage's inputs reached.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fuzz: Vec<String>,
    /// Those no test reached: the untested edges.
    pub unreached: Vec<UnreachedSite>,
}

/// A site no test reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnreachedSite {
    pub site: String,
    /// `src/lib.rs:64`.
    pub location: String,
    /// The source line, trimmed.
    pub snippet: String,
    /// A guard or a panic site: an edge the tests did not try.
    pub edge: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl ReviewDocument {
    /// A document with nothing in it yet.
    pub fn empty(run_id: &str, scope: &str, engine: &str) -> Self {
        ReviewDocument {
            schema: SCHEMA.to_owned(),
            run_id: run_id.to_owned(),
            scope: scope.to_owned(),
            engine: engine.to_owned(),
            ..ReviewDocument::default()
        }
    }

    /// The findings that are failures of a generated test.
    pub fn failures(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.kind == FindingKind::Failure)
    }

    /// The test a finding names.
    pub fn test_of(&self, finding: &Finding) -> Option<&TestRecord> {
        let name = finding.test.as_deref()?;
        self.tests.iter().find(|t| t.name == name)
    }

    /// The verified fix for `function`, if one was offered.
    pub fn verified_fix(&self, function: &str) -> Option<&Fix> {
        self.fixes
            .iter()
            .find(|f| f.verified && f.function == function)
    }

    /// The document as `report.json` and `--format json` print it: pretty, with its keys in
    /// alphabetical order at every level (as the document has always been written, whatever
    /// the order of the fields here), and one trailing newline.
    pub fn to_json_text(&self) -> String {
        let value = serde_json::to_value(self).expect("a review document serializes");
        let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serializes");
        text.push('\n');
        text
    }

    /// The guards and panic sites of the functions in scope that no test's run reached, with
    /// their function: the edges left untried.
    pub fn untested_edges(&self) -> impl Iterator<Item = (&str, &UnreachedSite)> {
        self.per_function.iter().flat_map(|row| {
            row.evidence
                .iter()
                .flat_map(|e| &e.unreached)
                .filter(|site| site.edge)
                .map(move |site| (row.function.as_str(), site))
        })
    }

    /// How many findings are of one of `kinds`.
    pub fn count_of(&self, kinds: &[FindingKind]) -> usize {
        self.findings
            .iter()
            .filter(|f| kinds.contains(&f.kind))
            .count()
    }
}

/// How many tests came out each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Counts {
    pub generated: usize,
    /// Generated and built (not dropped).
    pub compiled: usize,
    pub passed: usize,
    pub failed: usize,
    pub panicked: usize,
    pub flaky: usize,
    pub timed_out: usize,
    pub crashed: usize,
    pub dropped: usize,
    /// Built, not run: the time budget ran out first.
    pub cut: usize,
}

impl Counts {
    /// How the tests of a run came out.
    pub fn of(report: &crate::scratch::RunReport) -> Counts {
        let count = |outcome| report.count(outcome);
        Counts {
            generated: report.results.len(),
            compiled: report.results.len() - count(Outcome::Dropped),
            passed: count(Outcome::Passed),
            failed: count(Outcome::Failed),
            panicked: count(Outcome::Panicked),
            flaky: count(Outcome::Flaky),
            timed_out: count(Outcome::TimedOut),
            crashed: count(Outcome::Crashed),
            dropped: count(Outcome::Dropped),
            cut: report.cut,
        }
    }
}

/// One test and how it came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestRecord {
    pub name: String,
    #[serde(default)]
    pub engine: String,
    /// The function the test is about.
    pub function: String,
    /// The site ids it aims at.
    #[serde(default)]
    pub targets: Vec<String>,
    /// The spec item ids it checks.
    #[serde(default)]
    pub spec_items: Vec<String>,
    #[schemars(extend("x-always-written" = true))]
    pub category: Option<String>,
    /// What it checks: `no_panic`, `spec_contract`, `round_trip`, ...
    #[schemars(extend("x-always-written" = true))]
    pub oracle: Option<String>,
    /// The call it makes, as Rust: `parse("")`.
    #[schemars(extend("x-always-written" = true))]
    pub input: Option<String>,
    pub outcome: Outcome,
    #[serde(default)]
    pub message: String,
    /// Where it failed: `src/lib.rs:64`.
    #[schemars(extend("x-always-written" = true))]
    pub location: Option<String>,
    /// The sites its run reached, by the probes; absent when the run had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<Vec<String>>,
}

impl TestRecord {
    /// A test with a name, a function and an outcome, the rest empty.
    pub fn new(name: &str, function: &str, outcome: Outcome) -> Self {
        TestRecord {
            name: name.to_owned(),
            engine: String::new(),
            function: function.to_owned(),
            targets: Vec::new(),
            spec_items: Vec::new(),
            category: None,
            oracle: None,
            input: None,
            outcome,
            message: String::new(),
            location: None,
            reached: None,
        }
    }
}

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A generated test failed, panicked, timed out, crashed or was flaky.
    Failure,
    /// A generated test did not compile, so its edge went untried.
    DroppedTest,
    /// A site no spec item speaks to.
    UnspecifiedSite,
    /// A spec item no site backs.
    UnimplementedItem,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Failure => "failure",
            FindingKind::DroppedTest => "dropped_test",
            FindingKind::UnspecifiedSite => "unspecified_site",
            FindingKind::UnimplementedItem => "unimplemented_item",
        }
    }

    /// A spec gap rather than a test's word.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            FindingKind::UnspecifiedSite | FindingKind::UnimplementedItem
        )
    }
}

/// The tool's hint of what a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A panic, hang or crash where neither doc nor spec allows one, or a broken spec contract.
    LikelyBug,
    /// An expectation with no spec item behind it, or a test that did not compile.
    CheckTest,
    /// Passed and failed on reruns.
    Flaky,
    /// A gap between the spec and the code.
    CheckSpec,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::LikelyBug => "likely_bug",
            Verdict::CheckTest => "check_test",
            Verdict::Flaky => "flaky",
            Verdict::CheckSpec => "check_spec",
        }
    }
}

/// Where a finding stands with the humans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not seen in an earlier run, not decided.
    #[default]
    New,
    /// Seen in an earlier run, not decided.
    Known,
    /// Decided: the implementation is right.
    Accepted,
    /// Decided: the test is checked in.
    Kept,
    /// Decided: later.
    Deferred,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Known => "known",
            Status::Accepted => "accepted",
            Status::Kept => "kept",
            Status::Deferred => "deferred",
        }
    }

    /// Whether a human decided it (in `.dualtrack/decisions.toml`).
    pub fn is_decided(self) -> bool {
        matches!(self, Status::Accepted | Status::Kept | Status::Deferred)
    }
}

impl From<crate::decisions::Verdict> for Status {
    fn from(decision: crate::decisions::Verdict) -> Self {
        match decision {
            crate::decisions::Verdict::Accepted => Status::Accepted,
            crate::decisions::Verdict::Kept => Status::Kept,
            crate::decisions::Verdict::Deferred => Status::Deferred,
        }
    }
}

/// One finding. Failures and dropped tests name their test; spec gaps their site or item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// `F-` and 10 hex digits, stable from run to run.
    pub id: String,
    pub kind: FindingKind,
    /// The function it is about; `null` for a spec item no site backs.
    #[schemars(extend("x-always-written" = true))]
    pub function: Option<String>,
    /// The test that found it; `null` for a spec gap.
    #[schemars(extend("x-always-written" = true))]
    pub test: Option<String>,
    pub verdict: Verdict,
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub message: String,
    /// `src/lib.rs:64`, or `null` when the failure has no place (a time-out, a crash).
    #[schemars(extend("x-always-written" = true))]
    pub location: Option<String>,
    /// The site it is at, when known.
    #[schemars(extend("x-always-written" = true))]
    pub site: Option<String>,
    /// The spec item it is about, when one is.
    #[schemars(extend("x-always-written" = true))]
    pub item: Option<String>,
    /// The failing test's call; only on failures and dropped tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The failing test's oracle; only on failures and dropped tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<String>,
    /// The private function a failure happened in, reached through `function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
    /// The source line at `location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// The command that runs the failing test alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    /// The verified fix's patch file, when a model offered one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Other tests that fail the same way (same function, same place).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<Duplicate>,
}

impl Finding {
    /// A finding with what every one has, the rest empty.
    pub fn new(id: String, kind: FindingKind, verdict: Verdict, message: String) -> Self {
        Finding {
            id,
            kind,
            function: None,
            test: None,
            verdict,
            status: Status::New,
            message,
            location: None,
            site: None,
            item: None,
            input: None,
            oracle: None,
            reached: None,
            snippet: None,
            reproduce: None,
            fix: None,
            duplicates: Vec::new(),
        }
    }

    /// Its own id and those of its duplicates: a decision on any of them decides it.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.duplicates.iter().map(|d| d.id.as_str()))
    }

    pub fn function_name(&self) -> &str {
        self.function.as_deref().unwrap_or_default()
    }
}

/// A test that fails the way a finding's does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Duplicate {
    pub id: String,
    pub test: String,
    #[schemars(extend("x-always-written" = true))]
    pub input: Option<String>,
}

/// A fix a model proposed for a function its tests break.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Fix {
    pub function: String,
    /// Its failing tests pass with it, and so do the crate's own.
    pub verified: bool,
    /// Why it is not offered (declined by the model, or not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The file it changes, workspace-relative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The failing tests it was checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// A unified diff, repository-relative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The function as the model rewrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The patch file in the run directory, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

/// Tokens a model engine used, and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// Part of `output_tokens`; absent for the offline engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// `null` when the model's price is unknown (`[prices]` in dualtrack.toml sets one).
    #[schemars(extend("x-always-written" = true))]
    pub cost_usd: Option<f64>,
}

impl Default for Usage {
    /// The offline engine's: nothing, for nothing.
    fn default() -> Self {
        Usage {
            input_tokens: 0,
            cached_input_tokens: 0,
            output_tokens: 0,
            reasoning_tokens: None,
            cost_usd: Some(0.0),
        }
    }
}

impl Usage {
    /// A model's usage at `cost_usd` (unknown: `None`).
    pub fn of_model(usage: &crate::generate::llm::wire::Usage, cost_usd: Option<f64>) -> Self {
        Usage {
            input_tokens: usage.input_tokens,
            cached_input_tokens: usage.cached_input_tokens,
            output_tokens: usage.output_tokens,
            reasoning_tokens: Some(usage.reasoning_tokens),
            cost_usd,
        }
    }
}

/// A function no test was written for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    pub function: String,
    pub reasons: Vec<String>,
}

/// One function's tests and outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionRow {
    pub function: String,
    pub tests: usize,
    pub passed: usize,
    /// Failed, panicked, timed out, crashed or flaky.
    pub failing: usize,
    pub dropped: usize,
    /// What a model spent on this function's tests; only with a model engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Its sites by evidence; absent when the run had no probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<FunctionEvidence>,
}

/// Tests, passed, failing and dropped counts per function, in path order.
pub fn per_function(tests: &[TestRecord]) -> Vec<FunctionRow> {
    let mut rows: std::collections::BTreeMap<&str, FunctionRow> = Default::default();
    for test in tests {
        let row = rows
            .entry(test.function.as_str())
            .or_insert_with(|| FunctionRow {
                function: test.function.clone(),
                tests: 0,
                passed: 0,
                failing: 0,
                dropped: 0,
                usage: None,
                evidence: None,
            });
        row.tests += 1;
        match test.outcome {
            Outcome::Passed => row.passed += 1,
            Outcome::Dropped => row.dropped += 1,
            _ => row.failing += 1,
        }
    }
    rows.into_values().collect()
}

/// A report's place, `src/lib.rs:64`, as (`src/lib.rs`, 64).
pub fn split_location(location: &str) -> Option<(String, u32)> {
    let (file, line) = location.rsplit_once(':')?;
    Some((file.to_owned(), line.parse().ok()?))
}

#[cfg(test)]
mod test {
    use super::*;

    fn test_record(function: &str, outcome: Outcome) -> TestRecord {
        TestRecord::new(
            &format!("{function}_{}", outcome.as_str()),
            function,
            outcome,
        )
    }

    #[test]
    fn counts_per_function_in_path_order() {
        let rows = per_function(&[
            test_record("c::f", Outcome::Passed),
            test_record("c::f", Outcome::Panicked),
            test_record("c::a", Outcome::Dropped),
        ]);
        let summary: Vec<(&str, usize, usize, usize, usize)> = rows
            .iter()
            .map(|r| (r.function.as_str(), r.tests, r.passed, r.failing, r.dropped))
            .collect();
        assert_eq!(summary, [("c::a", 1, 0, 0, 1), ("c::f", 2, 1, 1, 0)]);
    }

    #[test]
    fn an_older_document_missing_fields_still_reads() {
        let document: ReviewDocument = serde_json::from_str(
            r#"{"schema": "dualtrack.review/v1", "run_id": "r1-1",
                "findings": [{"id": "F-0000000001", "kind": "failure", "function": "c::f",
                              "test": "t", "verdict": "likely_bug", "status": "new",
                              "message": "m", "location": null, "site": null, "item": null}]}"#,
        )
        .unwrap();
        assert_eq!(document.findings[0].id, "F-0000000001");
        assert_eq!(document.counts.cut, 0);
        assert_eq!(document.usage.cost_usd, Some(0.0));
    }

    #[test]
    fn the_document_reads_back_as_written() {
        let mut document = ReviewDocument::empty("r1-1", "review", "offline");
        document.tests = vec![test_record("c::f", Outcome::Panicked)];
        document.per_function = per_function(&document.tests);
        document.site_coverage = Some(0.5);
        let text = serde_json::to_string(&document).unwrap();
        assert_eq!(
            serde_json::from_str::<ReviewDocument>(&text).unwrap(),
            document
        );
        // Keys sorted at every level, as report.json always had them.
        let written = document.to_json_text();
        assert!(
            written.starts_with("{\n  \"counts\": {\n    \"compiled\": 0,"),
            "{written}"
        );
        assert!(written.find("\"item_coverage\"") < written.find("\"run_id\""));
        // Present even when unknown: a reader can tell "no spec" from an older document.
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(value["item_coverage"].is_null() && value.get("item_coverage").is_some());
        assert!(value.get("fixes").is_none() && value.get("baseline_failed").is_none());
    }
}
